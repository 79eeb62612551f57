/*
 * Rule file reader: splits the text into directive lines and fills a
 * struct lsl_rule, then hands it to lsl_rule_compile(). Every error names
 * the origin and the line; messages quote only rule-file text, never log
 * data. Nothing here is kept after loading but the rule itself.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parse_internal.h"

struct directive {
    const char *name;
    int (*fn)(struct rule_parser *ps, const char *rest, const char *end);
};

void lsl_rule_fail(struct lsl_rule_error *err, const char *origin,
                   unsigned line, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return;
    snprintf(err->path, sizeof(err->path), "%s", origin ? origin : "");
    err->line = line;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

bool lsl_parse_word_is(struct lsl_span w, const char *s)
{
    return w.len == strlen(s) && memcmp(w.p, s, w.len) == 0;
}

static const char *skip_blanks(const char *p, const char *end)
{
    while (p < end && is_blank(*p))
        p++;
    return p;
}

char *lsl_parse_dup(const char *p, size_t len)
{
    char *s = malloc(len + 1);

    if (s) {
        memcpy(s, p, len);
        s[len] = '\0';
    }
    return s;
}

void *lsl_parse_grow(void *arr, size_t n, size_t size)
{
    /* Arrays grow one by one: rule files hold tens of lines. */
    return realloc(arr, (n + 1) * size);
}

/* Words up to the end or a word starting with '#'. Returns the count, or
 * LSL_PARSE_MAX_WORDS + 1 if there are more than LSL_PARSE_MAX_WORDS. */
static size_t split_words(const char *p, const char *end, struct lsl_span *w)
{
    size_t n = 0;

    for (p = skip_blanks(p, end); p < end && *p != '#';
         p = skip_blanks(p, end)) {
        const char *s = p;

        while (p < end && !is_blank(*p))
            p++;
        if (n == LSL_PARSE_MAX_WORDS)
            return LSL_PARSE_MAX_WORDS + 1;
        w[n].p = s;
        w[n].len = (size_t)(p - s);
        n++;
    }
    return n;
}

int lsl_parse_fail(struct rule_parser *ps, const char *fmt, ...)
{
    char msg[sizeof(ps->err->msg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lsl_rule_fail(ps->err, ps->origin, ps->line, "%s", msg);
    return LSL_ERULE;
}

/* Exactly `want` words (or between min and want). */
int lsl_parse_words(struct rule_parser *ps, const char *rest, const char *end,
                    struct lsl_span *w, size_t min, size_t want,
                    const char *usage)
{
    size_t n = split_words(rest, end, w);

    if (n < min || n > want)
        return lsl_parse_fail(ps, "expected: %s", usage);
    return (int)n;
}

static int set_text(struct rule_parser *ps, char **dst, const char *what,
                    const char *p, size_t len)
{
    if (*dst)
        return lsl_parse_fail(ps, "'%s' given twice", what);
    *dst = lsl_parse_dup(p, len);
    return *dst ? 0 : -ENOMEM;
}

static int do_name(struct rule_parser *ps, const char *rest, const char *end)
{
    struct lsl_span w[LSL_PARSE_MAX_WORDS];
    int n = lsl_parse_words(ps, rest, end, w, 1, 1, "name NAME");

    if (n < 0)
        return n;
    return set_text(ps, &ps->r->name, "name", w[0].p, w[0].len);
}

/* Rest of the line without trailing blanks. */
static size_t rest_len(const char *rest, const char *end)
{
    while (end > rest && is_blank(end[-1]))
        end--;
    return (size_t)(end - rest);
}

static int do_pattern(struct rule_parser *ps, const char *rest, const char *end)
{
    size_t len = rest_len(rest, end);

    if (len == 0)
        return lsl_parse_fail(ps, "expected: pattern REGEX");
    ps->r->pattern_line = ps->line;
    return set_text(ps, &ps->r->pattern, "pattern", rest, len);
}

static int do_time(struct rule_parser *ps, const char *rest, const char *end)
{
    struct lsl_rule *r = ps->r;
    const char *g = rest, *fmt;
    int rc;

    while (rest < end && !is_blank(*rest))
        rest++;
    fmt = skip_blanks(rest, end);
    if (rest == g || fmt == end)
        return lsl_parse_fail(ps, "expected: time GROUP FORMAT");
    if (!lsl_time_format_ok(fmt, rest_len(fmt, end)))
        return lsl_parse_fail(ps, "invalid time format (known: %%d %%m %%b %%Y "
                                  "%%H %%M %%S %%z %%s %%f %%T %%%%)");
    r->time_line = ps->line;
    rc = set_text(ps, &r->time_group, "time", g, (size_t)(rest - g));
    if (rc)
        return rc;
    return set_text(ps, &r->time_fmt, "time", fmt, rest_len(fmt, end));
}

static int do_format(struct rule_parser *ps, const char *rest, const char *end)
{
    static const char *const names[] = {"regex", "json", "w3c", "nginx",
                                        "text"};
    struct lsl_span w[LSL_PARSE_MAX_WORDS];
    int n = lsl_parse_words(ps, rest, end, w, 1, 1,
                            "format regex|json|w3c|nginx|text");

    if (n < 0)
        return n;
    for (size_t i = 0; i < LSL_ARRAY_SIZE(names); i++) {
        if (lsl_parse_word_is(w[0], names[i])) {
            ps->r->format = (uint8_t)i;
            return 0;
        }
    }
    return lsl_parse_fail(ps, "expected: format regex|json|w3c|nginx|text");
}

/* The quoted strings of an nginx log_format directive, joined, into out;
 * a ';' may end them. Returns the length, or -1 if a quote is not closed
 * or anything else follows. Backslash takes the next byte as it is. */
static long unquote(const char *p, const char *end, char *out)
{
    long n = 0;

    while ((p = skip_blanks(p, end)) < end && *p != ';') {
        char q = *p++;

        if (q != '\'' && q != '"')
            return -1;
        while (p < end && *p != q) {
            if (*p == '\\' && p + 1 < end)
                p++;
            out[n++] = *p++;
        }
        if (p++ == end)
            return -1;
    }
    return p < end && skip_blanks(p + 1, end) != end ? -1 : n;
}

/* Append the template text of one line to the rule's log_format. */
static int add_template(struct rule_parser *ps, const char *rest, size_t len,
                        bool quoted)
{
    struct lsl_rule *r = ps->r;
    size_t have = r->log_format ? strlen(r->log_format) : 0;
    char *t = realloc(r->log_format, have + len + 1);
    long n = (long)len;

    if (!t)
        return -ENOMEM;
    r->log_format = t;
    if (quoted)
        n = unquote(rest, rest + len, t + have);
    else
        memcpy(t + have, rest, len);
    t[have + (n < 0 ? 0 : (size_t)n)] = '\0';
    if (n < 0)
        return lsl_parse_fail(ps,
                              "log_format: unclosed quote or text after the "
                              "quoted strings");
    ps->log_format_open = quoted && rest[len - 1] != ';';
    return 0;
}

/* log_format TEMPLATE: the rest of the line as it is, or nginx's quoted
 * strings pasted from the server's configuration, which may go on over
 * the next lines ('...' '...';). */
static int do_log_format(struct rule_parser *ps, const char *rest,
                         const char *end)
{
    size_t len = rest_len(rest, end);

    if (len == 0)
        return lsl_parse_fail(ps, "expected: log_format TEMPLATE");
    if (ps->r->log_format)
        return lsl_parse_fail(ps, "'log_format' given twice");
    ps->r->log_format_line = ps->line;
    return add_template(ps, rest, len, *rest == '\'' || *rest == '"');
}

static int do_require(struct rule_parser *ps, const char *rest, const char *end)
{
    struct lsl_rule *r = ps->r;
    struct lsl_span w[LSL_PARSE_MAX_WORDS];
    int n = lsl_parse_words(ps, rest, end, w, 1, LSL_PARSE_MAX_WORDS,
                            "require KEY...");

    if (n < 0)
        return n;
    if (r->nrequire + (size_t)n > RULE_REQUIRE_MAX)
        return lsl_parse_fail(ps, "at most %d required keys", RULE_REQUIRE_MAX);
    for (int i = 0; i < n; i++) {
        r->require[r->nrequire] = lsl_parse_dup(w[i].p, w[i].len);
        if (!r->require[r->nrequire])
            return -ENOMEM;
        r->nrequire++;
    }
    return 0;
}

static int do_unnamed(struct rule_parser *ps, const char *rest, const char *end)
{
    static const char *const names[] = {"scrub", "drop", "keep"};
    struct lsl_span w[LSL_PARSE_MAX_WORDS];
    int n = lsl_parse_words(ps, rest, end, w, 1, 1, "unnamed scrub|drop|keep");

    if (n < 0)
        return n;
    for (size_t i = 0; i < LSL_ARRAY_SIZE(names); i++) {
        if (lsl_parse_word_is(w[0], names[i])) {
            ps->r->unnamed = (uint8_t)i;
            ps->r->unnamed_line = ps->line;
            return 0;
        }
    }
    return lsl_parse_fail(ps, "expected: unnamed scrub|drop|keep");
}

static int do_disclosure(struct rule_parser *ps, const char *rest,
                         const char *end)
{
    struct lsl_span w[LSL_PARSE_MAX_WORDS];
    int n = lsl_parse_words(ps, rest, end, w, 1, 1, "disclosure port=NAME");

    if (n < 0)
        return n;
    if (w[0].len <= 5 || memcmp(w[0].p, "port=", 5) != 0)
        return lsl_parse_fail(ps, "expected: disclosure port=NAME");
    ps->r->port_line = ps->line;
    return set_text(ps, &ps->r->port_group, "disclosure port=", w[0].p + 5,
                    w[0].len - 5);
}

static int add_param(struct rule_parser *ps, const char *rest, const char *end,
                     uint8_t kind)
{
    static const char *const usage[] = {"param NAME CLASS",
                                        "segment NAME CLASS"};
    struct lsl_rule *r = ps->r;
    struct lsl_span w[LSL_PARSE_MAX_WORDS];
    struct rule_param p = {.kind = kind};
    int n = lsl_parse_words(ps, rest, end, w, 2, 2, usage[kind]);
    int rc;

    if (n < 0)
        return n;
    rc = lsl_parse_class(ps, w[1], &p.cls);
    if (rc)
        return rc;
    p.name = lsl_parse_dup(w[0].p, w[0].len);
    if (!p.name)
        return -ENOMEM;
    p.len = w[0].len;
    /* Stored lower case: query names are compared case-insensitively. */
    for (size_t i = 0; i < p.len; i++)
        if (p.name[i] >= 'A' && p.name[i] <= 'Z')
            p.name[i] = (char)(p.name[i] - 'A' + 'a');
    if (lsl_rule_param_listed(r, kind, p.name, p.len)) {
        rc = lsl_parse_fail(ps, "%s '%s' given twice",
                            kind == PARAM_QUERY ? "param" : "segment", p.name);
        free(p.name);
        return rc;
    }
    return lsl_rule_param_add(r, &p);
}

static int do_param(struct rule_parser *ps, const char *rest, const char *end)
{
    return add_param(ps, rest, end, PARAM_QUERY);
}

static int do_segment(struct rule_parser *ps, const char *rest, const char *end)
{
    return add_param(ps, rest, end, PARAM_SEGMENT);
}

static int parse_limit(struct rule_parser *ps, const char *rest,
                       const char *end, const char *usage, uint32_t *out)
{
    struct lsl_span w[LSL_PARSE_MAX_WORDS];
    int n = lsl_parse_words(ps, rest, end, w, 1, 1, usage);
    uint64_t v = 0;

    if (n < 0)
        return n;
    for (size_t i = 0; i < w[0].len; i++) {
        if (w[0].p[i] < '0' || w[0].p[i] > '9' || v > UINT32_MAX / 10)
            return lsl_parse_fail(ps, "expected: %s (1 to %u)", usage,
                                  UINT32_MAX);
        v = v * 10 + (uint64_t)(w[0].p[i] - '0');
    }
    if (v == 0 || v > UINT32_MAX)
        return lsl_parse_fail(ps, "expected: %s (1 to %u)", usage, UINT32_MAX);
    *out = (uint32_t)v;
    return 0;
}

static int do_match_limit(struct rule_parser *ps, const char *rest,
                          const char *end)
{
    return parse_limit(ps, rest, end, "match-limit N", &ps->r->match_limit);
}

static int do_depth_limit(struct rule_parser *ps, const char *rest,
                          const char *end)
{
    return parse_limit(ps, rest, end, "depth-limit N", &ps->r->depth_limit);
}

static int do_priority(struct rule_parser *ps, const char *rest,
                       const char *end)
{
    struct lsl_span w[LSL_PARSE_MAX_WORDS];
    int n = lsl_parse_words(ps, rest, end, w, 1, 1, "priority -9..9");

    if (n < 0)
        return n;
    if (w[0].len == 1 && w[0].p[0] >= '0' && w[0].p[0] <= '9')
        ps->r->priority = w[0].p[0] - '0';
    else if (w[0].len == 2 && w[0].p[0] == '-' && w[0].p[1] >= '0' &&
             w[0].p[1] <= '9')
        ps->r->priority = '0' - w[0].p[1];
    else
        return lsl_parse_fail(ps, "expected: priority -9..9");
    return 0;
}

/* layout TEMPLATE: a regex rule's line as a log_format would write it
 * ($group names), for the fallback of lines the pattern does not match. */
static int do_layout(struct rule_parser *ps, const char *rest, const char *end)
{
    size_t len = rest_len(rest, end);

    if (len == 0)
        return lsl_parse_fail(ps, "expected: layout TEMPLATE");
    ps->r->layout_line = ps->line;
    return set_text(ps, &ps->r->layout, "layout", rest, len);
}

static int do_trailing(struct rule_parser *ps, const char *rest,
                       const char *end)
{
    struct lsl_span w[LSL_PARSE_MAX_WORDS];
    int n = lsl_parse_words(ps, rest, end, w, 1, 1, "trailing NAME");

    if (n < 0)
        return n;
    ps->r->trailing_line = ps->line;
    return set_text(ps, &ps->r->trailing, "trailing", w[0].p, w[0].len);
}

static int parse_text(struct rule_parser *ps, const char *text, size_t len);

/*
 * include NAME: the param and segment lines of the file NAME beside the
 * rule file (shared lists such as web.params). NAME holds no '/' and
 * does not start with '.', so an include never leaves the rules
 * directory; an included file holds params, segments and comments only.
 */
static int do_include(struct rule_parser *ps, const char *rest, const char *end)
{
    struct lsl_span w[LSL_PARSE_MAX_WORDS];
    int n = lsl_parse_words(ps, rest, end, w, 1, 1, "include NAME");
    struct rule_parser sub = *ps;
    const char *slash;
    char path[4096], *text = NULL;
    size_t tlen = 0;
    int rc;

    if (n < 0)
        return n;
    if (ps->in_include || !ps->is_file)
        return lsl_parse_fail(ps, ps->in_include
                                      ? "an included file includes nothing"
                                      : "include needs a rule file");
    if (memchr(w[0].p, '/', w[0].len) || w[0].p[0] == '.')
        return lsl_parse_fail(ps,
                              "include takes a file name beside the rule file");
    slash = strrchr(ps->origin, '/');
    if (snprintf(path, sizeof(path), "%.*s%.*s",
                 slash ? (int)(slash - ps->origin + 1) : 0, ps->origin,
                 (int)w[0].len, w[0].p) >= (int)sizeof(path))
        return lsl_parse_fail(ps, "include: path too long");
    rc = lsl_rule_read_file(path, &text, &tlen);
    if (rc)
        return lsl_parse_fail(ps, "include %.*s: %s", (int)w[0].len, w[0].p,
                              lsl_strerror(rc));
    sub.origin = path;
    sub.line = 0;
    sub.in_include = true;
    rc = parse_text(&sub, text, tlen);
    free(text);
    return rc;
}

static const struct directive directives[] = {
    {"name", do_name},
    {"pattern", do_pattern},
    {"time", do_time},
    {"field", lsl_parse_field},
    {"key", lsl_parse_key},
    {"column", lsl_parse_column},
    {"format", do_format},
    {"log_format", do_log_format},
    {"trailing", do_trailing},
    {"type", lsl_parse_type},
    {"require", do_require},
    {"unnamed", do_unnamed},
    {"disclosure", do_disclosure},
    {"param", do_param},
    {"segment", do_segment},
    {"match-limit", do_match_limit},
    {"depth-limit", do_depth_limit},
    {"include", do_include},
    {"priority", do_priority},
    {"layout", do_layout},
    {"canonical", lsl_parse_canonical},
};

static int parse_line(struct rule_parser *ps, const char *p, size_t n)
{
    const char *end = p + n;
    struct lsl_span w;

    if (memchr(p, '\0', n))
        return lsl_parse_fail(ps, "NUL byte in rule file");
    p = skip_blanks(p, end);
    if (ps->log_format_open && p < end && (*p == '\'' || *p == '"'))
        return add_template(ps, p, rest_len(p, end), true);
    ps->log_format_open = false;
    if (p == end || *p == '#')
        return 0;
    w.p = p;
    while (p < end && !is_blank(*p))
        p++;
    w.len = (size_t)(p - w.p);
    for (size_t i = 0; i < LSL_ARRAY_SIZE(directives); i++) {
        if (!lsl_parse_word_is(w, directives[i].name))
            continue;
        if (ps->in_include && directives[i].fn != do_param &&
            directives[i].fn != do_segment)
            return lsl_parse_fail(
                ps, "an included file holds only param and segment "
                    "lines");
        return directives[i].fn(ps, skip_blanks(p, end), end);
    }
    return lsl_parse_fail(
        ps,
        "unknown directive '%.*s' (known: name format pattern "
        "log_format trailing time field key column type require "
        "unnamed param segment include priority layout canonical "
        "disclosure match-limit depth-limit)",
        (int)(w.len > 32 ? 32 : w.len), w.p);
}

/* A text rule has no fields: nothing to time, type or name a port. */
static int check_text(struct rule_parser *ps)
{
    const struct lsl_rule *r = ps->r;

    if (r->time_group || r->ntypes || r->port_group) {
        ps->line = r->time_group ? r->time_line
                   : r->ntypes   ? r->types[0].line
                                 : r->port_line;
        return lsl_parse_fail(ps,
                              "a text rule has no fields: no 'time', 'type' or "
                              "'disclosure' line");
    }
    return 0;
}

/* Directives must suit the format: a pattern only for regex rules, a
 * log_format only for nginx rules, field lines for both, key lines for
 * json, column lines for w3c, none for text. */
static int check_format(struct rule_parser *ps)
{
    static const char *const dir[] = {"field", "key", "column", "field",
                                      "param"};
    static const char *const fmt[] = {"regex", "json", "w3c", "nginx", "text"};
    const struct lsl_rule *r = ps->r;
    uint8_t via = r->format == RULE_FMT_NGINX ? RULE_FMT_REGEX : r->format;

    if (r->format == RULE_FMT_REGEX && !r->pattern)
        return lsl_parse_fail(ps, "missing 'pattern' line");
    if (r->format == RULE_FMT_NGINX && !r->log_format)
        return lsl_parse_fail(ps, "missing 'log_format' line");
    if (r->format != RULE_FMT_REGEX && r->pattern) {
        ps->line = r->pattern_line;
        return lsl_parse_fail(ps, "a %s rule takes no pattern", fmt[r->format]);
    }
    if (r->format != RULE_FMT_NGINX && r->log_format) {
        ps->line = r->log_format_line;
        return lsl_parse_fail(ps, "a %s rule takes no log_format",
                              fmt[r->format]);
    }
    if (r->format != RULE_FMT_REGEX && r->layout) {
        ps->line = r->layout_line;
        return lsl_parse_fail(ps, "'layout' is for regex rules");
    }
    if (r->format != RULE_FMT_NGINX && r->trailing) {
        ps->line = r->trailing_line;
        return lsl_parse_fail(ps, "a %s rule takes no 'trailing' line",
                              fmt[r->format]);
    }
    if (r->format != RULE_FMT_JSON && r->format != RULE_FMT_W3C && r->nrequire)
        return lsl_parse_fail(ps, "'require' is for json and w3c rules");
    if (r->format != RULE_FMT_JSON && r->unnamed_line) {
        ps->line = r->unnamed_line;
        return lsl_parse_fail(ps, "'unnamed' is for json rules");
    }
    for (size_t i = 0; i < r->nfields; i++) {
        if (r->fields[i].via != via) {
            ps->line = r->fields[i].line;
            return lsl_parse_fail(ps, "a %s rule takes '%s' lines, not '%s'",
                                  fmt[r->format], dir[r->format],
                                  dir[r->fields[i].via]);
        }
    }
    return r->format == RULE_FMT_TEXT ? check_text(ps) : 0;
}

static int parse_text(struct rule_parser *ps, const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    int rc;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);

        ps->line++;
        if (n > 0 && p[n - 1] == '\r')
            n--;
        rc = parse_line(ps, p, n);
        if (rc)
            return rc;
        p = nl ? nl + 1 : end;
    }
    if (ps->in_include)
        return 0;
    ps->line = 0;
    if (!ps->r->name)
        return lsl_parse_fail(ps, "missing 'name' line");
    return check_format(ps);
}

int lsl_rule_parse(struct lsl_rule **out, const char *text, size_t len,
                   const char *origin, struct lsl_rule_error *err)
{
    return lsl_rule_parse_at(out, text, len, origin, false, err);
}

int lsl_rule_parse_at(struct lsl_rule **out, const char *text, size_t len,
                      const char *origin, bool is_file,
                      struct lsl_rule_error *err)
{
    struct rule_parser ps = {.origin = origin, .err = err, .is_file = is_file};
    int rc;

    *out = NULL;
    ps.r = calloc(1, sizeof(*ps.r));
    if (!ps.r)
        return -ENOMEM;
    ps.r->match_limit = LSL_RULE_MATCH_LIMIT;
    ps.r->depth_limit = LSL_RULE_DEPTH_LIMIT;
    rc = parse_text(&ps, text, len);
    if (rc == 0)
        rc = lsl_rule_compile(ps.r, origin, err);
    /* Rule errors filled *err themselves; name any other failure too. */
    if (rc && rc != LSL_ERULE)
        lsl_rule_fail(err, origin, ps.line, "%s", lsl_strerror(rc));
    if (rc)
        goto fail;
    *out = ps.r;
    return 0;
fail:
    lsl_rule_free(ps.r);
    return rc;
}
