/*
 * What a run loads before it opens anything (rules, keys), and what it
 * tells operators: the --check summary, SIGUSR1 counter lines, Prometheus
 * text. Never an original identifier: names, paths and counts only.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "logseal/file.h"
#include "logseal/log.h"
#include "logseal/sink.h"
#include "run_internal.h"

static const char *const type_names[] = {"tail", "stdin", "syslog"};

/* The first bytes of the first file the tail path names, into buf. */
static size_t read_sample(const char *pattern, char *buf, size_t cap,
                          bool *at_eof)
{
    glob_t g;
    size_t n = 0;
    int fd = -1;

    *at_eof = true;
    if (glob(pattern, 0, NULL, &g) != 0)
        return 0;
    fd = open(g.gl_pathv[0], O_RDONLY | O_CLOEXEC | O_NOCTTY);
    while (fd >= 0 && n < cap) {
        ssize_t k = read(fd, buf + n, cap - n);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    *at_eof = n < cap;
    if (fd >= 0)
        close(fd);
    globfree(&g);
    return n;
}

/*
 * `rule = auto`: the rule that reads the first lines of the tailed file
 * (from its start), as `pipe --rule auto` picks one. With nothing to
 * sample (stdin, syslog, a file not there yet or empty) or no rule that
 * reads the sample, the text rule, with a warning; a reload samples again.
 */
static int auto_rule(struct lsl_run *r, struct run_src *s)
{
    const struct lsl_source_conf *c = s->conf;
    struct lsl_rule_detect d;
    bool at_eof = true;
    char *buf = malloc(LSL_DETECT_BYTES);
    size_t n = 0;
    int rc;

    if (!buf)
        return -ENOMEM;
    if (c->type == LSL_SRC_TAIL)
        n = read_sample(c->path, buf, LSL_DETECT_BYTES, &at_eof);
    rc = lsl_rule_detect(&s->rule, NULL, buf, n, at_eof, &d);
    sodium_memzero(buf, n);
    free(buf);
    if (rc == 0 && d.fallback)
        lsl_log_warn("%s:%u: [source %s]: rule = auto: %s%s%s; using %s: "
                     "every line is scrubbed as free text; give a rule "
                     "name if one should read them",
                     r->cfg->path, c->line, c->name,
                     n ? "no rule matches at least 80% of the first lines "
                         "(tried: "
                       : "no lines to sample",
                     n ? d.tried : "", n ? ")" : "", d.chosen);
    else if (rc == 0)
        lsl_log_info("[source %s]: rule = auto chose %s (%u/%u sample lines)",
                     c->name, d.chosen, d.matched, d.counted);
    else
        lsl_log_error("%s:%u: [source %s]: rule = auto: no rule fits and "
                      "there is no text rule (%s)",
                      r->cfg->path, c->line, c->name, lsl_strerror(rc));
    return rc;
}

static void warn_gaps(const struct run_src *s)
{
    char msg[256];

    /* At start and on each reload, as `pipe` says it at its start. */
    if (lsl_rule_disclosure_warning(s->rule, msg, sizeof(msg)))
        lsl_log_warn("[source %s]: %s", s->conf->name, msg);
}

int lsl_run_load_rule(struct lsl_run *r, struct run_src *s)
{
    const struct lsl_source_conf *c = s->conf;
    struct lsl_rule_error e = {0};
    char path[PATH_MAX];
    int rc;

    if (!c->rule[0])
        return 0;
    if (strcmp(c->rule, "auto") == 0) {
        rc = auto_rule(r, s);
        if (rc == 0)
            warn_gaps(s);
        return rc;
    }
    rc = lsl_rule_resolve(c->rule, NULL, path, sizeof(path));
    if (rc) {
        char dirs[1024];

        lsl_rule_dirs_text(NULL, dirs, sizeof(dirs));
        lsl_log_error("%s:%u: [source %s]: rule '%s' not found (looked in "
                      "%s); give a NAME or the path of a .rules file",
                      r->cfg->path, c->line, c->name, c->rule, dirs);
        return rc;
    }
    rc = lsl_rule_load(&s->rule, path, &e);
    if (rc)
        lsl_log_error("%s:%u: %s (rule of [source %s], %s:%u)",
                      e.path[0] ? e.path : path, e.line,
                      e.msg[0] ? e.msg : lsl_strerror(rc), c->name,
                      r->cfg->path, c->line);
    else
        warn_gaps(s);
    return rc;
}

int lsl_run_load_keys(struct lsl_run *r)
{
    char path[PATH_MAX];
    int rc;

    rc = lsl_path_join(path, sizeof(path), r->cfg->keys, "hash.key");
    if (rc == 0)
        rc = lsl_keyring_open(&r->kr, path);
    if (rc) {
        lsl_log_error("%s: cannot use the hash key: %s%s", path,
                      lsl_strerror(rc),
                      rc == LSL_EKEYPERM ? " (chmod 600 it)"
                      : rc == -ENOENT ? " (create keys with 'logseal keygen')"
                                      : "");
        return rc;
    }
    rc = lsl_path_join(path, sizeof(path), r->cfg->keys, "vault.pub");
    if (rc == 0)
        rc = lsl_vault_pubkey_load(path, r->pk);
    if (rc) {
        lsl_log_error("%s: cannot use the vault public key: %s", path,
                      lsl_strerror(rc));
        return rc;
    }
    rc = lsl_path_join(path, sizeof(path), r->cfg->keys, LSL_CKPT_KEY_FILE);
    if (rc == 0)
        rc = lsl_ckpt_key_open(path, false, &r->ckey, NULL);
    if (rc == -ENOENT)
        return 0; /* made at start, if a source needs it */
    if (rc)
        lsl_run_ckpt_key_error(path, "use", rc);
    return rc;
}

void lsl_run_ckpt_key_error(const char *path, const char *what, int rc)
{
    char old[PATH_MAX];
    struct stat st;
    /* The rotation's old key is read with it: the error may be its. */
    bool both = snprintf(old, sizeof(old), "%s%s", path, LSL_CKPT_KEY_OLD) <
                    (int)sizeof(old) &&
                lstat(old, &st) == 0;

    lsl_log_error("%s%s%s: cannot %s the checkpoint key: %s%s", path,
                  both ? " or " : "", both ? old : "", what, lsl_strerror(rc),
                  rc == LSL_EKEYPERM ? " (chmod 600 it)" : "");
}

static const char *where(const struct lsl_source_conf *c)
{
    return c->type == LSL_SRC_TAIL     ? c->path
           : c->type == LSL_SRC_SYSLOG ? c->listen
                                       : "fd 0";
}

static void describe_output(const struct lsl_config *c, FILE *f)
{
    static const char *const modes[] = {"token", "ip6", "prefix", "truncate"};

    fprintf(f, "output format %s; addresses ",
            c->format == LSL_OUT_JSONL ? "jsonl" : "text");
    if (!c->ip.on)
        fprintf(f, "as each rule says\n");
    else if (c->ip.mode == LSL_IPMODE_TRUNCATE && c->ip.bits4)
        fprintf(f, "truncate/%u,%u for all rules\n", (unsigned)c->ip.bits4,
                (unsigned)c->ip.bits6);
    else
        fprintf(f, "%s for all rules\n", modes[c->ip.mode & 3]);
}

/* Where source s would resume: its checkpoint in STATE, as the start
 * reads it. *old counts those sealed with the previous key. */
static int describe_ckpt(const struct lsl_run *r, const struct run_src *s,
                         FILE *f, unsigned *old)
{
    const char *name = s->conf->name;
    struct lsl_checkpoint *cp = malloc(sizeof(*cp));
    int rc;

    if (!cp)
        return -ENOMEM;
    rc = lsl_checkpoint_load(r->cfg->state, name, r->ckey, cp);
    if (rc == -ENOENT)
        fprintf(f, "  checkpoint: none (a first run)\n");
    else if (rc)
        fprintf(f, "  checkpoint %s/%s.ckpt: UNUSABLE: %s%s\n", r->cfg->state,
                name, lsl_strerror(rc),
                rc == LSL_ENOKEY ? " (KEYS/" LSL_CKPT_KEY_FILE " is missing)"
                                 : "");
    else
        fprintf(f,
                "  checkpoint: inode %" PRIu64 " at byte %" PRIu64 ", %" PRIu64
                " lines committed, %s\n",
                cp->file.ino, cp->offset, cp->lines,
                !cp->sealed ? "unsealed (an older version; sealed at the "
                              "next commit)"
                : cp->old_key
                    ? "sealed with the previous key (" LSL_CKPT_KEY_FILE
                          LSL_CKPT_KEY_OLD
                      "; sealed with the current key at the "
                      "next commit)"
                    : "sealed");
    *old += rc == 0 && cp->old_key;
    free(cp);
    return rc == -ENOENT ? 0 : rc;
}

/* The checkpoint key, and whether a rotation's old key is still needed. */
static void describe_key(const struct lsl_run *r, FILE *f, unsigned old,
                         unsigned in_kafka)
{
    const char *prev = r->ckey ? lsl_ckpt_key_prev_id(r->ckey) : NULL;

    fprintf(f, "checkpoint key: %s\n",
            r->ckey ? lsl_ckpt_key_id(r->ckey)
                    : "none yet (made at the first start with a tail source)");
    if (!prev)
        return;
    fprintf(f, "previous checkpoint key (%s%s): %s", LSL_CKPT_KEY_FILE,
            LSL_CKPT_KEY_OLD, prev);
    if (old)
        fprintf(f, ", still needed by %u checkpoint(s) above\n", old);
    else if (in_kafka)
        fprintf(f,
                ", needed by no checkpoint in %s; %u source(s) keep "
                "theirs in Kafka: remove it once each has committed "
                "since the rotation\n",
                r->cfg->state, in_kafka);
    else
        fprintf(f, ", needed by no checkpoint: remove it\n");
}

int lsl_run_describe(const struct lsl_run *r, FILE *f)
{
    const struct lsl_config *c = r->cfg;
    unsigned old = 0, in_kafka = 0;
    int rc = 0;

    fprintf(f, "config %s: OK\n", c->path);
    fprintf(f, "keys %s, vault %s, state %s\n", c->keys, c->vault, c->state);
    if (c->output[0])
        fprintf(f,
                "segments in %s (layout %s, host %s): gzip level %d, up to "
                "%" PRIu64 " bytes or %" PRIu64 " s each\n",
                c->output, c->layout == LSL_LAYOUT_HIVE ? "hive" : "default",
                c->host, c->level, c->segment_size, c->segment_age);
    else
        fprintf(f, "host %s\n", c->host);
    fprintf(f, "metrics: %s\n", c->metrics[0] ? c->metrics : "off");
    describe_output(c, f);
    lsl_run_kafka_describe(c, f);
    for (size_t i = 0; i < r->nsrc; i++) {
        const struct run_src *s = &r->src[i];

        fprintf(f, "source %s: %s %s%s, rule %s, to %s\n", s->conf->name,
                type_names[s->conf->type], where(s->conf),
                s->conf->type != LSL_SRC_TAIL ? ""
                : s->conf->start_at_end       ? " (first run: from the end)"
                                              : " (first run: from the start)",
                s->rule ? lsl_rule_name(s->rule) : "(none: scrub only)",
                s->conf->sink == LSL_SINK_STDOUT  ? "stdout"
                : s->conf->sink == LSL_SINK_KAFKA ? "kafka"
                                                  : "segments");
        if (s->conf->type == LSL_SRC_TAIL && s->conf->sink == LSL_SINK_KAFKA) {
            fprintf(f, "  checkpoint: in the checkpoint topic (read at "
                       "start)\n");
            in_kafka++;
        } else if (s->conf->type == LSL_SRC_TAIL) {
            int crc = describe_ckpt(r, s, f, &old);

            rc = rc ? rc : crc;
        }
    }
    describe_key(r, f, old, in_kafka);
    return rc;
}

static uint64_t src_lag(const struct run_src *s)
{
    if (s->conf->type != LSL_SRC_TAIL || !s->opened || s->freed)
        return 0;
    return lsl_tail_source_lag(s->tail);
}

/* A source's counters since the daemon started: earlier runs too. */
static struct lsl_batch_stats src_totals(const struct run_src *s)
{
    struct lsl_batch_stats t = s->base;

    lsl_batch_stats_add(&t, lsl_run_src_stats(s));
    return t;
}

/* A source's losses since the daemon started. */
static struct lsl_source_losses src_lost(const struct run_src *s)
{
    struct lsl_source_losses l = lsl_run_src_losses(s);

    l.datagrams += s->lost_base.datagrams;
    l.bytes += s->lost_base.bytes;
    return l;
}

/* The commit step's counters since the daemon started. */
static struct lsl_pipeline_health run_health(const struct lsl_run *r)
{
    struct lsl_pipeline_health h = lsl_run_health(r);

    h.commit_failures += r->health_base.commit_failures;
    h.blocked_ms += r->health_base.blocked_ms;
    return h;
}

void lsl_run_carry(struct lsl_run *next, const struct lsl_run *old)
{
    next->vault_base = old->vault_base + old->vault_new;
    next->health_base = run_health(old);
    for (size_t i = 0; i < next->nsrc; i++)
        for (size_t j = 0; j < old->nsrc; j++)
            if (strcmp(next->src[i].conf->name, old->src[j].conf->name) == 0) {
                next->src[i].base = src_totals(&old->src[j]);
                next->src[i].lost_base = src_lost(&old->src[j]);
            }
}

void lsl_run_dump(const struct lsl_run *r)
{
    for (size_t i = 0; i < r->nsrc; i++) {
        const struct lsl_batch_stats t = src_totals(&r->src[i]);
        struct lsl_source_losses l = src_lost(&r->src[i]);

        lsl_batch_stats_log(r->src[i].conf->name, &t, src_lag(&r->src[i]));
        if (r->src[i].conf->type != LSL_SRC_STDIN)
            lsl_log(LSL_LOG_INFO,
                    "losses: source %s: lost_datagrams %" PRIu64
                    " abandoned_bytes %" PRIu64,
                    r->src[i].conf->name, l.datagrams, l.bytes);
    }
}

struct metric {
    const char *name, *type, *help;
    size_t off; /* in lsl_batch_stats; or one of: */
};

#define STAT(f)       offsetof(struct lsl_batch_stats, f)
#define M_LAG         SIZE_MAX
#define M_LOST_DGRAMS (SIZE_MAX - 1)
#define M_LOST_BYTES  (SIZE_MAX - 2)

static const struct metric metrics[] = {
    {"lines_in_total", "counter", "Lines read", STAT(lines_in)},
    {"lines_out_total", "counter", "Lines written", STAT(lines_out)},
    {"unparsed_lines_total", "counter",
     "Lines no rule matched (scrubbed, redacted or dropped)", STAT(unparsed)},
    {"redacted_lines_total", "counter",
     "Unparsed lines written as a marker (unparsed = redact)", STAT(redacted)},
    {"dropped_lines_total", "counter",
     "Unparsed lines not written (unparsed = drop)", STAT(dropped)},
    {"header_lines_total", "counter",
     "Header lines with no record (W3C '#' lines; no JSON lines row)",
     STAT(meta)},
    {"tokens_total", "counter", "Identifiers replaced by tokens", STAT(tokens)},
    {"bytes_in_total", "counter", "Bytes read", STAT(bytes_in)},
    {"bytes_out_total", "counter", "Pseudonymized bytes written",
     STAT(bytes_out)},
    {"lag_bytes", "gauge", "Bytes behind the end of the tailed file", M_LAG},
    {"lost_datagrams_total", "counter",
     "Syslog datagrams lost before they were read (UDP: dropped by the "
     "kernel on a full socket buffer; not buffered)",
     M_LOST_DGRAMS},
    {"abandoned_bytes_total", "counter",
     "Bytes of tailed files lost before they were read (a rotation "
     "compressed or deleted first, copytruncate's copy-to-truncate window)",
     M_LOST_BYTES},
};

/* The value of m for source s, or false if m does not apply to it. */
static bool metric_value(const struct run_src *s, const struct metric *m,
                         uint64_t *v)
{
    struct lsl_batch_stats t;

    switch (m->off) {
    case M_LAG:
        *v = src_lag(s);
        return s->conf->type == LSL_SRC_TAIL;
    case M_LOST_DGRAMS:
        *v = src_lost(s).datagrams;
        return s->conf->type == LSL_SRC_SYSLOG;
    case M_LOST_BYTES:
        *v = src_lost(s).bytes;
        return s->conf->type == LSL_SRC_TAIL;
    default:
        t = src_totals(s);
        memcpy(v, (const char *)&t + m->off, sizeof(*v));
        return true;
    }
}

static int metric_lines(const struct lsl_run *r, const struct metric *m,
                        struct lsl_buf *out)
{
    int rc = lsl_buf_printf(out,
                            "# HELP logseal_%s %s.\n# TYPE logseal_%s "
                            "%s\n",
                            m->name, m->help, m->name, m->type);

    for (size_t i = 0; rc == 0 && i < r->nsrc; i++) {
        const struct run_src *s = &r->src[i];
        uint64_t v;

        if (metric_value(s, m, &v))
            rc = lsl_buf_printf(out, "logseal_%s{source=\"%s\"} %" PRIu64 "\n",
                                m->name, s->conf->name, v);
    }
    return rc;
}

/* One unlabeled metric. */
static int metric_one(struct lsl_buf *out, const char *name, const char *type,
                      const char *help, uint64_t v)
{
    return lsl_buf_printf(out,
                          "# HELP logseal_%s %s.\n# TYPE logseal_%s %s\n"
                          "logseal_%s %" PRIu64 "\n",
                          name, help, name, type, name, v);
}

/* The commit step: blocked output, retries, time blocked. */
static int health_metrics(const struct lsl_run *r, struct lsl_buf *out)
{
    struct lsl_pipeline_health h = run_health(r);
    int rc = metric_one(out, "output_blocked", "gauge",
                        "1 while writing output fails and is retried with "
                        "every source paused (disk full, I/O error)",
                        h.blocked);

    if (rc == 0)
        rc = metric_one(out, "output_blocked_seconds_total", "counter",
                        "Time spent with the output blocked",
                        h.blocked_ms / 1000);
    if (rc == 0)
        rc = metric_one(out, "commit_failures_total", "counter",
                        "Failed attempts to commit a batch (vault, output "
                        "or checkpoint); each is retried with backoff",
                        h.commit_failures);
    if (rc == 0)
        rc = metric_one(out, "input_paused", "gauge",
                        "1 while sources do not read: a backlog of batches "
                        "or blocked output (syslog datagrams wait in the "
                        "kernel meanwhile)",
                        h.paused);
    return rc;
}

int lsl_run_metrics(const struct lsl_run *r, struct lsl_buf *out)
{
    struct lsl_batch_stats st;
    uint64_t vault_new = r->vault_new;
    int rc = 0;

    if (r->pl)
        lsl_pipeline_totals(r->pl, &st, &vault_new);
    vault_new += r->vault_base;
    for (size_t i = 0; rc == 0 && i < LSL_ARRAY_SIZE(metrics); i++)
        rc = metric_lines(r, &metrics[i], out);
    if (rc == 0)
        rc = metric_one(out, "vault_entries_total", "counter",
                        "New token mappings sealed into the vault", vault_new);
    if (rc == 0)
        rc = health_metrics(r, out);
    if (rc == 0)
        rc = lsl_run_sink_metrics(r, out);
    return rc;
}
