/*
 * Kafka sink: reading the last committed checkpoint back at start.
 *
 * The checkpoint topic is read from its beginning to its end with
 * isolation.level=read_committed: a broker then delivers only records of
 * committed transactions, and partition EOF comes at the last stable
 * offset, after the fencing of an older producer (init_transactions, done
 * before) has ended its open transaction. Of the records with our key,
 * kafka_pick.c chooses the one to resume from (the highest sequence
 * number). That is exactly what a read_committed consumer of the data
 * topic sees as committed, so the daemon resumes where the readers' view
 * of the stream ends.
 *
 * A broker that shows records of aborted transactions (librdkafka's mock
 * cluster) makes an aborted attempt's record visible here too: the daemon
 * then resumes after it, consistently with a reader of that broker, which
 * also sees the attempt's lines (the README, "Kafka", says what that
 * means for tests).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kafka_internal.h"
#include "logseal/log.h"

void kafka_ckpt_context(char *out, const char *source, const char *tag)
{
    snprintf(out, KAFKA_CKPT_CTX_MAX, "%s\ntxn %s", source, tag);
}

int kafka_ckpt_parse(const char *p, size_t len, const char *source,
                     const struct lsl_ckpt_key *key, uint64_t *seq,
                     struct lsl_checkpoint *cp, bool *have)
{
    size_t mlen = strlen(KAFKA_CKPT_MAGIC);
    const char *end = p + len, *nl;
    char num[32], ctx[KAFKA_CKPT_CTX_MAX];
    char *e;

    if (len < mlen || memcmp(p, KAFKA_CKPT_MAGIC, mlen) != 0)
        return LSL_ECORRUPT;
    p += mlen;
    nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl || nl - p < 5 || memcmp(p, "txn ", 4) != 0 ||
        (size_t)(nl - p - 4) >= sizeof(num))
        return LSL_ECORRUPT;
    memcpy(num, p + 4, (size_t)(nl - p - 4));
    num[nl - p - 4] = '\0';
    errno = 0;
    *seq = strtoull(num, &e, 10);
    if (errno || e == num || *e != '/')
        return LSL_ECORRUPT;
    p = nl + 1;
    if (end - p == 5 && memcmp(p, "none\n", 5) == 0) {
        *have = false;
        return 0;
    }
    *have = true;
    kafka_ckpt_context(ctx, source, num);
    return lsl_checkpoint_parse(p, (size_t)(end - p), ctx, key, cp);
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Every partition of `topic` from its beginning; *n = 0 when the topic
 * does not exist yet (a first run). */
static int assign_all(rd_kafka_t *rk, const char *topic, unsigned timeout_ms,
                      int *n)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *l = NULL;
    rd_kafka_resp_err_t err;
    int rc = 0;

    *n = 0;
    if (!rkt)
        return -ENOMEM;
    err = rd_kafka_metadata(rk, 0, rkt, &md, (int)timeout_ms);
    if (err) {
        lsl_log_error("kafka: metadata of checkpoint topic %s: %s", topic,
                      rd_kafka_err2str(err));
        rc = -EAGAIN;
        goto out;
    }
    if (md->topic_cnt != 1 || md->topics[0].err ||
        md->topics[0].partition_cnt == 0)
        goto out;
    l = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    if (!l) {
        rc = -ENOMEM;
        goto out;
    }
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(l, topic,
                                          md->topics[0].partitions[i].id)
            ->offset = RD_KAFKA_OFFSET_BEGINNING;
    if (rd_kafka_assign(rk, l) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rc = -EAGAIN;
    else
        *n = md->topics[0].partition_cnt;
out:
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return rc;
}

struct found {
    const struct lsl_kafka_opts *o;
    struct kafka_found pick;
};

static int take(const rd_kafka_message_t *m, const char *txid, struct found *f)
{
    struct kafka_rec_at at = {rd_kafka_topic_name(m->rkt), m->partition,
                              m->offset};
    struct lsl_checkpoint cp;
    uint64_t seq = 0;
    bool have = false;
    int rc;

    if (m->key_len != strlen(txid) || memcmp(m->key, txid, m->key_len) != 0)
        return 0;
    rc = kafka_ckpt_parse(m->payload, m->len, f->o->source, f->o->ckpt_key,
                          &seq, &cp, &have);
    /* It names our transactional id as its sink state: a record that
     * names anything else (a path) was not written by us. */
    if (rc == 0 && have &&
        (strncmp(cp.segment, "kafka:", 6) != 0 ||
         strcmp(cp.segment + 6, txid) != 0))
        rc = LSL_ECORRUPT;
    return kafka_found_add(&f->pick, &at, txid, rc, seq, have, &cp);
}

static int consume_to_end(rd_kafka_t *rk, int nparts, const char *txid,
                          unsigned timeout_ms, struct found *f)
{
    uint64_t deadline = now_ms() + 3 * (uint64_t)timeout_ms;
    int eofs = 0, rc = 0;

    while (rc == 0 && eofs < nparts) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

        if (!m) {
            if (now_ms() > deadline) {
                lsl_log_error("kafka: reading the checkpoint topic did "
                              "not reach its end in %u ms",
                              3 * timeout_ms);
                rc = -EAGAIN;
            }
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            eofs++;
        else if (m->err)
            lsl_log_warn("kafka: reading the checkpoint topic: %s",
                         rd_kafka_message_errstr(m));
        else
            rc = take(m, txid, f);
        rd_kafka_message_destroy(m);
    }
    return rc;
}

int kafka_resume_read(const struct lsl_kafka_opts *o, const char *topic,
                      const char *txid, uint64_t *seq,
                      struct lsl_checkpoint *cp, bool *have)
{
    static const char *const consumer[] = {"isolation.level",
                                           "read_committed",
                                           "enable.partition.eof",
                                           "true",
                                           "enable.auto.commit",
                                           "false",
                                           "auto.offset.reset",
                                           "earliest",
                                           "group.id",
                                           "logseal-checkpoint-reader",
                                           NULL};
    struct kafka_secrets sec = {0};
    struct found *f = calloc(1, sizeof(*f));
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_t *rk = NULL;
    char err[512];
    const struct kafka_best *b = NULL;
    int nparts = 0, rc;

    if (!f)
        return -ENOMEM;
    f->o = o;
    rc = kafka_conf_build(&conf, o, consumer, &sec, err, sizeof(err));
    if (rc) {
        lsl_log_error("%s", err);
        goto out;
    }
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        lsl_log_error("kafka: cannot create the checkpoint reader: %s", err);
        rc = -ENOMEM;
        goto out;
    }
    rc = assign_all(rk, topic, o->timeout_ms, &nparts);
    if (rc == 0 && nparts > 0)
        rc = consume_to_end(rk, nparts, txid, o->timeout_ms, f);
    if (rc == 0)
        rc = kafka_found_pick(&f->pick, txid, &b);
    if (rc == 0) {
        *seq = b->any ? b->seq : 0;
        *have = b->have;
        if (b->have)
            *cp = b->cp;
    }
out:
    if (rk) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    kafka_secrets_free(&sec);
    free(f);
    return rc;
}
