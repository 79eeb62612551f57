/*
 * A data subject for disclose, erase and hold: the value as the officer
 * typed it, normalized per class exactly as the tokenizer normalizes what
 * it hashes (lsl_token_normalize), and matched against the originals in
 * the vault. Only the officer key is needed: the subject's tokens are
 * found by their original value, never recomputed with the hash key.
 * The normalized copies are originals: kept in sodium_malloc memory.
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include "logseal/log.h"
#include "subject_internal.h"

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
    s->norm = sodium_allocarray(LSL_CLASS_COUNT, s->cap);
    if (!s->norm)
        return -ENOMEM;
    for (unsigned c = 0; c < LSL_CLASS_COUNT; c++) {
        long n;

        s->want[c] = !cls || c == (unsigned)only;
        n = lsl_token_normalize((enum lsl_class)c, value, vlen,
                                s->norm + c * s->cap, s->cap);
        if (n < 0)
            return (int)n;
        s->len[c] = (size_t)n;
    }
    return 0;
}

struct lsl_span lsl_subject_value(const struct lsl_subject *s, enum lsl_class c)
{
    return (struct lsl_span){s->norm + c * s->cap, s->len[c]};
}

bool lsl_subject_matches(const struct lsl_subject *s,
                         const struct lsl_vault_record *r)
{
    unsigned c = r->tok.cls;

    return r->type == LSL_VAULT_REC_MAP && c < LSL_CLASS_COUNT && s->want[c] &&
           r->value.len == s->len[c] &&
           sodium_memcmp(r->value.p, s->norm + c * s->cap, s->len[c]) == 0;
}

static int on_record(const struct lsl_vault_record *r, void *ud)
{
    struct lsl_subject *s = ud;

    if (!lsl_subject_matches(s, r))
        return 0;
    s->in_file = true;
    return lsl_tokset_add(&s->toks, &r->tok);
}

int lsl_subject_find(struct lsl_subject *s, struct lsl_cli_session *ss)
{
    return lsl_cli_session_read(ss, on_record, s);
}

void lsl_subject_free(struct lsl_subject *s)
{
    sodium_free(s->norm);
    lsl_tokset_free(&s->toks);
    memset(s, 0, sizeof(*s));
}
