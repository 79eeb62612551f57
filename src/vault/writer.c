/*
 * Vault writer (daemon side): seals a fresh file key to the officer public
 * key, then appends records as crypto_secretstream chunks.
 *
 * Invariants:
 * - w->size is the length of the durable, well-formed prefix of the file:
 *   header plus whole chunks, fsynced. Every write goes at w->size, and a
 *   failed write or fsync marks the tail torn; the next attempt first cuts
 *   the file back to w->size, so a retry never leaves junk mid-file.
 * - w->st advances only after its chunks are durable: chunks are pushed
 *   with a copy of the state (w->st_next), committed on success. A failed
 *   flush therefore leaves the queue and the stream as they were.
 * - w->queue holds encoded records with originals; it is wiped whenever it
 *   is emptied or freed, and so are the file key and stream states.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "logseal/file.h"
#include "vault_internal.h"

/* 40-byte entries at < 80% load: about 13 MiB once full (bench/run
 * --memory). Past it the set is emptied and values are written again. */
#define DEFAULT_SEEN_CAP ((size_t)1 << 18)

typedef crypto_secretstream_xchacha20poly1305_state stream_state;

struct lsl_vault_writer {
    int fd;
    bool torn;
    off_t size;
    char *path;
    char *source; /* owned copy */
    size_t source_len;
    uint8_t ad[LSL_VAULT_AD_BYTES];
    stream_state *st; /* sodium_malloc: st[0] committed, st[1] next */
    struct lsl_buf queue;
    uint64_t queued_maps;
    uint64_t entries;
    struct lsl_buf out; /* ciphertext being written */
    struct lsl_vault_seen seen;
    lsl_vault_pwrite_fn pwrite_fn;
};

void lsl_vault_writer_opts_init(struct lsl_vault_writer_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->dir = ".";
    o->source = "";
    o->seen_cap = DEFAULT_SEEN_CAP;
}

void lsl_vault_writer_set_pwrite(struct lsl_vault_writer *w,
                                 lsl_vault_pwrite_fn fn)
{
    w->pwrite_fn = fn ? fn : pwrite;
}

const char *lsl_vault_writer_path(const struct lsl_vault_writer *w)
{
    return w->path;
}

uint64_t lsl_vault_writer_entries(const struct lsl_vault_writer *w)
{
    return w->entries;
}

static int pwrite_all(struct lsl_vault_writer *w, const void *buf, size_t len,
                      off_t off)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = w->pwrite_fn(w->fd, p, len, off);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

/* Append buf at w->size and make it durable; on failure the tail is torn. */
static int append_durable(struct lsl_vault_writer *w, const void *buf,
                          size_t len)
{
    int rc;

    if (w->torn) {
        if (ftruncate(w->fd, w->size) < 0)
            return -errno;
        w->torn = false;
    }
    rc = pwrite_all(w, buf, len, w->size);
    if (rc == 0 && fsync(w->fd) < 0)
        rc = -errno;
    if (rc) {
        w->torn = true;
        return rc;
    }
    w->size += (off_t)len;
    return 0;
}

/* Push one chunk of plaintext p[0..len) with the next state into w->out. */
static int push_chunk(struct lsl_vault_writer *w, const uint8_t *p, size_t len,
                      unsigned char tag)
{
    size_t clen = len + LSL_VAULT_CHUNK_ABYTES;
    uint8_t *c;
    int rc;

    rc = lsl_buf_reserve(&w->out, 4 + clen);
    if (rc)
        return rc;
    c = (uint8_t *)w->out.p + w->out.len;
    lsl_put_le(c, clen, 4);
    crypto_secretstream_xchacha20poly1305_push(&w->st[1], c + 4, NULL, p, len,
                                               w->ad, sizeof(w->ad), tag);
    w->out.len += 4 + clen;
    return 0;
}

/* Cut the queue into chunks at record boundaries, push them all. */
static int push_queue(struct lsl_vault_writer *w, bool final)
{
    const uint8_t *q = (const uint8_t *)w->queue.p;
    size_t pos = 0, start = 0, used;
    struct lsl_vault_record r;
    int rc;

    while (pos < w->queue.len) {
        rc = lsl_vault_rec_get(q + pos, w->queue.len - pos, &used, &r);
        if (rc)
            return rc;
        if (pos > start && pos - start + used > LSL_VAULT_CHUNK_TARGET) {
            rc = push_chunk(w, q + start, pos - start,
                            crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
            if (rc)
                return rc;
            start = pos;
        }
        pos += used;
    }
    if (pos == start && !final)
        return 0;
    return push_chunk(w, q + start, pos - start,
                      final
                          ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                          : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
}

/* Write the queue as chunks (the last one final if asked), durably. */
static int write_queue(struct lsl_vault_writer *w, bool final)
{
    int rc;

    w->st[1] = w->st[0];
    lsl_buf_reset(&w->out);
    rc = push_queue(w, final);
    if (rc == 0 && w->out.len)
        rc = append_durable(w, w->out.p, w->out.len);
    if (rc == 0) {
        w->st[0] = w->st[1];
        lsl_buf_wipe(&w->queue);
        w->entries += w->queued_maps;
        w->queued_maps = 0;
    }
    sodium_memzero(&w->st[1], sizeof(w->st[1]));
    return rc;
}

int lsl_vault_writer_flush(struct lsl_vault_writer *w)
{
    if (w->queue.len == 0)
        return 0;
    return write_queue(w, false);
}

/* Queue SEEN records for every entry whose range grew since it was queued. */
static int queue_seen(struct lsl_vault_writer *w)
{
    struct lsl_vault_record r = {.type = LSL_VAULT_REC_SEEN};
    size_t n = 0;
    int rc;

    r.source = (struct lsl_span){w->source, w->source_len};
    for (size_t i = 0; i < w->seen.nslots; i++)
        n += w->seen.slots[i].dirty;
    if (n == 0)
        return 0;
    if (n > SIZE_MAX / lsl_vault_rec_size(&r))
        return -ENOMEM;
    rc = lsl_buf_reserve(&w->queue, n * lsl_vault_rec_size(&r));
    if (rc)
        return rc;
    for (size_t i = 0; i < w->seen.nslots; i++) {
        struct lsl_vault_seen_entry *e = &w->seen.slots[i];

        if (!e->dirty)
            continue;
        r.tok = e->tok;
        r.first_seen = e->first_seen;
        r.last_seen = e->last_seen;
        lsl_vault_rec_put(&w->queue, &r);
        e->dirty = false;
    }
    return 0;
}

static void extend(struct lsl_vault_seen_entry *e, const struct lsl_mapping *m)
{
    if (m->first_seen < e->first_seen) {
        e->first_seen = m->first_seen;
        e->dirty = true;
    }
    if (m->last_seen > e->last_seen) {
        e->last_seen = m->last_seen;
        e->dirty = true;
    }
}

static bool record_ok(const struct lsl_vault_record *r)
{
    return r->tok.cls < LSL_CLASS_COUNT && r->tok.kid <= LSL_VAULT_KID_MAX &&
           r->value.len <= LSL_VAULT_VALUE_MAX &&
           r->source.len <= LSL_VAULT_SOURCE_MAX &&
           r->first_seen <= r->last_seen &&
           (r->type == LSL_VAULT_REC_MAP ||
            (r->type == LSL_VAULT_REC_SEEN && r->value.len == 0));
}

int lsl_vault_writer_put(struct lsl_vault_writer *w,
                         const struct lsl_vault_record *r)
{
    int rc;

    if (!record_ok(r))
        return -EINVAL;
    rc = lsl_buf_reserve(&w->queue, lsl_vault_rec_size(r));
    if (rc)
        return rc;
    lsl_vault_rec_put(&w->queue, r);
    w->queued_maps += r->type == LSL_VAULT_REC_MAP;
    return 0;
}

int lsl_vault_writer_add(struct lsl_vault_writer *w,
                         const struct lsl_mapping *m, bool *is_new)
{
    struct lsl_vault_record r = {.type = LSL_VAULT_REC_MAP};
    struct lsl_vault_seen_entry *e;
    int rc;

    *is_new = false;
    e = lsl_vault_seen_find(&w->seen, &m->tok);
    if (e) {
        extend(e, m);
        return 0;
    }
    if (m->tok.cls >= LSL_CLASS_COUNT || m->tok.kid > LSL_VAULT_KID_MAX ||
        m->value.len > LSL_VAULT_VALUE_MAX || m->first_seen > m->last_seen)
        return -EINVAL;
    if (lsl_vault_seen_full(&w->seen)) {
        /* Forget everything; the grown ranges go out first. */
        rc = queue_seen(w);
        if (rc)
            return rc;
        lsl_vault_seen_clear(&w->seen);
    }
    rc = lsl_vault_seen_reserve(&w->seen);
    if (rc)
        return rc;
    r.tok = m->tok;
    r.first_seen = m->first_seen;
    r.last_seen = m->last_seen;
    r.source = (struct lsl_span){w->source, w->source_len};
    r.value = m->value;
    rc = lsl_buf_reserve(&w->queue, lsl_vault_rec_size(&r));
    if (rc)
        return rc;
    lsl_vault_rec_put(&w->queue, &r);
    e = lsl_vault_seen_insert(&w->seen, &m->tok);
    e->first_seen = m->first_seen;
    e->last_seen = m->last_seen;
    w->queued_maps++;
    *is_new = true;
    return 0;
}

static void writer_free(struct lsl_vault_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    free(w->path);
    free(w->source);
    sodium_free(w->st);
    lsl_buf_free(&w->queue);
    lsl_buf_free(&w->out);
    lsl_vault_seen_free(&w->seen);
    free(w);
}

void lsl_vault_file_name(uint32_t epoch, int64_t when, const char *host,
                         char out[LSL_VAULT_NAME_MAX])
{
    char utc[32] = "19700101T000000Z";
    time_t t = (time_t)when;
    struct tm tm;

    if (gmtime_r(&t, &tm))
        strftime(utc, sizeof(utc), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(out, LSL_VAULT_NAME_MAX, "%" PRIu32 "-%s%s%s-%08" PRIx32 "%s",
             epoch, host && host[0] ? host : "", host && host[0] ? "-" : "",
             utc, randombytes_random(), LSL_VAULT_SUFFIX);
}

/*
 * Create the file exclusively (at the given path, or named from the
 * header in dir) and lock it: readers then see it is being written.
 */
static int create_file(struct lsl_vault_writer *w,
                       const struct lsl_vault_writer_opts *o,
                       const struct lsl_vault_hdr *h)
{
    char name[LSL_VAULT_NAME_MAX], path[4096];
    int rc;

    lsl_vault_file_name(h->epoch, h->created, o->host, name);
    rc = o->path ? 0 : lsl_path_join(path, sizeof(path), o->dir, name);
    if (rc)
        return rc;
    w->path = strdup(o->path ? o->path : path);
    if (!w->path)
        return -ENOMEM;
    w->fd = open(w->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (w->fd < 0)
        return -errno;
    /* The umask may have narrowed the mode; widening is never wanted. */
    if (fchmod(w->fd, 0600) < 0 || flock(w->fd, LOCK_EX | LOCK_NB) < 0)
        return -errno;
    return 0;
}

/*
 * Seal a fresh file key with the verification key and the writer secret,
 * start the stream, write the header durably.
 */
static int write_header(struct lsl_vault_writer *w,
                        const struct lsl_vault_writer_opts *o,
                        const struct lsl_vault_hdr *h)
{
    uint8_t hdr[LSL_VAULT_HEADER_BYTES];
    uint8_t *sec; /* file key | verification key | writer secret */
    int rc = 0;

    sec = sodium_malloc(LSL_VAULT_SECRETS_BYTES);
    if (!sec)
        return -ENOMEM;
    lsl_vault_hdr_encode(h, w->ad);
    memcpy(hdr, w->ad, sizeof(w->ad));
    crypto_secretstream_xchacha20poly1305_keygen(sec);
    memcpy(sec + LSL_VAULT_FILE_KEY_BYTES, o->vkey, LSL_VKEY_BYTES);
    memcpy(sec + LSL_VAULT_FILE_KEY_BYTES + LSL_VKEY_BYTES, o->wsecret,
           LSL_VAULT_WSECRET_BYTES);
    if (crypto_box_seal(hdr + LSL_VAULT_SEALED_OFFSET, sec,
                        LSL_VAULT_SECRETS_BYTES, o->pubkey) != 0 ||
        crypto_secretstream_xchacha20poly1305_init_push(
            &w->st[0], hdr + LSL_VAULT_SS_HEADER_OFFSET, sec) != 0)
        rc = -EINVAL;
    sodium_free(sec);
    if (rc == 0)
        rc = append_durable(w, hdr, sizeof(hdr));
    if (rc == 0)
        rc = lsl_fsync_parent(w->path);
    return rc;
}

static int writer_init(struct lsl_vault_writer *w,
                       const struct lsl_vault_writer_opts *o)
{
    const char *src = o->source ? o->source : "";
    int rc;

    w->fd = -1;
    w->pwrite_fn = pwrite;
    w->source_len = strlen(src);
    if (!o->pubkey || !o->dir || !o->vkey || !o->wsecret ||
        w->source_len > LSL_VAULT_SOURCE_MAX ||
        (o->host && o->host[0] && !lsl_host_valid(o->host)) ||
        o->epoch_len > LSL_EPOCH_MONTH || (o->flags & ~LSL_VAULT_F_REWRITTEN))
        return -EINVAL;
    w->source = strdup(src);
    if (!w->source)
        return -ENOMEM;
    rc = lsl_vault_seen_init(&w->seen, o->seen_cap);
    if (rc)
        return rc;
    w->st = sodium_malloc(2 * sizeof(*w->st));
    return w->st ? 0 : -ENOMEM;
}

/* The header of a new file: its place in the chain, or a chain of one. */
static void make_header(const struct lsl_vault_writer_opts *o,
                        struct lsl_vault_hdr *h)
{
    memset(h, 0, sizeof(*h));
    h->flags = o->flags;
    h->epoch = o->epoch;
    h->epoch_len = o->epoch_len;
    h->created = o->created ? o->created : (int64_t)time(NULL);
    h->audit_seq = o->audit_seq;
    if (o->link) {
        h->link = *o->link;
        return;
    }
    randombytes_buf(h->link.writer, sizeof(h->link.writer));
    randombytes_buf(h->link.id, sizeof(h->link.id));
    h->link.seq = 1;
}

int lsl_vault_writer_open(struct lsl_vault_writer **out,
                          const struct lsl_vault_writer_opts *o)
{
    struct lsl_vault_writer *w;
    struct lsl_vault_hdr h;
    int rc;

    rc = lsl_vault_sodium_init();
    if (rc)
        return rc;
    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    rc = writer_init(w, o);
    if (rc)
        goto fail;
    rc = lsl_mkdir_p(o->dir, 0700);
    if (rc)
        goto fail;
    make_header(o, &h);
    rc = create_file(w, o, &h);
    if (rc == 0)
        rc = write_header(w, o, &h);
    if (rc) {
        /* Only a file this call created: create_file used O_EXCL. */
        if (w->fd >= 0)
            unlink(w->path);
        goto fail;
    }
    *out = w;
    return 0;
fail:
    writer_free(w);
    return rc;
}

int lsl_vault_writer_close(struct lsl_vault_writer *w)
{
    int rc;

    if (!w)
        return 0;
    rc = queue_seen(w);
    if (rc == 0)
        rc = write_queue(w, true);
    if (rc == 0) {
        rc = close(w->fd) < 0 ? -errno : 0;
        w->fd = -1;
    } else if (w->torn && ftruncate(w->fd, w->size) == 0) {
        /* Leave whole chunks only: readers then report a clean cut. */
        w->torn = false;
    }
    writer_free(w);
    return rc;
}
