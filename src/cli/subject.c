/*
 * A data subject for disclose, erase and hold: the value as the officer
 * typed it, normalized per class exactly as the tokenizer normalizes what
 * it hashes (lsl_token_normalize), and matched against the originals in
 * the vault. Only the officer key is needed: the subject's tokens are
 * found by their original value, never recomputed with the hash key;
 * through the sealed index, the files' own verification keys say which
 * tokens to look up, and the records found are still matched by value.
 * A phone number is also looked for as written: tokens made before numbers
 * were read as their digits hashed that spelling, and a number the vault
 * holds so matches by its digits.
 * The normalized copies are originals: kept in sodium_malloc memory.
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include "logseal/log.h"
#include "subject_internal.h"

/* Longest phone number as written that is read as its digits when the
 * vault holds it so (numbers are short; longer values are compared as
 * they are). */
#define PHONE_WRITTEN_MAX 64

int lsl_subject_init(struct lsl_subject *s, const char *value, const char *cls)
{
    size_t vlen = strlen(value);
    enum lsl_class only = LSL_CLASS_COUNT;

    memset(s, 0, sizeof(*s));
    if (cls && lsl_class_parse(cls, strlen(cls), &only) != 0) {
        lsl_log_error("unknown class '%s' (ip, id, user, email, secret, "
                      "phone, name)",
                      cls);
        return LSL_EUSAGE;
    }
    s->cap = vlen + LSL_NORM_SLACK;
    s->norm = sodium_allocarray(LSL_CLASS_COUNT + 1, s->cap);
    if (!s->norm)
        return -ENOMEM;
    for (unsigned c = 0; c <= LSL_CLASS_COUNT; c++) {
        char *out = s->norm + c * s->cap;
        long n;

        if (c == LSL_SUBJECT_WRITTEN)
            n = lsl_token_normalize_legacy(LSL_CLASS_PHONE, value, vlen, out,
                                           s->cap);
        else
            n = lsl_token_normalize((enum lsl_class)c, value, vlen, out,
                                    s->cap);
        if (n < 0)
            return (int)n;
        s->len[c] = (size_t)n;
        if (c < LSL_CLASS_COUNT)
            s->want[c] = !cls || c == (unsigned)only;
    }
    return 0;
}

struct lsl_span lsl_subject_value(const struct lsl_subject *s, enum lsl_class c)
{
    return (struct lsl_span){s->norm + c * s->cap, s->len[c]};
}

bool lsl_subject_written(const struct lsl_subject *s, struct lsl_span *v)
{
    struct lsl_span d = lsl_subject_value(s, LSL_CLASS_PHONE);

    *v = (struct lsl_span){s->norm + LSL_SUBJECT_WRITTEN * s->cap,
                           s->len[LSL_SUBJECT_WRITTEN]};
    return s->want[LSL_CLASS_PHONE] &&
           (v->len != d.len || memcmp(v->p, d.p, d.len) != 0);
}

static bool same(struct lsl_span a, struct lsl_span b)
{
    return a.len == b.len && sodium_memcmp(a.p, b.p, a.len) == 0;
}

/* A phone number sealed as written (before numbers were read as their
 * digits) is the subject's if its digits are. */
static bool same_phone(const struct lsl_subject *s, struct lsl_span v)
{
    char buf[PHONE_WRITTEN_MAX + LSL_NORM_SLACK];
    long n = -1;
    bool eq;

    if (v.len <= PHONE_WRITTEN_MAX)
        n = lsl_token_normalize(LSL_CLASS_PHONE, v.p, v.len, buf, sizeof(buf));
    eq = n >= 0 && same((struct lsl_span){buf, (size_t)n},
                        lsl_subject_value(s, LSL_CLASS_PHONE));
    sodium_memzero(buf, sizeof(buf));
    return eq;
}

bool lsl_subject_matches(const struct lsl_subject *s,
                         const struct lsl_vault_record *r)
{
    unsigned c = r->tok.cls;

    if (r->type != LSL_VAULT_REC_MAP || c >= LSL_CLASS_COUNT || !s->want[c])
        return false;
    if (same(r->value, lsl_subject_value(s, (enum lsl_class)c)))
        return true;
    return c == LSL_CLASS_PHONE && same_phone(s, r->value);
}

static int on_record(const struct lsl_vault_record *r, void *ud)
{
    struct lsl_subject *s = ud;

    if (!lsl_subject_matches(s, r))
        return 0;
    s->in_file = true;
    return lsl_tokset_add(&s->toks, &r->tok);
}

/* The tokens a verification key makes of the value, per wanted class. */
static int derive(const uint8_t *vk, uint16_t kid, struct lsl_tokset *out,
                  void *ud)
{
    const struct lsl_subject *s = ud;
    struct lsl_span w;
    struct lsl_token t;
    int rc = 0;

    for (unsigned c = 0; rc == 0 && c < LSL_CLASS_COUNT; c++) {
        struct lsl_span v = lsl_subject_value(s, (enum lsl_class)c);

        if (!s->want[c])
            continue;
        rc = lsl_token_derive_vkey(vk, kid, (enum lsl_class)c, v.p, v.len, &t);
        if (rc == 0)
            rc = lsl_tokset_add(out, &t);
        /* An address may also be in the vault by its prefix-mode key. */
        if (rc == 0 && c == LSL_CLASS_IP &&
            lsl_token_lookup_vkey(vk, kid, v.p, v.len, &t) == 0)
            rc = lsl_tokset_add(out, &t);
    }
    if (rc == 0 && lsl_subject_written(s, &w)) {
        rc = lsl_token_derive_vkey(vk, kid, LSL_CLASS_PHONE, w.p, w.len, &t);
        if (rc == 0)
            rc = lsl_tokset_add(out, &t);
    }
    sodium_memzero(&t, sizeof(t));
    return rc;
}

int lsl_subject_find(struct lsl_subject *s, struct lsl_cli_session *ss)
{
    struct lsl_cli_want want = {.derive = derive, .ud = s};

    return lsl_cli_session_find(ss, &want, on_record, s);
}

void lsl_subject_free(struct lsl_subject *s)
{
    sodium_free(s->norm);
    lsl_tokset_free(&s->toks);
    memset(s, 0, sizeof(*s));
}
