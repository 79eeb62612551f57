/*
 * JSON-lines rules: a strict, allocation-free scanner over one line that
 * must hold exactly one JSON object (RFC 8259 grammar: no comments, no
 * trailing commas, no control bytes or bad escapes in strings, nesting at
 * most JSON_DEPTH_MAX deep). While scanning, every value is planned in
 * place, by the `key` line of its dotted path ("a.b" for {"a":{"b":..}};
 * elements of an array share the array's path):
 *
 *  - a string's span covers its contents, never the quotes, so replacing
 *    it keeps the line valid JSON with its key order; contents with
 *    escapes are tokenized on their raw bytes (not decoded), and scrubbed
 *    piece by piece between escapes so no span splits one;
 *  - a number's span covers the number and carries LSL_SPAN_F_QUOTE: the
 *    token is written as a JSON string;
 *  - a key the rule names nested in an object it does not name is planned
 *    by that key's line when it tokenizes or drops ({"reply_to":
 *    {"user_id":..}}, {"user":{"id":..}}: see nested_field);
 *  - values of keys without a `key` line follow the rule's `unnamed`
 *    choice. scrub (default): a value under a name the rule lists as a
 *    `param` takes its class ("userId", "deviceId", compared as query
 *    names are), a string under a name that looks like a
 *    secret (holding key, token, secret, session, cookie, authorization,
 *    password: X-Api-Key, Set-Cookie, session_id) is tokenized whole as
 *    a secret, any other string read as free text with the rule's param
 *    pairs (a Cookie header's session=...), numbers, true, false and
 *    null kept: the rule cannot know every key a writer may add. drop:
 *    every such value (numbers too) becomes "-". keep: left as it is.
 *
 * A line that is not one valid object, or lacks a `require`d key, is
 * planned by the scrubber alone with matched false.
 */
#include <string.h>
#include "rules_internal.h"

#define JSON_DEPTH_MAX 32
#define JSON_PATH_MAX  256

struct jscan {
    const struct lsl_rule *r;
    struct lsl_matcher *m;
    const char *s;
    size_t len, pos;
    char path[JSON_PATH_MAX];
    size_t plen;
    bool path_ok;    /* false while the path does not fit */
    unsigned arrays; /* arrays the scan is inside */
    uint32_t seen;   /* bit i: r->require[i] found */
    int rc;          /* -ENOMEM stops the scan */
};

enum jkind { J_STRING, J_NUMBER };

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct jscan *js)
{
    while (js->pos < js->len && is_ws(js->s[js->pos]))
        js->pos++;
}

static bool eat(struct jscan *js, char c)
{
    skip_ws(js);
    if (js->pos >= js->len || js->s[js->pos] != c)
        return false;
    js->pos++;
    return true;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

#define SWAR_ONES  0x0101010101010101ULL
#define SWAR_HIGHS 0x8080808080808080ULL

/* Nonzero if a byte of w is below n (n <= 0x80), or equal to c: exact as
 * truth values (the "haszero" and "hasless" word tricks). */
static uint64_t swar_below(uint64_t w, unsigned n)
{
    return (w - SWAR_ONES * n) & ~w & SWAR_HIGHS;
}

static uint64_t swar_has(uint64_t w, unsigned char c)
{
    return swar_below(w ^ (SWAR_ONES * c), 1);
}

static inline size_t plain_run(const char *s, size_t len)
{
    size_t i = 0;

    for (; len - i >= 8; i += 8) {
        uint64_t w;

        memcpy(&w, s + i, 8);
        if (swar_has(w, '"') | swar_has(w, '\\') | swar_below(w, 0x20))
            break;
    }
    return i;
}

size_t lsl_json_plain(const char *s, size_t len)
{
    return plain_run(s, len);
}

static bool plain(char c)
{
    return c != '"' && c != '\\' && (unsigned char)c >= 0x20;
}

/* At '"': contents [*off, *off + *n), *esc if it holds escapes. A string's
 * bytes are skipped eight at a time up to the first that is not plain. */
static bool scan_string(struct jscan *js, size_t *off, size_t *n, bool *esc)
{
    const char *s = js->s;
    size_t i = js->pos + 1;

    *esc = false;
    *off = i;
    for (;; i++) {
        i += plain_run(s + i, js->len - i);
        while (i < js->len && plain(s[i]))
            i++;
        if (i >= js->len || s[i] == '"')
            break;
        if ((unsigned char)s[i] < 0x20)
            return false;
        *esc = true;
        if (++i >= js->len)
            return false;
        if (s[i] == 'u') {
            if (js->len - i < 5 || !is_hex(s[i + 1]) || !is_hex(s[i + 2]) ||
                !is_hex(s[i + 3]) || !is_hex(s[i + 4]))
                return false;
            i += 4;
        } else if (s[i] == '\0' || !strchr("\"\\/bfnrt", s[i])) {
            return false;
        }
    }
    if (i >= js->len)
        return false;
    *n = i - *off;
    js->pos = i + 1;
    return true;
}

static size_t digits(const struct jscan *js, size_t i)
{
    while (i < js->len && is_digit(js->s[i]))
        i++;
    return i;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool scan_number(struct jscan *js)
{
    const char *s = js->s;
    size_t i = js->pos, k;

    if (i < js->len && s[i] == '-')
        i++;
    if (i >= js->len || !is_digit(s[i]))
        return false;
    i = s[i] == '0' ? i + 1 : digits(js, i);
    if (i < js->len && s[i] == '.') {
        k = digits(js, i + 1);
        if (k == i + 1)
            return false;
        i = k;
    }
    if (i < js->len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < js->len && (s[i] == '+' || s[i] == '-'))
            i++;
        k = digits(js, i);
        if (k == i)
            return false;
        i = k;
    }
    js->pos = i;
    return true;
}

static bool scan_literal(struct jscan *js)
{
    static const char *const lits[] = {"true", "false", "null"};

    for (size_t i = 0; i < LSL_ARRAY_SIZE(lits); i++) {
        size_t n = strlen(lits[i]);

        if (js->len - js->pos >= n &&
            memcmp(js->s + js->pos, lits[i], n) == 0) {
            js->pos += n;
            return true;
        }
    }
    return false;
}

static bool path_is(const struct jscan *js, const char *name)
{
    return name && js->path_ok && strlen(name) == js->plen &&
           memcmp(name, js->path, js->plen) == 0;
}

/* The static name (and type) a value of the current path is reported as. */
static const char *field_name(const struct jscan *js,
                              const struct rule_field *f, uint8_t *type)
{
    const struct lsl_rule *r = js->r;

    if (path_is(js, r->time_group)) {
        *type = LSL_FIELD_TIME;
        return r->time_group;
    }
    for (size_t i = 0; i < r->ntypes; i++) {
        if (path_is(js, r->types[i].group)) {
            *type = r->types[i].type;
            return r->types[i].group;
        }
    }
    return f ? f->group : NULL;
}

/* A number whose key tokenizes (an ip key takes whatever it holds, even
 * 3232235521), or an IMEI or a card number as the number of a key the
 * rule does not name. */
static int plan_number(const struct rule_field *f, struct lsl_plan *p,
                       const char *s, size_t off, size_t len)
{
    struct lsl_hit h;
    bool ip = f && (f->action == RULE_ACT_IP || f->action == RULE_ACT_IPLIST);
    int rc;

    if (!f &&
        (lsl_card_at(s, off, off + len, off, &h) ||
         lsl_imei_at(s, off, off + len, off, &h)) &&
        h.end[0] == off + len)
        return lsl_plan_push(p, off, len, LSL_ACT_TOKEN, h.cls[0],
                             LSL_SPAN_F_QUOTE);
    if (!f ||
        (!ip && f->action != RULE_ACT_TOKEN && f->action != RULE_ACT_DROP))
        return 0;
    rc = lsl_plan_push(
        p, off, len, f->action == RULE_ACT_DROP ? LSL_ACT_DROP : LSL_ACT_TOKEN,
        f->cls, LSL_SPAN_F_QUOTE);
    if (rc == 0 && ip) {
        p->spans[p->count - 1].mode = f->mode;
        p->spans[p->count - 1].bits4 = f->bits4;
        p->spans[p->count - 1].bits6 = f->bits6;
    }
    return rc;
}

/* name[0..n), lower-cased, holds one of words[0..count). */
static bool holds_word(const char *name, size_t n, const char *const *words,
                       size_t count)
{
    char low[64];

    if (n >= sizeof(low))
        n = sizeof(low) - 1;
    for (size_t i = 0; i < n; i++)
        low[i] =
            (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    low[n] = '\0';
    for (size_t i = 0; i < count; i++)
        if (strstr(low, words[i]))
            return true;
    return false;
}

bool lsl_secret_name(const char *name, size_t n)
{
    static const char *const words[] = {"key",     "token",     "secret",
                                        "session", "cookie",    "authorization",
                                        "passw",   "credential"};

    return holds_word(name, n, words, LSL_ARRAY_SIZE(words));
}

/* The lower-case word w at name[i] (ASCII case folded). */
static bool word_at(const char *name, size_t n, size_t i, const char *w)
{
    size_t k = 0;

    while (w[k] && i + k < n && (name[i + k] | 0x20) == w[k])
        k++;
    return w[k] == '\0';
}

/* lsl_secret_name's words that no other name holds (not key, session,
 * cookie or authorization: keyword, author): looked for at their first
 * letter, as this runs for every query name no line lists. */
bool lsl_secret_word(const char *name, size_t n)
{
    for (size_t i = 0; i + 5 <= n; i++) {
        const char *w;

        switch (name[i] | 0x20) {
        case 't':
            w = "token";
            break;
        case 's':
            w = "secret";
            break;
        case 'p':
            w = "passw";
            break;
        case 'c':
            w = "credential";
            break;
        default:
            continue;
        }
        if (word_at(name, n, i, w))
            return true;
    }
    return false;
}

/* The last part of the current path ("b" of "a.b") as [*k, *k + *n). */
static bool last_part(const struct jscan *js, const char **k, size_t *n)
{
    const char *dot;

    if (!js->path_ok)
        return false;
    dot = memrchr(js->path, '.', js->plen);
    *k = dot ? dot + 1 : js->path;
    *n = js->plen - (size_t)(*k - js->path);
    return true;
}

/* The last part of the current path holds a secret's name. */
static bool secret_name(const struct jscan *js)
{
    const char *k;
    size_t n;

    return last_part(js, &k, &n) && lsl_secret_name(k, n);
}

/* The class of a listed param named as the last part of the current path
 * (compared as query names are: "userId" is userid), or -1. */
static int param_class(const struct jscan *js)
{
    const struct rule_param *prm;
    const char *k;
    size_t n;

    if (!last_part(js, &k, &n) || !(prm = lsl_query_param(js->r, k, n)))
        return -1;
    return prm->cls;
}

/*
 * A key the rule names, nested in an object it does not name: by the
 * path's last part ("reply_to.user_id" is user_id), else by its last two
 * parts joined with '_' ("user.id" is user_id). Only a field that
 * tokenizes or drops is taken so (a nested "status" stays free text), and
 * only for its action: the value is not reported as that field.
 */
static const struct rule_field *nested_field(const struct jscan *js)
{
    const char *last, *prev, *dot;
    const struct rule_field *f;
    char joined[JSON_PATH_MAX];
    size_t n1, n2;

    if (!js->path_ok || !(dot = memrchr(js->path, '.', js->plen)))
        return NULL;
    last = dot + 1;
    n1 = js->plen - (size_t)(last - js->path);
    f = lsl_rule_field_find(js->r, last, n1);
    if (!f) {
        prev = memrchr(js->path, '.', (size_t)(dot - js->path));
        prev = prev ? prev + 1 : js->path;
        n2 = (size_t)(dot - prev);
        memcpy(joined, prev, n2);
        joined[n2] = '_';
        memcpy(joined + n2 + 1, last, n1);
        f = lsl_rule_field_find(js->r, joined, n2 + 1 + n1);
    }
    return f && lsl_field_strength(f) > 0 ? f : NULL;
}

/* A value of a key the rule does not name (see the file comment). */
static int plan_unnamed(struct jscan *js, enum jkind kind, size_t off,
                        size_t len, bool esc)
{
    const struct lsl_rule *r = js->r;
    struct lsl_plan *p = &js->m->plan;
    int cls;

    if (r->unnamed == UNNAMED_KEEP)
        return 0;
    if (r->unnamed == UNNAMED_DROP)
        return lsl_plan_push(p, off, len, LSL_ACT_DROP, 0,
                             kind == J_NUMBER ? LSL_SPAN_F_QUOTE : 0);
    if (len > 0 && !(len == 1 && js->s[off] == '-') &&
        (kind != J_NUMBER || is_digit(js->s[off]) || js->s[off] == '-') &&
        (cls = param_class(js)) >= 0)
        return lsl_plan_push(p, off, len, LSL_ACT_TOKEN, (uint8_t)cls,
                             kind == J_NUMBER ? LSL_SPAN_F_QUOTE
                             : esc            ? LSL_SPAN_F_JSON
                                              : 0);
    if (kind == J_NUMBER)
        return plan_number(NULL, p, js->s, off, len);
    if (len > 0 && !(len == 1 && js->s[off] == '-') && secret_name(js))
        return lsl_plan_push(p, off, len, LSL_ACT_TOKEN, LSL_CLASS_SECRET,
                             esc ? LSL_SPAN_F_JSON : 0);
    if (esc)
        return lsl_text_escaped(r, p, LSL_SPAN_F_JSON, js->s, off, len,
                                LSL_SCRUB_PHONES);
    return lsl_text_range(r, p, js->s, off, len, LSL_SCRUB_PHONES);
}

static void on_value(struct jscan *js, enum jkind kind, size_t off, size_t len,
                     bool esc)
{
    const struct lsl_rule *r = js->r;
    struct lsl_plan *p = &js->m->plan;
    const struct rule_field *named =
        js->path_ok ? lsl_rule_field_find(r, js->path, js->plen) : NULL;
    const struct rule_field *f = named ? named : nested_field(js);
    uint8_t type = kind == J_NUMBER ? LSL_FIELD_NUMBER : LSL_FIELD_STRING;
    const char *name = field_name(js, named, &type);

    if (js->rc)
        return;
    if (!f && path_is(js, r->time_group))
        js->rc = kind == J_NUMBER ? 0
                 : esc            ? lsl_scrub_escaped(p, js->s, off, len, 0)
                                  : lsl_scrub(p, js->s, off, len, 0);
    else if (!f)
        js->rc = plan_unnamed(js, kind, off, len, esc);
    else if (kind == J_NUMBER)
        js->rc = plan_number(f, p, js->s, off, len);
    else if (f)
        js->rc = lsl_plan_field(r, f, js->m, js->s, off, len, esc);
    if (path_is(js, r->time_group)) {
        p->time.p = js->s + off;
        p->time.len = len;
    }
    if (js->rc == 0 && name && js->m->want_fields) {
        js->rc = lsl_plan_field_push(p, name, off, len, type);
        if (js->rc == 0) {
            p->fields[p->nfields - 1].escaped = kind != J_NUMBER;
            p->fields[p->nfields - 1].array = js->arrays > 0;
            lsl_plan_field_canon(p, lsl_rule_canon_of(r, name, strlen(name)),
                                 path_is(js, r->time_group));
        }
    }
}

static bool scan_value(struct jscan *js, unsigned depth);

/* Enter key s[off..off+n) below the current path; returns the old length. */
static size_t path_push(struct jscan *js, size_t off, size_t n)
{
    size_t old = js->plen, need = old + (old ? 1 : 0) + n;

    if (!js->path_ok || need >= sizeof(js->path)) {
        js->path_ok = false;
        return old;
    }
    if (old)
        js->path[js->plen++] = '.';
    memcpy(js->path + js->plen, js->s + off, n);
    js->plen = need;
    for (size_t i = 0; i < js->r->nrequire; i++)
        if (path_is(js, js->r->require[i]))
            js->seen |= 1u << i;
    return old;
}

static bool scan_member(struct jscan *js, unsigned depth)
{
    size_t off, n, old;
    bool esc, ok, was_ok = js->path_ok;

    skip_ws(js);
    if (js->pos >= js->len || js->s[js->pos] != '"')
        return false;
    if (!scan_string(js, &off, &n, &esc) || !eat(js, ':'))
        return false;
    old = path_push(js, off, n);
    ok = scan_value(js, depth);
    js->plen = old;
    js->path_ok = was_ok;
    return ok;
}

static bool scan_object(struct jscan *js, unsigned depth)
{
    js->pos++;
    if (eat(js, '}'))
        return true;
    do {
        if (!scan_member(js, depth))
            return false;
    } while (eat(js, ','));
    return eat(js, '}');
}

static bool scan_array(struct jscan *js, unsigned depth)
{
    bool ok = true;

    js->pos++;
    if (eat(js, ']'))
        return true;
    js->arrays++;
    do {
        if (!scan_value(js, depth)) {
            ok = false;
            break;
        }
    } while (eat(js, ','));
    js->arrays--;
    return ok && eat(js, ']');
}

static bool scan_value(struct jscan *js, unsigned depth)
{
    size_t off, n;
    bool esc;

    skip_ws(js);
    if (js->pos >= js->len || js->rc || depth >= JSON_DEPTH_MAX)
        return false;
    switch (js->s[js->pos]) {
    case '{':
        return scan_object(js, depth + 1);
    case '[':
        return scan_array(js, depth + 1);
    case '"':
        if (!scan_string(js, &off, &n, &esc))
            return false;
        on_value(js, J_STRING, off, n, esc);
        return true;
    default:
        off = js->pos;
        if (scan_number(js)) {
            on_value(js, J_NUMBER, off, js->pos - off, false);
            return true;
        }
        return scan_literal(js);
    }
}

int lsl_json_plan(const struct lsl_rule *r, struct lsl_matcher *m,
                  const char *line, size_t len)
{
    struct jscan js = {.r = r, .m = m, .s = line, .len = len, .path_ok = true};
    struct lsl_plan *p = &m->plan;
    uint32_t all = (uint32_t)((1ull << r->nrequire) - 1);
    bool ok;

    skip_ws(&js);
    ok = js.pos < len && line[js.pos] == '{' && scan_value(&js, 0);
    if (js.rc)
        return js.rc;
    skip_ws(&js);
    if (ok && js.pos == len && (js.seen & all) == all) {
        p->matched = true;
        return 0;
    }
    lsl_plan_reset(p);
    return lsl_fallback_plan(r, m, line, len);
}
