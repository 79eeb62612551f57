/*
 * logseal — rules: which parts of a log line are identifiers.
 *
 * A rule file (rules/NAME.rules) holds one PCRE2 pattern with named groups
 * and, per group, an action. Matching a line yields a plan: a sorted list
 * of non-overlapping spans, each saying what to do with those bytes
 * (tokenize as a class, drop). Bytes outside the spans are copied as they
 * are. Lines no rule matches go through the scrubber, which plans every
 * address, e-mail, device id and secret it recognizes (see
 * lsl_scrub_plan).
 *
 * Rule file syntax (one directive per line, '#' starts a comment line):
 *
 *   name     nginx-combined
 *   pattern  ^(?<client>\S+) - (?<ruser>\S+) \[(?<time>[^\]]+)\] ...
 *   time     time %d/%b/%Y:%H:%M:%S %z
 *   field    client  ip           # GROUP ACTION [CLASS]
 *   field    request query        # tokenize listed query params, scrub rest
 *   param    device_id id         # query parameter NAME CLASS
 *   match-limit 100000            # optional PCRE2 limits (defaults shown)
 *   depth-limit 10000
 *
 * `pattern` and `time` take the rest of the line verbatim (so '#' may
 * appear in them; trailing blanks are ignored); on other directives a word
 * starting with '#' begins a comment.
 *
 * Actions: ip (one address: the whole value, whatever it holds, but "-";
 * the port and brackets of "[a]:p" and "a.b.c.d:p" stay), iplist
 * (comma/space separated, each element as ip), id, user, email, secret,
 * name, phone (tokenize the whole group as that class), query (URL: listed
 * parameters tokenized, opaque values of other names as id, encoded pairs
 * read decoded, the rest scrubbed), scrub (free text: the scrubber),
 * useragent (free text keeping "Product/1.2.3.4" versions), keep (as is),
 * drop (replaced by "-").
 * Fail closed: every byte of a matched line that no field line claims
 * (groups without a field line, unnamed groups, the text between groups
 * and around the match) is read as free text, as a `format text` rule
 * reads a line (lsl_text_range: the scrubber and the rule's param
 * pairs); `keep` claims bytes explicitly. In a `format nginx` rule the
 * template's literals and variables of a fixed shape ($status,
 * $time_local, byte counts) cannot hold an identifier and are left as
 * they are. The optional CLASS of a
 * tokenizing action (ip ... phone) sets the class its tokens get instead
 * of the action's own. A group that did not take part in the match, or
 * whose text is empty (or "-" for id ... phone), produces no span.
 * Nested groups with fields give overlapping spans; those are merged into
 * one span covering both (DROP wins), so no byte of either is left raw.
 *
 * Field options (ip and iplist only): `mode=token|ip6|prefix|truncate`
 * sets lsl_plan_span.mode of the address spans (enum lsl_ip_mode; ip6
 * when the field says nothing, so the output holds an address where the
 * source did: what GoAccess's %h needs; addresses the scrubber finds in
 * free text stay tokens), and,
 * with mode=truncate, the prefix kept per family: `bits4=N` (1-32),
 * `bits6=N` (1-128), or `bits=N` (1-32) for both; a count beyond a
 * family's width is refused, so no address can be kept whole by mistake:
 *   field    client  ip mode=truncate bits4=24 bits6=48
 *
 * Other directives:
 *   type     GROUP string|number|time   # for structured output (fields)
 *   disclosure port=GROUP               # the client's source port
 *   format   regex|json|w3c|nginx|text  # how lines are read (regex)
 *
 * `format json`: each line is one JSON object; no pattern. `key PATH
 * ACTION [CLASS] [options]` plays the part of `field` for the value of a
 * key; PATH may be dotted ("a.b" for {"a":{"b":..}}); the elements of an
 * array share its path. `require KEY...` lists keys a line must hold to
 * count as matched. `time KEY FORMAT` names the time key. Spans cover the
 * contents of a string (never its quotes); a number given a token gets a
 * span with LSL_SPAN_F_QUOTE, so the output stays valid JSON with the
 * key order kept. Strings with backslash escapes are tokenized on their
 * raw bytes (not decoded) and scrubbed only between escapes. Values of
 * keys without a `key` line follow `unnamed scrub|drop|keep` (default
 * scrub: a string under a name holding key, token, secret, session,
 * cookie, authorization, passw or credential is one secret token, other
 * strings are read as free text with the param pairs). A line that is not
 * one valid JSON object (strict RFC 8259) is planned by the fallback with
 * matched false.
 *
 * `format w3c`: W3C extended logs (IIS, Wowza, CloudFront). The last
 * "#Fields:" line names the columns; `column NAME ACTION [CLASS] [options]`
 * sets a column's action; columns without one are scrubbed, except the time
 * columns. `time date+time FORMAT` takes the time from two adjacent columns (a
 * blank in FORMAT also matches a tab). Lines split on tabs if they hold one,
 * else on spaces. '#' lines are passed unchanged (other than #Remark-like free
 * text, which is scrubbed) and count as matched, with plan->meta set; a data
 * line before any header, or with another column count, is scrubbed with
 * matched false. The header in force is matcher state: see
 * lsl_matcher_set_header and lsl_rule_is_header.
 *
 * `format text`: every line matches; the line is free text, and the value
 * of a `param` name written as a pair (name=value, name: value,
 * "name":"value") is tokenized as the param's class, an opaque value of
 * any name as id; words with percent escapes are read as query pairs.
 * No field, type, time or disclosure lines.
 *
 * Free text (`scrub`/`useragent` fields, text rules and lines no rule
 * matched, not query strings) also has Japanese phone numbers tokenized as
 * class phone.
 *
 * Compiled rules are immutable and may be shared between threads; match
 * data (struct lsl_matcher) is per thread. No libuv, no I/O but loading
 * (and listing the rules directory for lsl_rule_detect).
 */
#ifndef LOGSEAL_RULES_H
#define LOGSEAL_RULES_H

#include "logseal/common.h"
#include "logseal/token.h"

enum lsl_span_action {
    LSL_ACT_TOKEN = 0, /* tokenize as `cls` */
    LSL_ACT_DROP,      /* replace with "-" */
};

/*
 * An IPv4 address written with '-' instead of '.' inside a host name
 * (ec2-54-12-34-56.compute-1.amazonaws.com, host-1-2-3-4.example.net,
 * p1-2-3-4.foo): the span covers the four numbers and their dashes only;
 * the consumer replaces '-' by '.' before tokenizing.
 */
#define LSL_SPAN_F_DASHED 1

/*
 * A JSON number (or a literal) replaced by a token: the consumer writes
 * the token (or "-") between double quotes, so the line stays valid JSON.
 */
#define LSL_SPAN_F_QUOTE 2

/*
 * The span's bytes are JSON string text holding an escape ("\u6e21\u8fba",
 * "\uff10\uff19\uff10..."): the consumer tokenizes the text they stand
 * for (lsl_json_unescape, controls kept as written), so the value gets
 * the token of its unescaped spelling.
 */
#define LSL_SPAN_F_JSON 4

/*
 * The span's bytes hold nginx's or Apache's "\xHH" escapes (a text-format
 * access log's value: "\xEF\xBC\x90..."): the consumer tokenizes the
 * bytes they stand for (lsl_xesc_decode).
 */
#define LSL_SPAN_F_XESC 8

/* Spans of a plan are sorted by offset and never overlap. */
struct lsl_plan_span {
    uint32_t off;
    uint32_t len;
    uint8_t action; /* enum lsl_span_action */
    uint8_t cls;    /* enum lsl_class */
    uint8_t flags;  /* LSL_SPAN_F_* */
    uint8_t mode;   /* enum lsl_ip_mode, for class ip */
    /* Prefix kept by LSL_IPMODE_TRUNCATE, per family (0: the default);
     * never beyond the family's width (32, 128). */
    uint8_t bits4;
    uint8_t bits6;
};

/* How an ip span is written (rule: `field client ip mode=ip6`). */
enum lsl_ip_mode {
    LSL_IPMODE_TOKEN = 0, /* class-prefixed token (default) */
    LSL_IPMODE_IP6,       /* token as an fd00::/8 address */
    LSL_IPMODE_PREFIX,    /* keyed prefix-preserving address */
    LSL_IPMODE_TRUNCATE,  /* first bits4/bits6 kept, rest zero; no vault */
};

/* A named group of the matched rule, for structured (JSON lines) output. */
enum lsl_field_type {
    LSL_FIELD_STRING = 0,
    LSL_FIELD_NUMBER,
    LSL_FIELD_TIME,
};

struct lsl_plan_field {
    const char *name; /* the rule's group name; static while the rule lives */
    uint32_t off;
    uint32_t len;
    uint8_t type; /* enum lsl_field_type */
    bool escaped; /* text of a JSON string: already JSON-escaped */
    bool array;   /* a JSON source's array element: one of a list */
    /* The shared name of the field (a `canonical` line, "time" for the
     * rule's time), static; NULL when it has none. Its type: canon_type. */
    const char *canon;
    uint8_t canon_type;
};

/*
 * The shared column names of JSON lines output (`canonical GROUP NAME`):
 * time, client_ip, client_port, user, request, method, path, query,
 * protocol, status, bytes, referer, user_agent, host, request_id,
 * forwarded_for, server_ip, server_port, uri (path and query). status,
 * bytes, client_port and server_port are integers. Returns the static name and
 * sets *type, or NULL if name[0..len) is none of them.
 */
const char *lsl_canon_find(const char *name, size_t len, uint8_t *type);

/* A plan for one line. Reused across lines; owned by its matcher. */
struct lsl_plan {
    struct lsl_plan_span *spans;
    size_t count;
    size_t cap;
    bool matched;   /* a rule matched (false: scrubbed fallback) */
    bool limit_hit; /* PCRE2 match/depth limit hit: fell back */
    /* A line that carries no record, only about the log itself (a W3C
     * '#' directive such as "#Fields:"): matched, written unchanged as
     * text, but no row of structured output. */
    bool meta;
    struct lsl_span time; /* the time field, if the rule names one */
    /* Every named group that took part in the match, in pattern order;
     * filled only when lsl_matcher_want_fields(m, true) was called. */
    struct lsl_plan_field *fields;
    size_t nfields;
    size_t fields_cap;
};

struct lsl_rule;

/* Where a rule file failed to load. */
struct lsl_rule_error {
    char path[256];
    unsigned line; /* 1-based; 0 if not line-specific */
    char msg[256];
};

/* At most this many directories are searched for rules. */
#define LSL_RULE_DIRS_MAX 4

/*
 * The directories searched for rule files, in order: $LOGSEAL_RULES_DIR
 * (when set and not empty), `dir` (when not NULL), the source tree's
 * rules/ when the running program lives in the build directory it was
 * built in (an uninstalled binary), and the installed rules directory.
 * Fills out[] (static or environment storage) and returns their count.
 */
size_t lsl_rule_dirs(const char *dir, const char *out[LSL_RULE_DIRS_MAX]);

/*
 * The same list as text for messages ("A, B, C"), with a note when
 * $LOGSEAL_RULES_DIR is not set. Always terminated; cut to `cap`.
 */
void lsl_rule_dirs_text(const char *dir, char *buf, size_t cap);

/*
 * The *.rules file names of `dir` (at most 256), sorted. *out (NULL or
 * the names found) is owned by the caller whatever the result: free it
 * with lsl_rule_names_free. 0, -errno or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_rule_dir_list(const char *dir, char ***out, size_t *n);

/* Free what lsl_rule_dir_list returned. NULL-safe. */
void lsl_rule_names_free(char **names, size_t n);

/*
 * Resolve NAME to a path: NAME if it contains '/' or ends in ".rules",
 * else DIR/NAME.rules for the first readable one of lsl_rule_dirs(dir).
 * Writes into out. 0, LSL_ENOTFOUND, or -ENAMETOOLONG if NAME itself
 * does not fit.
 */
LSL_MUST_CHECK int lsl_rule_resolve(const char *name, const char *dir,
                                    char *out, size_t cap);

/*
 * Load and compile (with JIT where available) a rule file. On failure
 * returns LSL_ERULE / -errno and fills *err (optional) with file, line and
 * message. *out owned by the caller: lsl_rule_free().
 */
LSL_MUST_CHECK int lsl_rule_load(struct lsl_rule **out, const char *path,
                                 struct lsl_rule_error *err);

/* Same, from text in memory; `origin` names it in errors. */
LSL_MUST_CHECK int lsl_rule_parse(struct lsl_rule **out, const char *text,
                                  size_t len, const char *origin,
                                  struct lsl_rule_error *err);

void lsl_rule_free(struct lsl_rule *r); /* NULL-safe */

const char *lsl_rule_name(const struct lsl_rule *r);

/* The rule's time format (strftime-like, see lsl_time_parse), or NULL. */
const char *lsl_rule_time_format(const struct lsl_rule *r);

/*
 * What a disclosure request needs that the rule's lines lack: writes a
 * "; "-separated list ("no source port; no time with second precision",
 * also "no client address", "no time") into buf (always NUL-terminated
 * when cap > 0) and returns how many gaps there are (0: none).
 */
unsigned lsl_rule_disclosure_gaps(const struct lsl_rule *r, char *buf,
                                  size_t cap);

/*
 * The warning `pipe`, `run` and `rules test` log for those gaps: "rule
 * NAME cannot fully answer a disclosure request: GAPS" into buf (always
 * NUL-terminated when cap > 0; empty when there is no gap). Returns the
 * number of gaps, as lsl_rule_disclosure_gaps.
 */
unsigned lsl_rule_disclosure_warning(const struct lsl_rule *r, char *buf,
                                     size_t cap);

/*
 * True if `line` is a header line that changes how r reads the lines
 * after it (the "#Fields:" line of a w3c rule). The pipeline remembers
 * the last one per source and hands it to the batch that follows.
 */
bool lsl_rule_is_header(const struct lsl_rule *r, const char *line, size_t len);

/* Per-thread matching state: PCRE2 match data, JIT stack, the plan. */
struct lsl_matcher;

LSL_MUST_CHECK int lsl_matcher_open(struct lsl_matcher **out);
void lsl_matcher_free(struct lsl_matcher *m); /* NULL-safe */

/*
 * Ask lsl_rule_plan to fill plan->fields (off by default: it costs a little
 * per line). Regex rules: every named group that took part, in group-number
 * order, named as in the pattern. JSON rules: every value of a key the rule
 * names (a `key`, `time` or `type` line), in line order, named by the rule's
 * key path. W3C rules: every column, named by the `#Fields:` header; those
 * names live in the matcher and stay valid until the next header; the two
 * adjacent columns of a `time date+time` directive are one field "time"
 * spanning both (so it parses with the rule's time format), in the place of
 * the first. Types: the time group/key/columns are LSL_FIELD_TIME, JSON
 * numbers and `type ... number` groups LSL_FIELD_NUMBER, the rest
 * LSL_FIELD_STRING. A JSON string field is the raw contents between the
 * quotes, still JSON-escaped.
 */
void lsl_matcher_want_fields(struct lsl_matcher *m, bool on);

/*
 * Give the matcher the `#Fields:` line (text[0..len), without newline) in
 * force before the next line it plans, for w3c rules; len 0 forgets it.
 * A w3c rule also takes every "#Fields:" line it plans as the new header.
 * 0 or -ENOMEM (then no header is in force).
 */
LSL_MUST_CHECK int lsl_matcher_set_header(struct lsl_matcher *m,
                                          const char *text, size_t len);

/*
 * Plan line[0..len) (no trailing newline) with rule `r` (NULL: scrubber
 * only). The returned plan is owned by `m` and valid until its next call.
 * 0, -ENOMEM, or -EOVERFLOW if len does not fit span offsets (>= 4 GiB).
 * A line that does not match is not an error: plan->matched is false and
 * the plan holds the scrubber's spans. A line on which PCRE2 hits its
 * match, depth or JIT stack limit is planned the same way, with
 * plan->limit_hit set.
 */
LSL_MUST_CHECK int lsl_rule_plan(const struct lsl_rule *r,
                                 struct lsl_matcher *m, const char *line,
                                 size_t len, const struct lsl_plan **plan);

/*
 * Scrubber only: replaces the matcher's plan with the scrubber's spans for
 * text[0..len), offsets relative to `text` (matched and limit_hit false,
 * no time). Used for overlong-line pieces, each planned and written on its
 * own. 0, -ENOMEM or -EOVERFLOW.
 *
 * The scrubber takes: IPv4 in dotted form (octets 0-255, not glued to
 * letters or digits, not part of a run of five or more dotted numbers such
 * as version strings 1.2.3.4.5); IPv6 (checked with lsl_ip_valid; with a
 * %zone; inside [..] the span is the address only; never "::" alone or
 * times like 12:30:45); dashed IPv4 inside host names (LSL_SPAN_F_DASHED);
 * URL hosts in inet_aton spellings (0xC0A80001); e-mail addresses (class
 * email); UUIDs 8-4-4-4-12, MAC addresses and IMEIs (class id); JWTs and
 * Bearer/Basic credentials (class secret); a URL's user (class user, or
 * email) and password (class secret). Percent-encoded text is read
 * decoded, each span covering the raw bytes it came from.
 */
LSL_MUST_CHECK int lsl_scrub_plan(struct lsl_matcher *m, const char *text,
                                  size_t len, const struct lsl_plan **plan);

/* ---- auto-detection ---- */

/* How much of an input `--rule auto` looks at. */
#define LSL_DETECT_LINES 20
#define LSL_DETECT_BYTES (64u * 1024)

/* The rule --rule auto falls back to (LSL_DETECT_FALLBACK.rules). */
#define LSL_DETECT_FALLBACK "text"

struct lsl_rule_detect {
    char chosen[64];  /* name of the rule taken */
    unsigned matched; /* sample lines it matched */
    unsigned counted; /* sample lines that count (not empty, not '#') */
    char tried[512];  /* rule names tried, ", "-separated */
    bool fallback;    /* no rule fit: chosen is the text rule */
};

/*
 * Pick the rule for a sample of an input: the complete lines of
 * sample[0..len) (at most LSL_DETECT_LINES of them; a last line without
 * newline counts only if `at_eof`). Every *.rules file of the rules
 * directory (the first that exists of lsl_rule_dirs(dir)) is tried in file-name
 * order, each on the whole sample with a fresh matcher; the first to match at
 * least 80% of the counted lines is loaded into *out (owned by the caller).
 * Files that do not load are skipped (named in res->tried with " (invalid)"),
 * and so are `format text` rules, which match anything. When none fits (or
 * no line counted), the directory's text rule (LSL_DETECT_FALLBACK) is loaded
 * instead and res->fallback set: callers warn that every line will be
 * scrubbed. 0, LSL_ENOTFOUND (no rule matched enough and there is no text
 * rule; res says what was tried), -ENOENT (no rules directory) or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_rule_detect(struct lsl_rule **out, const char *dir,
                                   const char *sample, size_t len, bool at_eof,
                                   struct lsl_rule_detect *res);

/* ---- time fields ---- */

/*
 * Parse `s` with a strptime-like format: %d %m %b %Y %H %M %S %z (+hhmm,
 * +hh:mm or Z), %s (unix seconds, optional fraction), %f (optional
 * fraction after seconds), %T (= %H:%M:%S), %% and literal characters.
 * The result is unix seconds, UTC. Locale-independent.
 * 0 or -EINVAL.
 */
LSL_MUST_CHECK int lsl_time_parse(const char *fmt, const char *s, size_t len,
                                  int64_t *out);

/* A parsed time: unix seconds, and the fraction the text held. */
struct lsl_time {
    int64_t sec;
    uint32_t nsec;  /* the fraction in nanoseconds (digits past 9 dropped) */
    uint8_t digits; /* fraction digits written in the text, at most 9 */
};

/*
 * lsl_time_parse keeping the fraction of a second, and taking `zone`
 * (seconds east of UTC) as the offset of a text whose format has no %z
 * and no %s (W3C writes UTC, HAProxy and others local time without a
 * zone). 0 or -EINVAL.
 */
LSL_MUST_CHECK int lsl_time_parse_at(const char *fmt, const char *s, size_t len,
                                     int64_t zone, struct lsl_time *out);

/*
 * A fixed UTC offset as `--timezone` and the `timezone` key take it: "Z",
 * "UTC", "+09:00", "+0900", "-05" (hours at most 14). Seconds east of UTC
 * into *off. 0 or -EINVAL. Zone names (with their daylight saving rules)
 * are not read: a log whose offset changes should be written in UTC.
 */
LSL_MUST_CHECK int lsl_tz_parse(const char *s, int64_t *off);

#endif
