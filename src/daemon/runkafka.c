/*
 * The daemon's Kafka sinks: options from [kafka], validation for --check
 * and at start, and the start-up reconciliation of checkpoints.
 *
 * The sink's checkpoint (committed in the same transaction as the lines)
 * is the truth; the local file in STATE is a copy written after each
 * commit. At start the sink reads its copy back and, when it differs from
 * the local one (a crash between a commit and the local write), the local
 * file is replaced by it before the source reads it: the source then
 * resumes exactly after the last committed transaction.
 *
 * A checkpoint read back unsealed was written by a logseal from before
 * checkpoint version 5 -- or by whoever else can write the checkpoint
 * topic, who could move the resume point at will. It is taken only if the
 * local copy, which only this host writes, says the same.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "logseal/buf.h"
#include "logseal/kafka.h"
#include "logseal/log.h"
#include "logseal/rules.h"
#include "run_internal.h"

/* o borrows from cfg and `props` (nprops entries, owned by the caller). */
static int kafka_opts(const struct lsl_config *cfg, const char *source,
                      struct lsl_kafka_opts *o, struct lsl_kafka_prop **props)
{
    const struct lsl_kafka_conf *k = &cfg->kafka;

    lsl_kafka_opts_init(o);
    *props = calloc(k->nprops ? k->nprops : 1, sizeof(**props));
    if (!*props)
        return -ENOMEM;
    for (size_t i = 0; i < k->nprops; i++) {
        (*props)[i].name = k->props[i].name;
        (*props)[i].value = k->props[i].value;
    }
    o->brokers = k->brokers;
    o->topic = k->topic;
    o->checkpoint_topic = k->checkpoint_topic[0] ? k->checkpoint_topic : NULL;
    o->key = (enum lsl_kafka_key)k->key;
    o->source = source;
    o->host = cfg->host[0] ? cfg->host : NULL; /* the host id */
    o->props = *props;
    o->nprops = k->nprops;
    if (k->timeout_ms)
        o->timeout_ms = k->timeout_ms;
    return 0;
}

int lsl_run_kafka_check(const struct lsl_config *cfg)
{
    struct lsl_kafka_prop *props = NULL;
    struct lsl_kafka_opts o;
    char err[512];
    bool used = false;
    int rc;

    for (size_t i = 0; i < cfg->nsources; i++)
        used = used || cfg->sources[i].sink == LSL_SINK_KAFKA;
    if (!used)
        return 0;
    rc = kafka_opts(cfg, "check", &o, &props);
    if (rc == 0)
        rc = lsl_kafka_check(&o, err, sizeof(err));
    if (rc == LSL_ECONFIG)
        lsl_log_error("%s:%u: [kafka]: %s", cfg->path, cfg->kafka.line, err);
    free(props);
    return rc;
}

static int trust_unsealed(struct lsl_run *r, struct run_src *s)
{
    const char *name = s->conf->name;
    struct lsl_checkpoint *local = malloc(sizeof(*local));
    int rc;

    if (!local)
        return -ENOMEM;
    rc = lsl_checkpoint_load(r->cfg->state, name, r->ckey, local);
    if (rc == 0 && (local->sealed || !lsl_checkpoint_same(local, &s->cp)))
        rc = LSL_EAUTH;
    if (rc)
        lsl_log_error("[source %s]: the checkpoint read back from Kafka is "
                      "not sealed (written before checkpoint version 5, or "
                      "forged) and the local copy %s/%s.ckpt does not say "
                      "the same (%s): not trusted; delete the source's record "
                      "in the checkpoint topic to start it over",
                      name, r->cfg->state, name,
                      rc == LSL_EAUTH ? "it differs" : lsl_strerror(rc));
    free(local);
    return rc ? LSL_EAUTH : 0;
}

int lsl_run_open_kafka(struct lsl_run *r, struct run_src *s)
{
    const struct lsl_source_conf *c = s->conf;
    struct lsl_kafka_prop *props = NULL;
    struct lsl_kafka_opts o;
    bool have = false;
    int rc = kafka_opts(r->cfg, c->name, &o, &props);

    if (rc)
        return rc;
    o.rule = s->rule ? lsl_rule_name(s->rule) : NULL;
    o.ckpt_key = r->ckey;
    o.resume = &s->cp;
    o.have_resume = &have;
    rc = lsl_kafka_sink_open(&s->sink, &o);
    free(props);
    if (rc) {
        lsl_log_error("[source %s]: cannot open the Kafka output %s: %s",
                      c->name, r->cfg->kafka.brokers, lsl_strerror(rc));
        return rc;
    }
    /* Only a source that reads again what was not committed (tail) keeps
     * checkpoints; its local copy now says what Kafka says. */
    if (have && c->type == LSL_SRC_TAIL) {
        rc = s->cp.sealed ? 0 : trust_unsealed(r, s);
        if (rc)
            return rc;
        rc = lsl_checkpoint_save(r->cfg->state, c->name, r->ckey, &s->cp);
        if (rc)
            lsl_log_error("%s/%s.ckpt: cannot write the checkpoint read "
                          "back from Kafka: %s",
                          r->cfg->state, c->name, lsl_strerror(rc));
    }
    return rc;
}

void lsl_run_kafka_describe(const struct lsl_config *cfg, FILE *f)
{
    static const char *const keys[] = {"host/source", "source", "host", "none"};
    const struct lsl_kafka_conf *k = &cfg->kafka;

    if (!k->brokers[0])
        return;
    fprintf(f, "kafka %s: topic %s, checkpoints in %s, key %s\n", k->brokers,
            k->topic,
            k->checkpoint_topic[0] ? k->checkpoint_topic
                                   : "logseal.checkpoints",
            keys[k->key & 3]);
    for (size_t i = 0; i < k->nprops; i++)
        fprintf(f, "kafka.%s = %s\n", k->props[i].name,
                lsl_kafka_prop_secret(k->props[i].name) ? "(secret, not shown)"
                                                        : k->props[i].value);
}

struct sink_metric {
    const char *name, *type, *help;
    size_t off; /* in struct lsl_sink_stats */
};

static const struct sink_metric sink_metrics[] = {
    {"sink_queue_depth", "gauge",
     "Messages handed to the Kafka client and not yet acknowledged by the "
     "brokers",
     offsetof(struct lsl_sink_stats, queued)},
    {"sink_commits_total", "counter",
     "Kafka transactions committed (one per batch, with its checkpoint)",
     offsetof(struct lsl_sink_stats, commits)},
    {"sink_aborts_total", "counter",
     "Kafka transactions aborted (their batch is sent again)",
     offsetof(struct lsl_sink_stats, aborts)},
    {"sink_retries_total", "counter",
     "Failed Kafka commits or deliveries, retried with backoff",
     offsetof(struct lsl_sink_stats, retries)},
};

/* One family; sources whose sink reports none are left out. */
static int sink_family(const struct lsl_run *r, const struct sink_metric *m,
                       struct lsl_buf *out)
{
    int rc =
        lsl_buf_printf(out, "# HELP logseal_%s %s.\n# TYPE logseal_%s %s\n",
                       m->name, m->help, m->name, m->type);

    for (size_t i = 0; rc == 0 && i < r->nsrc; i++) {
        const struct lsl_sink *k = r->src[i].sink;
        struct lsl_sink_stats st = {0};
        uint64_t v;

        if (!k || !k->ops->stats)
            continue;
        k->ops->stats(k, &st);
        memcpy(&v, (const char *)&st + m->off, sizeof(v));
        rc = lsl_buf_printf(out, "logseal_%s{source=\"%s\"} %" PRIu64 "\n",
                            m->name, r->src[i].conf->name, v);
    }
    return rc;
}

int lsl_run_sink_metrics(const struct lsl_run *r, struct lsl_buf *out)
{
    bool any = false;
    int rc = 0;

    /* Sinks are closed on the thread pool once the pipeline is gone. */
    for (size_t i = 0; r->pl && i < r->nsrc; i++)
        any = any || (r->src[i].sink && r->src[i].sink->ops->stats);
    for (size_t i = 0; any && rc == 0 && i < LSL_ARRAY_SIZE(sink_metrics); i++)
        rc = sink_family(r, &sink_metrics[i], out);
    return rc;
}
