/*
 * The vault writer's seen set: which tokens this writer already queued a
 * MAP record for, and the first/last-seen range it knows of each.
 *
 * Invariants: count <= cap < max_slots, so a probe always meets an empty
 * slot, and the load stays below cap/max_slots (< 80%). The table is
 * allocated whole at the first reserve and never resized. Entries hold
 * tokens and times only, never originals.
 */
#include <stdlib.h>
#include "vault_internal.h"

int lsl_vault_seen_init(struct lsl_vault_seen *s, size_t cap)
{
    memset(s, 0, sizeof(*s));
    s->cap = cap ? cap : 1;
    if (s->cap > (SIZE_MAX / sizeof(*s->slots)) / 2)
        return -ENOMEM;
    s->max_slots = s->cap + s->cap / 4 + 1;
    return 0;
}

void lsl_vault_seen_free(struct lsl_vault_seen *s)
{
    free(s->slots);
    s->slots = NULL;
    s->nslots = 0;
    s->count = 0;
}

static size_t probe(const struct lsl_vault_seen_entry *slots, size_t nslots,
                    const struct lsl_token *t)
{
    size_t i = (size_t)(lsl_vault_tok_hash(t) % nslots);

    while (slots[i].used && !lsl_vault_tok_eq(&slots[i].tok, t))
        i = i + 1 == nslots ? 0 : i + 1;
    return i;
}

struct lsl_vault_seen_entry *lsl_vault_seen_find(struct lsl_vault_seen *s,
                                                 const struct lsl_token *t)
{
    struct lsl_vault_seen_entry *e;

    if (!s->slots)
        return NULL;
    e = &s->slots[probe(s->slots, s->nslots, t)];
    return e->used ? e : NULL;
}

int lsl_vault_seen_reserve(struct lsl_vault_seen *s)
{
    if (s->slots)
        return 0;
    s->slots = calloc(s->max_slots, sizeof(*s->slots));
    if (!s->slots)
        return -ENOMEM;
    s->nslots = s->max_slots;
    return 0;
}

struct lsl_vault_seen_entry *lsl_vault_seen_insert(struct lsl_vault_seen *s,
                                                   const struct lsl_token *t)
{
    struct lsl_vault_seen_entry *e = &s->slots[probe(s->slots, s->nslots, t)];

    memset(e, 0, sizeof(*e));
    e->tok = *t;
    e->used = true;
    s->count++;
    return e;
}

void lsl_vault_seen_clear(struct lsl_vault_seen *s)
{
    if (s->slots)
        memset(s->slots, 0, s->nslots * sizeof(*s->slots));
    s->count = 0;
}
