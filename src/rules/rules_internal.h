/*
 * Internal to src/rules: the compiled rule, the matcher and the plan
 * builders shared by the matcher, the query action and the scrubber.
 */
#ifndef LSL_RULES_INT_H
#define LSL_RULES_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>
#include "logseal/rules.h"

#define LSL_RULE_MATCH_LIMIT 100000u
#define LSL_RULE_DEPTH_LIMIT 10000u

/* What a field line asks for one named group. */
enum rule_action {
    RULE_ACT_IP = 0,
    RULE_ACT_IPLIST,
    RULE_ACT_TOKEN, /* whole group as `cls` */
    RULE_ACT_QUERY,
    RULE_ACT_SCRUB,
    RULE_ACT_AGENT, /* a User-Agent: scrubbed, Product/1.2.3.4 kept */
    RULE_ACT_KEEP,
    RULE_ACT_DROP,
};

/* How a rule reads a line: a PCRE2 pattern, one JSON object, W3C columns. */
enum rule_format {
    RULE_FMT_REGEX = 0,
    RULE_FMT_JSON,
    RULE_FMT_W3C,
    RULE_FMT_NGINX,
    RULE_FMT_TEXT,
};

/* A field, key or column line; `group` is a group name, a dotted JSON key
 * path or a W3C column name. */
struct rule_field {
    char *group;
    uint32_t num;   /* capture group number, set when compiled */
    uint8_t action; /* enum rule_action */
    uint8_t cls;    /* enum lsl_class */
    uint8_t mode;   /* enum lsl_ip_mode */
    uint8_t bits4;  /* for LSL_IPMODE_TRUNCATE, IPv4; 0: default */
    uint8_t bits6;  /* the same for IPv6 */
    uint8_t via;    /* enum rule_format of the directive that declared it */
    unsigned line;  /* where it was declared, for errors */
    /* The group's last dotted part ("remote_ip" of "request.remote_ip"):
     * group + leaf, leaf_len bytes; free text compares pair names to it. */
    size_t leaf, leaf_len;
};

/* A `type` line: the structured-output type of a group, key or column. */
struct rule_type {
    char *group;
    uint8_t type; /* enum lsl_field_type */
    unsigned line;
};

/* A named group of a regex rule, in group-number order. */
struct rule_name {
    const char *name; /* inside the compiled pattern's name table */
    uint32_t num;
    uint8_t type;      /* enum lsl_field_type */
    const char *canon; /* shared name (lsl_canon_find), or NULL */
    uint8_t canon_type;
};

/* `canonical GROUP NAME`: the shared name of a group, key or column. */
struct rule_canon {
    char *group;
    const char *name; /* static, from lsl_canon_find */
    uint8_t type;
    unsigned line;
};

/* `param NAME CLASS` (query string) or `segment NAME CLASS` (the path
 * segment after a segment NAME, as the 123 of /u/123/profile). */
enum rule_param_kind { PARAM_QUERY = 0, PARAM_SEGMENT };

struct rule_param {
    char *name; /* lower case */
    size_t len;
    uint8_t cls;
    uint8_t kind; /* enum rule_param_kind */
};

#define RULE_REQUIRE_MAX 16

/* `unnamed`: what a JSON rule does with the values of keys it does not
 * name. */
enum rule_unnamed {
    UNNAMED_SCRUB = 0, /* secret-looking names tokenized, the rest scrubbed */
    UNNAMED_DROP,
    UNNAMED_KEEP,
};

struct lsl_rule {
    char *name;
    uint8_t format; /* enum rule_format */
    char *pattern;
    unsigned pattern_line;
    char *time_group;
    char *time_fmt;
    unsigned time_line;
    uint32_t time_num; /* 0: no time field */
    uint32_t match_limit;
    uint32_t depth_limit;
    struct rule_field *fields; /* sorted by group number once compiled */
    size_t nfields;
    struct rule_param *params;
    size_t nparams;
    /* Per kind, bit min(len, 63) for each listed name's length: most
     * query names and path segments are passed over without a search. */
    uint64_t param_lens[2];
    /* Once compiled, params are sorted by kind and length bucket
     * b = min(len, 63); bucket (k, b) is params[at[k][b] .. at[k][b+1]). */
    uint16_t param_at[2][65];
    struct rule_type *types;
    size_t ntypes;
    struct rule_canon *canons;
    size_t ncanons;
    char *require[RULE_REQUIRE_MAX]; /* JSON keys every line must hold */
    size_t nrequire;
    uint8_t unnamed; /* enum rule_unnamed */
    int priority;    /* --rule auto: the higher wins a tie */
    unsigned unnamed_line;
    char *port_group; /* `disclosure port=GROUP` */
    unsigned port_line;
    pcre2_code *code;
    char *log_format; /* format nginx: the template */
    unsigned log_format_line;
    struct nfmt_item *items; /* its literals and variables */
    size_t nitems;
    char *var_names; /* NUL-terminated names, pointed to by names[] */
    char *trailing;  /* `trailing NAME`: group of any text after the format */
    char *layout;    /* regex rules: `layout`, the fallback's cells */
    unsigned layout_line;
    unsigned trailing_line;
    uint32_t trailing_num; /* its group number once compiled; 0: none */
    uint32_t ngroups; /* capture groups (variables), not counting group 0 */
    struct rule_name *names; /* named groups, by number */
    size_t nnames;
    /* format nginx: the groups no field line claims whose value may hold
     * anything (not a fixed shape such as $status or $time_local); they
     * are read as free text (fail closed). */
    uint32_t *open_groups;
    size_t nopen;
    /* format nginx: the template's cells, for the fallback. */
    struct lsl_slot *slots;
    size_t nslots;
};

/*
 * One blank-separated cell of a line's layout, for the fallback of lines
 * a rule does not match (fallback.c): a `format nginx` template's cell
 * such as `"$request"` or `[$time_local]` (its literal text around the
 * variables, and the field of its variable), or a W3C column.
 */
struct lsl_slot {
    const char *pre; /* literal text a cell must start with */
    const char *suf; /* and end with */
    uint16_t npre, nsuf;
    bool literal;               /* no variable: the cell equals pre */
    const struct rule_field *f; /* the field of its variable(s); may be NULL */
};

/* A W3C column of the header in force, bound to a rule's field. */
struct w3c_col {
    const char *name;               /* NUL-terminated, inside lsl_matcher.hdr */
    const struct rule_field *f;     /* NULL: no column line */
    uint8_t type;                   /* enum lsl_field_type */
    const struct rule_canon *canon; /* NULL: none */
};

struct lsl_scrub_memo;

/* A range of a line a field claims (fail closed: the rest is free text). */
struct lsl_claim {
    uint32_t s, e;
};

struct lsl_matcher {
    struct lsl_scrub_memo *memo; /* scrub plans of repeated texts */
    struct lsl_claim *claims;    /* regex rules: one per field, sorted */
    size_t claims_cap;
    struct lsl_slot *wslots; /* W3C columns as fallback slots */
    size_t wslots_cap;
    PCRE2_SIZE *ov; /* format nginx: group offsets, as PCRE2 gives them */
    uint32_t ov_pairs;
    pcre2_match_data *md;
    uint32_t md_pairs;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit;
    struct lsl_plan plan;
    bool want_fields;
    /* W3C: the header in force and its columns, bound for hdr_rule. */
    char *hdr;
    size_t hdr_len, hdr_cap;
    struct w3c_col *cols;
    size_t ncols, cols_cap;
    const struct lsl_rule *hdr_rule;
    bool hdr_ok;      /* the header has every column hdr_rule requires */
    long time_col[2]; /* columns of the rule's time ("date+time"); -1 */
};

/*
 * First position in [from, end) holding byte a or b, or end. Eight bytes
 * at a time: x ^ pattern has a zero byte where s has the byte, and the
 * classic (v - 0x01..) & ~v & 0x80.. test flags it; its lowest flag is
 * always exact (only bytes above a true zero can be flagged falsely).
 */
static inline size_t lsl_find2(const char *s, size_t from, size_t end, char a,
                               char b)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t highs = 0x8080808080808080ULL;
    const uint64_t pa = ones * (unsigned char)a, pb = ones * (unsigned char)b;

    for (; from + 8 <= end; from += 8) {
        uint64_t w, xa, xb, m;

        memcpy(&w, s + from, 8);
        xa = w ^ pa;
        xb = w ^ pb;
        m = ((xa - ones) & ~xa & highs) | ((xb - ones) & ~xb & highs);
        if (m)
            return from + (size_t)(__builtin_ctzll(m) >> 3);
    }
#endif
    while (from < end && s[from] != a && s[from] != b)
        from++;
    return from;
}

/*
 * format nginx (nginxfmt.c). Compile r->log_format into items and names:
 * LSL_ERULE (with *err filled) or -ENOMEM. Match a line into ov
 * (2 * (r->ngroups + 1) entries, unset groups PCRE2_UNSET): 1 if it
 * matches, else 0, with *limit_hit set if the step budget ran out. Group
 * number of a variable, or -1. Free what compile allocated.
 */
LSL_MUST_CHECK int lsl_nfmt_compile(struct lsl_rule *r, const char *origin,
                                    struct lsl_rule_error *err);
int lsl_nfmt_match(const struct lsl_rule *r, const char *line, size_t len,
                   PCRE2_SIZE *ov, bool *limit_hit);
int lsl_nfmt_group(const struct lsl_rule *r, const char *name);
void lsl_nfmt_free(struct lsl_rule *r);

/* format nginx, once fields are bound: fill r->open_groups and r->slots.
 * 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_nfmt_bind_open(struct lsl_rule *r);

/*
 * r->slots from a layout (fallback.c): `text` (the log_format of a format
 * nginx rule, or a regex rule's `layout` line, kept while r lives) split
 * at blanks into cells, each with the literal text around its $variables
 * and the strongest of their fields (by name). 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_layout_compile(struct lsl_rule *r, const char *text);

/* How strongly a field hides its value, for the fallback: 3 drops, 2
 * tokenizes (ip, iplist, a class), 1 reads it as a query, 0 as text. */
unsigned lsl_field_strength(const struct rule_field *f);

/*
 * Plan a line rule r did not match (fallback.c), with everything the rule
 * knows: its layout (a format nginx template's cells, a W3C header's
 * columns) lines the line's cells up with fields by position, within the
 * window a missing or extra cell leaves, and each cell takes the most
 * protective action among the fields it may be; a rule without a layout
 * reads a line shaped like the common log format by position (host, then
 * user names before the first [ or "), requests and URLs in quotes as
 * queries; everything else, and JSON lines, is read as the text rule
 * reads a line, with the rule's param names (and JSON key names).
 * matched stays false. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_fallback_plan(const struct lsl_rule *r,
                                     struct lsl_matcher *m, const char *line,
                                     size_t len);

/* Read a rule file (at most 1 MiB, a regular file) into *out (malloc'd,
 * not NUL-terminated). 0, -errno, -EFBIG or -EINVAL. */
LSL_MUST_CHECK int lsl_rule_read_file(const char *path, char **out,
                                      size_t *len);

/* lsl_rule_parse; `is_file`: origin is the file's path, so `include NAME`
 * reads NAME from its directory. */
LSL_MUST_CHECK int lsl_rule_parse_at(struct lsl_rule **out, const char *text,
                                     size_t len, const char *origin,
                                     bool is_file, struct lsl_rule_error *err);

/* Fill *err (may be NULL) with origin, line and a formatted message. */
void lsl_rule_fail(struct lsl_rule_error *err, const char *origin,
                   unsigned line, const char *fmt, ...) LSL_PRINTF(4, 5);

/*
 * Compile r->pattern and bind fields and the time group to group numbers.
 * LSL_ERULE (with *err filled) or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_rule_compile(struct lsl_rule *r, const char *origin,
                                    struct lsl_rule_error *err);

/* Append a field (see lsl_matcher_want_fields). 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_plan_field_push(struct lsl_plan *p, const char *name,
                                       size_t off, size_t len, uint8_t type);

/* Forget spans, fields and time; matched and limit_hit false. */
void lsl_plan_reset(struct lsl_plan *p);

/*
 * Plan one value line[off..off+len) by field f's action. `esc`: the value
 * is the inside of a JSON string that holds escapes, so it is read
 * unescaped (lsl_decoded_run) and a span never starts or ends inside an
 * escape. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_plan_value(const struct lsl_rule *r,
                                  const struct rule_field *f,
                                  struct lsl_plan *p, const char *line,
                                  size_t off, size_t len, bool esc);

/* Bytes at the start of s[0..len) that are certainly plain JSON string
 * bytes (no '"', '\\' or control byte), a multiple of 8: the eight-byte
 * blocks before the first that holds another byte. */
size_t lsl_json_plain(const char *s, size_t len);

/* lsl_plan_value into m->plan, a user agent or a query without escapes
 * through m's memo (their texts repeat from line to line). */
LSL_MUST_CHECK int lsl_plan_field(const struct lsl_rule *r,
                                  const struct rule_field *f,
                                  struct lsl_matcher *m, const char *line,
                                  size_t off, size_t len, bool esc);

/* The field line for group/key/column name[0..len), or NULL. */
const struct rule_field *lsl_rule_field_find(const struct lsl_rule *r,
                                             const char *name, size_t len);

/* The `canonical` line of name[0..len), or NULL. */
const struct rule_canon *lsl_rule_canon_of(const struct lsl_rule *r,
                                           const char *name, size_t len);

/* Set the last pushed field's shared name: the rule's time is "time". */
void lsl_plan_field_canon(struct lsl_plan *p, const struct rule_canon *c,
                          bool is_time);

/* The `type` of name[0..len), or LSL_FIELD_STRING. */
uint8_t lsl_rule_type_of(const struct lsl_rule *r, const char *name,
                         size_t len);

/* True if a key name looks like a secret's: it holds key, token, secret,
 * session, cookie, authorization, passw or credential, in any case
 * (json.c; JSON rules' unnamed keys). */
bool lsl_secret_name(const char *name, size_t len);

/* True if a name holds token, secret, passw or credential, in any case:
 * a query's or a free-text pair's name no line lists ("sessionToken",
 * "client_secret", "db_password"). */
bool lsl_secret_word(const char *name, size_t len);

/* Plan a line with a JSON rule (json.c). 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_json_plan(const struct lsl_rule *r,
                                 struct lsl_matcher *m, const char *line,
                                 size_t len);

/* Plan a line with a W3C rule (w3c.c). 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_w3c_plan(const struct lsl_rule *r, struct lsl_matcher *m,
                                const char *line, size_t len);

/* Bind the W3C header in force to r's column lines (w3c.c). */
void lsl_w3c_bind(struct lsl_matcher *m, const struct lsl_rule *r);

/* Free the matcher's W3C state (w3c.c). */
void lsl_w3c_free(struct lsl_matcher *m);

/* How lsl_scrub reads a text: OR of these (0: a piece of a URL). */
#define LSL_SCRUB_PHONES  1u /* free text: phone numbers too */
#define LSL_SCRUB_AGENT   2u /* a User-Agent: Product/1.2.3.4 is a version */
#define LSL_SCRUB_DECODED 4u /* already percent-decoded: no second pass */

/*
 * Scrub line[off..off+len) into p (see lsl_scrub_plan for what is taken,
 * and ids.c for device ids and secrets), treating both ends as
 * boundaries; spans are appended in order. A text holding a percent
 * escape is scrubbed as lsl_pct_decode gives it, each span widened to
 * the raw bytes it came from (so "%31%39%32.168.7.4" is one address, not
 * 32.168.7.4). 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_scrub(struct lsl_plan *p, const char *line, size_t off,
                             size_t len, unsigned mode);

/*
 * Free text: lsl_scrub with LSL_SCRUB_PHONES. For `scrub` fields and lines
 * no rule matched.
 */
LSL_MUST_CHECK int lsl_scrub_text(struct lsl_plan *p, const char *line,
                                  size_t off, size_t len);

/*
 * Scrub the inside of a JSON string (lsl_scrub with `mode`). A text
 * holding escapes is read unescaped ("\uff10\uff19\uff10..." is a phone
 * number) and each span widened to the raw bytes it came from: whole
 * escapes, so replacing spans keeps the string valid; a span whose bytes
 * hold an escape is marked LSL_SPAN_F_JSON. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_scrub_escaped(struct lsl_plan *p, const char *line,
                                     size_t off, size_t len, unsigned mode);

/* A percent-decoded copy of raw text (decoded.c); on the caller's stack
 * up to LSL_DECODED_STACK bytes. */
#define LSL_DECODED_STACK 1024
struct lsl_decoded {
    char *text;    /* len decoded bytes */
    uint32_t *map; /* map[k]: offset in the raw text of decoded byte k */
    size_t len;
    size_t raw_len;
    char stack_text[LSL_DECODED_STACK];
    uint32_t stack_map[LSL_DECODED_STACK + 1];
};

/* Decode raw[0..len) into d (borrowed; close it). 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_decoded_open(struct lsl_decoded *d, const char *raw,
                                    size_t len);

/*
 * Plan text line[off..off+len) in escape syntax `esc` (LSL_SPAN_F_JSON:
 * a JSON string's; LSL_SPAN_F_XESC: nginx's "\xHH") with fn, which plans
 * text[off..off+len) into p. Text without escapes is given to fn as it
 * is; other text is unescaped (controls as blanks), fn plans the copy
 * (offsets into it), and its spans are widened to the raw bytes, whole
 * escapes, and those holding an escape flagged `esc`. fn's result, or
 * -ENOMEM.
 */
typedef int (*lsl_decoded_fn)(void *arg, const char *text, size_t off,
                              size_t len);
LSL_MUST_CHECK int lsl_decoded_run(struct lsl_plan *p, unsigned esc,
                                   const char *line, size_t off, size_t len,
                                   lsl_decoded_fn fn, void *arg);

/* Spans p->spans[first..] hold offsets into d->text: make them cover the
 * raw bytes they came from, in a line where the raw text began at base. */
void lsl_decoded_widen(const struct lsl_decoded *d, struct lsl_plan *p,
                       size_t first, size_t base);

/* Wipe the decoded copy (it is an original) and free it. */
void lsl_decoded_close(struct lsl_decoded *d);

/* What a matcher of ids.c found: one or two spans (URL userinfo), in
 * order; scanning goes on at end[n - 1]. */
struct lsl_hit {
    size_t n;
    size_t start[2], end[2];
    uint8_t cls[2];
    uint8_t flags; /* LSL_SPAN_F_* of the first span */
};

/* *h holds one span, [start, end) of class cls. */
static inline void lsl_hit_set(struct lsl_hit *h, size_t start, size_t end,
                               uint8_t cls, uint8_t flags)
{
    h->n = 1;
    h->start[0] = start;
    h->end[0] = end;
    h->cls[0] = cls;
    h->flags = flags;
}

/*
 * Matchers (ids.c) at s[i], a word start inside [lo, hi); each reads only
 * s[lo, hi) and fills *h when it takes something. MAC addresses, IMEIs,
 * JWTs, Bearer/Basic credentials, URL userinfo, URL hosts in inet_aton
 * spellings. See ids.c for what each takes and refuses.
 */
bool lsl_mac_at(const char *s, size_t lo, size_t hi, size_t i,
                struct lsl_hit *h);
bool lsl_imei_at(const char *s, size_t lo, size_t hi, size_t i,
                 struct lsl_hit *h);
/* A secret known by its prefix (keyprefix.c: stream keys, access
 * tokens), as class secret. */
bool lsl_key_prefix_at(const char *s, size_t hi, size_t i, struct lsl_hit *h);
/* A payment card number (card.c), as class secret. */
bool lsl_card_at(const char *s, size_t lo, size_t hi, size_t i,
                 struct lsl_hit *h);
/* The number s[i, end) is glued to no letter or digit and is no part of a
 * decimal ("1.2345...", "..., 5"). */
bool lsl_number_alone(const char *s, size_t lo, size_t hi, size_t i,
                      size_t end);
bool lsl_jwt_at(const char *s, size_t lo, size_t hi, size_t i,
                struct lsl_hit *h);
bool lsl_auth_at(const char *s, size_t lo, size_t hi, size_t i,
                 struct lsl_hit *h);
bool lsl_userinfo_at(const char *s, size_t lo, size_t hi, size_t i,
                     struct lsl_hit *h);
bool lsl_urlhost_at(const char *s, size_t lo, size_t hi, size_t i,
                    struct lsl_hit *h);

/*
 * True if a query parameter's value v[0..n) looks like an opaque id:
 * LSL_OPAQUE_MIN (16) or more base64, base64url or hex bytes (trailing '='
 * padding allowed), not a path, with letters and digits mixed as random text
 * mixes them. `form`: the value is raw form-encoded text, where '+' stands
 * for a blank.
 */
bool lsl_opaque_value(const char *v, size_t n, bool form);
#define LSL_OPAQUE_MIN 16

/*
 * A Japanese phone number at s[i], inside [lo, hi): 090-1234-5678,
 * 03-1234-5678, 0120-123-456, 09012345678, 090 1234 5678, 03(1234)5678,
 * +81-90-1234-5678, +81 3 1234 5678; from the '(' before s[i] for
 * (03) 1234-5678. Sets *start and *end. See phone.c for what is refused.
 */
bool lsl_phone_at(const char *s, size_t lo, size_t hi, size_t i, size_t *start,
                  size_t *end);

/* Append a span; offsets are line-relative. 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_plan_push(struct lsl_plan *p, size_t off, size_t len,
                                 uint8_t action, uint8_t cls, uint8_t flags);

/*
 * Scrub line[off..off+len) into p, treating both ends as boundaries.
 * Spans are appended in order. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_scrub_range(struct lsl_plan *p, const char *line,
                                   size_t off, size_t len);

/*
 * The query action on line[off..off+len): values of the rule's listed
 * parameters become spans, everything else is scrubbed. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_query_plan(const struct lsl_rule *r, struct lsl_plan *p,
                                  const char *line, size_t off, size_t len,
                                  bool esc);

/*
 * The `param` line for the query name name[0..len): compared without
 * regard to case, percent-decoded ("pass%77ord") and without an array
 * suffix ("token[]"). NULL if the rule does not list it.
 */
/* The param or segment line of `kind` for name[0..len) (lower case), or
 * NULL; lsl_rule_param_add appends p (taking p->name: freed on -ENOMEM). */
const struct rule_param *lsl_rule_param_listed(const struct lsl_rule *r,
                                               uint8_t kind, const char *name,
                                               size_t len);
LSL_MUST_CHECK int lsl_rule_param_add(struct lsl_rule *r, struct rule_param *p);

const struct rule_param *lsl_query_param(const struct lsl_rule *r,
                                         const char *name, size_t len);

/*
 * line[off..off+len) read as a bare query string, as the query action
 * reads one (listed, opaque and percent-encoded pairs), the rest
 * scrubbed. For the text rule's words that hold escapes. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_query_pairs(const struct lsl_rule *r, struct lsl_plan *p,
                                   const char *line, size_t off, size_t len);

/*
 * line[off..off+len) as free text the way a `format text` rule reads a
 * line (text.c): the scrubber (in `mode`, LSL_SCRUB_*: LSL_SCRUB_PHONES
 * for free text, with LSL_SCRUB_AGENT for a User-Agent), and the values
 * of r's `param` names written as pairs, opaque values, words with
 * escapes read as query pairs. Spans are appended in order. What a rule
 * leaves to no field (fail closed) and what it could not parse is read
 * so. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_text_range(const struct lsl_rule *r, struct lsl_plan *p,
                                  const char *line, size_t off, size_t len,
                                  unsigned mode);

/*
 * A Japanese label ("パスワード", "会員番号", "本名": jalabel.c) ending at
 * s[sep] before a ':' '=' '：' or '＝' there, not before lo: its value as
 * [*vs, *ve) and the label's class. lsl_ja_sep_in: s holds a fullwidth
 * separator.
 */
bool lsl_ja_label_at(const char *s, size_t lo, size_t sep, size_t hi,
                     size_t *vs, size_t *ve, uint8_t *cls);

/* Whether a label may end before s[sep]: every label ends in a byte of a
 * Japanese character or in "ID" (one blank may follow it). */
static inline bool lsl_ja_label_possible(const char *s, size_t lo, size_t sep)
{
    size_t e = sep > lo && s[sep - 1] == ' ' ? sep - 1 : sep;

    return e > lo && ((unsigned char)s[e - 1] >= 0x80 || s[e - 1] == 'D');
}
bool lsl_ja_sep_in(const char *s, size_t len);

/* The length of the pair separator at s[i]: 1 for ':' '=', 3 for '：' '＝',
 * 0 for none. */
size_t lsl_sep_len(const char *s, size_t i, size_t hi);

/* lsl_text_range on text in escape syntax `esc` (LSL_SPAN_F_JSON or
 * LSL_SPAN_F_XESC), read unescaped (lsl_decoded_run). 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_text_escaped(const struct lsl_rule *r,
                                    struct lsl_plan *p, unsigned esc,
                                    const char *line, size_t off, size_t len,
                                    unsigned mode);

/* Plan a line with a `format text` rule (text.c). 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_text_plan(const struct lsl_rule *r,
                                 struct lsl_matcher *m, const char *line,
                                 size_t len);

/* The scrub memo: one per matcher. 0 or -ENOMEM. Free wipes; NULL-safe. */
LSL_MUST_CHECK int lsl_scrub_memo_open(struct lsl_scrub_memo **out);
void lsl_scrub_memo_free(struct lsl_scrub_memo *memo);

/*
 * lsl_text_range(r, ..., mode), or with r NULL lsl_scrub(..., mode),
 * through the memo: the same spans, without scanning again a text planned
 * before. A memo serves one rule. memo may be NULL. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_scrub_memo_run(struct lsl_scrub_memo *memo,
                                      const struct lsl_rule *r,
                                      struct lsl_plan *p, const char *line,
                                      size_t off, size_t len, unsigned mode);

/* lsl_query_plan on unescaped text, scrubbing through the memo. */
LSL_MUST_CHECK int lsl_query_plan_memo(const struct lsl_rule *r,
                                       struct lsl_scrub_memo *memo,
                                       struct lsl_plan *p, const char *line,
                                       size_t off, size_t len);

/* True if fmt[0..len) uses only the directives lsl_time_parse knows. */
bool lsl_time_format_ok(const char *fmt, size_t len);

#endif
