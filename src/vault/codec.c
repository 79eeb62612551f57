/*
 * Vault byte formats: the plaintext header fields and the record encoding
 * (layout in vault.h), and digests that compare sealed secrets.
 *
 * Invariants: the decoder never reads outside its input and accepts only
 * records the writer can produce, so a reader never hands out garbage from
 * an authenticated but malformed chunk.
 */
#include <stdlib.h>
#include "logseal/file.h"
#include "vault_internal.h"

void lsl_vault_hdr_encode(const struct lsl_vault_hdr *h,
                          uint8_t out[LSL_VAULT_AD_BYTES])
{
    uint8_t *p = out;

    memcpy(p, LSL_VAULT_MAGIC, LSL_VAULT_MAGIC_BYTES);
    p += LSL_VAULT_MAGIC_BYTES;
    *p++ = LSL_VAULT_VERSION;
    *p++ = h->flags;
    *p++ = 0; /* reserved */
    *p++ = h->epoch_len;
    lsl_put_le(p, h->epoch, 4);
    p += 4;
    lsl_put_le(p, (uint64_t)h->created, 8);
    p += 8;
    memcpy(p, h->link.id, LSL_VAULT_ID_BYTES);
    p += LSL_VAULT_ID_BYTES;
    memcpy(p, h->link.writer, LSL_VAULT_ID_BYTES);
    p += LSL_VAULT_ID_BYTES;
    lsl_put_le(p, h->link.seq, 8);
    p += 8;
    memcpy(p, h->link.prev, LSL_VAULT_ID_BYTES);
    p += LSL_VAULT_ID_BYTES;
    lsl_put_le(p, h->audit_seq, 8);
}

int lsl_vault_hdr_decode(const uint8_t in[LSL_VAULT_AD_BYTES],
                         struct lsl_vault_hdr *h)
{
    const uint8_t *p = in + LSL_VAULT_MAGIC_BYTES;

    if (memcmp(in, LSL_VAULT_MAGIC, LSL_VAULT_MAGIC_BYTES) != 0)
        return LSL_EFORMAT;
    h->version = p[0];
    if (p[0] != LSL_VAULT_VERSION)
        return LSL_EVERSION;
    if ((p[1] & ~LSL_VAULT_F_REWRITTEN) || p[2] || p[3] > LSL_EPOCH_MONTH)
        return LSL_EFORMAT;
    h->flags = p[1];
    h->epoch_len = p[3];
    p += 4;
    h->epoch = (uint32_t)lsl_get_le(p, 4);
    p += 4;
    h->created = (int64_t)lsl_get_le(p, 8);
    p += 8;
    memcpy(h->link.id, p, LSL_VAULT_ID_BYTES);
    p += LSL_VAULT_ID_BYTES;
    memcpy(h->link.writer, p, LSL_VAULT_ID_BYTES);
    p += LSL_VAULT_ID_BYTES;
    h->link.seq = lsl_get_le(p, 8);
    p += 8;
    memcpy(h->link.prev, p, LSL_VAULT_ID_BYTES);
    p += LSL_VAULT_ID_BYTES;
    h->audit_seq = lsl_get_le(p, 8);
    return 0;
}

void lsl_vault_digest(const uint8_t *p, size_t len,
                      uint8_t out[LSL_VAULT_DIGEST_BYTES])
{
    crypto_generichash(out, LSL_VAULT_DIGEST_BYTES, p, len, NULL, 0);
}

bool lsl_vault_name_epoch(const char *path, uint32_t *epoch)
{
    const char *name = strrchr(path, '/');
    uint64_t v = 0;
    size_t n = 0;

    name = name ? name + 1 : path;
    for (; name[n] >= '0' && name[n] <= '9' && n < 10; n++)
        v = v * 10 + (uint64_t)(name[n] - '0');
    if (n == 0 || name[n] != '-' || v > UINT32_MAX)
        return false;
    *epoch = (uint32_t)v;
    return true;
}

bool lsl_vault_name_host(const char *path, char *out, size_t cap)
{
    /* <epoch>-<host>-<YYYYmmddTHHMMSSZ>-<8 hex>.lsv: the host is what lies
     * between the epoch and the fixed-length tail. */
    static const size_t tail = 1 + 16 + 1 + 8 + sizeof(LSL_VAULT_SUFFIX) - 1;
    const char *name = strrchr(path, '/'), *dash;
    size_t len;
    uint32_t epoch;

    name = name ? name + 1 : path;
    dash = strchr(name, '-');
    len = strlen(name);
    if (!lsl_vault_name_epoch(name, &epoch) || !dash ||
        len <= (size_t)(dash + 1 - name) + tail)
        return false;
    len -= (size_t)(dash + 1 - name) + tail;
    if (len == 0 || len >= cap || dash[1 + len] != '-')
        return false;
    memcpy(out, dash + 1, len);
    out[len] = '\0';
    return lsl_host_valid(out);
}

void lsl_vault_rec_put(struct lsl_buf *b, const struct lsl_vault_record *r)
{
    uint8_t *p = (uint8_t *)b->p + b->len;

    *p++ = (uint8_t)r->type;
    *p++ = r->tok.cls;
    lsl_put_le(p, r->tok.kid, 2);
    p += 2;
    memcpy(p, r->tok.hash, LSL_TOKEN_HASH_BYTES);
    p += LSL_TOKEN_HASH_BYTES;
    lsl_put_le(p, (uint64_t)r->first_seen, 8);
    p += 8;
    lsl_put_le(p, (uint64_t)r->last_seen, 8);
    p += 8;
    lsl_put_le(p, r->source.len, 2);
    p += 2;
    if (r->source.len)
        memcpy(p, r->source.p, r->source.len);
    p += r->source.len;
    lsl_put_le(p, r->value.len, 4);
    p += 4;
    if (r->value.len)
        memcpy(p, r->value.p, r->value.len);
    b->len += lsl_vault_rec_size(r);
}

static int check_rec(const struct lsl_vault_record *r)
{
    if (r->type != LSL_VAULT_REC_MAP && r->type != LSL_VAULT_REC_SEEN)
        return LSL_ECORRUPT;
    if (r->tok.cls >= LSL_CLASS_COUNT || r->tok.kid > LSL_VAULT_KID_MAX)
        return LSL_ECORRUPT;
    if (r->first_seen > r->last_seen)
        return LSL_ECORRUPT;
    if (r->type == LSL_VAULT_REC_SEEN && r->value.len)
        return LSL_ECORRUPT;
    if (r->value.len > LSL_VAULT_VALUE_MAX)
        return LSL_ECORRUPT;
    return 0;
}

int lsl_vault_rec_get(const uint8_t *p, size_t len, size_t *used,
                      struct lsl_vault_record *r)
{
    const uint8_t *q = p;
    size_t vlen;

    if (len < LSL_VAULT_REC_FIXED)
        return LSL_ECORRUPT;
    memset(r, 0, sizeof(*r));
    r->type = (enum lsl_vault_rec_type)q[0];
    r->tok.cls = q[1];
    r->tok.kid = (uint16_t)lsl_get_le(q + 2, 2);
    q += 4;
    memcpy(r->tok.hash, q, LSL_TOKEN_HASH_BYTES);
    q += LSL_TOKEN_HASH_BYTES;
    r->first_seen = (int64_t)lsl_get_le(q, 8);
    r->last_seen = (int64_t)lsl_get_le(q + 8, 8);
    q += 16;
    r->source.len = (size_t)lsl_get_le(q, 2);
    q += 2;
    /* Only the fixed part is known to be in range: check before each read. */
    if (r->source.len > len - LSL_VAULT_REC_FIXED)
        return LSL_ECORRUPT;
    r->source.p = (const char *)q;
    q += r->source.len;
    vlen = (size_t)lsl_get_le(q, 4);
    q += 4;
    if (vlen > len - LSL_VAULT_REC_FIXED - r->source.len)
        return LSL_ECORRUPT;
    r->value.p = (const char *)q;
    r->value.len = vlen;
    *used = LSL_VAULT_REC_FIXED + r->source.len + vlen;
    return check_rec(r);
}
