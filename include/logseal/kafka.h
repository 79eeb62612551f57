/*
 * logseal — the Kafka sink: one message per line, one transaction per
 * committed batch, the source's checkpoint inside that transaction.
 *
 * Exactly once. The producer is transactional; its transactional.id,
 * "logseal.<host>.<source>", is stable across restarts, so a restarted
 * daemon fences its zombie (an older producer epoch can no longer write or
 * commit). Each batch is one transaction: its lines go to `topic`, and as
 * its last message a record to `checkpoint_topic` (compacted; key: the
 * transactional id) holding the transaction's sequence number and the
 * source's checkpoint. At start the sink reads that topic back with
 * isolation.level=read_committed and hands the checkpoint to the daemon,
 * which resumes the source there: lines and checkpoint become visible
 * together or not at all, so a read_committed consumer sees every line once
 * across crashes. The local checkpoint file is a copy written after the
 * commit; the sink's copy wins at start.
 *
 * Every message carries the headers lsl.host, lsl.source, lsl.rule,
 * lsl.epoch (the key epochs of the batch's tokens, when it has any) and
 * lsl.txn ("SEQ/NONCE": the transaction's sequence number and a random
 * nonce of the attempt, also in its checkpoint record; a consumer of a
 * broker that does not hide aborted transactions, like librdkafka's mock
 * cluster, can rebuild which attempts reached their commit point).
 *
 * Secrets: property values named like passwords, secrets or private keys
 * (lsl_kafka_prop_secret) are never logged: errors about them name the
 * property only, and librdkafka's own log lines are dropped if they hold
 * one.
 */
#ifndef LOGSEAL_KAFKA_H
#define LOGSEAL_KAFKA_H

#include "logseal/checkpoint.h"
#include "logseal/pipeline.h"

enum lsl_kafka_key {
    LSL_KAFKA_KEY_HOST_SOURCE, /* "host/source": one stream, one partition */
    LSL_KAFKA_KEY_SOURCE,
    LSL_KAFKA_KEY_HOST,
    LSL_KAFKA_KEY_NONE, /* no key: spread over partitions */
};

/* A librdkafka property (`kafka.<name> = value`), both borrowed. */
struct lsl_kafka_prop {
    const char *name;
    const char *value;
};

struct lsl_kafka_opts {
    const char *brokers;          /* bootstrap.servers */
    const char *topic;            /* may hold {source} and {host} */
    const char *checkpoint_topic; /* NULL: "logseal.checkpoints" */
    const char *host;             /* the host id; NULL: gethostname() */
    /* transactional.id is "<scope>.<host>.<source>"; NULL: "logseal" */
    const char *txn_scope;
    const char *source; /* the source's name */
    /* Seals and opens the checkpoints; NULL only where none is kept
     * (`pipe`): a sealed one read back is then refused. */
    const struct lsl_ckpt_key *ckpt_key;
    const char *rule; /* for the lsl.rule header; may be NULL */
    enum lsl_kafka_key key;
    const struct lsl_kafka_prop *props; /* borrowed, nprops of them */
    size_t nprops;
    unsigned timeout_ms; /* per broker round (commit, flush); 0: 10 s */
    /* Out, may be NULL: the checkpoint committed last, read back at open
     * (*have_resume says whether there was one). */
    struct lsl_checkpoint *resume;
    bool *have_resume;
};

/* Defaults: key host/source, timeout 10 s. */
void lsl_kafka_opts_init(struct lsl_kafka_opts *o);

/*
 * Connect, fence older producers of the same transactional id, read the
 * last committed checkpoint back. Blocks (up to a few timeouts): call it
 * before the loop runs sources. 0, LSL_ECONFIG (a property librdkafka
 * refuses: logged, secrets hidden), -EAGAIN (the cluster did not answer
 * in time: retry later), -EPERM (fenced or not authorized), -ENOMEM.
 */
LSL_MUST_CHECK int lsl_kafka_sink_open(struct lsl_sink **out,
                                       const struct lsl_kafka_opts *o);

/*
 * Validate what `o` configures without connecting (`run --check`): every
 * property is set on a librdkafka configuration. One message per problem
 * in err (NUL-separated is not needed: the first problem), secrets hidden.
 * 0 or LSL_ECONFIG.
 */
LSL_MUST_CHECK int lsl_kafka_check(const struct lsl_kafka_opts *o, char *err,
                                   size_t cap);

/* True if a property's value must never be printed (passwords, secrets,
 * private keys, credentials). */
bool lsl_kafka_prop_secret(const char *name);

/*
 * Parse "kafka://BROKERS/TOPIC" (`pipe --out`): BROKERS (host:port,...)
 * and TOPIC copied out. 0 or -EINVAL.
 */
LSL_MUST_CHECK int lsl_kafka_url_parse(const char *url, char *brokers,
                                       size_t bcap, char *topic, size_t tcap);

#endif
