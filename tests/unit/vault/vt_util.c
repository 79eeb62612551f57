/* Shared helpers of the vault unit tests (see vt_util.h). */
#include "vt_util.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *vt_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    char *d;

    snprintf(tmpl, sizeof(tmpl), "%s/lslvault.XXXXXX", base ? base : "/tmp");
    d = mkdtemp(tmpl);
    assert_non_null(d);
    d = strdup(d);
    assert_non_null(d);
    return d;
}

static int rm_cb(const char *path, const struct stat *st, int flag,
                 struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void vt_rmrf(char *dir)
{
    assert_int_equal(nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS), 0);
    free(dir);
}

void vt_keys(const char *dir, struct lsl_officer_key **k, uint8_t pk[32])
{
    char sec[512], pub[512];

    snprintf(sec, sizeof(sec), "%s/officer.key", dir);
    snprintf(pub, sizeof(pub), "%s/vault.pub", dir);
    assert_int_equal(lsl_officer_keygen(sec, pub), 0);
    assert_int_equal(lsl_officer_key_open(k, sec), 0);
    assert_int_equal(lsl_vault_pubkey_load(pub, pk), 0);
}

static uint8_t vkey_bytes[LSL_VKEY_BYTES];
static uint8_t wsecret_bytes[LSL_VAULT_WSECRET_BYTES];
const uint8_t *vt_vkey = vkey_bytes;
const uint8_t *vt_wsecret = wsecret_bytes;

static void fill_keys(void)
{
    for (size_t i = 0; i < sizeof(vkey_bytes); i++)
        vkey_bytes[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < sizeof(wsecret_bytes); i++)
        wsecret_bytes[i] = (uint8_t)(0xa0 ^ i);
}

void vt_writer_opts(struct lsl_vault_writer_opts *o, const char *dir,
                    const uint8_t pk[32])
{
    fill_keys();
    lsl_vault_writer_opts_init(o);
    o->dir = dir;
    o->pubkey = pk;
    o->epoch = 7;
    o->vkey = vt_vkey;
    o->wsecret = vt_wsecret;
}

struct lsl_mapping vt_map(unsigned cls, unsigned epoch, const char *value,
                          int64_t first, int64_t last)
{
    struct lsl_mapping m;

    fill_keys();
    memset(&m, 0, sizeof(m));
    assert_int_equal(lsl_token_derive_vkey(vt_vkey, (uint16_t)(epoch % 1024),
                                           (enum lsl_class)cls, value,
                                           strlen(value), &m.tok),
                     0);
    m.first_seen = first;
    m.last_seen = last;
    m.value = (struct lsl_span){value, strlen(value)};
    return m;
}

struct lsl_mapping vt_map_raw(unsigned cls, unsigned n, const char *value,
                              int64_t first, int64_t last)
{
    struct lsl_mapping m;

    memset(&m, 0, sizeof(m));
    m.tok.cls = (uint8_t)cls;
    m.tok.kid = (uint16_t)(n % 1024);
    for (unsigned i = 0; i < LSL_TOKEN_HASH_BYTES; i++)
        m.tok.hash[i] = (uint8_t)((n >> (8 * (i % 4))) ^ (i * 37) ^ cls);
    m.first_seen = first;
    m.last_seen = last;
    m.value = (struct lsl_span){value, strlen(value)};
    return m;
}

const char *vt_hex(const struct lsl_token *t)
{
    static char buf[2 * LSL_TOKEN_HASH_BYTES + 1];

    for (unsigned i = 0; i < LSL_TOKEN_HASH_BYTES; i++)
        snprintf(buf + 2 * i, 3, "%02x", t->hash[i]);
    return buf;
}

int vt_collect(const struct lsl_vault_record *r, void *ud)
{
    struct vt_coll *c = ud;
    struct vt_rec *x;

    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = realloc(c->v, c->cap * sizeof(*c->v));
        assert_non_null(c->v);
    }
    x = &c->v[c->n++];
    memset(x, 0, sizeof(*x));
    x->type = r->type;
    x->tok = r->tok;
    x->first_seen = r->first_seen;
    x->last_seen = r->last_seen;
    assert_true(r->source.len < sizeof(x->source));
    assert_true(r->value.len < sizeof(x->value));
    memcpy(x->source, r->source.p, r->source.len);
    memcpy(x->value, r->value.p, r->value.len);
    return 0;
}

void vt_coll_free(struct vt_coll *c)
{
    free(c->v);
    memset(c, 0, sizeof(*c));
}

struct lsl_vault_writer *vt_writer(const char *dir, const uint8_t pk[32],
                                   const char *source, size_t cap)
{
    struct lsl_vault_writer_opts o;
    struct lsl_vault_writer *w = NULL;

    vt_writer_opts(&o, dir, pk);
    o.source = source;
    if (cap)
        o.seen_cap = cap;
    assert_int_equal(lsl_vault_writer_open(&w, &o), 0);
    return w;
}

void vt_add(struct lsl_vault_writer *w, const struct lsl_mapping *m,
            bool expect_new)
{
    bool is_new = !expect_new;

    assert_int_equal(lsl_vault_writer_add(w, m, &is_new), 0);
    assert_int_equal(is_new, expect_new);
}

uint8_t *vt_slurp(const char *path, size_t *len)
{
    struct stat st;
    uint8_t *p;
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    p = malloc((size_t)st.st_size + 1);
    assert_non_null(p);
    assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return p;
}

void vt_spit(const char *path, const uint8_t *p, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, len), (ssize_t)len);
    close(fd);
}

size_t vt_chunks(const uint8_t *p, size_t len, size_t *offs, size_t max)
{
    size_t off = VT_HEADER_BYTES, n = 0;

    while (off + 4 <= len && n < max) {
        size_t clen = (size_t)p[off] | (size_t)p[off + 1] << 8 |
                      (size_t)p[off + 2] << 16 | (size_t)p[off + 3] << 24;

        offs[n++] = off;
        off += 4 + clen;
    }
    assert_int_equal(off, len);
    return n;
}

ssize_t vt_pwrite_eio(int fd, const void *buf, size_t len, off_t off)
{
    (void)fd;
    (void)buf;
    (void)len;
    (void)off;
    errno = EIO;
    return -1;
}

int vt_half_calls;

ssize_t vt_pwrite_half(int fd, const void *buf, size_t len, off_t off)
{
    if (vt_half_calls++ == 0)
        return pwrite(fd, buf, len / 2, off);
    errno = ENOSPC;
    return -1;
}
