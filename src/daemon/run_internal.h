/* Private to run*.c: the state of one run and its sources. */
#ifndef LSL_RUN_INTERNAL_H
#define LSL_RUN_INTERNAL_H

#include <sodium.h>
#include <uv.h>
#include "daemon_internal.h"
#include "logseal/checkpoint.h"
#include "logseal/pipeline.h"
#include "logseal/source.h"

struct lsl_run;

struct run_src {
    struct lsl_run *run;
    const struct lsl_source_conf *conf; /* borrowed from run->cfg */
    struct lsl_rule *rule;              /* NULL: scrubber only */
    struct lsl_sink *sink;
    struct lsl_checkpoint cp;     /* resume point of the sink */
    struct lsl_tail_source *tail; /* one of these three, by type */
    struct lsl_syslog_source *syslog;
    struct lsl_fd_source *fd;
    struct lsl_batch_stats st;     /* counters kept once the source is freed */
    struct lsl_batch_stats base;   /* of earlier runs, carried over reloads */
    struct lsl_source_losses lost; /* kept once freed */
    struct lsl_source_losses lost_base; /* of earlier runs */
    bool opened;
    bool freed;
    bool done;
    int err;
};

struct lsl_run {
    struct lsl_config *cfg;
    struct lsl_run_opts o;
    struct lsl_keyring *kr;
    uint8_t pk[LSL_VAULT_PUBKEY_BYTES];
    struct lsl_ckpt_key *ckey;   /* NULL until a tail source needs it */
    struct lsl_vault_set *vs;    /* one vault file per key epoch */
    struct lsl_vault_wstate *ws; /* STATE/writer.state: the file chain */
    struct lsl_stoplist *stop;   /* NULL: no subject erased */
    struct lsl_pipeline *pl;
    struct run_src *src;
    size_t nsrc;
    size_t live;         /* opened and not done */
    uint64_t vault_new;  /* kept once the pipeline is closed */
    uint64_t vault_base; /* of earlier runs, carried over reloads */
    struct lsl_pipeline_health health;      /* kept once closed */
    struct lsl_pipeline_health health_base; /* of earlier runs */
    bool stopping;
    int err;
    uv_timer_t idle_timer;
    uv_work_t close_req;
    uv_timer_t start_timer; /* retries a start the outputs refused */
    bool start_timer_open;
    unsigned start_retry_ms;
};

/* True if a source is a tail, which keeps checkpoints: the run then
 * needs the checkpoint key. */
bool lsl_run_has_tail(const struct lsl_run *r);

/* Resolve and load the source's rule; logs config file and line. */
LSL_MUST_CHECK int lsl_run_load_rule(struct lsl_run *r, struct run_src *s);

/* Load KEYS/hash.key and KEYS/vault.pub; logs what to do. */
LSL_MUST_CHECK int lsl_run_load_keys(struct lsl_run *r);
/* Log that the checkpoint key at `path` (and path.old, if there is one)
 * could not be used (`what`: "use", "create"). */
void lsl_run_ckpt_key_error(const char *path, const char *what, int rc);

/*
 * Check, as the effective user, every directory the run will use: keys
 * (writable when the hash key ratchets), vault, checkpoints, segments,
 * tailed files' directories, syslog socket directories. Every problem is
 * logged with the path and what to do. 0 or -EACCES.
 */
LSL_MUST_CHECK int lsl_run_preflight(const struct lsl_run *r);

/* Validate [kafka] through librdkafka when a source uses it; logs the
 * problem (secrets hidden). 0 or LSL_ECONFIG. */
LSL_MUST_CHECK int lsl_run_kafka_check(const struct lsl_config *cfg);

/* Open the Kafka sink of `s`, and make the local checkpoint the one
 * committed in Kafka (runkafka.c). Logs failures. */
LSL_MUST_CHECK int lsl_run_open_kafka(struct lsl_run *r, struct run_src *s);

/* Print [kafka] for --check, secret values hidden. */
void lsl_run_kafka_describe(const struct lsl_config *cfg, FILE *f);

/* The logseal_sink_* metrics of sinks that report them (Kafka). */
LSL_MUST_CHECK int lsl_run_sink_metrics(const struct lsl_run *r,
                                        struct lsl_buf *out);

/* Every source is done: wait for the pipeline to idle, then tear down. */
void lsl_run_finish(struct lsl_run *r);

/* Counters of a source (committed batches). */
const struct lsl_batch_stats *lsl_run_src_stats(const struct run_src *s);

/* What a source counted as lost (syslog: asks the kernel first). */
struct lsl_source_losses lsl_run_src_losses(const struct run_src *s);

/* The commit step's health; zero once the pipeline is closed. */
struct lsl_pipeline_health lsl_run_health(const struct lsl_run *r);

#endif
