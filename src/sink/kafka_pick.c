/*
 * Kafka sink: which checkpoint record of the checkpoint topic a start
 * resumes from. Records of one transactional id arrive in offset order;
 * the one with the highest sequence number wins, the later one of equal
 * numbers (an attempt written again after an abort). A sealed checkpoint
 * is bound to its record's sequence number, so an old record written
 * again by someone else shows an old number and is ignored.
 *
 * Across a rotation of checkpoint.key: a record sealed with the current
 * key wins over any sealed with the previous key, whatever its number.
 * After a rotation the daemon's first commit seals with the new key, so a
 * later record sealed with the old one comes from someone who holds the
 * old key, which the rotation means to retire. A record sealed with a key
 * this host does not hold at all (the old key, once checkpoint.key.old
 * is removed) is skipped when a later record of the same partition opens,
 * and stops the start when it is the latest: resuming before it could
 * send lines twice, and it may be a forgery.
 */
#include <inttypes.h>
#include "kafka_internal.h"
#include "logseal/log.h"

static void stale_seen(struct kafka_found *f, const struct kafka_rec_at *at,
                       const char *txid)
{
    lsl_log_warn("kafka: checkpoint topic %s partition %" PRId32
                 " offset %" PRId64 ": the record of %s is sealed with a "
                 "checkpoint key this host does not hold (one a rotation "
                 "replaced?); skipped if a later record supersedes it",
                 at->topic, at->partition, at->offset, txid);
    f->stale = true;
    f->stale_partition = at->partition;
    f->stale_offset = at->offset;
}

int kafka_found_add(struct kafka_found *f, const struct kafka_rec_at *at,
                    const char *txid, int rc, uint64_t seq, bool have,
                    const struct lsl_checkpoint *cp)
{
    struct kafka_best *b;

    if (rc == LSL_EOTHERKEY) {
        stale_seen(f, at, txid);
        return 0;
    }
    if (rc) {
        lsl_log_error("kafka: checkpoint topic %s partition %" PRId32
                      " offset %" PRId64 ": the record of %s does not parse "
                      "(%s); delete it (or the topic) to start over",
                      at->topic, at->partition, at->offset, txid,
                      lsl_strerror(rc));
        return rc;
    }
    if (f->stale && at->partition == f->stale_partition)
        f->stale = false;
    b = &f->by[have && cp->old_key];
    /* Sequence numbers only grow: a lower one after a higher is an old
     * record written again. */
    if (b->any && seq < b->seq) {
        if (at->partition == b->partition)
            lsl_log_warn("kafka: checkpoint topic %s partition %" PRId32
                         " offset %" PRId64 ": a record of %s for "
                         "transaction %" PRIu64 " after one for %" PRIu64
                         ": an older record written again; ignored",
                         at->topic, at->partition, at->offset, txid, seq,
                         b->seq);
        return 0;
    }
    b->any = true;
    b->seq = seq;
    b->have = have;
    b->partition = at->partition;
    if (have)
        b->cp = *cp;
    return 0;
}

int kafka_found_pick(const struct kafka_found *f, const char *txid,
                     const struct kafka_best **out)
{
    const struct kafka_best *cur = &f->by[0], *prev = &f->by[1];

    if (f->stale) {
        lsl_log_error("kafka: the latest checkpoint record of %s (partition "
                      "%" PRId32 " offset %" PRId64 ") is sealed with a "
                      "checkpoint key this host does not hold: restore "
                      "KEYS/checkpoint.key (and checkpoint.key.old during a "
                      "rotation), or delete the record to start over",
                      txid, f->stale_partition, f->stale_offset);
        return LSL_EOTHERKEY;
    }
    if (cur->any && prev->any && prev->seq > cur->seq)
        lsl_log_warn("kafka: a checkpoint record of %s sealed with the "
                     "previous checkpoint key (transaction %" PRIu64
                     ") is newer than the latest sealed with the current "
                     "key (%" PRIu64 "); ignored",
                     txid, prev->seq, cur->seq);
    *out = cur->any ? cur : prev;
    return 0;
}
