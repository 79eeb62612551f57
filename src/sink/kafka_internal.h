/* Private to the Kafka sink (kafka.c, kafka_conf.c, kafka_pick.c,
 * kafka_resume.c). */
#ifndef LSL_KAFKA_INTERNAL_H
#define LSL_KAFKA_INTERNAL_H

#include <librdkafka/rdkafka.h>
#include "logseal/kafka.h"

#define KAFKA_DEFAULT_CKPT_TOPIC "logseal.checkpoints"
#define KAFKA_CKPT_MAGIC         "logseal-kafka-checkpoint 1\n"

/* Secret values a log line must never show (owned copies, wiped). */
struct kafka_secrets {
    char **values;
    size_t n;
};

void kafka_secrets_free(struct kafka_secrets *sec);

/*
 * A librdkafka configuration with the common settings (bootstrap servers,
 * every pass-through property, a log callback that withholds secrets) and
 * `extra` name/value pairs (NULL-terminated list, may be NULL). Secret
 * values are collected into `sec` (the callback reads it: it must outlive
 * the client). On a refused property: LSL_ECONFIG with the message in err
 * (the property named, its value never). Owned: rd_kafka_conf_destroy or
 * rd_kafka_new.
 */
int kafka_conf_build(rd_kafka_conf_t **out, const struct lsl_kafka_opts *o,
                     const char *const *extra, struct kafka_secrets *sec,
                     char *err, size_t cap);

/* rd_kafka_error_t -> -errno for the pipeline: -EAGAIN (retry), -EPERM
 * (fenced, not authorized) or -ENOTRECOVERABLE (another fatal error). */
int kafka_errno(const rd_kafka_error_t *e);

/*
 * Read the last committed checkpoint record of `txid` back from `topic`
 * (read_committed). *seq: its transaction sequence number (0 if none);
 * cp filled and *have set when the record holds a checkpoint. 0, -EAGAIN
 * (no answer in time), LSL_ECORRUPT (a record that does not parse: named
 * by partition and offset), -ENOMEM.
 */
int kafka_resume_read(const struct lsl_kafka_opts *o, const char *topic,
                      const char *txid, uint64_t *seq,
                      struct lsl_checkpoint *cp, bool *have);

/*
 * What a checkpoint in a record is sealed to: its source and the record's
 * transaction tag ("SEQ/NONCE"), so a record cannot be given another
 * sequence number. Into out (KAFKA_CKPT_CTX_MAX bytes).
 */
#define KAFKA_CKPT_CTX_MAX 160
void kafka_ckpt_context(char *out, const char *source, const char *tag);

/* Parse a checkpoint record's value, the checkpoint of `source` sealed
 * with `key`. 0, LSL_ECORRUPT, or an error of lsl_checkpoint_parse. */
int kafka_ckpt_parse(const char *p, size_t len, const char *source,
                     const struct lsl_ckpt_key *key, uint64_t *seq,
                     struct lsl_checkpoint *cp, bool *have);

/* Where a checkpoint record was read, for messages. */
struct kafka_rec_at {
    const char *topic;
    int32_t partition;
    int64_t offset;
};

/* The best record of one kind (kafka_pick.c). */
struct kafka_best {
    uint64_t seq;
    bool any;  /* a record was taken */
    bool have; /* ... and it holds a checkpoint */
    int32_t partition;
    struct lsl_checkpoint cp;
};

struct kafka_found {
    /* [0]: sealed with the current key, or holding no checkpoint;
     * [1]: sealed with the previous key (checkpoint.key.old). */
    struct kafka_best by[2];
    /* The last record sealed with a key not held, unless a later record
     * of its partition opened. */
    bool stale;
    int32_t stale_partition;
    int64_t stale_offset;
};

/*
 * One record of the source's transactional id, in the order read; rc,
 * seq, have and cp are kafka_ckpt_parse's answers. 0 to read on, or the
 * error that stops the start (logged, naming the record).
 */
int kafka_found_add(struct kafka_found *f, const struct kafka_rec_at *at,
                    const char *txid, int rc, uint64_t seq, bool have,
                    const struct lsl_checkpoint *cp);

/* The record to resume from, after every record was added: 0 and *out,
 * or LSL_EOTHERKEY (the latest record needs a key not held; logged). */
int kafka_found_pick(const struct kafka_found *f, const char *txid,
                     const struct kafka_best **out);

#endif
