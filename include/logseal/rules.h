/*
 * logseal — rules: which parts of a log line are identifiers.
 *
 * A rule file (rules/NAME.rules) holds one PCRE2 pattern with named groups
 * and, per group, an action. Matching a line yields a plan: a sorted list
 * of non-overlapping spans, each saying what to do with those bytes
 * (tokenize as a class, drop). Bytes outside the spans are copied as they
 * are. Lines no rule matches go through the scrubber, which plans every
 * IP-, e-mail- and UUID-shaped substring.
 *
 * Rule file syntax (one directive per line, '#' starts a comment line):
 *
 *   name     nginx-combined
 *   pattern  ^(?<client>\S+) - (?<ruser>\S+) \[(?<time>[^\]]+)\] ...
 *   time     time %d/%b/%Y:%H:%M:%S %z
 *   field    client  ip           # GROUP ACTION [CLASS]
 *   field    request query        # tokenize listed query params, scrub rest
 *   param    device_id id         # query parameter NAME CLASS
 *
 * Actions: ip (one address), iplist (comma/space separated addresses),
 * id, user, email, secret, name, phone (tokenize the whole group as that
 * class), query (URL: listed parameters tokenized, the rest scrubbed),
 * scrub (free text: the scrubber), keep (as is), drop (replaced by "-").
 * Groups without a field line are kept.
 *
 * Compiled rules are immutable and may be shared between threads; match
 * data (struct lsl_matcher) is per thread. No libuv, no I/O but loading.
 */
#ifndef LOGSEAL_RULES_H
#define LOGSEAL_RULES_H

#include "logseal/common.h"
#include "logseal/token.h"

enum lsl_span_action {
    LSL_ACT_TOKEN = 0, /* tokenize as `cls` */
    LSL_ACT_DROP,      /* replace with "-" */
};

struct lsl_plan_span {
    uint32_t off;
    uint32_t len;
    uint8_t action; /* enum lsl_span_action */
    uint8_t cls;    /* enum lsl_class */
    uint8_t flags;  /* LSL_SPAN_F_* */
};

/* An IPv4 address written with '-' for '.' inside a host name
 * (ec2-54-12-34-56.compute-1.amazonaws.com): tokenize it as dotted. */
#define LSL_SPAN_F_DASHED 1

/* A plan for one line. Reused across lines; owned by its matcher. */
struct lsl_plan {
    struct lsl_plan_span *spans;
    size_t count;
    size_t cap;
    bool matched;         /* a rule matched (false: scrubbed fallback) */
    bool limit_hit;       /* PCRE2 match/depth limit hit: fell back */
    struct lsl_span time; /* the time field, if the rule names one */
};

struct lsl_rule;

/* Where a rule file failed to load. */
struct lsl_rule_error {
    char path[256];
    unsigned line;     /* 1-based; 0 if not line-specific */
    char msg[256];
};

/*
 * Resolve NAME to a path: NAME if it contains '/' or ends in ".rules",
 * else DIR/NAME.rules for the first DIR of: $LOGSEAL_RULES_DIR, the
 * directory given, the installed rules directory. Writes into out.
 * 0 or LSL_ENOTFOUND.
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

/* Per-thread matching state: PCRE2 match data, JIT stack, the plan. */
struct lsl_matcher;

LSL_MUST_CHECK int lsl_matcher_open(struct lsl_matcher **out);
void lsl_matcher_free(struct lsl_matcher *m); /* NULL-safe */

/*
 * Plan line[0..len) (no trailing newline) with rule `r` (NULL: scrubber
 * only). The returned plan is owned by `m` and valid until its next call.
 * 0 or -ENOMEM. A line that does not match is not an error: plan->matched
 * is false and the plan holds the scrubber's spans.
 */
LSL_MUST_CHECK int lsl_rule_plan(const struct lsl_rule *r,
                                 struct lsl_matcher *m, const char *line,
                                 size_t len, const struct lsl_plan **plan);

/*
 * Scrubber only, appending spans to the matcher's current plan for
 * text[0..len) located at `base` within the line. Used for overlong-line
 * pieces. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_scrub_plan(struct lsl_matcher *m, const char *text,
                                  size_t len, const struct lsl_plan **plan);

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

#endif
