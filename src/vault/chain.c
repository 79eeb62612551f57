/*
 * Completeness of a vault (vault.h): the writers' chains across its files,
 * checked from the headers alone (and the digests of the sealed secrets).
 *
 * A writer numbers its files 1, 2, ... and names the previous file's id in
 * each; its secret is sealed in every file. So a deleted file leaves a gap,
 * a file planted under a writer's id carries another secret, a copy or a
 * fork puts two files in one place, and files deleted from the end of a
 * chain are found against the newest place the audit log saw. Files of
 * one epoch, whichever writer, carry that epoch's verification key.
 *
 * Invariants: a file is judged by its writer's genuine secret, which is
 * the one the signed audit log recorded, else the one most of the writer's
 * files carry; files without it take no place (they are reported, and the
 * places they claim show as missing if no genuine file holds them).
 */
#include <stddef.h>
#include <stdlib.h>
#include "logseal/array.h"
#include "vault_internal.h"

struct fact {
    char *path;
    uint8_t writer[LSL_VAULT_ID_BYTES];
    uint64_t seq;
    uint8_t id[LSL_VAULT_ID_BYTES];
    uint8_t prev[LSL_VAULT_ID_BYTES];
    uint32_t epoch;
    bool have_keys;
    bool good; /* read without an integrity failure (a cut is fine) */
    bool foreign;
    uint8_t vkey[LSL_VAULT_DIGEST_BYTES];
    uint8_t wsecret[LSL_VAULT_DIGEST_BYTES];
};

struct lsl_vault_chain {
    struct fact *v;
    size_t n, cap;
};

struct check {
    const struct lsl_vault_chain_expect *x;
    void (*fn)(const struct lsl_vault_chain_problem *p, void *ud);
    void *ud;
    size_t problems;
};

int lsl_vault_chain_open(struct lsl_vault_chain **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : -ENOMEM;
}

void lsl_vault_chain_free(struct lsl_vault_chain *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].path);
    free(c->v);
    free(c);
}

int lsl_vault_chain_add(struct lsl_vault_chain *c, const char *path,
                        const struct lsl_vault_file_info *info)
{
    struct fact *f;
    int rc;

    if (info->version != LSL_VAULT_VERSION || info->link.seq == 0)
        return 0;
    rc = lsl_array_grow(&c->v, &c->cap, c->n + 1, sizeof(*c->v), 64);
    if (rc)
        return rc;
    f = &c->v[c->n];
    memset(f, 0, sizeof(*f));
    f->path = strdup(path);
    if (!f->path)
        return -ENOMEM;
    memcpy(f->writer, info->link.writer, LSL_VAULT_ID_BYTES);
    memcpy(f->id, info->link.id, LSL_VAULT_ID_BYTES);
    memcpy(f->prev, info->link.prev, LSL_VAULT_ID_BYTES);
    f->seq = info->link.seq;
    f->epoch = info->epoch;
    f->have_keys = info->have_keys;
    f->good = info->error == 0 || info->error == LSL_ETRUNC;
    memcpy(f->vkey, info->vkey_digest, LSL_VAULT_DIGEST_BYTES);
    memcpy(f->wsecret, info->wsecret_digest, LSL_VAULT_DIGEST_BYTES);
    c->n++;
    return 0;
}

static int fact_cmp(const void *a, const void *b)
{
    const struct fact *x = a, *y = b;
    int c = memcmp(x->writer, y->writer, LSL_VAULT_ID_BYTES);

    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void report(struct check *k, const struct lsl_vault_chain_problem *p)
{
    k->problems++;
    if (k->fn)
        k->fn(p, k->ud);
}

static const struct lsl_vault_anchor *anchor_of(const struct check *k,
                                                const uint8_t *writer)
{
    for (size_t i = 0; i < k->x->nanchors; i++) {
        if (memcmp(k->x->anchors[i].writer, writer, LSL_VAULT_ID_BYTES) == 0)
            return &k->x->anchors[i];
    }
    return NULL;
}

/*
 * The digest most facts of v[0..n) carry in the field at `off`, or NULL
 * if none carries one.
 */
static const uint8_t *majority(const struct fact *v, size_t n, size_t off)
{
    const uint8_t *best = NULL;
    size_t best_n = 0;

    for (size_t i = 0; i < n; i++) {
        const uint8_t *d = (const uint8_t *)&v[i] + off;
        size_t same = 0;

        if (!v[i].have_keys || v[i].foreign)
            continue;
        for (size_t j = 0; j < n; j++) {
            same += v[j].have_keys && !v[j].foreign &&
                    memcmp((const uint8_t *)&v[j] + off, d,
                           LSL_VAULT_DIGEST_BYTES) == 0;
        }
        if (same > best_n) {
            best = d;
            best_n = same;
        }
    }
    return best;
}

/* Files of the writer without its genuine secret. */
static void mark_foreign(struct check *k, struct fact *v, size_t n,
                         const struct lsl_vault_anchor *a)
{
    const uint8_t *want =
        a ? a->digest : majority(v, n, offsetof(struct fact, wsecret));

    for (size_t i = 0; want && i < n; i++) {
        struct lsl_vault_chain_problem p = {.fault = LSL_CHAIN_FOREIGN};

        if (!v[i].have_keys ||
            memcmp(v[i].wsecret, want, LSL_VAULT_DIGEST_BYTES) == 0)
            continue;
        v[i].foreign = true;
        p.writer = v[i].writer;
        p.seq = p.seq_to = v[i].seq;
        p.path = v[i].path;
        report(k, &p);
    }
}

/* Report places from..to with no file (other than removed ones). */
static void gap(struct check *k, const uint8_t *writer, uint64_t from,
                uint64_t to, uint64_t top, const struct lsl_vault_anchor *a)
{
    uint64_t s = from;

    while (s <= to) {
        struct lsl_vault_chain_problem p = {.writer = writer, .seq = s};

        if (k->x->removed && k->x->removed(writer, s, k->x->ud)) {
            s++;
            continue;
        }
        p.seq_to = s;
        while (
            p.seq_to < to &&
            !(k->x->removed && k->x->removed(writer, p.seq_to + 1, k->x->ud)))
            p.seq_to++;
        p.fault = s > top ? LSL_CHAIN_TAIL : LSL_CHAIN_MISSING;
        p.audit_seq = a ? a->audit_seq : 0;
        report(k, &p);
        s = p.seq_to + 1;
    }
}

/* Places, duplicates and links of one writer's genuine files. */
static void walk_places(struct check *k, const struct fact *v, size_t n,
                        const struct lsl_vault_anchor *a)
{
    const struct fact *last = NULL;

    for (size_t i = 0; i < n; i++) {
        const struct fact *f = &v[i];
        struct lsl_vault_chain_problem p = {.writer = f->writer,
                                            .seq = f->seq,
                                            .seq_to = f->seq,
                                            .path = f->path};

        if (f->foreign)
            continue;
        if (last && last->seq == f->seq) {
            p.fault = LSL_CHAIN_DUPLICATE;
            p.other = last->path;
            report(k, &p);
            continue;
        }
        gap(k, f->writer, last ? last->seq + 1 : 1, f->seq - 1, UINT64_MAX,
            NULL);
        if (last && last->seq + 1 == f->seq &&
            memcmp(f->prev, last->id, LSL_VAULT_ID_BYTES) != 0) {
            p.fault = LSL_CHAIN_LINK;
            p.other = last->path;
            report(k, &p);
        }
        last = f;
    }
    if (a && a->seq > (last ? last->seq : 0))
        gap(k, a->writer, last ? last->seq + 1 : 1, a->seq,
            last ? last->seq : 0, a);
}

/* One verification key per epoch, across writers. */
static void check_keys(struct check *k, struct fact *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct fact *ref = NULL;
        size_t same = 0, other = 0;

        if (!v[i].have_keys || v[i].foreign)
            continue;
        for (size_t j = 0; j < n; j++) {
            if (v[j].epoch != v[i].epoch || !v[j].have_keys || v[j].foreign)
                continue;
            if (memcmp(v[j].vkey, v[i].vkey, LSL_VAULT_DIGEST_BYTES) == 0)
                same++;
            else
                other++, ref = &v[j];
        }
        /* The minority is reported; a tie reports both sides. */
        if (other && other >= same) {
            struct lsl_vault_chain_problem p = {.fault = LSL_CHAIN_KEY};

            p.writer = v[i].writer;
            p.seq = p.seq_to = v[i].seq;
            p.path = v[i].path;
            p.other = ref->path;
            p.epoch = v[i].epoch;
            report(k, &p);
        }
    }
}

size_t lsl_vault_chain_check(
    struct lsl_vault_chain *c, const struct lsl_vault_chain_expect *x,
    void (*fn)(const struct lsl_vault_chain_problem *p, void *ud), void *ud)
{
    static const struct lsl_vault_chain_expect none;
    struct check k = {.x = x ? x : &none, .fn = fn, .ud = ud};
    size_t i = 0;

    if (c->n)
        qsort(c->v, c->n, sizeof(*c->v), fact_cmp);
    while (i < c->n) {
        size_t j = i;
        const struct lsl_vault_anchor *a;

        while (j < c->n &&
               memcmp(c->v[j].writer, c->v[i].writer, LSL_VAULT_ID_BYTES) == 0)
            j++;
        a = anchor_of(&k, c->v[i].writer);
        mark_foreign(&k, c->v + i, j - i, a);
        walk_places(&k, c->v + i, j - i, a);
        i = j;
    }
    /* Writers the log saw of which no file is left at all. */
    for (size_t w = 0; w < k.x->nanchors; w++) {
        bool seen = false;

        for (size_t f = 0; f < c->n && !seen; f++)
            seen = !c->v[f].foreign &&
                   memcmp(c->v[f].writer, k.x->anchors[w].writer,
                          LSL_VAULT_ID_BYTES) == 0;
        if (!seen && k.x->anchors[w].seq)
            gap(&k, k.x->anchors[w].writer, 1, k.x->anchors[w].seq, 0,
                &k.x->anchors[w]);
    }
    check_keys(&k, c->v, c->n);
    return k.problems;
}

size_t lsl_vault_chain_anchors(const struct lsl_vault_chain *c,
                               struct lsl_vault_anchor **out)
{
    struct lsl_vault_anchor *v = calloc(c->n ? c->n : 1, sizeof(*v));
    size_t n = 0;

    *out = v;
    if (!v)
        return 0;
    for (size_t i = 0; i < c->n; i++) {
        const struct fact *f = &c->v[i];
        size_t k = 0;

        if (!f->have_keys || f->foreign || !f->good)
            continue;
        while (k < n && memcmp(v[k].writer, f->writer, LSL_VAULT_ID_BYTES))
            k++;
        if (k == n) {
            memcpy(v[n].writer, f->writer, LSL_VAULT_ID_BYTES);
            n++;
        }
        if (f->seq >= v[k].seq) {
            v[k].seq = f->seq;
            memcpy(v[k].digest, f->wsecret, LSL_VAULT_DIGEST_BYTES);
        }
    }
    return n;
}

const char *lsl_vault_chain_path(const struct lsl_vault_chain *c,
                                 const uint8_t writer[LSL_VAULT_ID_BYTES])
{
    for (size_t i = 0; i < c->n; i++) {
        if (memcmp(c->v[i].writer, writer, LSL_VAULT_ID_BYTES) == 0)
            return c->v[i].path;
    }
    return NULL;
}
