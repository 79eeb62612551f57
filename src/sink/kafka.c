/*
 * Kafka sink: one transaction per committed batch (see logseal/kafka.h).
 *
 * State machine of the transaction, driven by the commit job (one call at
 * a time, a worker thread):
 *   IDLE --write()--> OPEN (lines produced) --commit()--> IDLE (committed)
 *   commit() failing retriably (a timeout: the outcome is unknown) leaves
 *   COMMITTING: the pipeline's retry calls write() for the same batch, which
 *   adds nothing, and commit() only asks for the commit again. A failure
 *   that needs an abort aborts: back to IDLE, and the retry produces the
 *   batch again in a new transaction with the same sequence number. A
 *   fatal error (fenced by a newer daemon with our transactional id) stops
 *   the daemon: the transaction is the newer daemon's to redo.
 * The sequence number counts committed transactions of this transactional
 * id; it is read back at open with the checkpoint.
 */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kafka_internal.h"
#include "logseal/log.h"

enum txn_state { TXN_IDLE, TXN_OPEN, TXN_COMMITTING, TXN_ABORTING };

struct kafka_sink {
    struct lsl_sink base;
    rd_kafka_t *rk;
    struct kafka_secrets sec;
    unsigned timeout_ms;
    char topic[256];
    char ckpt_topic[256];
    char txid[256];
    char key[192];
    size_t key_len;
    char host[128];
    char source[64];
    char rule[128];
    const struct lsl_ckpt_key *ckpt_key; /* borrowed; NULL: no checkpoints */
    uint64_t seq;                        /* transactions committed */
    enum txn_state txn;
    uint64_t txn_batch; /* b->seq of the open transaction */
    char txn_tag[48];   /* "SEQ/NONCE" of the open transaction */
    atomic_uint_fast64_t commits, aborts, retries;
    atomic_int dr_err; /* a message of the open transaction failed */
};

void lsl_kafka_opts_init(struct lsl_kafka_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->key = LSL_KAFKA_KEY_HOST_SOURCE;
    o->timeout_ms = 10000;
}

/* `tmpl` with {source} and {host} replaced. 0 or -ENAMETOOLONG. */
static int expand(char *out, size_t cap, const char *tmpl, const char *host,
                  const char *source)
{
    size_t n = 0;

    for (const char *p = tmpl; *p;) {
        const char *v = NULL;
        size_t skip = 1, vl;

        if (strncmp(p, "{source}", 8) == 0)
            v = source, skip = 8;
        else if (strncmp(p, "{host}", 6) == 0)
            v = host, skip = 6;
        vl = v ? strlen(v) : 1;
        if (n + vl >= cap)
            return -ENAMETOOLONG;
        memcpy(out + n, v ? v : p, vl);
        n += vl;
        p += skip;
    }
    out[n] = '\0';
    return 0;
}

/* The error text, then the error freed; returns its -errno. */
static int txn_error(struct kafka_sink *k, const char *what,
                     rd_kafka_error_t *e)
{
    int rc = kafka_errno(e);

    lsl_log_error("kafka %s: %s %s: %s%s", k->topic, what, k->txid,
                  rd_kafka_error_string(e),
                  rc == -EPERM ? " (another daemon with this transactional "
                                 "id took over: this one stops)"
                               : "");
    rd_kafka_error_destroy(e);
    return rc;
}

/*
 * An abort that times out (the coordinator unreachable) is asked again
 * before the next transaction begins (TXN_ABORTING). 0 or -errno.
 */
static int abort_txn(struct kafka_sink *k)
{
    rd_kafka_error_t *e;

    if (k->txn != TXN_ABORTING)
        atomic_fetch_add(&k->aborts, 1);
    e = rd_kafka_abort_transaction(k->rk, (int)k->timeout_ms);
    k->txn = e ? TXN_ABORTING : TXN_IDLE;
    if (!e)
        return 0;
    return txn_error(k, "aborting the transaction of", e);
}

static int begin_txn(struct kafka_sink *k, uint64_t batch)
{
    rd_kafka_error_t *e = rd_kafka_begin_transaction(k->rk);
    uint64_t nonce;

    if (e)
        return txn_error(k, "beginning a transaction of", e);
    randombytes_buf(&nonce, sizeof(nonce));
    snprintf(k->txn_tag, sizeof(k->txn_tag), "%" PRIu64 "/%016" PRIx64,
             k->seq + 1, nonce);
    k->txn = TXN_OPEN;
    k->txn_batch = batch;
    atomic_store(&k->dr_err, 0);
    return 0;
}

/* The key epochs of the batch's tokens, "7" or "7,8"; "" when none. */
static void epochs_of(const struct lsl_batch *b, char *out, size_t cap)
{
    unsigned lo = 0xffff, hi = 0;

    for (size_t i = 0; i < b->nmaps; i++) {
        unsigned kid = b->maps[i].tok.kid;

        lo = kid < lo ? kid : lo;
        hi = kid > hi ? kid : hi;
    }
    if (lo > hi)
        out[0] = '\0';
    else if (lo == hi)
        snprintf(out, cap, "%u", lo);
    else
        snprintf(out, cap, "%u,%u", lo, hi);
}

static void vu_header(rd_kafka_vu_t *v, const char *name, const char *val)
{
    v->vtype = RD_KAFKA_VTYPE_HEADER;
    v->u.header.name = name;
    v->u.header.val = val;
    v->u.header.size = -1;
}

/* One message; waits while librdkafka's queue is full (the broker is
 * slow), up to the timeout. (rd_kafka_produceva: the producev macros are
 * GNU statement expressions.) */
static int produce(struct kafka_sink *k, const char *topic, const void *key,
                   size_t key_len, const void *val, size_t len,
                   const char *epochs)
{
    rd_kafka_vu_t vu[10];
    uint64_t waited = 0;

    memset(vu, 0, sizeof(vu));
    vu[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vu[0].u.cstr = topic;
    vu[1].vtype = RD_KAFKA_VTYPE_KEY;
    vu[1].u.mem.ptr = (void *)(uintptr_t)key;
    vu[1].u.mem.size = key_len;
    vu[2].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[2].u.mem.ptr = (void *)(uintptr_t)val;
    vu[2].u.mem.size = len;
    vu[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[3].u.i = RD_KAFKA_MSG_F_COPY;
    vu[4].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vu[4].u.ptr = k;
    vu_header(&vu[5], "lsl.host", k->host);
    vu_header(&vu[6], "lsl.source", k->source);
    vu_header(&vu[7], "lsl.rule", k->rule);
    vu_header(&vu[8], "lsl.epoch", epochs);
    vu_header(&vu[9], "lsl.txn", k->txn_tag);
    for (;;) {
        rd_kafka_error_t *e = rd_kafka_produceva(k->rk, vu, 10);
        rd_kafka_resp_err_t err;

        if (!e)
            return 0;
        err = rd_kafka_error_code(e);
        rd_kafka_error_destroy(e);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || waited > k->timeout_ms) {
            lsl_log_error("kafka %s: cannot queue a message: %s", topic,
                          rd_kafka_err2str(err));
            return -EAGAIN;
        }
        rd_kafka_poll(k->rk, 100);
        waited += 100;
    }
}

static int kafka_write(struct lsl_sink *s, const struct lsl_batch *b)
{
    struct kafka_sink *k = (struct kafka_sink *)s;
    const char *p = b->out.p, *end = b->out.p + b->out.len;
    char epochs[16];
    int rc;

    if (k->txn == TXN_COMMITTING && k->txn_batch == b->seq)
        return 0; /* its commit is retried */
    if (k->txn != TXN_IDLE && (rc = abort_txn(k)) != 0)
        return rc;
    rc = begin_txn(k, b->seq);
    if (rc)
        return rc;
    epochs_of(b, epochs, sizeof(epochs));
    while (rc == 0 && p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;

        rc = produce(k, k->topic, k->key_len ? k->key : NULL, k->key_len, p,
                     (size_t)(stop - p), epochs);
        p = nl ? nl + 1 : end;
    }
    if (rc)
        (void)abort_txn(k);
    return rc;
}

/* Delivery reports (served by flush): remember a failed message. */
static void delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *ud)
{
    struct kafka_sink *k = m->_private;

    (void)rk;
    (void)ud;
    if (m->err && k)
        atomic_store(&k->dr_err, (int)m->err);
}

/*
 * Every line of the transaction acknowledged before its checkpoint record
 * is produced: the record never lands without its lines, even on a broker
 * that shows unfinished transactions (the mock cluster) or when the lines'
 * partition leader is down. One round trip per batch.
 */
static int flush_lines(struct kafka_sink *k)
{
    rd_kafka_resp_err_t err = rd_kafka_flush(k->rk, (int)k->timeout_ms);
    int failed = atomic_exchange(&k->dr_err, 0);

    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && !failed)
        return 0;
    lsl_log_error("kafka %s: lines of transaction %s of %s not delivered: "
                  "%s; aborting it, the batch will be sent again",
                  k->topic, k->txn_tag, k->txid,
                  rd_kafka_err2str(err ? err : (rd_kafka_resp_err_t)failed));
    atomic_fetch_add(&k->retries, 1);
    return -EAGAIN;
}

static int put_checkpoint(struct kafka_sink *k, const struct lsl_checkpoint *cp)
{
    size_t cap = LSL_CKPT_TEXT_MAX + 128, n, len = 0;
    char *text = malloc(cap), ctx[KAFKA_CKPT_CTX_MAX];
    int rc = 0;

    if (!text)
        return -ENOMEM;
    n = (size_t)snprintf(text, cap, "%stxn %s\n", KAFKA_CKPT_MAGIC, k->txn_tag);
    kafka_ckpt_context(ctx, k->source, k->txn_tag);
    if (cp)
        rc = lsl_checkpoint_format(cp, ctx, k->ckpt_key, text + n, cap - n,
                                   &len);
    else
        len = (size_t)snprintf(text + n, cap - n, "none\n");
    if (rc == 0)
        rc = produce(k, k->ckpt_topic, k->txid, strlen(k->txid), text, n + len,
                     "");
    free(text);
    return rc;
}

static int kafka_commit(struct lsl_sink *s, const struct lsl_checkpoint *cp)
{
    struct kafka_sink *k = (struct kafka_sink *)s;
    rd_kafka_error_t *e;
    int rc;

    if (k->txn == TXN_ABORTING) {
        rc = abort_txn(k);
        return rc ? rc : -EAGAIN; /* the batch is written again */
    }
    if (k->txn == TXN_IDLE) {
        rc = begin_txn(k, UINT64_MAX);
        if (rc)
            return rc;
    }
    if (k->txn == TXN_OPEN) {
        rc = flush_lines(k);
        if (rc == 0)
            rc = put_checkpoint(k, cp);
        if (rc) {
            (void)abort_txn(k);
            return rc;
        }
        k->txn = TXN_COMMITTING;
    }
    e = rd_kafka_commit_transaction(k->rk, (int)k->timeout_ms);
    if (!e) {
        k->seq++;
        k->txn = TXN_IDLE;
        atomic_fetch_add(&k->commits, 1);
        return 0;
    }
    atomic_fetch_add(&k->retries, 1);
    if (rd_kafka_error_txn_requires_abort(e)) {
        rc = txn_error(k,
                       "committing (will abort and retry) the "
                       "transaction of",
                       e);
        (void)abort_txn(k);
        return rc == -EPERM ? rc : -EAGAIN;
    }
    /* Retriable: the outcome is unknown; the retry commits again. */
    return txn_error(k, "committing the transaction of", e);
}

static void kafka_state(const struct lsl_sink *s, struct lsl_sink_state *st)
{
    const struct kafka_sink *k = (const struct kafka_sink *)s;

    snprintf(st->part, sizeof(st->part), "kafka:%s", k->txid);
    st->len = k->seq + 1;
}

static void kafka_stats(const struct lsl_sink *s, struct lsl_sink_stats *st)
{
    struct kafka_sink *k = (struct kafka_sink *)(uintptr_t)s;

    st->queued = k->rk ? (uint64_t)rd_kafka_outq_len(k->rk) : 0;
    st->commits = atomic_load(&k->commits);
    st->aborts = atomic_load(&k->aborts);
    st->retries = atomic_load(&k->retries);
}

/* Without `finish` (a stop that cannot wait), an open transaction is
 * aborted: its batch was never checkpointed and is read again. */
static int kafka_close(struct lsl_sink *s, bool finish)
{
    struct kafka_sink *k = (struct kafka_sink *)s;

    (void)finish;
    if (k->rk) {
        if (k->txn != TXN_IDLE)
            (void)abort_txn(k);
        rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE |
                                  RD_KAFKA_PURGE_F_INFLIGHT |
                                  RD_KAFKA_PURGE_F_NON_BLOCKING);
        rd_kafka_destroy(k->rk);
    }
    kafka_secrets_free(&k->sec);
    free(k);
    return 0;
}

static const struct lsl_sink_ops kafka_ops = {
    .write = kafka_write,
    .state = kafka_state,
    .commit = kafka_commit,
    .stats = kafka_stats,
    .close = kafka_close,
};

static int names(struct kafka_sink *k, const struct lsl_kafka_opts *o)
{
    int rc = 0;

    if (o->host)
        snprintf(k->host, sizeof(k->host), "%s", o->host);
    else if (gethostname(k->host, sizeof(k->host) - 1) != 0)
        snprintf(k->host, sizeof(k->host), "localhost");
    snprintf(k->source, sizeof(k->source), "%s", o->source);
    snprintf(k->rule, sizeof(k->rule), "%s", o->rule ? o->rule : "");
    rc = expand(k->topic, sizeof(k->topic), o->topic, k->host, k->source);
    if (rc == 0)
        rc = expand(k->ckpt_topic, sizeof(k->ckpt_topic),
                    o->checkpoint_topic ? o->checkpoint_topic
                                        : KAFKA_DEFAULT_CKPT_TOPIC,
                    k->host, k->source);
    if (rc)
        return rc;
    snprintf(k->txid, sizeof(k->txid), "%s.%s.%s",
             o->txn_scope ? o->txn_scope : "logseal", k->host, k->source);
    if (o->key == LSL_KAFKA_KEY_HOST_SOURCE)
        snprintf(k->key, sizeof(k->key), "%s/%s", k->host, k->source);
    else if (o->key == LSL_KAFKA_KEY_SOURCE)
        snprintf(k->key, sizeof(k->key), "%s", k->source);
    else if (o->key == LSL_KAFKA_KEY_HOST)
        snprintf(k->key, sizeof(k->key), "%s", k->host);
    k->key_len = strlen(k->key);
    snprintf(k->base.desc, sizeof(k->base.desc), "kafka://%.100s/%.140s",
             o->brokers, k->topic);
    return 0;
}

static int connect_producer(struct kafka_sink *k,
                            const struct lsl_kafka_opts *o)
{
    const char *extra[] = {"transactional.id", k->txid, NULL};
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_error_t *e;
    char err[512];
    int rc = kafka_conf_build(&conf, o, extra, &k->sec, err, sizeof(err));

    if (rc) {
        lsl_log_error("%s", err);
        return rc;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, delivered);
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!k->rk) {
        rd_kafka_conf_destroy(conf);
        lsl_log_error("kafka: cannot create the producer: %s", err);
        return LSL_ECONFIG;
    }
    /* Fences every older producer of txid and ends its transaction. */
    e = rd_kafka_init_transactions(k->rk, (int)k->timeout_ms);
    if (e)
        return txn_error(k, "initializing transactions of", e);
    return 0;
}

int lsl_kafka_sink_open(struct lsl_sink **out, const struct lsl_kafka_opts *o)
{
    struct kafka_sink *k = calloc(1, sizeof(*k));
    struct lsl_checkpoint *cp = NULL;
    bool have = false;
    int rc;

    if (!k)
        return -ENOMEM;
    k->base.ops = &kafka_ops;
    k->base.transactional = true;
    k->timeout_ms = o->timeout_ms ? o->timeout_ms : 10000;
    k->ckpt_key = o->ckpt_key;
    rc = names(k, o);
    if (rc == 0)
        rc = connect_producer(k, o);
    if (rc == 0)
        cp = calloc(1, sizeof(*cp));
    if (rc == 0 && !cp)
        rc = -ENOMEM;
    if (rc == 0)
        rc = kafka_resume_read(o, k->ckpt_topic, k->txid, &k->seq, cp, &have);
    if (rc) {
        kafka_close(&k->base, false);
        goto out;
    }
    lsl_log_info("kafka %s: transactional id %s, %" PRIu64
                 " transactions committed before%s",
                 k->topic, k->txid, k->seq,
                 have ? ", resuming at the checkpoint in the last" : "");
    if (o->have_resume)
        *o->have_resume = have;
    if (have && o->resume)
        *o->resume = *cp;
    *out = &k->base;
out:
    free(cp);
    return rc;
}
