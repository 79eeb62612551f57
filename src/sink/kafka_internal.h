/* Private to the Kafka sink (kafka.c, kafka_conf.c, kafka_resume.c). */
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

#endif
