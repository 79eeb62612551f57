/*
 * Keyring: the daemon's secret hashing key, its ratchet, and the per-class
 * subkeys that tokens are derived with.
 *
 * Hash key file, 56 bytes, little endian, mode 0600:
 *
 *   0  "LSLHKEY1"     8  magic
 *   8  version        1  = 1
 *   9  epoch_len      1  enum lsl_epoch_len
 *  10  reserved       2  = 0
 *  12  epoch          4  key epoch number; kid = epoch % 1024
 *  16  epoch_start    8  unix seconds the epoch began
 *  24  key           32  epoch key
 *
 * Subkey of class c: crypto_kdf_derive_from_key(id = c + 1, ctx
 * "lsltoken", epoch key); a token body is BLAKE2b-128 of the normalized
 * value keyed with it, truncated to 120 bits (libsodium refuses outputs
 * shorter than crypto_generichash_BYTES_MIN = 16).
 *
 * Ratchet (epoch_len day/week/month): the key of epoch e + 1 is
 * crypto_kdf_derive_from_key(id 1, ctx "lslratch", key of e), a one-way
 * step. Epoch numbers are absolute UTC calendar epochs (epoch.c). A token
 * uses the key of the epoch of its LINE's time, so processing the same
 * lines again gives the same tokens, with two exceptions:
 *  - a line older than the oldest key held (the "floor": its key has been
 *    destroyed) is tokenized with the floor key; callers count such late
 *    lines (lsl_keyring_is_late);
 *  - a line more than one epoch in the future of the wall clock is taken
 *    as the wall clock's next epoch, so one bogus timestamp cannot ratchet
 *    the key past the present and destroy the keys in use.
 *
 * Address-map subkey (prefix-preserving IP mode): crypto_kdf_derive_from_key
 * (id 1, ctx "lslipmap", epoch key); a context of its own, so it can never
 * equal a class subkey. Each held epoch has its own.
 *
 * Invariants (thread safety): the held keys are epochs floor, and any
 * later epochs derived on demand, in a sodium_malloc'd table guarded by a
 * rwlock. lsl_token_derive takes the read lock, or the write lock to add
 * a later epoch's key (derived forward from a held key: never backwards).
 * Only lsl_keyring_advance, called by the pipeline's serialized commit
 * stage after the output using the newer key is durable, raises the floor:
 * it wipes every older key, then replaces the key file with the floor key
 * and zeroes the old file's blocks. The file therefore never holds a key
 * older than one the pipeline has stopped needing, and never one newer
 * than output written with it. A fixed key (LSL_EPOCH_NEVER) never
 * changes: its epoch is the file's counter whatever the time.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "keyring_internal.h"
#include "logseal/file.h"
#include "logseal/token.h"

#define KEYFILE_MAGIC     "LSLHKEY1"
#define KEYFILE_MAGIC_LEN 8
#define KEYFILE_VERSION   1
#define KEYFILE_SIZE      56
#define OFF_VERSION       8
#define OFF_EPOCH_LEN     9
#define OFF_RESERVED      10
#define OFF_EPOCH         12
#define OFF_EPOCH_START   16
#define OFF_KEY           24
#define KEY_BYTES         crypto_kdf_KEYBYTES
#define KDF_CONTEXT       "lsltoken"
#define RATCHET_CONTEXT   "lslratch"
#define RATCHET_ID        1
#define KDF_IPMAP_CONTEXT "lslipmap"
/* Tokens carry the epoch id in 10 bits (LSL_TOKEN_KID_CHARS base32). */
#define KID_MOD      1024u
#define DIGEST_BYTES crypto_generichash_BYTES_MIN
_Static_assert(LSL_VKEY_BYTES == (LSL_CLASS_COUNT + 1) * KEY_BYTES,
               "a verification key is the class subkeys and the ipmap key");

struct epoch_key {
    uint32_t epoch;
    uint8_t key[KEY_BYTES];
    uint8_t sub[LSL_CLASS_COUNT][KEY_BYTES];
    uint8_t ipmap[KEY_BYTES];
    /* BLAKE2b keyed with sub[c], key block already absorbed: a token then
     * costs one compression instead of two. Aligned by its type, so the
     * table's size stays a multiple of 64 and sodium_allocarray's
     * end-of-page placement keeps it aligned. */
    crypto_generichash_state pre[LSL_CLASS_COUNT];
};

/* Mutable state; behind a pointer so derive can take a const keyring. */
struct ring {
    pthread_rwlock_t lock;
    uint32_t floor;         /* oldest held epoch */
    uint32_t disk_epoch;    /* epoch of the key in the file */
    struct epoch_key *keys; /* sodium_malloc; keys[0] is the floor */
    size_t n, cap;          /* held keys, sorted by epoch */
};

struct lsl_keyring {
    enum lsl_epoch_len epoch_len;
    char *path;
    struct ring *r;
};

static void store_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t load_le(const uint8_t *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static int crypto_ready(void)
{
    return sodium_init() < 0 ? -EIO : 0;
}

static bool ratchets(enum lsl_epoch_len len)
{
    return len != LSL_EPOCH_NEVER;
}

/* Key file image of `key` (NULL: a random one) for `epoch`, into img. */
static void build_image(uint8_t *img, enum lsl_epoch_len len, uint32_t epoch,
                        int64_t start, const uint8_t *key)
{
    memset(img, 0, KEYFILE_SIZE);
    memcpy(img, KEYFILE_MAGIC, KEYFILE_MAGIC_LEN);
    img[OFF_VERSION] = KEYFILE_VERSION;
    img[OFF_EPOCH_LEN] = (uint8_t)len;
    store_le(img + OFF_EPOCH, epoch, 4);
    store_le(img + OFF_EPOCH_START, (uint64_t)start, 8);
    if (key)
        memcpy(img + OFF_KEY, key, KEY_BYTES);
    else
        randombytes_buf(img + OFF_KEY, KEY_BYTES);
}

int lsl_keyring_create_at(const char *path, enum lsl_epoch_len epoch_len,
                          int64_t since)
{
    uint32_t epoch = lsl_epoch_index(epoch_len, since);
    int64_t start =
        ratchets(epoch_len) ? lsl_epoch_start(epoch_len, epoch) : since;
    uint8_t *img;
    int rc;

    if ((unsigned)epoch_len > LSL_EPOCH_MONTH)
        return -EINVAL;
    rc = crypto_ready();
    if (rc)
        return rc;
    img = sodium_malloc(KEYFILE_SIZE);
    if (!img)
        return -ENOMEM;
    build_image(img, epoch_len, epoch, start, NULL);
    rc = lsl_file_create_excl(path, 0600, img, KEYFILE_SIZE);
    sodium_free(img); /* wipes the key copy */
    return rc;
}

int lsl_keyring_create(const char *path, enum lsl_epoch_len epoch_len)
{
    return lsl_keyring_create_at(path, epoch_len, (int64_t)time(NULL));
}

static int check_header(const uint8_t *img)
{
    if (memcmp(img, KEYFILE_MAGIC, KEYFILE_MAGIC_LEN) != 0)
        return LSL_EFORMAT;
    if (img[OFF_VERSION] != KEYFILE_VERSION)
        return LSL_EVERSION;
    if (img[OFF_EPOCH_LEN] > LSL_EPOCH_MONTH ||
        load_le(img + OFF_RESERVED, 2) != 0)
        return LSL_EFORMAT;
    return 0;
}

/* Fill e with the key of `epoch` and its class subkeys. */
static int set_key(struct epoch_key *e, uint32_t epoch, const uint8_t *key)
{
    e->epoch = epoch;
    if (e->key != key)
        memcpy(e->key, key, KEY_BYTES);
    for (unsigned c = 0; c < LSL_CLASS_COUNT; c++) {
        if (crypto_kdf_derive_from_key(e->sub[c], KEY_BYTES, c + 1, KDF_CONTEXT,
                                       e->key) != 0 ||
            crypto_generichash_init(&e->pre[c], e->sub[c], KEY_BYTES,
                                    DIGEST_BYTES) != 0)
            return -EIO;
    }
    if (crypto_kdf_derive_from_key(e->ipmap, KEY_BYTES, 1, KDF_IPMAP_CONTEXT,
                                   e->key) != 0)
        return -EIO;
    return 0;
}

/* One ratchet step: the next epoch's key. */
static int ratchet_step(uint8_t next[KEY_BYTES], const uint8_t *cur)
{
    return crypto_kdf_derive_from_key(next, KEY_BYTES, RATCHET_ID,
                                      RATCHET_CONTEXT, cur) == 0
               ? 0
               : -EIO;
}

int lsl_keyring_ratchet_key(uint8_t key[32], uint32_t steps)
{
    uint8_t next[KEY_BYTES];
    int rc = 0;

    for (uint32_t i = 0; i < steps && rc == 0; i++) {
        rc = ratchet_step(next, key);
        memcpy(key, next, KEY_BYTES);
    }
    sodium_memzero(next, sizeof(next));
    return rc;
}

static int ring_grow(struct ring *r)
{
    size_t cap = r->cap ? r->cap * 2 : 4;
    struct epoch_key *k = sodium_allocarray(cap, sizeof(*k));

    if (!k)
        return -ENOMEM;
    if (r->n)
        memcpy(k, r->keys, r->n * sizeof(*k));
    sodium_free(r->keys); /* wipes the old table */
    r->keys = k;
    r->cap = cap;
    return 0;
}

static int ring_open(struct lsl_keyring *kr, const uint8_t *img)
{
    struct ring *r = calloc(1, sizeof(*r));
    int rc;

    if (!r)
        return -ENOMEM;
    if (pthread_rwlock_init(&r->lock, NULL) != 0) {
        free(r);
        return -ENOMEM;
    }
    kr->r = r;
    r->floor = r->disk_epoch = (uint32_t)load_le(img + OFF_EPOCH, 4);
    rc = ring_grow(r);
    if (rc)
        return rc;
    r->n = 1;
    return set_key(&r->keys[0], r->floor, img + OFF_KEY);
}

int lsl_keyring_open(struct lsl_keyring **out, const char *path)
{
    struct lsl_keyring *kr = NULL;
    uint8_t *img = NULL;
    int rc;

    rc = crypto_ready();
    if (rc)
        goto fail;
    img = sodium_malloc(KEYFILE_SIZE);
    kr = calloc(1, sizeof(*kr));
    if (!img || !kr || !(kr->path = strdup(path))) {
        rc = -ENOMEM;
        goto fail;
    }
    rc = lsl_secret_file_read(path, img, KEYFILE_SIZE);
    if (rc == 0)
        rc = check_header(img);
    if (rc)
        goto fail;
    kr->epoch_len = (enum lsl_epoch_len)img[OFF_EPOCH_LEN];
    rc = ring_open(kr, img);
    if (rc)
        goto fail;
    sodium_free(img);
    *out = kr;
    return 0;
fail:
    sodium_free(img);
    lsl_keyring_close(kr);
    return rc;
}

void lsl_keyring_close(struct lsl_keyring *kr)
{
    if (!kr)
        return;
    if (kr->r) {
        sodium_free(kr->r->keys); /* wipes */
        pthread_rwlock_destroy(&kr->r->lock);
        free(kr->r);
    }
    free(kr->path);
    free(kr);
}

enum lsl_epoch_len lsl_keyring_epoch_len(const struct lsl_keyring *kr)
{
    return kr->epoch_len;
}

/* The calendar epoch of `when`, future times capped at the next epoch. */
static uint32_t calendar_epoch(const struct lsl_keyring *kr, int64_t when)
{
    uint32_t e = lsl_epoch_index(kr->epoch_len, when);
    uint32_t cap = lsl_epoch_index(kr->epoch_len, (int64_t)time(NULL));

    if (cap < UINT32_MAX)
        cap++;
    return e > cap ? cap : e;
}

uint32_t lsl_keyring_epoch(const struct lsl_keyring *kr)
{
    uint32_t e;

    pthread_rwlock_rdlock(&kr->r->lock);
    e = kr->r->floor;
    pthread_rwlock_unlock(&kr->r->lock);
    return e;
}

uint32_t lsl_keyring_epoch_at(const struct lsl_keyring *kr, int64_t when)
{
    uint32_t floor = lsl_keyring_epoch(kr), e;

    if (!ratchets(kr->epoch_len))
        return floor;
    e = calendar_epoch(kr, when);
    return e < floor ? floor : e;
}

bool lsl_keyring_is_late(const struct lsl_keyring *kr, int64_t when)
{
    return ratchets(kr->epoch_len) &&
           calendar_epoch(kr, when) < lsl_keyring_epoch(kr);
}

uint16_t lsl_keyring_kid(const struct lsl_keyring *kr, int64_t when)
{
    return (uint16_t)(lsl_keyring_epoch_at(kr, when) % KID_MOD);
}

uint32_t lsl_keyring_epoch_of_kid(const struct lsl_keyring *kr, uint16_t kid)
{
    uint32_t top, e;

    pthread_rwlock_rdlock(&kr->r->lock);
    top = kr->r->keys[kr->r->n - 1].epoch;
    pthread_rwlock_unlock(&kr->r->lock);
    /* The latest epoch not after the newest key with this id. */
    e = top - (top % KID_MOD + KID_MOD - kid % KID_MOD) % KID_MOD;
    return e > top ? kid : e;
}

/* Held key of `epoch`, or NULL. Caller holds the lock. */
static const struct epoch_key *find_key(const struct ring *r, uint32_t epoch)
{
    for (size_t i = 0; i < r->n; i++) {
        if (r->keys[i].epoch == epoch)
            return &r->keys[i];
    }
    return NULL;
}

/* Add the key of `epoch` (> floor, not held), derived from the nearest
 * older held key. Caller holds the write lock. */
static int add_key(struct ring *r, uint32_t epoch)
{
    size_t at = 0;
    struct epoch_key *e;
    int rc;

    while (at < r->n && r->keys[at].epoch < epoch)
        at++;
    if (r->n == r->cap && (rc = ring_grow(r)) != 0)
        return rc;
    memmove(&r->keys[at + 1], &r->keys[at], (r->n - at) * sizeof(*r->keys));
    r->n++;
    e = &r->keys[at];
    memcpy(e->key, r->keys[at - 1].key, KEY_BYTES);
    rc = lsl_keyring_ratchet_key(e->key, epoch - r->keys[at - 1].epoch);
    if (rc == 0)
        rc = set_key(e, epoch, e->key);
    if (rc) {
        sodium_memzero(e, sizeof(*e));
        memmove(e, e + 1, (r->n - at - 1) * sizeof(*e));
        r->n--;
    }
    return rc;
}

static int derive_with(const struct epoch_key *k, enum lsl_class c,
                       const char *norm, size_t len, struct lsl_token *out)
{
    crypto_generichash_state st = k->pre[c];
    uint8_t digest[DIGEST_BYTES];
    int rc = 0;

    if (crypto_generichash_update(&st, (const uint8_t *)norm, len) != 0 ||
        crypto_generichash_final(&st, digest, sizeof(digest)) != 0)
        rc = -EINVAL;
    if (rc == 0) {
        out->cls = (uint8_t)c;
        out->kid = (uint16_t)(k->epoch % KID_MOD);
        memcpy(out->hash, digest, LSL_TOKEN_HASH_BYTES);
    }
    sodium_memzero(&st, sizeof(st));
    sodium_memzero(digest, sizeof(digest));
    return rc;
}

/*
 * Call fn with the key that tokenizes lines of time `when`, under the
 * lock: the read lock, or the write lock when that key must be added.
 */
static int with_key(const struct lsl_keyring *kr, int64_t when,
                    int (*fn)(const struct epoch_key *k, void *ud), void *ud)
{
    uint32_t want = ratchets(kr->epoch_len) ? calendar_epoch(kr, when) : 0;
    struct ring *r = kr->r;
    const struct epoch_key *k;
    int rc = 0;

    pthread_rwlock_rdlock(&r->lock);
    k = want <= r->floor ? &r->keys[0] : find_key(r, want);
    if (k) {
        rc = fn(k, ud);
        pthread_rwlock_unlock(&r->lock);
        return rc;
    }
    pthread_rwlock_unlock(&r->lock);
    pthread_rwlock_wrlock(&r->lock);
    /* The floor may have moved, or another thread added the key. */
    k = want <= r->floor ? &r->keys[0] : find_key(r, want);
    if (!k) {
        rc = add_key(r, want);
        k = rc ? NULL : find_key(r, want);
    }
    if (k)
        rc = fn(k, ud);
    pthread_rwlock_unlock(&r->lock);
    return rc;
}

struct derive_req {
    enum lsl_class c;
    const char *norm;
    size_t len;
    struct lsl_token *out;
};

static int derive_fn(const struct epoch_key *k, void *ud)
{
    const struct derive_req *q = ud;

    return derive_with(k, q->c, q->norm, q->len, q->out);
}

int lsl_token_derive(const struct lsl_keyring *kr, int64_t when,
                     enum lsl_class c, const char *norm, size_t len,
                     struct lsl_token *out)
{
    struct derive_req q = {.c = c, .norm = norm, .len = len, .out = out};

    if ((unsigned)c >= LSL_CLASS_COUNT)
        return -EINVAL;
    return with_key(kr, when, derive_fn, &q);
}

static int ipmap_fn(const struct epoch_key *k, void *ud)
{
    memcpy(ud, k->ipmap, LSL_IPMAP_KEY_BYTES);
    return 0;
}

int lsl_keyring_ipmap_key(const struct lsl_keyring *kr, int64_t when,
                          uint8_t out[LSL_IPMAP_KEY_BYTES])
{
    return with_key(kr, when, ipmap_fn, out);
}

int lsl_keyring_vkey(const struct lsl_keyring *kr, uint32_t epoch,
                     uint8_t out[LSL_VKEY_BYTES])
{
    const struct epoch_key *k;
    int rc = LSL_ENOKEY;

    pthread_rwlock_rdlock(&kr->r->lock);
    k = find_key(kr->r, epoch);
    if (k) {
        for (unsigned c = 0; c < LSL_CLASS_COUNT; c++)
            memcpy(out + c * KEY_BYTES, k->sub[c], KEY_BYTES);
        memcpy(out + LSL_CLASS_COUNT * KEY_BYTES, k->ipmap, KEY_BYTES);
        rc = 0;
    }
    pthread_rwlock_unlock(&kr->r->lock);
    return rc;
}

/* Raise the floor to `epoch`, wiping older keys. Caller holds the lock. */
static int raise_floor(struct ring *r, uint32_t epoch)
{
    size_t drop = 0;
    int rc;

    if (!find_key(r, epoch)) {
        rc = add_key(r, epoch);
        if (rc)
            return rc;
    }
    while (r->keys[drop].epoch < epoch)
        drop++;
    sodium_memzero(r->keys, drop * sizeof(*r->keys));
    memmove(r->keys, r->keys + drop, (r->n - drop) * sizeof(*r->keys));
    sodium_memzero(r->keys + r->n - drop, drop * sizeof(*r->keys));
    r->n -= drop;
    r->floor = epoch;
    return 0;
}

/* Replace the key file by the floor key; zero the old file's blocks. */
static int persist(struct lsl_keyring *kr)
{
    struct ring *r = kr->r;
    uint8_t *img = sodium_malloc(KEYFILE_SIZE);
    int old = -1, rc;

    if (!img)
        return -ENOMEM;
    pthread_rwlock_rdlock(&r->lock);
    build_image(img, kr->epoch_len, r->floor,
                lsl_epoch_start(kr->epoch_len, r->floor), r->keys[0].key);
    pthread_rwlock_unlock(&r->lock);
    old = open(kr->path, O_WRONLY | O_CLOEXEC);
    rc = lsl_file_replace(kr->path, 0600, img, KEYFILE_SIZE);
    if (rc == 0) {
        r->disk_epoch = (uint32_t)load_le(img + OFF_EPOCH, 4);
        /* The old inode is unlinked now; overwrite its data too, so the
         * destroyed key does not linger in free blocks (best effort). */
        sodium_memzero(img, KEYFILE_SIZE);
        if (old >= 0 && lsl_write_all(old, img, KEYFILE_SIZE) == 0)
            (void)fsync(old);
    }
    if (old >= 0)
        close(old);
    sodium_free(img);
    return rc;
}

int lsl_keyring_advance(struct lsl_keyring *kr, int64_t when)
{
    struct ring *r = kr->r;
    uint32_t target, floor;
    int rc = 0;

    if (!ratchets(kr->epoch_len))
        return 0;
    target = calendar_epoch(kr, when);
    pthread_rwlock_wrlock(&r->lock);
    if (target > r->floor)
        rc = raise_floor(r, target);
    floor = r->floor;
    pthread_rwlock_unlock(&r->lock);
    /* A failed persist is retried by the next advance (disk_epoch lags). */
    if (rc == 0 && floor != r->disk_epoch)
        rc = persist(kr);
    return rc;
}
