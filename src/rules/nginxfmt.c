/*
 * `format nginx`: a rule that reads lines by the nginx log_format that
 * wrote them, without a regular expression. The template is literal text
 * with $variables (or ${variables}) between; variable k is group k + 1,
 * named after the variable, so field, type, time and disclosure lines
 * bind to it exactly as to a named group of a pattern.
 *
 * A line matches when the literals appear in order and every value fits
 * its variable. A value runs to the first occurrence of the literal after
 * it from which the rest of the line still matches (a lazy match, tried
 * occurrence by occurrence within a step budget). What fits:
 *   - between '"' and '"', no '"' (nginx writes it as \x22 inside a value,
 *     so a quoted value never holds its closing quote);
 *   - variables of a known shape ($time_local, $status, byte counts,
 *     ports, $msec, ...) only that shape, which is what keeps a hostile
 *     $remote_user such as "a [b" from shifting the time field;
 *   - $remote_addr and $server_addr no blank;
 *   - a variable the rule types `number` (and no shape above), digits
 *     with at most one '.', or "-" (Apache's %b for no bytes);
 *   - anything else, any bytes.
 * Two variables with no literal between them cannot be told apart and
 * are refused when the rule loads. `trailing NAME` lets a line go on
 * after the format: a blank, then any text, as the group NAME (sites
 * append their own fields to a stock format). The walk is a few memchr
 * calls per line, where the equivalent PCRE2 pattern steps through every
 * byte.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "rules_internal.h"

/* Attempts per line before the line is given to the scrubber. */
#define NFMT_BUDGET   256
#define NFMT_VARS_MAX 128

enum nfmt_shape {
    SHAPE_ANY = 0,
    SHAPE_NOBLANK,
    SHAPE_NOQUOTE,
    SHAPE_DIGITS,
    SHAPE_STATUS,
    SHAPE_DECIMAL,
    SHAPE_TIME_LOCAL,
    SHAPE_NUMBER, /* digits, one '.' at most, or "-" */
};

struct nfmt_item {
    uint32_t off, len; /* literal: bytes of r->log_format; var: its name */
    uint32_t group;    /* 0: literal */
    uint8_t shape;     /* enum nfmt_shape */
    bool lazy;         /* the value may end at more than one place: try each */
};

static const struct {
    const char *name;
    uint8_t shape;
} known_shapes[] = {
    {"time_local", SHAPE_TIME_LOCAL},      {"status", SHAPE_STATUS},
    {"body_bytes_sent", SHAPE_DIGITS},     {"bytes_sent", SHAPE_DIGITS},
    {"request_length", SHAPE_DIGITS},      {"remote_port", SHAPE_DIGITS},
    {"server_port", SHAPE_DIGITS},         {"connection", SHAPE_DIGITS},
    {"connection_requests", SHAPE_DIGITS}, {"msec", SHAPE_DECIMAL},
    {"request_time", SHAPE_DECIMAL},       {"remote_addr", SHAPE_NOBLANK},
    {"server_addr", SHAPE_NOBLANK},
};

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static uint8_t shape_of(const char *name, size_t len)
{
    for (size_t i = 0; i < LSL_ARRAY_SIZE(known_shapes); i++)
        if (strlen(known_shapes[i].name) == len &&
            memcmp(known_shapes[i].name, name, len) == 0)
            return known_shapes[i].shape;
    return SHAPE_ANY;
}

static bool digits_at(const char *v, const uint8_t *at, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(v[at[i]]))
            return false;
    return true;
}

/* dd/Mon/yyyy:hh:mm:ss +zzzz */
static bool fit_time_local(const char *v, size_t n)
{
    static const uint8_t digits[] = {0,  1,  7,  8,  9,  10, 12, 13,
                                     15, 16, 18, 19, 22, 23, 24, 25};

    if (n != 26 || v[2] != '/' || v[6] != '/' || v[11] != ':' || v[14] != ':' ||
        v[17] != ':' || v[20] != ' ' || (v[21] != '+' && v[21] != '-'))
        return false;
    for (size_t i = 3; i < 6; i++)
        if ((v[i] | 0x20) < 'a' || (v[i] | 0x20) > 'z')
            return false;
    return digits_at(v, digits, sizeof(digits));
}

/* digits '.' digits (the bytes are digits and dots already). */
static bool fit_decimal(const char *v, size_t n)
{
    const char *dot = memchr(v, '.', n);

    return dot && dot != v && dot != v + n - 1 &&
           !memchr(dot + 1, '.', n - (size_t)(dot - v) - 1);
}

/* Whether byte c may be part of a value of this shape. */
static bool shape_allows(uint8_t shape, char c)
{
    switch ((enum nfmt_shape)shape) {
    case SHAPE_NOBLANK:
        return c != ' ' && c != '\t';
    case SHAPE_NOQUOTE:
        return c != '"';
    case SHAPE_DIGITS:
    case SHAPE_STATUS:
        return is_digit(c);
    case SHAPE_DECIMAL:
        return is_digit(c) || c == '.';
    case SHAPE_NUMBER:
        return is_digit(c) || c == '.' || c == '-';
    case SHAPE_TIME_LOCAL:
        return false; /* fixed length: ends in one place */
    case SHAPE_ANY:
        break;
    }
    return true;
}

static bool same(const char *a, const char *b, size_t n)
{
    while (n && *a == *b)
        a++, b++, n--;
    return n == 0;
}

/*
 * End of the longest value of this shape at pos (a shape other than ANY
 * cannot hold the byte that ends it, so its value can end nowhere else).
 */
static inline size_t shape_end(uint8_t shape, const char *s, size_t pos,
                               size_t len)
{
    const char *hit;

    switch ((enum nfmt_shape)shape) {
    case SHAPE_NOQUOTE:
        hit = memchr(s + pos, '"', len - pos);
        return hit ? (size_t)(hit - s) : len;
    case SHAPE_NOBLANK:
        return lsl_find2(s, pos, len, ' ', '\t');
    case SHAPE_DIGITS:
    case SHAPE_STATUS:
        while (pos < len && is_digit(s[pos]))
            pos++;
        return pos;
    case SHAPE_DECIMAL:
        while (pos < len && (is_digit(s[pos]) || s[pos] == '.'))
            pos++;
        return pos;
    case SHAPE_NUMBER:
        if (pos < len && s[pos] == '-')
            return pos + 1;
        while (pos < len && (is_digit(s[pos]) || s[pos] == '.'))
            pos++;
        return pos;
    case SHAPE_TIME_LOCAL:
        return pos + 26 <= len ? pos + 26 : len;
    case SHAPE_ANY:
        break;
    }
    return len;
}

static inline bool fits(uint8_t shape, const char *v, size_t n)
{
    switch ((enum nfmt_shape)shape) {
    case SHAPE_DIGITS:
        return n > 0;
    case SHAPE_STATUS:
        return n == 3;
    case SHAPE_DECIMAL:
        return fit_decimal(v, n);
    case SHAPE_NUMBER:
        return (n == 1 && v[0] == '-') ||
               (n > 0 && v[0] != '-' &&
                (!memchr(v, '.', n) || fit_decimal(v, n)));
    case SHAPE_TIME_LOCAL:
        return fit_time_local(v, n);
    case SHAPE_NOBLANK:
    case SHAPE_NOQUOTE:
    case SHAPE_ANY:
        break;
    }
    return true;
}

struct walk {
    const struct lsl_rule *r;
    const char *line;
    size_t len;
    PCRE2_SIZE *ov;
    unsigned budget;
};

static bool walk_from(struct walk *w, size_t i, size_t pos);

/* After the whole format, a `trailing` group takes " any text". */
static bool trail(struct walk *w, size_t pos)
{
    uint32_t g = w->r->trailing_num;

    if (!g || w->line[pos] != ' ')
        return false;
    w->ov[2 * g] = pos + 1;
    w->ov[2 * g + 1] = w->len;
    return true;
}

/* A variable whose value may end at more than one place: at some
 * occurrence of the next literal's first byte inside the longest value
 * of its shape, tried in turn (lazily) until the rest of the line matches
 * or the budget runs out. */
static bool walk_lazy(struct walk *w, size_t i, size_t pos)
{
    const struct nfmt_item *v = &w->r->items[i];
    char c = w->r->log_format[v[1].off];
    size_t end = shape_end(v->shape, w->line, pos, w->len);

    for (size_t q = pos; q < end && w->budget > 0; q++, w->budget--) {
        const char *hit = memchr(w->line + q, c, end - q);

        if (!hit)
            return false;
        q = (size_t)(hit - w->line);
        if (fits(v->shape, w->line + pos, q - pos) && walk_from(w, i + 1, q)) {
            w->ov[2 * v->group] = pos;
            w->ov[2 * v->group + 1] = q;
            return true;
        }
    }
    return false;
}

/* Items i.. against line[pos..]. Offsets of a failed attempt may stay in
 * ov; the walk that succeeds writes every group it passes. */
static bool walk_from(struct walk *w, size_t i, size_t pos)
{
    const struct lsl_rule *r = w->r;

    for (; i < r->nitems; i++) {
        const struct nfmt_item *it = &r->items[i];
        size_t q;

        if (!it->group) {
            if (w->len - pos < it->len ||
                !same(w->line + pos, r->log_format + it->off, it->len))
                return false;
            pos += it->len;
            continue;
        }
        if (it->lazy)
            return walk_lazy(w, i, pos);
        q = shape_end(it->shape, w->line, pos, w->len);
        if (!fits(it->shape, w->line + pos, q - pos))
            return false;
        w->ov[2 * it->group] = pos;
        w->ov[2 * it->group + 1] = q;
        pos = q;
    }
    return pos == w->len || trail(w, pos);
}

int lsl_nfmt_match(const struct lsl_rule *r, const char *line, size_t len,
                   PCRE2_SIZE *ov, bool *limit_hit)
{
    struct walk w = {r, line, len, ov, NFMT_BUDGET};

    for (uint32_t g = 0; g <= r->ngroups; g++)
        ov[2 * g] = ov[2 * g + 1] = PCRE2_UNSET;
    if (walk_from(&w, 0, 0)) {
        ov[0] = 0;
        ov[1] = len;
        return 1;
    }
    *limit_hit = w.budget == 0;
    return 0;
}

/* Length of the variable name at s (after '$'); *brace if "${name}". */
static size_t var_name(const char *s, size_t n, bool *brace, size_t *skip)
{
    size_t k = 0;

    *brace = n > 0 && s[0] == '{';
    while (k + *brace < n && is_name_char(s[k + *brace]))
        k++;
    if (*brace && (k == 0 || k + 1 >= n || s[k + 1] != '}'))
        return 0;
    *skip = k + (*brace ? 2 : 0);
    return k;
}

static int push_item(struct lsl_rule *r, struct nfmt_item it)
{
    struct nfmt_item *n = realloc(r->items, (r->nitems + 1) * sizeof(*n));

    if (!n)
        return -ENOMEM;
    r->items = n;
    r->items[r->nitems++] = it;
    return 0;
}

/* Append literal byte at off, merging with a literal just before it. */
static int push_literal(struct lsl_rule *r, uint32_t off)
{
    struct nfmt_item *last = r->nitems ? &r->items[r->nitems - 1] : NULL;

    if (last && !last->group && last->off + last->len == off) {
        last->len++;
        return 0;
    }
    return push_item(r, (struct nfmt_item){off, 1, 0, SHAPE_ANY, false});
}

static int push_var(struct lsl_rule *r, uint32_t off, uint32_t len,
                    const char *origin, struct lsl_rule_error *err)
{
    const char *name = r->log_format + off;
    struct nfmt_item it = {off, len, ++r->ngroups, shape_of(name, len), false};

    if (it.shape == SHAPE_ANY &&
        lsl_rule_type_of(r, name, len) == LSL_FIELD_NUMBER)
        it.shape = SHAPE_NUMBER;

    if (r->nitems && r->items[r->nitems - 1].group) {
        lsl_rule_fail(err, origin, r->log_format_line,
                      "log_format: $%.*s follows another variable with "
                      "nothing between them",
                      (int)len, name);
        return LSL_ERULE;
    }
    if (r->ngroups > NFMT_VARS_MAX) {
        lsl_rule_fail(err, origin, r->log_format_line,
                      "log_format: more than %d variables", NFMT_VARS_MAX);
        return LSL_ERULE;
    }
    return push_item(r, it);
}

/* Split the template into literals and variables. */
static int split(struct lsl_rule *r, const char *origin,
                 struct lsl_rule_error *err)
{
    const char *t = r->log_format;
    size_t n = strlen(t);
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n;) {
        bool brace;
        size_t skip,
            k = t[i] == '$' ? var_name(t + i + 1, n - i - 1, &brace, &skip) : 0;

        if (k == 0) {
            rc = push_literal(r, (uint32_t)i++);
            continue;
        }
        rc = push_var(r, (uint32_t)(i + 1 + brace), (uint32_t)k, origin, err);
        i += 1 + skip;
    }
    return rc;
}

/* A value quoted on both sides may not hold the quote (see above); a
 * value whose shape allows the byte that follows it is matched lazily. */
static void mark_values(struct lsl_rule *r)
{
    for (size_t i = 0; i + 1 < r->nitems; i++) {
        struct nfmt_item *v = &r->items[i];
        const struct nfmt_item *b = v + 1;

        if (!v->group)
            continue;
        if (i > 0 && v->shape == SHAPE_ANY &&
            r->log_format[v[-1].off + v[-1].len - 1] == '"' &&
            r->log_format[b->off] == '"')
            v->shape = SHAPE_NOQUOTE;
        v->lazy = shape_allows(v->shape, r->log_format[b->off]);
    }
}

/* names[] over NUL-terminated copies of the variable names. */
static int name_vars(struct lsl_rule *r)
{
    size_t k = 0;

    r->names = calloc(r->ngroups, sizeof(*r->names));
    r->var_names = malloc(strlen(r->log_format) + 1);
    if (!r->names || !r->var_names)
        return -ENOMEM;
    for (size_t i = 0; i < r->nitems; i++) {
        const struct nfmt_item *it = &r->items[i];
        char *s = r->var_names + k;

        if (!it->group)
            continue;
        memcpy(s, r->log_format + it->off, it->len);
        s[it->len] = '\0';
        k += it->len + 1;
        r->names[r->nnames++] = (struct rule_name){.name = s, .num = it->group};
    }
    if (r->trailing_num)
        r->names[r->nnames++] =
            (struct rule_name){.name = r->trailing, .num = r->trailing_num};
    return 0;
}

static int check_unique(const struct lsl_rule *r, const char *origin,
                        struct lsl_rule_error *err)
{
    for (size_t i = 0; i < r->nnames; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->names[i].name, r->names[j].name) == 0) {
                lsl_rule_fail(err, origin, r->log_format_line,
                              "log_format: $%s appears twice",
                              r->names[i].name);
                return LSL_ERULE;
            }
    return 0;
}

int lsl_nfmt_compile(struct lsl_rule *r, const char *origin,
                     struct lsl_rule_error *err)
{
    int rc = split(r, origin, err);

    if (rc)
        return rc;
    if (r->ngroups == 0) {
        lsl_rule_fail(err, origin, r->log_format_line,
                      "log_format has no $variable");
        return LSL_ERULE;
    }
    mark_values(r);
    if (r->trailing)
        r->trailing_num = ++r->ngroups;
    rc = name_vars(r);
    return rc ? rc : check_unique(r, origin, err);
}

static bool claimed(const struct lsl_rule *r, uint32_t group)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (r->fields[i].num == group)
            return true;
    return false;
}

/* A value of a fixed shape (digits, a number or "-", a time) holds no
 * identifier, and the
 * literals are the template's own text: only a variable that may hold
 * anything and that no field line names is left to read as free text. */
int lsl_nfmt_bind_open(struct lsl_rule *r)
{
    int rc = lsl_layout_compile(r, r->log_format);

    if (rc)
        return rc;
    r->open_groups = calloc(r->ngroups, sizeof(*r->open_groups));
    if (!r->open_groups)
        return -ENOMEM;
    for (size_t i = 0; i < r->nitems; i++) {
        const struct nfmt_item *it = &r->items[i];

        if (it->group && !claimed(r, it->group) &&
            (it->shape == SHAPE_ANY || it->shape == SHAPE_NOBLANK ||
             it->shape == SHAPE_NOQUOTE))
            r->open_groups[r->nopen++] = it->group;
    }
    if (r->trailing_num && !claimed(r, r->trailing_num))
        r->open_groups[r->nopen++] = r->trailing_num;
    return 0;
}

int lsl_nfmt_group(const struct lsl_rule *r, const char *name)
{
    for (size_t i = 0; i < r->nnames; i++)
        if (strcmp(r->names[i].name, name) == 0)
            return (int)r->names[i].num;
    return -1;
}

void lsl_nfmt_free(struct lsl_rule *r)
{
    free(r->open_groups);
    free(r->items);
    free(r->var_names);
}
