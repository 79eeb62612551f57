/*
 * The ledger (legal.h): the legal state derived from the verified audit
 * log's items; token sets; and the legacy plain-text files of earlier
 * versions, read once for import.
 *
 * Invariants: the ledger holds only what records that verified say, in
 * log order (a release lifts the holds its case placed before it); it
 * holds tokens, epoch numbers, case references and ids, never an original.
 */
#include "logseal/legal.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "logseal/array.h"
#include "logseal/buf.h"
#include "logseal/file.h"
#include "vault_internal.h"

#define ERASED_NAME "erased"
#define HOLDS_NAME  "holds"
#define ITEM_MAX    256

static int tok_cmp(const void *a, const void *b)
{
    const struct lsl_token *x = a, *y = b;
    int c = memcmp(x->hash, y->hash, LSL_TOKEN_HASH_BYTES);

    if (c)
        return c;
    if (x->cls != y->cls)
        return x->cls < y->cls ? -1 : 1;
    return (int)x->kid - (int)y->kid;
}

int lsl_tokset_add(struct lsl_tokset *s, const struct lsl_token *t)
{
    int rc;

    if (lsl_tokset_has(s, t))
        return 0;
    rc = lsl_array_grow(&s->v, &s->cap, s->n + 1, sizeof(*s->v), 16);
    if (rc)
        return rc;
    s->v[s->n++] = *t;
    s->sorted = s->n == 1;
    return 0;
}

bool lsl_tokset_has(struct lsl_tokset *s, const struct lsl_token *t)
{
    if (!s->sorted && s->n) {
        qsort(s->v, s->n, sizeof(*s->v), tok_cmp);
        s->sorted = true;
    }
    return s->n && bsearch(t, s->v, s->n, sizeof(*s->v), tok_cmp) != NULL;
}

/* Class and hash: a token read from an ip6-mode address has no epoch. */
static int tok_cmp_hash(const void *a, const void *b)
{
    const struct lsl_token *x = a, *y = b;
    int c = memcmp(x->hash, y->hash, LSL_TOKEN_HASH_BYTES);

    if (c)
        return c;
    return (x->cls > y->cls) - (x->cls < y->cls);
}

const struct lsl_token *lsl_tokset_match(struct lsl_tokset *s,
                                         const struct lsl_token *t)
{
    if (t->kid != LSL_TOKEN_KID_IP6)
        return lsl_tokset_has(s, t)
                   ? bsearch(t, s->v, s->n, sizeof(*s->v), tok_cmp)
                   : NULL;
    (void)lsl_tokset_has(s, t); /* sorts */
    return s->n ? bsearch(t, s->v, s->n, sizeof(*s->v), tok_cmp_hash) : NULL;
}

void lsl_tokset_free(struct lsl_tokset *s)
{
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* ---- the ledger ---- */

struct hold {
    char *case_ref; /* escaped, as in the log */
    bool is_epoch;
    uint32_t epoch;
    struct lsl_token tok;
};

struct file_ref {
    uint8_t writer[LSL_VAULT_ID_BYTES];
    uint64_t seq;
};

struct lsl_ledger {
    struct lsl_audit_head head;
    bool current; /* a format 2 record was read */
    struct lsl_tokset erased;
    struct hold *holds;
    size_t nholds, cap_holds;
    struct lsl_stop_entry *stops;
    size_t nstops, cap_stops;
    struct file_ref *removed;
    size_t nremoved, cap_removed;
    struct file_ref *unfinished; /* imported before their host finished */
    size_t nunfinished, cap_unfinished;
    struct lsl_vault_anchor *writers;
    size_t nwriters, cap_writers;
};

/* The first capacity of each of the ledger's arrays. */
#define LEDGER_CAP_START 16

static int add_hold(struct lsl_ledger *l, struct lsl_span case_ref,
                    const struct hold *h)
{
    int rc = lsl_array_grow(&l->holds, &l->cap_holds, l->nholds + 1,
                            sizeof(*l->holds), LEDGER_CAP_START);
    char *c;

    if (rc)
        return rc;
    c = strndup(case_ref.p, case_ref.len);
    if (!c)
        return -ENOMEM;
    l->holds[l->nholds] = *h;
    l->holds[l->nholds++].case_ref = c;
    return 0;
}

static void release(struct lsl_ledger *l, struct lsl_span case_ref)
{
    size_t keep = 0;

    for (size_t i = 0; i < l->nholds; i++) {
        struct hold *h = &l->holds[i];

        if (strlen(h->case_ref) == case_ref.len &&
            memcmp(h->case_ref, case_ref.p, case_ref.len) == 0) {
            free(h->case_ref);
            continue;
        }
        l->holds[keep++] = *h;
    }
    l->nholds = keep;
}

static bool hex_id(const char *p, size_t len, uint8_t *out, size_t n)
{
    size_t got = 0;

    return len == 2 * n &&
           sodium_hex2bin(out, n, p, len, NULL, &got, NULL) == 0 && got == n;
}

/* "ID:SEQ" (and, with digest, ":DIGEST"). */
static bool parse_file_ref(const char *v, struct file_ref *f, uint8_t *digest)
{
    const char *c1 = strchr(v, ':'), *c2;
    char *end;

    if (!c1 || !hex_id(v, (size_t)(c1 - v), f->writer, LSL_VAULT_ID_BYTES))
        return false;
    f->seq = strtoull(c1 + 1, &end, 10);
    if (end == c1 + 1)
        return false;
    if (!digest)
        return *end == '\0';
    c2 = end;
    return *c2 == ':' &&
           hex_id(c2 + 1, strlen(c2 + 1), digest, LSL_VAULT_DIGEST_BYTES);
}

static bool parse_stop(const char *v, struct lsl_stop_entry *e)
{
    const char *c = strchr(v, ':');
    enum lsl_class cls;

    if (!c || lsl_class_parse(v, (size_t)(c - v), &cls) != 0 ||
        !hex_id(c + 1, strlen(c + 1), e->hash, LSL_TOKEN_HASH_BYTES))
        return false;
    e->cls = (uint8_t)cls;
    return true;
}

static int note_writer(struct lsl_ledger *l, const char *v, uint64_t seq)
{
    struct lsl_vault_anchor w = {.audit_seq = seq};
    struct file_ref f;
    int rc;

    if (!parse_file_ref(v, &f, w.digest))
        return LSL_ECORRUPT;
    for (size_t i = 0; i < l->nwriters; i++) {
        struct lsl_vault_anchor *x = &l->writers[i];

        if (memcmp(x->writer, f.writer, sizeof(f.writer)) != 0)
            continue;
        if (f.seq >= x->seq) {
            x->seq = f.seq;
            x->audit_seq = seq;
            memcpy(x->digest, w.digest, sizeof(w.digest));
        }
        return 0;
    }
    rc = lsl_array_grow(&l->writers, &l->cap_writers, l->nwriters + 1,
                        sizeof(*l->writers), LEDGER_CAP_START);
    if (rc)
        return rc;
    memcpy(w.writer, f.writer, sizeof(w.writer));
    w.seq = f.seq;
    l->writers[l->nwriters++] = w;
    return 0;
}

/* An import took a file unfinished, or replaced such a copy by the
 * finished file. */
static int note_unfinished(struct lsl_ledger *l, const struct file_ref *f,
                           bool unfinished)
{
    size_t keep = 0;

    for (size_t i = 0; i < l->nunfinished; i++) {
        if (l->unfinished[i].seq != f->seq ||
            memcmp(l->unfinished[i].writer, f->writer, LSL_VAULT_ID_BYTES))
            l->unfinished[keep++] = l->unfinished[i];
    }
    l->nunfinished = keep;
    if (!unfinished)
        return 0;
    if (lsl_array_grow(&l->unfinished, &l->cap_unfinished, l->nunfinished + 1,
                       sizeof(*l->unfinished), LEDGER_CAP_START))
        return -ENOMEM;
    l->unfinished[l->nunfinished++] = *f;
    return 0;
}

static bool span_is(struct lsl_span s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

/* One KEY=VALUE item of a record of action `a`. */
static int apply_item(struct lsl_ledger *l, const struct lsl_audit_record *r,
                      const char *key, const char *v)
{
    bool erase =
        span_is(r->action, "erase") || span_is(r->action, "import-erased");
    bool hold = span_is(r->action, "hold") || span_is(r->action, "import-hold");
    struct hold h = {0};
    struct file_ref f;
    struct lsl_stop_entry e;
    char *end;

    if (strcmp(key, "writer") == 0)
        return note_writer(l, v, r->seq);
    if (strcmp(key, "tok") == 0 && (erase || hold)) {
        if (lsl_token_parse(v, strlen(v), &h.tok) != 0)
            return LSL_ECORRUPT;
        return erase ? lsl_tokset_add(&l->erased, &h.tok)
                     : add_hold(l, r->case_ref, &h);
    }
    if (strcmp(key, "epoch") == 0 && hold) {
        unsigned long long n = strtoull(v, &end, 10);

        if (*end || end == v || n > UINT32_MAX)
            return LSL_ECORRUPT;
        h.is_epoch = true;
        h.epoch = (uint32_t)n;
        return add_hold(l, r->case_ref, &h);
    }
    if (strcmp(key, "stop") == 0 && erase) {
        if (!parse_stop(v, &e))
            return LSL_ECORRUPT;
        if (lsl_array_grow(&l->stops, &l->cap_stops, l->nstops + 1,
                           sizeof(*l->stops), LEDGER_CAP_START))
            return -ENOMEM;
        l->stops[l->nstops++] = e;
        return 0;
    }
    if (span_is(r->action, "import") &&
        (strcmp(key, "unfinished") == 0 || strcmp(key, "replaced") == 0)) {
        if (!parse_file_ref(v, &f, NULL))
            return LSL_ECORRUPT;
        return note_unfinished(l, &f, key[0] == 'u');
    }
    if (strcmp(key, "removed") == 0) {
        if (!parse_file_ref(v, &f, NULL))
            return LSL_ECORRUPT;
        if (lsl_array_grow(&l->removed, &l->cap_removed, l->nremoved + 1,
                           sizeof(*l->removed), LEDGER_CAP_START))
            return -ENOMEM;
        l->removed[l->nremoved++] = f;
    }
    return 0;
}

/* Walk a verified record's items; release lifts its case's holds. */
static int apply_record(const struct lsl_audit_record *r, void *ud)
{
    struct lsl_ledger *l = ud;
    size_t pos = 0;
    int rc = 0;

    l->head.seq = r->seq;
    memcpy(l->head.hash, r->hash, sizeof(l->head.hash));
    l->current = l->current || r->format == 2;
    if (span_is(r->action, "release"))
        release(l, r->case_ref);
    while (rc == 0 && pos < r->items.len) {
        char word[ITEM_MAX], *eq;
        size_t n = 0;

        while (pos < r->items.len && r->items.p[pos] == ' ')
            pos++;
        while (pos + n < r->items.len && r->items.p[pos + n] != ' ')
            n++;
        if (n == 0)
            break;
        if (n < sizeof(word)) {
            memcpy(word, r->items.p + pos, n);
            word[n] = '\0';
            eq = strchr(word, '=');
            if (eq) {
                *eq = '\0';
                rc = apply_item(l, r, word, eq + 1);
            }
        }
        pos += n;
    }
    return rc;
}

int lsl_ledger_load(struct lsl_ledger **out, const char *vault_dir,
                    const struct lsl_audit_pub *pub,
                    struct lsl_audit_verdict *v)
{
    struct lsl_ledger *l = calloc(1, sizeof(*l));
    char path[4096];
    int rc;

    if (!l)
        return -ENOMEM;
    lsl_audit_genesis(pub, l->head.hash);
    rc = vault_dir
             ? lsl_path_join(path, sizeof(path), vault_dir, LSL_AUDIT_LOG_NAME)
             : -ENOENT;
    if (rc == 0)
        rc = lsl_audit_verify_each(path, pub, apply_record, l, v);
    if (rc == -ENOENT || rc == LSL_ETRUNC) {
        /* No log yet, or a torn last line the next append repairs. */
        if (rc == -ENOENT)
            memset(v, 0, sizeof(*v));
        rc = 0;
    }
    if (rc) {
        lsl_ledger_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void lsl_ledger_free(struct lsl_ledger *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nholds; i++)
        free(l->holds[i].case_ref);
    free(l->holds);
    lsl_tokset_free(&l->erased);
    free(l->stops);
    free(l->removed);
    free(l->unfinished);
    free(l->writers);
    free(l);
}

void lsl_ledger_head(const struct lsl_ledger *l, struct lsl_audit_head *h)
{
    *h = l->head;
}

bool lsl_ledger_current(const struct lsl_ledger *l)
{
    return l->current;
}

bool lsl_ledger_erased(struct lsl_ledger *l, const struct lsl_token *t)
{
    return lsl_tokset_has(&l->erased, t);
}

bool lsl_ledger_held_token(const struct lsl_ledger *l,
                           const struct lsl_token *t)
{
    for (size_t i = 0; i < l->nholds; i++) {
        const struct hold *x = &l->holds[i];

        if (x->is_epoch ? x->epoch % (LSL_VAULT_KID_MAX + 1) == t->kid
                        : lsl_vault_tok_eq(&x->tok, t))
            return true;
    }
    return false;
}

bool lsl_ledger_held_epoch(const struct lsl_ledger *l, uint32_t epoch)
{
    for (size_t i = 0; i < l->nholds; i++) {
        const struct hold *x = &l->holds[i];

        if (x->is_epoch ? x->epoch == epoch
                        : x->tok.kid == epoch % (LSL_VAULT_KID_MAX + 1))
            return true;
    }
    return false;
}

size_t lsl_ledger_holds_of(const struct lsl_ledger *l, const char *case_ref)
{
    size_t n = 0;

    for (size_t i = 0; i < l->nholds; i++)
        n += strcmp(l->holds[i].case_ref, case_ref) == 0;
    return n;
}

const struct lsl_stop_entry *lsl_ledger_stops(const struct lsl_ledger *l,
                                              size_t *n)
{
    *n = l->nstops;
    return l->stops;
}

bool lsl_ledger_removed(const struct lsl_ledger *l,
                        const uint8_t writer[LSL_VAULT_ID_BYTES], uint64_t seq)
{
    for (size_t i = 0; i < l->nremoved; i++) {
        if (l->removed[i].seq == seq &&
            memcmp(l->removed[i].writer, writer, LSL_VAULT_ID_BYTES) == 0)
            return true;
    }
    return false;
}

bool lsl_ledger_unfinished(const struct lsl_ledger *l,
                           const uint8_t writer[LSL_VAULT_ID_BYTES],
                           uint64_t seq)
{
    for (size_t i = 0; i < l->nunfinished; i++) {
        if (l->unfinished[i].seq == seq &&
            memcmp(l->unfinished[i].writer, writer, LSL_VAULT_ID_BYTES) == 0)
            return true;
    }
    return false;
}

const struct lsl_vault_anchor *lsl_ledger_writers(const struct lsl_ledger *l,
                                                  size_t *n)
{
    *n = l->nwriters;
    return l->writers;
}

/* ---- legacy files of earlier versions ---- */

/*
 * Call fn for each line of dir/name (without its newline), split at tabs
 * into at most 3 fields. A missing file has no lines; *found says whether
 * it exists. Not followed through a symlink.
 */
static int each_line(const char *dir, const char *name,
                     int (*fn)(char **f, size_t nf, void *ud), void *ud,
                     bool *found)
{
    char path[4096], *line = NULL, *f[3];
    size_t cap = 0, nf;
    ssize_t n;
    FILE *fp;
    int fd, rc = lsl_path_join(path, sizeof(path), dir, name);

    if (rc)
        return rc;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    *found = true;
    fp = fdopen(fd, "r");
    if (!fp) {
        close(fd);
        return -errno;
    }
    while (rc == 0 && (n = getline(&line, &cap, fp)) >= 0) {
        if (n && line[n - 1] == '\n')
            line[--n] = '\0';
        if (n == 0)
            continue;
        f[0] = line;
        for (nf = 1; nf < 3 && (f[nf] = strchr(f[nf - 1], '\t')); nf++)
            *f[nf]++ = '\0';
        rc = fn(f, nf, ud);
    }
    if (rc == 0 && ferror(fp))
        rc = -EIO;
    free(line);
    fclose(fp);
    return rc;
}

static int erased_line(char **f, size_t nf, void *ud)
{
    struct lsl_token t;

    (void)nf;
    if (lsl_token_parse(f[0], strlen(f[0]), &t) != 0)
        return LSL_ECORRUPT;
    return lsl_buf_printf(ud, "%stok=%s",
                          ((struct lsl_buf *)ud)->len ? " " : "", f[0]);
}

/* "CASE\tsubject\tTOKEN" or "CASE\tepoch\tN": one output line per line. */
static int hold_line(char **f, size_t nf, void *ud)
{
    struct lsl_token t;
    char *end;

    if (nf != 3 || !f[0][0])
        return LSL_ECORRUPT;
    if (strcmp(f[1], "epoch") == 0) {
        unsigned long long e = strtoull(f[2], &end, 10);

        if (*end || end == f[2] || e > UINT32_MAX)
            return LSL_ECORRUPT;
        return lsl_buf_printf(ud, "%s\tepoch=%llu\n", f[0], e);
    }
    if (strcmp(f[1], "subject") != 0 ||
        lsl_token_parse(f[2], strlen(f[2]), &t) != 0)
        return LSL_ECORRUPT;
    return lsl_buf_printf(ud, "%s\ttok=%s\n", f[0], f[2]);
}

int lsl_legal_legacy_load(const char *vault_dir, struct lsl_buf *erased,
                          struct lsl_buf *holds, bool *found)
{
    int rc;

    *found = false;
    rc = each_line(vault_dir, ERASED_NAME, erased_line, erased, found);
    if (rc == 0)
        rc = each_line(vault_dir, HOLDS_NAME, hold_line, holds, found);
    return rc;
}

int lsl_legal_legacy_retire(const char *vault_dir, const char *suffix)
{
    static const char *const names[] = {ERASED_NAME, HOLDS_NAME};
    char from[4096], to[4096 + 16];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < 2; i++) {
        rc = lsl_path_join(from, sizeof(from), vault_dir, names[i]);
        snprintf(to, sizeof(to), "%s%s", from, suffix);
        if (rc == 0 && rename(from, to) != 0 && errno != ENOENT)
            rc = -errno;
    }
    return rc ? rc : lsl_fsync_parent(from);
}
