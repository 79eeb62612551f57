/*
 * In-memory merge of vault records per token, for the officer tools: the
 * union of every MAP and SEEN record read, whatever file or run it came
 * from (a value may be written more than once; see vault.h).
 *
 * Invariants: open addressing with linear probing, load below 3/4; source
 * names are interned once per index and shared by entries; an add either
 * fully applies or, on -ENOMEM, leaves every entry as it was. Values are
 * originals: wiped before they are freed.
 */
#include <stdlib.h>
#include "vault_internal.h"

#define INITIAL_SLOTS 64

struct slot {
    struct lsl_vault_index_entry e;
    const char **srcs; /* e.sources, writable */
    char *value;       /* e.value, writable */
    bool used;
};

struct lsl_vault_index {
    struct slot *slots;
    size_t nslots;
    size_t count;
    char **names; /* interned source names */
    size_t nnames;
    size_t conflicts;
};

int lsl_vault_index_open(struct lsl_vault_index **out)
{
    struct lsl_vault_index *ix = calloc(1, sizeof(*ix));

    if (!ix)
        return -ENOMEM;
    ix->slots = calloc(INITIAL_SLOTS, sizeof(*ix->slots));
    if (!ix->slots) {
        free(ix);
        return -ENOMEM;
    }
    ix->nslots = INITIAL_SLOTS;
    *out = ix;
    return 0;
}

static size_t probe(const struct slot *slots, size_t nslots,
                    const struct lsl_token *t)
{
    size_t i = (size_t)(lsl_vault_tok_hash(t) % nslots);

    while (slots[i].used && !lsl_vault_tok_eq(&slots[i].e.tok, t))
        i = i + 1 == nslots ? 0 : i + 1;
    return i;
}

static int grow(struct lsl_vault_index *ix)
{
    size_t n = ix->nslots * 2;
    struct slot *slots;

    if (n > SIZE_MAX / sizeof(*slots))
        return -ENOMEM;
    slots = calloc(n, sizeof(*slots));
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < ix->nslots; i++) {
        if (ix->slots[i].used)
            slots[probe(slots, n, &ix->slots[i].e.tok)] = ix->slots[i];
    }
    free(ix->slots);
    ix->slots = slots;
    ix->nslots = n;
    return 0;
}

/* The interned copy of a source name, or NULL on -ENOMEM. */
static const char *intern(struct lsl_vault_index *ix, struct lsl_span s)
{
    char **names, *copy;

    for (size_t i = 0; i < ix->nnames; i++) {
        if (strlen(ix->names[i]) == s.len &&
            memcmp(ix->names[i], s.p, s.len) == 0)
            return ix->names[i];
    }
    names = realloc(ix->names, (ix->nnames + 1) * sizeof(*names));
    if (!names)
        return NULL;
    ix->names = names;
    copy = malloc(s.len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s.p, s.len);
    copy[s.len] = '\0';
    ix->names[ix->nnames++] = copy;
    return copy;
}

/* Add an interned name to the slot's sources if absent. 0 or -ENOMEM. */
static int add_source(struct slot *sl, const char *name)
{
    const char **v;

    for (size_t i = 0; i < sl->e.nsources; i++) {
        if (sl->srcs[i] == name)
            return 0;
    }
    v = realloc(sl->srcs, (sl->e.nsources + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    v[sl->e.nsources++] = name;
    sl->srcs = v;
    sl->e.sources = v;
    return 0;
}

/* Find or claim the slot of r's token (unused slots are claimed later). */
static int find_slot(struct lsl_vault_index *ix, const struct lsl_token *t,
                     struct slot **out)
{
    size_t i = probe(ix->slots, ix->nslots, t);
    int rc;

    if (!ix->slots[i].used && (ix->count + 1) * 4 > ix->nslots * 3) {
        rc = grow(ix);
        if (rc)
            return rc;
        i = probe(ix->slots, ix->nslots, t);
    }
    *out = &ix->slots[i];
    return 0;
}

static char *copy_value(struct lsl_span v)
{
    char *p = malloc(v.len + 1);

    if (p) {
        if (v.len)
            memcpy(p, v.p, v.len);
        p[v.len] = '\0';
    }
    return p;
}

int lsl_vault_index_add(const struct lsl_vault_record *r, void *ud)
{
    struct lsl_vault_index *ix = ud;
    const char *name = NULL;
    char *value = NULL;
    struct slot *sl;
    int rc;

    rc = find_slot(ix, &r->tok, &sl);
    if (rc)
        return rc;
    if (r->source.len && !(name = intern(ix, r->source)))
        return -ENOMEM;
    if (r->type == LSL_VAULT_REC_MAP && sl->e.has_value && !sl->e.conflict &&
        (r->value.len != sl->e.value.len ||
         sodium_memcmp(r->value.p, sl->e.value.p, r->value.len) != 0)) {
        sl->e.conflict = true;
        ix->conflicts++;
    }
    if (r->type == LSL_VAULT_REC_MAP && !sl->e.has_value &&
        !(value = copy_value(r->value)))
        return -ENOMEM;
    /* Last fallible step: everything after it only assigns. */
    if (name && (rc = add_source(sl, name)) != 0) {
        free(value);
        return rc;
    }
    if (!sl->used) {
        sl->used = true;
        sl->e.tok = r->tok;
        sl->e.first_seen = r->first_seen;
        sl->e.last_seen = r->last_seen;
        ix->count++;
    }
    if (r->first_seen < sl->e.first_seen)
        sl->e.first_seen = r->first_seen;
    if (r->last_seen > sl->e.last_seen)
        sl->e.last_seen = r->last_seen;
    if (value) {
        sl->value = value;
        sl->e.has_value = true;
        sl->e.value = (struct lsl_span){value, r->value.len};
    }
    return 0;
}

const struct lsl_vault_index_entry *
lsl_vault_index_lookup(const struct lsl_vault_index *ix,
                       const struct lsl_token *t)
{
    const struct slot *sl = &ix->slots[probe(ix->slots, ix->nslots, t)];

    return sl->used ? &sl->e : NULL;
}

size_t lsl_vault_index_count(const struct lsl_vault_index *ix)
{
    return ix->count;
}

size_t lsl_vault_index_conflicts(const struct lsl_vault_index *ix)
{
    return ix->conflicts;
}

int lsl_vault_index_foreach(const struct lsl_vault_index *ix,
                            int (*fn)(const struct lsl_vault_index_entry *e,
                                      void *ud),
                            void *ud)
{
    for (size_t i = 0; i < ix->nslots; i++) {
        int rc = ix->slots[i].used ? fn(&ix->slots[i].e, ud) : 0;

        if (rc)
            return rc;
    }
    return 0;
}

void lsl_vault_index_free(struct lsl_vault_index *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->nslots; i++) {
        struct slot *sl = &ix->slots[i];

        free(sl->srcs);
        if (!sl->value)
            continue;
        sodium_memzero(sl->value, sl->e.value.len);
        free(sl->value);
    }
    for (size_t i = 0; i < ix->nnames; i++)
        free(ix->names[i]);
    free(ix->names);
    free(ix->slots);
    free(ix);
}
