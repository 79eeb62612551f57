/*
 * The stop list (token.h): keyed hashes of erased subjects' values that
 * the tokenizers check, so an erased subject seen again is written as the
 * erased marker and never re-enters the vault.
 *
 * A stop entry is BLAKE2b-128, cut to 120 bits, of the normalized value,
 * keyed with a per-class subkey crypto_kdf(stop key, id c + 1, context
 * "lslstopc"): the construction of tokens, under a key that never
 * ratchets, so one entry covers every key epoch.
 *
 * Invariants: the key, the class subkeys and the hash states made from
 * them live in one sodium_malloc block, wiped on close; entries are kept
 * sorted (insertion on add), so lookups from many threads only read.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "logseal/array.h"
#include "logseal/file.h"
#include "logseal/token.h"

#define KEY_MAGIC    "LSLSKEY1"
#define SUB_CONTEXT  "lslstopc"
#define DIGEST_BYTES crypto_generichash_BYTES_MIN

struct secrets {
    /* Keyed with the class subkey, key block absorbed: one compression
     * per lookup, as for tokens. */
    crypto_generichash_state pre[LSL_CLASS_COUNT];
};

struct lsl_stoplist {
    struct secrets *s; /* sodium_malloc */
    struct lsl_stop_entry *v;
    size_t n, cap;
};

static int class_state(const uint8_t key[LSL_STOP_KEY_BYTES], unsigned c,
                       crypto_generichash_state *st)
{
    uint8_t sub[crypto_kdf_KEYBYTES];
    int rc = 0;

    if (crypto_kdf_derive_from_key(sub, sizeof(sub), c + 1, SUB_CONTEXT, key) !=
            0 ||
        crypto_generichash_init(st, sub, sizeof(sub), DIGEST_BYTES) != 0)
        rc = -EIO;
    sodium_memzero(sub, sizeof(sub));
    return rc;
}

static void finish(crypto_generichash_state *st, const char *norm, size_t len,
                   uint8_t hash[LSL_TOKEN_HASH_BYTES])
{
    uint8_t digest[DIGEST_BYTES];

    crypto_generichash_update(st, (const uint8_t *)norm, len);
    crypto_generichash_final(st, digest, sizeof(digest));
    memcpy(hash, digest, LSL_TOKEN_HASH_BYTES);
    sodium_memzero(digest, sizeof(digest));
    sodium_memzero(st, sizeof(*st));
}

int lsl_stop_hash(const uint8_t key[LSL_STOP_KEY_BYTES], enum lsl_class c,
                  const char *norm, size_t len, struct lsl_stop_entry *out)
{
    crypto_generichash_state st;
    int rc;

    if ((unsigned)c >= LSL_CLASS_COUNT)
        return -EINVAL;
    rc = class_state(key, c, &st);
    if (rc)
        return rc;
    out->cls = (uint8_t)c;
    finish(&st, norm, len, out->hash);
    return 0;
}

int lsl_stop_key_write(const char *path, const uint8_t key[LSL_STOP_KEY_BYTES])
{
    return lsl_keyfile_create(path, KEY_MAGIC, key, LSL_STOP_KEY_BYTES);
}

int lsl_stop_key_load(const char *path, uint8_t key[LSL_STOP_KEY_BYTES])
{
    return lsl_keyfile_read(path, KEY_MAGIC, key, LSL_STOP_KEY_BYTES);
}

int lsl_stoplist_open(struct lsl_stoplist **out,
                      const uint8_t key[LSL_STOP_KEY_BYTES])
{
    struct lsl_stoplist *sl;
    int rc = sodium_init() < 0 ? -EIO : 0;

    if (rc)
        return rc;
    sl = calloc(1, sizeof(*sl));
    if (!sl)
        return -ENOMEM;
    sl->s = sodium_malloc(sizeof(*sl->s));
    rc = sl->s ? 0 : -ENOMEM;
    for (unsigned c = 0; rc == 0 && c < LSL_CLASS_COUNT; c++)
        rc = class_state(key, c, &sl->s->pre[c]);
    if (rc) {
        lsl_stoplist_close(sl);
        return rc;
    }
    *out = sl;
    return 0;
}

static int entry_cmp(const struct lsl_stop_entry *a,
                     const struct lsl_stop_entry *b)
{
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    return memcmp(a->hash, b->hash, LSL_TOKEN_HASH_BYTES);
}

/* Index of the first entry not below e. */
static size_t lower_bound(const struct lsl_stoplist *sl,
                          const struct lsl_stop_entry *e)
{
    size_t lo = 0, hi = sl->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (entry_cmp(&sl->v[mid], e) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int lsl_stoplist_add(struct lsl_stoplist *sl, const struct lsl_stop_entry *e)
{
    size_t at;
    int rc;

    if (e->cls >= LSL_CLASS_COUNT)
        return -EINVAL;
    at = lower_bound(sl, e);
    if (at < sl->n && entry_cmp(&sl->v[at], e) == 0)
        return 0;
    rc = lsl_array_grow(&sl->v, &sl->cap, sl->n + 1, sizeof(*sl->v), 64);
    if (rc)
        return rc;
    memmove(&sl->v[at + 1], &sl->v[at], (sl->n - at) * sizeof(*sl->v));
    sl->v[at] = *e;
    sl->n++;
    return 0;
}

bool lsl_stoplist_has(const struct lsl_stoplist *sl, enum lsl_class c,
                      const char *norm, size_t len)
{
    crypto_generichash_state st;
    struct lsl_stop_entry e;
    size_t at;

    if (!sl || sl->n == 0 || (unsigned)c >= LSL_CLASS_COUNT)
        return false;
    st = sl->s->pre[c];
    e.cls = (uint8_t)c;
    finish(&st, norm, len, e.hash);
    at = lower_bound(sl, &e);
    return at < sl->n && entry_cmp(&sl->v[at], &e) == 0;
}

size_t lsl_stoplist_count(const struct lsl_stoplist *sl)
{
    return sl ? sl->n : 0;
}

void lsl_stoplist_close(struct lsl_stoplist *sl)
{
    if (!sl)
        return;
    sodium_free(sl->s);
    free(sl->v);
    free(sl);
}
