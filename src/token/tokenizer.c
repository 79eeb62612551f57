/*
 * Tokenizer: the per-worker front end of the token module. Single-threaded
 * by contract; one per pipeline worker, all sharing one keyring.
 *
 * Cache: 2-way set-associative, keyed by (class, kid, value as written)
 * for values up to CACHE_VALUE_MAX bytes stored inline, so hot values skip
 * normalization and BLAKE2b. An entry notes whether the value was already
 * in normal form (the common case); only a hit on another spelling
 * normalizes again, for the mapping's value. An entry also keeps the
 * token's printed text once it has been written (tlen 0: not yet), so a
 * hit copies it instead of base32-encoding the hash again (or its ip6-mode
 * address, the default form of address fields: the text last written for
 * the entry is kept); a replaced entry starts without text. Sets are picked by
 * a fast non-cryptographic hash seeded per tokenizer at random: a crafted value
 * can at worst evict entries, which only costs the hash it would have
 * cost anyway.
 *
 * Stop list: a value on it (an erased subject, token.h) is written as the
 * erased marker and recorded nowhere; the verdict is cached with the
 * token, so hits cost nothing more, and without a list nothing is checked.
 *
 * Mapping set: one lsl_mapping per distinct token since the last reset, in
 * first-seen order, values copied into an arena of chunks that never move
 * (so value spans stay valid until reset). The index is open addressing
 * over the token hash bytes, which are keyed-random and so need no
 * further hashing and cannot be flooded.
 *
 * Invariants: the cache, the arena and the scratch buffer hold originals
 * and are wiped with sodium_memzero before they are freed or reused for
 * another batch. Nothing on the hot path allocates once buffers have
 * grown to the working size.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "logseal/array.h"
#include "logseal/token.h"

#define CACHE_DEFAULT_ENTRIES 65536
#define CACHE_MAX_ENTRIES     (1u << 26)
#define CACHE_VALUE_MAX       64
#define CACHE_WAYS            2
/* Values up to this size normalize into a stack buffer. */
#define NORM_STACK_MAX  256
#define ARENA_CHUNK     (64 * 1024)
#define INDEX_MIN_SLOTS 1024
#define MAPPINGS_MAX    (UINT32_MAX / 2)

struct cache_entry {
    uint64_t tag; /* fast hash | 1; 0 = empty */
    uint16_t kid;
    uint8_t cls;
    uint8_t len;
    bool normal;   /* value is its own normal form */
    bool stopped;  /* on the stop list: the erased marker, no mapping */
    uint8_t tlen;  /* length of text; 0: not printed yet */
    bool text_ip6; /* text is the ip6-mode address, not the token */
    uint8_t hash[LSL_TOKEN_HASH_BYTES];
    char value[CACHE_VALUE_MAX];
    char text[LSL_TOKEN_TEXT_MAX]; /* lsl_token_format of the token */
};

struct arena_chunk {
    struct arena_chunk *next;
    size_t cap;
    size_t used;
    char data[];
};

struct lsl_tokenizer {
    const struct lsl_keyring *kr;
    const struct lsl_stoplist *stop; /* NULL or empty: nothing stops */
    uint64_t seed;
    struct cache_entry *cache; /* NULL when disabled */
    uint8_t *victim;           /* per set: the way to replace next */
    size_t sets_mask;

    struct lsl_mapping *maps;
    size_t nmaps, maps_cap;
    uint32_t *index; /* mapping number + 1; 0 = empty */
    size_t index_mask;
    struct arena_chunk *arena; /* first chunk, kept across resets */
    struct arena_chunk *arena_cur;
    uint64_t emitted;
    struct lsl_buf scratch; /* normalization of long values */
    /* The key id of the last time asked (a line's values share one):
     * the keyring answers under a lock. Forgotten at reset, so a ratchet
     * is seen by the next batch at the latest. */
    int64_t kid_when;
    uint16_t kid;
    bool kid_known;
};

void lsl_tokenizer_opts_init(struct lsl_tokenizer_opts *o)
{
    o->keyring = NULL;
    o->stop = NULL;
    o->cache_entries = CACHE_DEFAULT_ENTRIES;
}

bool lsl_tokenizer_skips(const char *v, size_t len)
{
    return len == 0 || (len == 1 && v[0] == '-');
}

static size_t round_pow2(size_t n)
{
    size_t p = 1;

    while (p < n)
        p <<= 1;
    return p;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t fast_hash(uint64_t seed, const char *p, size_t n)
{
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), w;

    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = mix64(h ^ w);
    }
    w = 0;
    memcpy(&w, p, n);
    return mix64(h ^ w) | 1;
}

static int cache_open(struct lsl_tokenizer *tz, size_t entries)
{
    size_t sets;

    if (entries == 0)
        return 0;
    if (entries > CACHE_MAX_ENTRIES)
        return -EINVAL;
    sets = round_pow2((entries + CACHE_WAYS - 1) / CACHE_WAYS);
    tz->cache = calloc(sets * CACHE_WAYS, sizeof(*tz->cache));
    tz->victim = calloc(sets, 1);
    if (!tz->cache || !tz->victim)
        return -ENOMEM;
    tz->sets_mask = sets - 1;
    return 0;
}

static uint64_t cache_tag(const struct lsl_tokenizer *tz, enum lsl_class c,
                          uint16_t kid, const char *v, size_t len)
{
    return fast_hash(tz->seed ^ ((uint64_t)c << 16 | kid), v, len);
}

static struct cache_entry *cache_find(struct lsl_tokenizer *tz, uint64_t tag,
                                      enum lsl_class c, uint16_t kid,
                                      const char *v, size_t len)
{
    size_t set = (size_t)(tag >> 8) & tz->sets_mask;
    struct cache_entry *e = tz->cache + set * CACHE_WAYS;

    for (unsigned w = 0; w < CACHE_WAYS; w++) {
        if (e[w].tag == tag && e[w].cls == c && e[w].kid == kid &&
            e[w].len == len && memcmp(e[w].value, v, len) == 0) {
            tz->victim[set] = (uint8_t)(w ^ 1);
            return &e[w];
        }
    }
    return NULL;
}

static struct cache_entry *cache_put(struct lsl_tokenizer *tz, uint64_t tag,
                                     const struct lsl_token *t, const char *v,
                                     size_t len, bool normal, bool stopped)
{
    size_t set = (size_t)(tag >> 8) & tz->sets_mask;
    unsigned w = tz->victim[set];
    struct cache_entry *e = tz->cache + set * CACHE_WAYS + w;

    e->tag = tag;
    e->kid = t->kid;
    e->cls = t->cls;
    e->len = (uint8_t)len;
    e->normal = normal;
    e->stopped = stopped;
    e->tlen = 0;
    memcpy(e->hash, t->hash, LSL_TOKEN_HASH_BYTES);
    memcpy(e->value, v, len);
    tz->victim[set] = (uint8_t)(w ^ 1);
    return e;
}

static struct arena_chunk *chunk_new(size_t need)
{
    size_t cap = need > ARENA_CHUNK ? need : ARENA_CHUNK;
    struct arena_chunk *ch = malloc(sizeof(*ch) + cap);

    if (!ch)
        return NULL;
    ch->next = NULL;
    ch->cap = cap;
    ch->used = 0;
    return ch;
}

/* Copy v into the arena; the copy never moves until reset. */
static const char *arena_copy(struct lsl_tokenizer *tz, const char *v,
                              size_t len)
{
    struct arena_chunk *ch = tz->arena_cur;
    char *p;

    if (len == 0)
        return "";
    if (!ch || ch->cap - ch->used < len) {
        struct arena_chunk *fresh = chunk_new(len);

        if (!fresh)
            return NULL;
        if (ch)
            ch->next = fresh;
        else
            tz->arena = fresh;
        tz->arena_cur = ch = fresh;
    }
    p = ch->data + ch->used;
    memcpy(p, v, len);
    ch->used += len;
    return p;
}

static size_t index_slot(const struct lsl_token *t, size_t mask)
{
    uint64_t k;

    memcpy(&k, t->hash, sizeof(k));
    return (size_t)k & mask;
}

static int index_grow(struct lsl_tokenizer *tz)
{
    size_t slots = tz->index ? (tz->index_mask + 1) * 2 : INDEX_MIN_SLOTS;
    uint32_t *idx = calloc(slots, sizeof(*idx));

    if (!idx)
        return -ENOMEM;
    for (size_t m = 0; m < tz->nmaps; m++) {
        size_t s = index_slot(&tz->maps[m].tok, slots - 1);

        while (idx[s])
            s = (s + 1) & (slots - 1);
        idx[s] = (uint32_t)(m + 1);
    }
    free(tz->index);
    tz->index = idx;
    tz->index_mask = slots - 1;
    return 0;
}

static int maps_reserve(struct lsl_tokenizer *tz)
{
    int rc;

    if (!tz->index || (tz->nmaps + 1) * 2 > tz->index_mask + 1) {
        rc = index_grow(tz);
        if (rc)
            return rc;
    }
    if (tz->nmaps < tz->maps_cap)
        return 0;
    if (tz->maps_cap >= MAPPINGS_MAX)
        return -ENOMEM;
    return lsl_array_grow(&tz->maps, &tz->maps_cap, tz->nmaps + 1,
                          sizeof(*tz->maps), 256);
}

/* Record (tok, value, when) in the batch's mapping set. */
static int record(struct lsl_tokenizer *tz, const struct lsl_token *tok,
                  const char *norm, size_t len, int64_t when)
{
    struct lsl_mapping *m;
    size_t s;
    int rc;

    rc = maps_reserve(tz);
    if (rc)
        return rc;
    s = index_slot(tok, tz->index_mask);
    for (; tz->index[s]; s = (s + 1) & tz->index_mask) {
        m = &tz->maps[tz->index[s] - 1];
        if (memcmp(m->tok.hash, tok->hash, LSL_TOKEN_HASH_BYTES) != 0 ||
            m->tok.cls != tok->cls || m->tok.kid != tok->kid)
            continue;
        if (when < m->first_seen)
            m->first_seen = when;
        if (when > m->last_seen)
            m->last_seen = when;
        return 0;
    }
    m = &tz->maps[tz->nmaps];
    m->value.p = arena_copy(tz, norm, len);
    if (!m->value.p)
        return -ENOMEM;
    m->value.len = len;
    m->tok = *tok;
    m->first_seen = m->last_seen = when;
    tz->index[s] = (uint32_t)(++tz->nmaps);
    return 0;
}

int lsl_tokenizer_open(struct lsl_tokenizer **out,
                       const struct lsl_tokenizer_opts *o)
{
    struct lsl_tokenizer *tz;
    int rc;

    if (!o->keyring)
        return -EINVAL;
    tz = calloc(1, sizeof(*tz));
    if (!tz)
        return -ENOMEM;
    tz->kr = o->keyring;
    tz->stop = lsl_stoplist_count(o->stop) ? o->stop : NULL;
    randombytes_buf(&tz->seed, sizeof(tz->seed));
    rc = cache_open(tz, o->cache_entries);
    if (rc)
        goto fail;
    *out = tz;
    return 0;
fail:
    lsl_tokenizer_close(tz);
    return rc;
}

/* Wipe the arena's used bytes; keep only the first chunk. */
static void arena_clear(struct lsl_tokenizer *tz)
{
    struct arena_chunk *ch = tz->arena, *next;

    if (!ch)
        return;
    sodium_memzero(ch->data, ch->used);
    ch->used = 0;
    for (ch = ch->next; ch; ch = next) {
        next = ch->next;
        sodium_memzero(ch->data, ch->used);
        free(ch);
    }
    tz->arena->next = NULL;
    tz->arena_cur = tz->arena;
}

void lsl_tokenizer_reset(struct lsl_tokenizer *tz)
{
    tz->kid_known = false;
    if (tz->index)
        memset(tz->index, 0, (tz->index_mask + 1) * sizeof(*tz->index));
    tz->nmaps = 0;
    tz->emitted = 0;
    arena_clear(tz);
}

void lsl_tokenizer_close(struct lsl_tokenizer *tz)
{
    if (!tz)
        return;
    lsl_tokenizer_reset(tz);
    free(tz->arena);
    if (tz->cache)
        sodium_memzero(tz->cache,
                       (tz->sets_mask + 1) * CACHE_WAYS * sizeof(*tz->cache));
    free(tz->cache);
    free(tz->victim);
    free(tz->maps);
    free(tz->index);
    if (tz->scratch.p)
        sodium_memzero(tz->scratch.p, tz->scratch.cap);
    lsl_buf_free(&tz->scratch);
    free(tz);
}

/* Normalize v into the stack buffer, or the scratch buffer if long. */
static long normalize(struct lsl_tokenizer *tz, enum lsl_class c, const char *v,
                      size_t len, char *stack, size_t cap, char **norm)
{
    int rc;

    *norm = stack;
    if (len > NORM_STACK_MAX) {
        tz->scratch.len = 0;
        rc = lsl_buf_reserve(&tz->scratch, len + LSL_NORM_SLACK);
        if (rc)
            return rc;
        *norm = tz->scratch.p;
        cap = tz->scratch.cap;
    }
    return lsl_token_normalize(c, v, len, *norm, cap);
}

/* A phone number erased before numbers were read as their digits is on
 * the stop list in the spelling it was erased in. */
static int stopped_as_written(const struct lsl_tokenizer *tz, const char *v,
                              size_t len, bool *stopped)
{
    char stack[NORM_STACK_MAX + LSL_NORM_SLACK];
    size_t cap = len + LSL_NORM_SLACK;
    char *p = len > NORM_STACK_MAX ? sodium_malloc(cap) : stack;
    long n;

    if (!p)
        return -ENOMEM;
    n = lsl_token_normalize_legacy(LSL_CLASS_PHONE, v, len, p,
                                   p == stack ? sizeof(stack) : cap);
    if (n >= 0)
        *stopped = lsl_stoplist_has(tz->stop, LSL_CLASS_PHONE, p, (size_t)n);
    if (p == stack)
        sodium_memzero(stack, sizeof(stack));
    else
        sodium_free(p);
    return n < 0 ? (int)n : 0;
}

/* A cache miss: normalize, derive, check the stop list, cache under the
 * spelling v (*e: the new entry, or NULL when v is not cached). */
static int derive(struct lsl_tokenizer *tz, enum lsl_class c, const char *v,
                  size_t len, int64_t when, uint64_t tag, char *stack,
                  struct lsl_span *norm, struct lsl_token *tok, bool *stopped,
                  struct cache_entry **e)
{
    char *p;
    long n =
        normalize(tz, c, v, len, stack, NORM_STACK_MAX + LSL_NORM_SLACK, &p);
    int rc;

    if (n < 0)
        return (int)n;
    rc = lsl_token_derive(tz->kr, when, c, p, (size_t)n, tok);
    if (rc)
        return rc;
    *stopped = lsl_stoplist_has(tz->stop, c, p, (size_t)n);
    if (!*stopped && c == LSL_CLASS_PHONE && tz->stop)
        rc = stopped_as_written(tz, v, len, stopped);
    if (rc)
        return rc;
    if (tag != 0)
        *e = cache_put(tz, tag, tok, v, len,
                       (size_t)n == len && memcmp(p, v, len) == 0, *stopped);
    *norm = (struct lsl_span){p, (size_t)n};
    return 0;
}

/* lsl_tokenizer_get, and the cache entry that now holds v (or NULL). */
static int lookup(struct lsl_tokenizer *tz, enum lsl_class c, const char *v,
                  size_t len, int64_t when, struct lsl_token *tok,
                  struct cache_entry **entry)
{
    char stack[NORM_STACK_MAX + LSL_NORM_SLACK];
    struct lsl_span norm = {v, len};
    struct cache_entry *e = NULL;
    bool stopped = false;
    uint16_t kid;
    uint64_t tag = 0;
    int rc;

    if ((unsigned)c >= LSL_CLASS_COUNT)
        return -EINVAL;
    if (!tz->kid_known || tz->kid_when != when) {
        tz->kid = lsl_keyring_kid(tz->kr, when);
        tz->kid_when = when;
        tz->kid_known = true;
    }
    kid = tz->kid;
    if (tz->cache && len <= CACHE_VALUE_MAX) {
        tag = cache_tag(tz, c, kid, v, len);
        e = cache_find(tz, tag, c, kid, v, len);
    }
    if (!e) {
        rc = derive(tz, c, v, len, when, tag, stack, &norm, tok, &stopped, &e);
        if (rc)
            return rc;
    } else {
        tok->cls = (uint8_t)c;
        tok->kid = kid;
        memcpy(tok->hash, e->hash, LSL_TOKEN_HASH_BYTES);
        stopped = e->stopped;
        if (!e->normal && !stopped) {
            char *p;
            long n = normalize(tz, c, v, len, stack, sizeof(stack), &p);

            if (n < 0)
                return (int)n;
            norm = (struct lsl_span){p, (size_t)n};
        }
    }
    if (stopped) {
        /* An erased subject: the neutral marker, and no mapping; no entry
         * either, so emit prints the marker, never a cached token text. */
        tok->kid = LSL_TOKEN_KID_ERASED;
        memset(tok->hash, 0, sizeof(tok->hash));
        tz->emitted++;
        return 0;
    }
    rc = record(tz, tok, norm.p, norm.len, when);
    if (rc)
        return rc;
    tz->emitted++;
    *entry = e;
    return 0;
}

int lsl_tokenizer_get(struct lsl_tokenizer *tz, enum lsl_class c, const char *v,
                      size_t len, int64_t when, struct lsl_token *tok)
{
    struct cache_entry *e = NULL;

    return lookup(tz, c, v, len, when, tok, &e);
}

int lsl_tokenizer_emit(struct lsl_tokenizer *tz, enum lsl_class c,
                       const char *v, size_t len, int64_t when,
                       struct lsl_buf *out)
{
    struct cache_entry *e = NULL;
    struct lsl_token tok;
    int rc;

    if (lsl_tokenizer_skips(v, len))
        return lsl_buf_append(out, v, len);
    /* Room first, so a failure leaves neither output nor mapping. */
    rc = lsl_buf_reserve(out, LSL_TOKEN_TEXT_MAX);
    if (rc)
        return rc;
    rc = lookup(tz, c, v, len, when, &tok, &e);
    if (rc)
        return rc;
    if (!e) {
        out->len += lsl_token_format(&tok, out->p + out->len);
        return 0;
    }
    if (e->tlen == 0 || e->text_ip6) {
        e->tlen = (uint8_t)lsl_token_format(&tok, e->text);
        e->text_ip6 = false;
    }
    /* The whole array: a fixed-size copy, within the room reserved. */
    memcpy(out->p + out->len, e->text, LSL_TOKEN_TEXT_MAX);
    out->len += e->tlen;
    return 0;
}

int lsl_tokenizer_emit_ip6(struct lsl_tokenizer *tz, const char *v, size_t len,
                           int64_t when, struct lsl_buf *out)
{
    struct cache_entry *e = NULL;
    struct lsl_token tok;
    char text[48];
    size_t n;
    int rc = lsl_buf_reserve(out, LSL_TOKEN_TEXT_MAX);

    if (rc)
        return rc;
    rc = lookup(tz, LSL_CLASS_IP, v, len, when, &tok, &e);
    if (rc)
        return rc;
    if (e && e->tlen && e->text_ip6) {
        memcpy(out->p + out->len, e->text, LSL_TOKEN_TEXT_MAX);
        out->len += e->tlen;
        return 0;
    }
    /* fd00::/8 and 15 hash bytes: at most 39 characters. */
    n = lsl_token_format_ip6(&tok, text);
    if (e && n < LSL_TOKEN_TEXT_MAX) {
        memcpy(e->text, text, n + 1);
        e->tlen = (uint8_t)n;
        e->text_ip6 = true;
    }
    memcpy(out->p + out->len, text, n);
    out->len += n;
    return 0;
}

bool lsl_tokenizer_stops(const struct lsl_tokenizer *tz, enum lsl_class c,
                         const char *norm, size_t len)
{
    return lsl_stoplist_has(tz->stop, c, norm, len);
}

int lsl_tokenizer_record(struct lsl_tokenizer *tz, const struct lsl_token *tok,
                         const char *norm, size_t len, int64_t when)
{
    int rc = record(tz, tok, norm, len, when);

    if (rc == 0)
        tz->emitted++;
    return rc;
}

const struct lsl_mapping *lsl_tokenizer_mappings(const struct lsl_tokenizer *tz,
                                                 size_t *count)
{
    *count = tz->nmaps;
    return tz->maps;
}

uint64_t lsl_tokenizer_emitted(const struct lsl_tokenizer *tz)
{
    return tz->emitted;
}
