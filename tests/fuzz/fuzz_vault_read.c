/*
 * Fuzz target: the vault reader and index on hostile files. Chunks are
 * authenticated, so random bytes alone would stop at the first chunk; the
 * target therefore seals the input's plaintext chunks itself, to the
 * officer key it created at start-up, and may then damage the file:
 *
 *   byte 0      bit 0: raw (the rest is the whole file, written as is)
 *               bit 1: tag the last chunk FINAL
 *               bit 2: XOR the byte at offset (bytes 1-2) % size with byte 3
 *               bit 3: cut the file at offset (bytes 1-2) % size
 *               bit 4: make the chunks' records true: each MAP record
 *                      that parses gets its value's token under the
 *                      file's verification key (else the reader refuses
 *                      it as forged, which is tested too)
 *   bytes 4..   chunks: u16 length (LE), then that much plaintext
 *
 * The reader must return a documented code; each record it delivers is
 * well-formed and true (its token is its value's, or, for SEEN, mapped
 * before in the file); a clean return means the file was complete and
 * intact.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "fuzz_util.h"
#include "src/vault/vault_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lsl_officer_key *officer;
static uint8_t vkey[LSL_VKEY_BYTES];
static uint8_t pk[LSL_VAULT_PUBKEY_BYTES];
static char vault_path[512];

static void init(void)
{
    char sec[512], pub[512];
    const char *dir = fz_tmpdir();

    snprintf(sec, sizeof(sec), "%s/officer.key", dir);
    snprintf(pub, sizeof(pub), "%s/vault.pub", dir);
    snprintf(vault_path, sizeof(vault_path), "%s/fuzz.lsv", dir);
    FZ_CHECK(lsl_officer_keygen(sec, pub) == 0);
    FZ_CHECK(lsl_officer_key_open(&officer, sec) == 0);
    FZ_CHECK(lsl_vault_pubkey_load(pub, pk) == 0);
    for (size_t i = 0; i < sizeof(vkey); i++)
        vkey[i] = (uint8_t)(i * 13 + 1);
}

/* Give every MAP record that parses its value's true token (epoch 1). */
static void make_true(uint8_t *p, size_t len)
{
    size_t pos = 0, used;
    struct lsl_vault_record r;
    struct lsl_token t;

    while (pos < len && lsl_vault_rec_get(p + pos, len - pos, &used, &r) == 0) {
        if (r.type == LSL_VAULT_REC_MAP &&
            lsl_token_derive_vkey(vkey, 1, (enum lsl_class)r.tok.cls, r.value.p,
                                  r.value.len, &t) == 0) {
            lsl_put_le(p + pos + 2, 1, 2);
            memcpy(p + pos + 4, t.hash, LSL_TOKEN_HASH_BYTES);
        }
        pos += used;
    }
}

static void put(uint8_t **p, size_t *len, const void *src, size_t n)
{
    uint8_t *q = realloc(*p, *len + n);

    FZ_CHECK(q != NULL);
    memcpy(q + *len, src, n);
    *p = q;
    *len += n;
}

/* A vault file image holding in[0..n) as chunks; returns its length. */
static size_t seal(const uint8_t *in, size_t n, bool final, bool truthful,
                   uint8_t **img)
{
    struct lsl_vault_hdr h = {
        .epoch = 1, .created = 1764403200, .link = {.seq = 1}};
    uint8_t hdr[LSL_VAULT_HEADER_BYTES];
    uint8_t sec[LSL_VAULT_SECRETS_BYTES]; /* file key | vkey | wsecret */
    crypto_secretstream_xchacha20poly1305_state st;
    size_t len = 0;

    lsl_vault_hdr_encode(&h, hdr);
    crypto_secretstream_xchacha20poly1305_keygen(sec);
    memcpy(sec + LSL_VAULT_FILE_KEY_BYTES, vkey, sizeof(vkey));
    memset(sec + LSL_VAULT_FILE_KEY_BYTES + sizeof(vkey), 7,
           LSL_VAULT_WSECRET_BYTES);
    FZ_CHECK(crypto_box_seal(hdr + LSL_VAULT_SEALED_OFFSET, sec, sizeof(sec),
                             pk) == 0);
    crypto_secretstream_xchacha20poly1305_init_push(
        &st, hdr + LSL_VAULT_SS_HEADER_OFFSET, sec);
    put(img, &len, hdr, sizeof(hdr));
    while (n >= 2) {
        size_t m = (size_t)lsl_get_le(in, 2);
        uint8_t c[4 + 65535 + LSL_VAULT_CHUNK_ABYTES], plain[65535];
        bool last;

        in += 2;
        n -= 2;
        m = m < n ? m : n;
        last = n - m < 2;
        memcpy(plain, in, m);
        if (truthful)
            make_true(plain, m);
        lsl_put_le(c, m + LSL_VAULT_CHUNK_ABYTES, 4);
        crypto_secretstream_xchacha20poly1305_push(
            &st, c + 4, NULL, plain, m, hdr, LSL_VAULT_AD_BYTES,
            last && final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                          : 0);
        put(img, &len, c, 4 + m + LSL_VAULT_CHUNK_ABYTES);
        in += m;
        n -= m;
    }
    return len;
}

static int on_record(const struct lsl_vault_record *r, void *ix)
{
    FZ_CHECK(r->type == LSL_VAULT_REC_MAP || r->type == LSL_VAULT_REC_SEEN);
    FZ_CHECK(r->tok.cls < LSL_CLASS_COUNT && r->tok.kid <= 1023);
    FZ_CHECK(r->first_seen <= r->last_seen);
    FZ_CHECK(r->value.len <= LSL_VAULT_VALUE_MAX);
    FZ_CHECK(r->type == LSL_VAULT_REC_MAP || r->value.len == 0);
    FZ_CHECK(r->tok.kid == 1);
    FZ_CHECK(r->type != LSL_VAULT_REC_MAP ||
             lsl_token_verify(vkey, 1, &r->tok, r->value.p, r->value.len));
    FZ_CHECK(lsl_vault_index_add(r, ix) == 0);
    FZ_CHECK(lsl_vault_index_lookup(ix, &r->tok) != NULL);
    return 0;
}

static void write_file(const uint8_t *p, size_t len)
{
    int fd = open(vault_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    FZ_CHECK(fd >= 0);
    FZ_CHECK(len == 0 || write(fd, p, len) == (ssize_t)len);
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lsl_vault_file_info info;
    struct lsl_vault_index *ix = NULL;
    uint8_t *img = NULL;
    size_t len, at;
    int rc;

    if (!officer)
        init();
    if (size < 4)
        return 0;
    len = 0;
    if (data[0] & 1)
        put(&img, &len, data + 4, size - 4);
    else
        len = seal(data + 4, size - 4, data[0] & 2, data[0] & 16, &img);
    at = len ? (size_t)lsl_get_le(data + 1, 2) % len : 0;
    if ((data[0] & 4) && len)
        img[at] ^= data[3] ? data[3] : 1;
    if (data[0] & 8)
        len = at;
    write_file(img, len);
    FZ_CHECK(lsl_vault_index_open(&ix) == 0);
    rc = lsl_vault_read_file(vault_path, officer, on_record, ix, &info);
    FZ_CHECK(rc == 0 || rc == LSL_EAUTH || rc == LSL_ETRUNC ||
             rc == LSL_EFORMAT || rc == LSL_EVERSION || rc == LSL_ECORRUPT ||
             rc == LSL_EFORGED);
    FZ_CHECK(rc != 0 || (info.complete && info.error == 0));
    FZ_CHECK(rc == 0 || rc == info.error);
    lsl_vault_index_free(ix);
    free(img);
    return 0;
}
