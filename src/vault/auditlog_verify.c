/*
 * The audit trail, reading side: parsing record lines, verifying the
 * chain and signatures, and listing records (format in logseal/auditlog.h).
 *
 * Verification walks the file in order and stops at the first bad
 * record, so everything before it is known good. Each record is checked
 * in this order: it parses; its signature holds (else it was edited, or
 * signed by another key); its seq is the next one (else the sequence
 * numbers of the rest of the file tell deleted, reordered and inserted
 * apart); its prev value is the hash of the line before (else it belongs
 * to another chain).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "vault_internal.h"

enum { F_SEQ, F_TIME, F_OP, F_CASE, F_ACTION, F_QUERY, F_COUNT };

int lsl_audit_read_fd(int fd, struct lsl_buf *b)
{
    for (;;) {
        ssize_t n;
        int rc = lsl_buf_reserve(b, 1 << 16);

        if (rc)
            return rc;
        n = read(fd, b->p + b->len, b->cap - b->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return 0;
        b->len += (size_t)n;
    }
}

int lsl_audit_read_path(const char *path, struct lsl_buf *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int rc;

    if (fd < 0)
        return -errno;
    rc = lsl_audit_read_fd(fd, b);
    close(fd);
    return rc;
}

/* A decimal without sign or leading zeros, at most 19 digits. */
static bool parse_u64(struct lsl_span s, uint64_t *out)
{
    uint64_t v = 0;

    if (s.len == 0 || s.len > 19 || (s.len > 1 && s.p[0] == '0'))
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s.p[i] - '0');
    }
    *out = v;
    return true;
}

/* Lower-case hex of exactly n bytes. */
static bool parse_hex(struct lsl_span s, uint8_t *out, size_t n)
{
    size_t got = 0;

    for (size_t i = 0; i < s.len; i++) {
        if (!((s.p[i] >= '0' && s.p[i] <= '9') ||
              (s.p[i] >= 'a' && s.p[i] <= 'f')))
            return false;
    }
    return s.len == 2 * n &&
           sodium_hex2bin(out, n, s.p, s.len, NULL, &got, NULL) == 0 &&
           got == n;
}

int lsl_audit_line_parse(const char *p, size_t len, struct lsl_audit_line *l)
{
    size_t start = 0, nf = 0;
    struct lsl_span prev, sig;

    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] != '\t')
            continue;
        if (nf == LSL_AUDIT_FIELDS)
            return LSL_ECORRUPT;
        l->field[nf++] = (struct lsl_span){p + start, i - start};
        start = i + 1;
    }
    if (nf != LSL_AUDIT_FIELDS && nf != LSL_AUDIT_FIELDS_V1)
        return LSL_ECORRUPT;
    l->format = nf == LSL_AUDIT_FIELDS ? 2 : 1;
    l->items = nf == LSL_AUDIT_FIELDS ? l->field[F_COUNT + 1]
                                      : (struct lsl_span){p, 0};
    prev = l->field[nf - 2];
    sig = l->field[nf - 1];
    if (!parse_u64(l->field[F_SEQ], &l->seq) || l->seq == 0 ||
        !parse_u64(l->field[F_COUNT], &l->count) ||
        !parse_hex(prev, l->prev, LSL_AUDIT_HASH_BYTES) ||
        !parse_hex(sig, l->sig, LSL_AUDIT_SIG_BYTES))
        return LSL_ECORRUPT;
    l->signed_len = (size_t)(sig.p - p) - 1;
    return 0;
}

const char *lsl_audit_fault_name(enum lsl_audit_fault f)
{
    switch (f) {
    case LSL_AUDIT_OK:
        return "ok";
    case LSL_AUDIT_MALFORMED:
        return "malformed record";
    case LSL_AUDIT_BAD_SIGNATURE:
        return "edited or bad signature";
    case LSL_AUDIT_DELETED:
        return "deleted records";
    case LSL_AUDIT_REORDERED:
        return "reordered records";
    case LSL_AUDIT_INSERTED:
        return "inserted record";
    case LSL_AUDIT_TORN:
        return "torn last record";
    }
    return "unknown";
}

/* The lines of a log: start offsets and lengths, without newlines. */
struct lines {
    struct lsl_span *v;
    size_t n;
    bool partial_last; /* the file does not end with a newline */
};

static int split_lines(const struct lsl_buf *b, struct lines *ls)
{
    size_t n = 0, start = 0;

    for (size_t i = 0; i < b->len; i++)
        n += b->p[i] == '\n';
    ls->partial_last = b->len && b->p[b->len - 1] != '\n';
    ls->v = calloc(n + 2, sizeof(*ls->v));
    if (!ls->v)
        return -ENOMEM;
    for (size_t i = 0; i < b->len; i++) {
        if (b->p[i] == '\n') {
            ls->v[ls->n++] = (struct lsl_span){b->p + start, i - start};
            start = i + 1;
        }
    }
    if (ls->partial_last)
        ls->v[ls->n++] = (struct lsl_span){b->p + start, b->len - start};
    return 0;
}

/* Line index (from `from`) whose record has this seq, or SIZE_MAX. */
static size_t find_seq(const struct lines *ls, size_t from, uint64_t seq)
{
    struct lsl_audit_line l;

    for (size_t i = from; i < ls->n; i++) {
        if (lsl_audit_line_parse(ls->v[i].p, ls->v[i].len, &l) == 0 &&
            l.seq == seq)
            return i;
    }
    return SIZE_MAX;
}

/* Explain a record whose seq is not the expected one (line index i). */
static void explain_seq(const struct lines *ls, size_t i, uint64_t want,
                        uint64_t got, struct lsl_audit_verdict *v)
{
    size_t at;

    if (got > want) {
        at = find_seq(ls, i + 1, want);
        if (at != SIZE_MAX) {
            v->fault = LSL_AUDIT_REORDERED;
            snprintf(v->detail, sizeof(v->detail),
                     "record %llu comes here, record %llu is at line %zu",
                     (unsigned long long)got, (unsigned long long)want, at + 1);
            return;
        }
        v->fault = LSL_AUDIT_DELETED;
        snprintf(v->detail, sizeof(v->detail),
                 "records %llu..%llu are missing before it",
                 (unsigned long long)want, (unsigned long long)(got - 1));
        return;
    }
    at = find_seq(ls, 0, got);
    v->fault = LSL_AUDIT_INSERTED;
    snprintf(v->detail, sizeof(v->detail),
             "record %llu appears again (first at line %zu)%s",
             (unsigned long long)got, at + 1,
             at != SIZE_MAX && ls->v[at].len == ls->v[i].len &&
                     memcmp(ls->v[at].p, ls->v[i].p, ls->v[i].len) == 0
                 ? ", an exact copy"
                 : "");
}

/* Check line i given the chain state; fills v on a fault. */
static bool check_line(const struct lines *ls, size_t i,
                       const struct lsl_audit_pub *pub, const uint8_t *prev,
                       struct lsl_audit_verdict *v)
{
    struct lsl_audit_line l;
    const struct lsl_span *s = &ls->v[i];

    v->bad_line = i + 1;
    v->fault = LSL_AUDIT_MALFORMED;
    if (ls->partial_last && i + 1 == ls->n) {
        v->fault = LSL_AUDIT_TORN;
        v->torn_bytes = s->len;
        snprintf(v->detail, sizeof(v->detail),
                 "the last record is cut short (%zu bytes, no newline): a "
                 "crash or a full disk during an append; the next officer "
                 "command cuts it and records that",
                 s->len);
        return false;
    }
    if (lsl_audit_line_parse(s->p, s->len, &l) != 0) {
        snprintf(v->detail, sizeof(v->detail), "%s",
                 "not a record of 9 or 10 tab-separated fields");
        return false;
    }
    v->fault = LSL_AUDIT_BAD_SIGNATURE;
    if (crypto_sign_verify_detached(l.sig, (const uint8_t *)s->p, l.signed_len,
                                    pub->sign_pk) != 0) {
        snprintf(v->detail, sizeof(v->detail),
                 "its signature does not match its content: edited, or "
                 "not signed by this vault's officer key");
        return false;
    }
    if (l.seq != i + 1) {
        explain_seq(ls, i, i + 1, l.seq, v);
        return false;
    }
    v->fault = LSL_AUDIT_INSERTED;
    if (sodium_memcmp(l.prev, prev, LSL_AUDIT_HASH_BYTES) != 0) {
        snprintf(v->detail, sizeof(v->detail),
                 "it does not link to the record before it (it belongs to "
                 "another audit log)");
        return false;
    }
    v->fault = LSL_AUDIT_OK;
    v->bad_line = 0;
    return true;
}

/* The record of a verified line, for callbacks. */
static void to_record(const struct lsl_audit_line *l, size_t i,
                      struct lsl_audit_record *r)
{
    *r = (struct lsl_audit_record){
        .line = i + 1,
        .seq = l->seq,
        .time = l->field[F_TIME],
        .operator_name = l->field[F_OP],
        .case_ref = l->field[F_CASE],
        .action = l->field[F_ACTION],
        .query = l->field[F_QUERY],
        .count = l->count,
        .items = l->items,
        .format = l->format,
    };
}

int lsl_audit_verify_each(const char *path, const struct lsl_audit_pub *pub,
                          int (*fn)(const struct lsl_audit_record *r, void *ud),
                          void *ud, struct lsl_audit_verdict *v)
{
    struct lsl_buf b = {0};
    struct lines ls = {0};
    struct lsl_audit_record r;
    struct lsl_audit_line l;
    int rc;

    memset(v, 0, sizeof(*v));
    lsl_audit_genesis(pub, v->head);
    rc = lsl_audit_read_path(path, &b);
    if (rc == 0)
        rc = split_lines(&b, &ls);
    for (size_t i = 0; rc == 0 && i < ls.n; i++) {
        if (!check_line(&ls, i, pub, v->head, v)) {
            rc = v->fault == LSL_AUDIT_TORN ? LSL_ETRUNC : LSL_EAUTH;
            break;
        }
        lsl_audit_line_hash(ls.v[i].p, ls.v[i].len, v->head);
        v->records++;
        if (!fn || lsl_audit_line_parse(ls.v[i].p, ls.v[i].len, &l) != 0)
            continue;
        to_record(&l, i, &r);
        memcpy(r.hash, v->head, sizeof(r.hash));
        rc = fn(&r, ud);
    }
    free(ls.v);
    lsl_buf_free(&b);
    return rc;
}

int lsl_audit_verify(const char *path, const struct lsl_audit_pub *pub,
                     struct lsl_audit_verdict *v)
{
    return lsl_audit_verify_each(path, pub, NULL, NULL, v);
}

int lsl_audit_read(const char *path,
                   int (*fn)(const struct lsl_audit_record *r, void *ud),
                   void *ud, uint64_t *bad_line)
{
    struct lsl_buf b = {0};
    struct lines ls = {0};
    int rc;

    rc = lsl_audit_read_path(path, &b);
    if (rc == 0)
        rc = split_lines(&b, &ls);
    for (size_t i = 0; rc == 0 && i < ls.n; i++) {
        struct lsl_audit_line l;
        struct lsl_audit_record r;

        if (lsl_audit_line_parse(ls.v[i].p, ls.v[i].len, &l) != 0) {
            if (bad_line)
                *bad_line = i + 1;
            rc = LSL_ECORRUPT;
            break;
        }
        to_record(&l, i, &r);
        lsl_audit_line_hash(ls.v[i].p, ls.v[i].len, r.hash);
        rc = fn(&r, ud);
    }
    free(ls.v);
    lsl_buf_free(&b);
    return rc;
}
