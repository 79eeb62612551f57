/*
 * Vault reader (officer side): opens the sealed box with the officer key
 * (file key, verification key, writer secret) and walks the chunk stream,
 * delivering the records of each chunk that authenticates, parses and
 * verifies; lists a directory of vault files.
 *
 * Invariants: a chunk's records reach the callback only after the whole
 * chunk authenticated (under the header as additional data, in stream
 * order), every record in it decoded, every MAP record's token was
 * recomputed from its value with the file's verification key, and every
 * SEEN record's token was mapped earlier in the file; so the callback
 * never sees garbage nor a planted mapping. Reading stops at the first
 * integrity failure, which is reported with its byte offset. Plaintext and
 * the verification key are wiped after use.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "logseal/array.h"
#include "logseal/file.h"
#include "vault_internal.h"

typedef crypto_secretstream_xchacha20poly1305_state stream_state;

/* The tokens MAP records of this file named: a SEEN record needs one. */
struct mapped {
    struct lsl_token *slots;
    bool *used;
    size_t n, cap; /* cap a power of two, n below cap / 2 */
};

struct reader {
    int fd;
    uint8_t *wsecret; /* NULL, or where to copy the writer secret */
    const struct lsl_vault_read_ext *x; /* NULL, or the index's hooks */
    stream_state *before;               /* x: the state before a chunk */
    uint64_t off;                       /* of the next byte to read */
    uint8_t ad[LSL_VAULT_AD_BYTES];
    uint16_t kid;                        /* every record's kid */
    stream_state *st;                    /* sodium_malloc */
    uint8_t *vkey;                       /* sodium_malloc, LSL_VKEY_BYTES */
    struct lsl_token_verifier *verifier; /* of vkey, once the box opened */
    struct mapped mapped;
    uint8_t *cipher;
    size_t cipher_cap;
    struct lsl_buf plain;
    struct lsl_vault_record *recs; /* of the chunk in plain, parsed */
    size_t nrecs, caprecs;
    struct lsl_vault_file_info *info;
};

static size_t mapped_slot(const struct mapped *m, const struct lsl_token *t)
{
    size_t i = (size_t)lsl_vault_tok_hash(t) & (m->cap - 1);

    while (m->used[i] && !lsl_vault_tok_eq(&m->slots[i], t))
        i = (i + 1) & (m->cap - 1);
    return i;
}

static bool mapped_has(const struct mapped *m, const struct lsl_token *t)
{
    return m->cap && m->used[mapped_slot(m, t)];
}

static int mapped_add(struct mapped *m, const struct lsl_token *t)
{
    if ((m->n + 1) * 2 > m->cap) {
        struct mapped g = {.cap = m->cap ? m->cap * 2 : 1024};

        g.slots = malloc(g.cap * sizeof(*g.slots));
        g.used = calloc(g.cap, sizeof(*g.used));
        if (!g.slots || !g.used) {
            free(g.slots);
            free(g.used);
            return -ENOMEM;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->used[i])
                continue;
            size_t j = mapped_slot(&g, &m->slots[i]);

            g.slots[j] = m->slots[i];
            g.used[j] = true;
            g.n++;
        }
        free(m->slots);
        free(m->used);
        *m = g;
    }
    size_t i = mapped_slot(m, t);

    if (!m->used[i]) {
        m->slots[i] = *t;
        m->used[i] = true;
        m->n++;
    }
    return 0;
}

/* Read up to len bytes; *got < len only at end of file. 0 or -errno. */
static int read_upto(struct reader *rd, void *buf, size_t len, size_t *got)
{
    char *p = buf;

    *got = 0;
    while (*got < len) {
        ssize_t n = read(rd->fd, p + *got, len - *got);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        *got += (size_t)n;
    }
    rd->off += *got;
    return 0;
}

/* An integrity failure at byte offset `at`: record it, return it. */
static int fail_at(struct reader *rd, int err, uint64_t at)
{
    rd->info->error = err;
    rd->info->error_offset = at;
    return err;
}

/* Open the sealed box: file key -> stream, keep the verification key. */
static int open_secrets(struct reader *rd, const uint8_t *hdr,
                        const struct lsl_officer_key *key)
{
    uint8_t *sec = sodium_malloc(LSL_VAULT_SECRETS_BYTES);
    const uint8_t *vk = sec + LSL_VAULT_FILE_KEY_BYTES;
    int rc = 0;

    if (!sec)
        return -ENOMEM;
    if (crypto_box_seal_open(sec, hdr + LSL_VAULT_SEALED_OFFSET,
                             LSL_VAULT_SEALED_BYTES, lsl_officer_key_pk(key),
                             lsl_officer_key_sk(key)) != 0) {
        /* Wrong officer key or a tampered sealed box: indistinguishable. */
        rc = fail_at(rd, LSL_EAUTH, LSL_VAULT_SEALED_OFFSET);
    } else if (crypto_secretstream_xchacha20poly1305_init_pull(
                   rd->st, hdr + LSL_VAULT_SS_HEADER_OFFSET, sec) != 0) {
        rc = fail_at(rd, LSL_EAUTH, LSL_VAULT_SS_HEADER_OFFSET);
    } else {
        memcpy(rd->vkey, vk, LSL_VKEY_BYTES);
        if (rd->x && rd->x->vkey)
            memcpy(rd->x->vkey, vk, LSL_VKEY_BYTES);
        if (rd->wsecret)
            memcpy(rd->wsecret, vk + LSL_VKEY_BYTES, LSL_VAULT_WSECRET_BYTES);
        lsl_vault_digest(vk, LSL_VKEY_BYTES, rd->info->vkey_digest);
        rc = lsl_token_verifier_open(&rd->verifier, vk);
        lsl_vault_digest(vk + LSL_VKEY_BYTES, LSL_VAULT_WSECRET_BYTES,
                         rd->info->wsecret_digest);
        rd->info->have_keys = true;
    }
    sodium_free(sec);
    return rc;
}

static void take_header(struct lsl_vault_file_info *info,
                        const struct lsl_vault_hdr *h)
{
    info->flags = h->flags;
    info->epoch = h->epoch;
    info->epoch_len = h->epoch_len;
    info->created = h->created;
    info->link = h->link;
    info->audit_seq = h->audit_seq;
}

static int read_header(struct reader *rd, const struct lsl_officer_key *key)
{
    uint8_t hdr[LSL_VAULT_HEADER_BYTES];
    struct lsl_vault_hdr h = {0};
    size_t got;
    int rc;

    rc = read_upto(rd, hdr, sizeof(hdr), &got);
    if (rc)
        return rc;
    if (got < LSL_VAULT_MAGIC_BYTES ||
        memcmp(hdr, LSL_VAULT_MAGIC, LSL_VAULT_MAGIC_BYTES) != 0)
        return fail_at(rd, LSL_EFORMAT, 0);
    rd->info->version =
        got > LSL_VAULT_MAGIC_BYTES ? hdr[LSL_VAULT_MAGIC_BYTES] : 0;
    if (got < LSL_VAULT_AD_BYTES)
        return fail_at(rd,
                       got > LSL_VAULT_MAGIC_BYTES &&
                               rd->info->version != LSL_VAULT_VERSION
                           ? LSL_EVERSION
                           : LSL_ETRUNC,
                       0);
    rc = lsl_vault_hdr_decode(hdr, &h);
    if (rc)
        return fail_at(rd, rc, rc == LSL_EVERSION ? LSL_VAULT_MAGIC_BYTES : 0);
    take_header(rd->info, &h);
    rd->kid = (uint16_t)(h.epoch % (LSL_VAULT_KID_MAX + 1));
    if (got < sizeof(hdr))
        return fail_at(rd, LSL_ETRUNC, LSL_VAULT_AD_BYTES);
    memcpy(rd->ad, hdr, sizeof(rd->ad));
    return open_secrets(rd, hdr, key);
}

/* A record of this file is true: its token is its value's, or mapped. */
static int verify_record(struct reader *rd, const struct lsl_vault_record *r)
{
    if (r->tok.kid != rd->kid)
        return LSL_ECORRUPT;
    if (r->type == LSL_VAULT_REC_SEEN)
        return mapped_has(&rd->mapped, &r->tok) ? 0 : LSL_EFORGED;
    if (!lsl_token_verifier_check(rd->verifier, rd->kid, &r->tok, r->value.p,
                                  r->value.len))
        return LSL_EFORGED;
    return mapped_add(&rd->mapped, &r->tok);
}

/* Check and verify every record of the chunk in rd->plain, keeping them
 * parsed (their spans point into rd->plain) for delivery. */
static int check_records(struct reader *rd)
{
    const uint8_t *plain = (const uint8_t *)rd->plain.p;
    size_t pos = 0, used;
    int rc;

    rd->nrecs = 0;
    while (pos < rd->plain.len) {
        rc = lsl_array_grow(&rd->recs, &rd->caprecs, rd->nrecs + 1,
                            sizeof(*rd->recs), 256);
        if (rc)
            return rc;
        rc = lsl_vault_rec_get(plain + pos, rd->plain.len - pos, &used,
                               &rd->recs[rd->nrecs]);
        if (rc == 0)
            rc = verify_record(rd, &rd->recs[rd->nrecs]);
        if (rc)
            return rc;
        pos += used;
        rd->nrecs++;
    }
    return 0;
}

/* Count and deliver the records check_records kept. */
static int deliver_records(struct reader *rd, lsl_vault_record_fn fn, void *ud)
{
    for (size_t i = 0; i < rd->nrecs; i++) {
        int rc = fn ? fn(&rd->recs[i], ud) : 0;

        rd->info->records++;
        if (rc)
            return rc;
    }
    return 0;
}

/* Read the ciphertext of a chunk whose length field starts at `at`. */
static int read_cipher(struct reader *rd, size_t clen, uint64_t at)
{
    size_t got;
    int rc;

    if (clen < LSL_VAULT_CHUNK_ABYTES || clen > LSL_VAULT_CHUNK_MAX)
        return fail_at(rd, LSL_ECORRUPT, at);
    if (clen > rd->cipher_cap) {
        uint8_t *p = realloc(rd->cipher, clen);

        if (!p)
            return -ENOMEM;
        rd->cipher = p;
        rd->cipher_cap = clen;
    }
    rc = read_upto(rd, rd->cipher, clen, &got);
    if (rc)
        return rc;
    return got < clen ? fail_at(rd, LSL_ETRUNC, at) : 0;
}

/* Decrypt and check the chunk in rd->cipher into rd->plain. */
static int open_chunk(struct reader *rd, size_t clen, uint64_t at,
                      unsigned char *tag)
{
    unsigned long long plen;
    int rc;

    lsl_buf_wipe(&rd->plain);
    rc = lsl_buf_reserve(&rd->plain, clen - LSL_VAULT_CHUNK_ABYTES);
    if (rc)
        return rc;
    if (crypto_secretstream_xchacha20poly1305_pull(
            rd->st, (uint8_t *)rd->plain.p, &plen, tag, rd->cipher, clen,
            rd->ad, sizeof(rd->ad)) != 0)
        return fail_at(rd, LSL_EAUTH, at);
    rd->plain.len = (size_t)plen;
    if (*tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE &&
        *tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL)
        return fail_at(rd, LSL_ECORRUPT, at);
    rc = check_records(rd);
    if (rc == -ENOMEM)
        return rc;
    return rc ? fail_at(rd, rc, at) : 0;
}

static int read_chunks(struct reader *rd, lsl_vault_record_fn fn, void *ud)
{
    uint8_t lenb[4];
    unsigned char tag;
    size_t got, clen;
    uint64_t at;
    int rc;

    for (;;) {
        at = rd->off;
        rc = read_upto(rd, lenb, sizeof(lenb), &got);
        if (rc)
            return rc;
        if (got == 0)
            return rd->info->complete ? 0 : fail_at(rd, LSL_ETRUNC, at);
        if (rd->info->complete)
            return fail_at(rd, LSL_ECORRUPT, at);
        if (got < sizeof(lenb))
            return fail_at(rd, LSL_ETRUNC, at);
        clen = (size_t)lsl_get_le(lenb, 4);
        rc = read_cipher(rd, clen, at);
        if (rc == 0 && rd->before)
            *rd->before = *rd->st;
        if (rc == 0)
            rc = open_chunk(rd, clen, at, &tag);
        /* The chunk is whole and verified: say where it is before its
         * records are delivered, so they can be placed in it. */
        if (rc == 0 && rd->before)
            rc = rd->x->on_chunk(at, (const uint8_t *)rd->before, rd->x->ud);
        if (rc)
            return rc;
        rd->info->chunks++;
        rc = deliver_records(rd, fn, ud);
        lsl_buf_wipe(&rd->plain);
        if (rc)
            return rc;
        if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
            rd->info->complete = true;
    }
}

int lsl_vault_read_file(const char *path, const struct lsl_officer_key *key,
                        lsl_vault_record_fn fn, void *ud,
                        struct lsl_vault_file_info *info)
{
    return lsl_vault_read_file_ext(path, key, fn, ud, info, NULL);
}

int lsl_vault_read_file_ext(const char *path, const struct lsl_officer_key *key,
                            lsl_vault_record_fn fn, void *ud,
                            struct lsl_vault_file_info *info,
                            const struct lsl_vault_read_ext *x)
{
    struct lsl_vault_file_info local;
    struct reader rd = {.fd = -1, .x = x};
    uint32_t name_epoch;
    int rc;

    rd.info = info ? info : &local;
    memset(rd.info, 0, sizeof(*rd.info));
    rc = lsl_vault_sodium_init();
    if (rc)
        return rc;
    rd.st = sodium_malloc(sizeof(*rd.st));
    rd.vkey = sodium_malloc(LSL_VKEY_BYTES);
    if (x && x->on_chunk)
        rd.before = sodium_malloc(sizeof(*rd.before));
    if (!rd.st || !rd.vkey || (x && x->on_chunk && !rd.before)) {
        rc = -ENOMEM;
        goto out;
    }
    rd.fd = open(path, O_RDONLY | O_CLOEXEC);
    if (rd.fd < 0) {
        rc = -errno;
        goto out;
    }
    rc = read_header(&rd, key);
    if (rc == 0)
        rc = read_chunks(&rd, fn, ud);
    if (rc == 0 && lsl_vault_name_epoch(path, &name_epoch) &&
        name_epoch != rd.info->epoch) {
        /* Authentic, but copied or renamed into another epoch's name. */
        rd.info->complete = false;
        rc = fail_at(&rd, LSL_EAUTH, LSL_VAULT_MAGIC_BYTES + 4);
    }
    /* Cut short: a writer's lock says it is still being written. */
    if (rc == LSL_ETRUNC && flock(rd.fd, LOCK_SH | LOCK_NB) < 0 &&
        errno == EWOULDBLOCK)
        rd.info->writing = true;
out:
    if (rd.fd >= 0)
        close(rd.fd);
    sodium_free(rd.st);
    sodium_free(rd.vkey);
    sodium_free(rd.before);
    lsl_token_verifier_close(rd.verifier);
    free(rd.mapped.slots);
    free(rd.mapped.used);
    free(rd.cipher);
    free(rd.recs);
    lsl_buf_free(&rd.plain);
    return rc;
}

int lsl_vault_header_secrets(const char *path,
                             const struct lsl_officer_key *key,
                             struct lsl_vault_hdr *h, uint8_t *vkey,
                             uint8_t *wsecret)
{
    struct lsl_vault_file_info info = {0};
    struct reader rd = {.fd = -1, .info = &info, .wsecret = wsecret};
    int rc = lsl_vault_sodium_init();

    if (rc)
        return rc;
    rd.st = sodium_malloc(sizeof(*rd.st));
    rd.vkey = vkey;
    rd.fd = rd.st ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (!rd.st)
        rc = -ENOMEM;
    else if (rd.fd < 0)
        rc = -errno;
    if (rc == 0)
        rc = read_header(&rd, key);
    if (rc == 0) {
        memset(h, 0, sizeof(*h));
        h->version = info.version;
        h->flags = info.flags;
        h->epoch = info.epoch;
        h->epoch_len = info.epoch_len;
        h->created = info.created;
        h->link = info.link;
        h->audit_seq = info.audit_seq;
    }
    if (rd.fd >= 0)
        close(rd.fd);
    sodium_free(rd.st);
    lsl_token_verifier_close(rd.verifier);
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strverscmp(*(char *const *)a, *(char *const *)b);
}

static bool is_vault_name(const char *name)
{
    size_t n = strlen(name), sl = strlen(LSL_VAULT_SUFFIX);

    return name[0] != '.' && n > sl &&
           strcmp(name + n - sl, LSL_VAULT_SUFFIX) == 0;
}

int lsl_vault_list(const char *dir, char ***names, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **v = NULL, **nv;
    size_t n = 0;
    int rc = 0;

    if (!d)
        return -errno;
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (!is_vault_name(de->d_name))
            continue;
        nv = realloc(v, (n + 1) * sizeof(*v));
        if (!nv) {
            rc = -ENOMEM;
            break;
        }
        v = nv;
        v[n] = strdup(de->d_name);
        if (!v[n]) {
            rc = -ENOMEM;
            break;
        }
        n++;
    }
    if (rc == 0 && errno)
        rc = -errno;
    closedir(d);
    if (rc == 0 && n)
        qsort(v, n, sizeof(*v), name_cmp);
    *names = v;
    *count = n;
    return rc;
}

/* Stops the walk only for the callback's own non-zero value. */
struct dir_walk {
    lsl_vault_record_fn fn;
    void *ud;
    int stop;
};

static int dir_record(const struct lsl_vault_record *r, void *ud)
{
    struct dir_walk *dw = ud;

    dw->stop = dw->fn ? dw->fn(r, dw->ud) : 0;
    return dw->stop;
}

/* Read dir/name and report it. 1 if skipped (not a regular file). */
static int read_one(const char *dir, const char *name,
                    const struct lsl_officer_key *key, struct dir_walk *dw,
                    lsl_vault_file_fn on_file, void *file_ud)
{
    struct lsl_vault_file_info info = {0};
    char path[4096];
    struct stat st;
    int rc;

    rc = lsl_path_join(path, sizeof(path), dir, name);
    if (rc == 0 && (stat(path, &st) != 0 || !S_ISREG(st.st_mode)))
        return 1;
    if (rc == 0)
        rc = lsl_vault_read_file(path, key, dir_record, dw, &info);
    if (on_file && !dw->stop)
        on_file(rc == -ENAMETOOLONG ? name : path, &info, rc, file_ud);
    return rc;
}

int lsl_vault_read_dir(const char *dir, const struct lsl_officer_key *key,
                       lsl_vault_record_fn fn, void *ud,
                       lsl_vault_file_fn on_file, void *file_ud)
{
    struct dir_walk dw = {.fn = fn, .ud = ud};
    char **names = NULL;
    size_t n = 0;
    int rc, first = 0;

    rc = lsl_vault_list(dir, &names, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int frc = read_one(dir, names[i], key, &dw, on_file, file_ud);

        if (dw.stop)
            rc = dw.stop;
        else if (frc < 0 && first == 0)
            first = frc;
    }
    lsl_vault_list_free(names, n);
    return rc ? rc : first;
}

void lsl_vault_list_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}
