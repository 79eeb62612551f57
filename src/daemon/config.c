/*
 * The daemon's configuration file (format in include/logseal/config.h).
 *
 * A line-by-line parser driven by one key table: each key names its
 * section, a setter that checks and stores the value, and where in the
 * struct it goes. Checks that need a whole section (type-specific keys)
 * run when the section ends; checks that need the whole file (required
 * keys) run at the end. Invariants: every error message starts with
 * "FILE:LINE:" (or "FILE:" when no line applies) and names the key; on
 * error nothing is returned to the caller.
 */
#include "logseal/config.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "config_internal.h"
#include "logseal/log.h"
#include "logseal/sink.h"

#define MAX_CONFIG_BYTES (1u << 20)

/* SECT_SKIP: under a section header that was refused; its keys are not
 * checked (each would only repeat that error). */
enum sect { SECT_NONE, SECT_DAEMON, SECT_SOURCE, SECT_SKIP, SECT_KAFKA };

struct parser;

struct key_def {
    const char *name;
    enum sect sect;
    int (*set)(struct parser *p, const struct key_def *k, const char *v);
    size_t off; /* field offset in lsl_config or lsl_source_conf */
    size_t cap; /* string fields: size of the array */
};

struct parser {
    struct lsl_config *c;
    struct lsl_config_error *e;
    const char *path;
    unsigned line;
    enum sect sect;
    unsigned daemon_line;
    unsigned seen[32]; /* line of each key in the current section */
};

static int fail(struct parser *p, const char *fmt, ...) LSL_PRINTF(2, 3);

/* Record one error (the parse goes on); returns LSL_ECONFIG. */
static int fail(struct parser *p, const char *fmt, ...)
{
    struct lsl_config_error *e = p->e;
    char *msg;
    size_t cap;
    va_list ap;
    int n;

    if (e->count++ >= LSL_CONFIG_ERRORS_MAX)
        return LSL_ECONFIG;
    msg = e->list[e->kept].msg;
    cap = sizeof(e->list[0].msg);
    if (p->line)
        n = snprintf(msg, cap, "%s:%u: ", p->path, p->line);
    else
        n = snprintf(msg, cap, "%s: ", p->path);
    if (n < 0 || (size_t)n >= cap)
        n = 0;
    va_start(ap, fmt);
    vsnprintf(msg + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
    e->list[e->kept++].line = p->line;
    if (e->kept == 1) {
        e->line = p->line;
        memcpy(e->msg, msg, sizeof(e->msg));
    }
    return LSL_ECONFIG;
}

static struct lsl_source_conf *cur_source(struct parser *p)
{
    return &p->c->sources[p->c->nsources - 1];
}

static void *field(struct parser *p, const struct key_def *k)
{
    char *base = k->sect == SECT_DAEMON  ? (char *)p->c
                 : k->sect == SECT_KAFKA ? (char *)p->c
                                         : (char *)cur_source(p);

    return base + k->off;
}

static int set_str(struct parser *p, const struct key_def *k, const char *v)
{
    if (!v[0])
        return fail(p, "key '%s': expected a value", k->name);
    if (strlen(v) >= k->cap)
        return fail(p, "key '%s': value too long (at most %zu bytes)", k->name,
                    k->cap - 1);
    memcpy(field(p, k), v, strlen(v) + 1);
    return 0;
}

static int set_path(struct parser *p, const struct key_def *k, const char *v)
{
    if (v[0] != '/')
        return fail(p, "key '%s': expected an absolute path", k->name);
    return set_str(p, k, v);
}

/* A decimal number and an optional one-letter unit from `units`. */
static int parse_scaled(const char *v, const char *units, const uint64_t *mult,
                        uint64_t *out)
{
    uint64_t n = 0, m = 1;
    const char *s = v;

    if (!isdigit((unsigned char)*s))
        return LSL_ECONFIG;
    for (; isdigit((unsigned char)*s); s++) {
        if (n > (UINT64_MAX - 9) / 10)
            return LSL_ECONFIG;
        n = n * 10 + (uint64_t)(*s - '0');
    }
    if (*s) {
        const char *u = strchr(units, toupper((unsigned char)*s));

        if (!u || s[1])
            return LSL_ECONFIG;
        m = mult[u - units];
    }
    if (n == 0 || n > UINT64_MAX / m)
        return LSL_ECONFIG;
    *out = n * m;
    return 0;
}

static int set_size(struct parser *p, const struct key_def *k, const char *v)
{
    static const uint64_t mult[] = {1u << 10, 1u << 20, 1u << 30};

    if (parse_scaled(v, "KMG", mult, field(p, k)))
        return fail(p,
                    "key '%s': expected a size above 0 such as 64M, "
                    "512K or a byte count, not '%s'",
                    k->name, v);
    return 0;
}

static int set_duration(struct parser *p, const struct key_def *k,
                        const char *v)
{
    static const uint64_t mult[] = {1, 60, 3600, 86400};

    if (parse_scaled(v, "SMHD", mult, field(p, k)))
        return fail(p,
                    "key '%s': expected a duration above 0 such as "
                    "30s, 5m, 1h or a number of seconds, not '%s'",
                    k->name, v);
    return 0;
}

/* Milliseconds: "250ms", or a duration in seconds as set_duration takes. */
static int set_wait(struct parser *p, const struct key_def *k, const char *v)
{
    static const uint64_t mult[] = {1, 60, 3600};
    size_t n = strlen(v);
    uint64_t ms = 0;
    int rc;

    if (n > 2 && strcmp(v + n - 2, "ms") == 0) {
        char num[24];

        rc = n - 2 < sizeof(num) ? 0 : LSL_ECONFIG;
        if (rc == 0) {
            memcpy(num, v, n - 2);
            num[n - 2] = '\0';
            rc = parse_scaled(num, "", mult, &ms);
        }
    } else {
        rc = parse_scaled(v, "SMH", mult, &ms);
        ms = rc == 0 && ms <= 3600 ? ms * 1000 : UINT64_MAX;
    }
    if (rc || ms > 3600 * 1000)
        return fail(p,
                    "key '%s': expected a duration above 0 and at most 1h "
                    "such as 250ms, 2s or a number of seconds, not '%s'",
                    k->name, v);
    *(unsigned *)field(p, k) = (unsigned)ms;
    return 0;
}

static int set_level(struct parser *p, const struct key_def *k, const char *v)
{
    if (strlen(v) != 1 || v[0] < '1' || v[0] > '9')
        return fail(p, "key '%s': expected a gzip level 1-9, not '%s'", k->name,
                    v);
    p->c->level = v[0] - '0';
    return 0;
}

static int set_log_level(struct parser *p, const struct key_def *k,
                         const char *v)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};

    for (size_t i = 0; i < LSL_ARRAY_SIZE(names); i++) {
        if (strcmp(v, names[i]) == 0) {
            p->c->log_level = (int)i;
            return 0;
        }
    }
    return fail(p,
                "key '%s': expected error, warning, info or debug, "
                "not '%s'",
                k->name, v);
}

static int set_metrics(struct parser *p, const struct key_def *k, const char *v)
{
    char host[64];
    unsigned port;

    if (v[0] && lsl_config_loopback(v, true, host, sizeof(host), &port))
        return fail(p,
                    "key '%s': expected a loopback address "
                    "127.x.x.x:PORT or [::1]:PORT (or \"\" for none), "
                    "not '%s'",
                    k->name, v);
    snprintf(p->c->metrics, sizeof(p->c->metrics), "%s", v);
    return 0;
}

static int set_format(struct parser *p, const struct key_def *k, const char *v)
{
    if (lsl_out_format_parse(v, &p->c->format))
        return fail(p, "key '%s': expected text or jsonl, not '%s'", k->name,
                    v);
    return 0;
}

static int set_ip_mode(struct parser *p, const struct key_def *k, const char *v)
{
    if (lsl_ip_override_parse(v, &p->c->ip))
        return fail(
            p,
            "key '%s': expected token, ip6, prefix or "
            "truncate[/B4[,B6]] (B4 1-32 for IPv4, and IPv6 too when alone; B6 "
            "1-128), not '%s'",
            k->name, v);
    return 0;
}

static int set_unparsed(struct parser *p, const struct key_def *k,
                        const char *v)
{
    if (lsl_unparsed_parse(v, &p->c->unparsed))
        return fail(p, "key '%s': expected scrub, redact or drop, not '%s'",
                    k->name, v);
    return 0;
}

static int set_columns(struct parser *p, const struct key_def *k, const char *v)
{
    if (lsl_columns_parse(v, &p->c->columns))
        return fail(p, "key '%s': expected canonical or source, not '%s'",
                    k->name, v);
    return 0;
}

static int set_timezone(struct parser *p, const struct key_def *k,
                        const char *v)
{
    if (lsl_tz_parse(v, &p->c->zone))
        return fail(p,
                    "key '%s': expected Z, UTC or an offset such as "
                    "+09:00, not '%s'",
                    k->name, v);
    return 0;
}

static int set_host(struct parser *p, const struct key_def *k, const char *v)
{
    if (!lsl_host_valid(v))
        return fail(p,
                    "key '%s': expected a host id of 1-%d characters of "
                    "A-Z a-z 0-9 . _ - (starting with a letter or digit, "
                    "no '..'), not '%.80s'",
                    k->name, LSL_HOST_MAX, v);
    return set_str(p, k, v);
}

static int set_layout(struct parser *p, const struct key_def *k, const char *v)
{
    if (strcmp(v, "default") == 0)
        p->c->layout = LSL_LAYOUT_DEFAULT;
    else if (strcmp(v, "hive") == 0)
        p->c->layout = LSL_LAYOUT_HIVE;
    else
        return fail(p, "key '%s': expected default or hive, not '%s'", k->name,
                    v);
    return 0;
}

static int set_type(struct parser *p, const struct key_def *k, const char *v)
{
    struct lsl_source_conf *s = cur_source(p);

    if (strcmp(v, "tail") == 0)
        s->type = LSL_SRC_TAIL;
    else if (strcmp(v, "stdin") == 0)
        s->type = LSL_SRC_STDIN;
    else if (strcmp(v, "syslog") == 0)
        s->type = LSL_SRC_SYSLOG;
    else
        return fail(p, "key '%s': expected tail, stdin or syslog, not '%s'",
                    k->name, v);
    return 0;
}

static int set_start(struct parser *p, const struct key_def *k, const char *v)
{
    struct lsl_source_conf *s = cur_source(p);

    if (strcmp(v, "end") == 0)
        s->start_at_end = true;
    else if (strcmp(v, "beginning") == 0)
        s->start_at_end = false;
    else
        return fail(p, "key '%s': expected end or beginning, not '%s'", k->name,
                    v);
    return 0;
}

static int set_sink(struct parser *p, const struct key_def *k, const char *v)
{
    struct lsl_source_conf *s = cur_source(p);

    if (strcmp(v, "segments") == 0)
        s->sink = LSL_SINK_SEGMENTS;
    else if (strcmp(v, "stdout") == 0)
        s->sink = LSL_SINK_STDOUT;
    else if (strcmp(v, "kafka") == 0)
        s->sink = LSL_SINK_KAFKA;
    else
        return fail(p, "key '%s': expected segments, stdout or kafka, not '%s'",
                    k->name, v);
    return 0;
}

static int set_kafka_key(struct parser *p, const struct key_def *k,
                         const char *v)
{
    if (lsl_config_kafka_key(v, &p->c->kafka.key))
        return fail(p,
                    "key '%s': expected host/source, source, host or none, "
                    "not '%s'",
                    k->name, v);
    return 0;
}

/* Its value is never repeated in a message: it may be a secret. */
static int set_kafka_prop(struct parser *p, const char *name, const char *v)
{
    unsigned first = 0;
    int rc = lsl_config_kafka_prop(&p->c->kafka, name, v, p->line, &first);

    if (rc == LSL_ECONFIG)
        return fail(p, "key 'kafka.%s': %s (first on line %u)", name,
                    first ? "given twice" : "expected a property name", first);
    return rc;
}

static int set_listen(struct parser *p, const struct key_def *k, const char *v)
{
    size_t sun_cap = sizeof(((struct sockaddr_un *)0)->sun_path);
    size_t len = strlen(v);
    char host[64];
    unsigned port;

    if (len > 5 && len - 5 < sun_cap && memcmp(v, "unix:/", 6) == 0)
        return set_str(p, k, v);
    if (strncmp(v, "udp:", 4) == 0 &&
        lsl_config_loopback(v + 4, false, host, sizeof(host), &port) == 0)
        return set_str(p, k, v);
    return fail(p,
                "key '%s': expected unix:/ABSOLUTE/PATH or "
                "udp:127.x.x.x:PORT (loopback only), not '%s'",
                k->name, v);
}

#define DKEY(n, fn, f)                                                         \
    {                                                                          \
        n, SECT_DAEMON, fn, offsetof(struct lsl_config, f),                    \
            sizeof(((struct lsl_config *)0)->f)                                \
    }
#define KKEY(n, fn, f)                                                         \
    {                                                                          \
        n, SECT_KAFKA, fn, offsetof(struct lsl_config, kafka.f),               \
            sizeof(((struct lsl_config *)0)->kafka.f)                          \
    }
#define SKEY(n, fn, f)                                                         \
    {                                                                          \
        n, SECT_SOURCE, fn, offsetof(struct lsl_source_conf, f),               \
            sizeof(((struct lsl_source_conf *)0)->f)                           \
    }

/* Keys by their place in the table; the checks name some of them. */
enum {
    K_KEYS,
    K_VAULT,
    K_STATE,
    K_OUTPUT,
    K_LEVEL,
    K_SEGMENT_SIZE,
    K_SEGMENT_AGE,
    K_METRICS,
    K_LOG_LEVEL,
    K_TYPE,
    K_PATH,
    K_START,
    K_LISTEN,
    K_RULE,
    K_SINK,
    K_FORMAT,
    K_IP_MODE,
    K_ROTATE_WAIT,
    K_UNPARSED,
    K_COLUMNS,
    K_TIMEZONE,
    K_HOST,
    K_LAYOUT,
    K_BROKERS,
    K_TOPIC,
    K_CHECKPOINT_TOPIC,
    K_KEY,
    K_TIMEOUT,
    K_COUNT
};

static const struct key_def keys[K_COUNT] = {
    [K_KEYS] = DKEY("keys", set_path, keys),
    [K_VAULT] = DKEY("vault", set_path, vault),
    [K_STATE] = DKEY("state", set_path, state),
    [K_OUTPUT] = DKEY("output", set_path, output),
    [K_LEVEL] = DKEY("level", set_level, level),
    [K_SEGMENT_SIZE] = DKEY("segment_size", set_size, segment_size),
    [K_SEGMENT_AGE] = DKEY("segment_age", set_duration, segment_age),
    [K_METRICS] = DKEY("metrics", set_metrics, metrics),
    [K_LOG_LEVEL] = DKEY("log_level", set_log_level, log_level),
    [K_TYPE] = SKEY("type", set_type, type),
    [K_PATH] = SKEY("path", set_path, path),
    [K_START] = SKEY("start", set_start, start_at_end),
    [K_LISTEN] = SKEY("listen", set_listen, listen),
    [K_RULE] = SKEY("rule", set_str, rule),
    [K_SINK] = SKEY("sink", set_sink, sink),
    [K_FORMAT] = DKEY("format", set_format, format),
    [K_IP_MODE] = DKEY("ip_mode", set_ip_mode, ip),
    [K_ROTATE_WAIT] = SKEY("rotate_wait", set_wait, rotate_wait_ms),
    [K_UNPARSED] = DKEY("unparsed", set_unparsed, unparsed),
    [K_COLUMNS] = DKEY("columns", set_columns, columns),
    [K_TIMEZONE] = DKEY("timezone", set_timezone, zone),
    [K_HOST] = DKEY("host", set_host, host),
    [K_LAYOUT] = DKEY("layout", set_layout, layout),
    [K_BROKERS] = KKEY("brokers", set_str, brokers),
    [K_TOPIC] = KKEY("topic", set_str, topic),
    [K_CHECKPOINT_TOPIC] = KKEY("checkpoint_topic", set_str, checkpoint_topic),
    [K_KEY] = KKEY("key", set_kafka_key, key),
    [K_TIMEOUT] = KKEY("timeout", set_wait, timeout_ms),
};

static int unknown_key(struct parser *p, const char *key)
{
    char list[256] = "";
    size_t n = 0;

    for (size_t i = 0; i < LSL_ARRAY_SIZE(keys); i++) {
        if (keys[i].sect == p->sect && n < sizeof(list))
            n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
                                  n ? ", " : "", keys[i].name);
    }
    return fail(p, "unknown key '%s' in [%s]; expected one of: %s%s", key,
                p->sect == SECT_DAEMON  ? "daemon"
                : p->sect == SECT_KAFKA ? "kafka"
                                        : "source NAME",
                list, p->sect == SECT_KAFKA ? ", kafka.PROPERTY" : "");
}

static int set_key(struct parser *p, const char *key, const char *val)
{
    if (p->sect == SECT_SKIP)
        return 0;
    if (p->sect == SECT_NONE)
        return fail(p,
                    "key '%s' outside a section; put it under [daemon] "
                    "or [source NAME]",
                    key);
    for (size_t i = 0; i < LSL_ARRAY_SIZE(keys); i++) {
        if (keys[i].sect != p->sect || strcmp(keys[i].name, key) != 0)
            continue;
        if (p->seen[i])
            return fail(p,
                        "key '%s' given twice in this section (first on "
                        "line %u)",
                        key, p->seen[i]);
        p->seen[i] = p->line;
        return keys[i].set(p, &keys[i], val);
    }
    if (p->sect == SECT_KAFKA && strncmp(key, "kafka.", 6) == 0)
        return set_kafka_prop(p, key + 6, val);
    return unknown_key(p, key);
}

/* A key that the source's type does not use is a mistake worth naming. */
static int check_type_key(struct parser *p, int k, bool wanted, bool required,
                          const char *type)
{
    unsigned at = p->line;
    int rc = 0;

    if (p->seen[k] && !wanted) {
        p->line = p->seen[k];
        rc = fail(p, "key '%s' does not apply to a %s source", keys[k].name,
                  type);
    } else if (!p->seen[k] && wanted && required) {
        p->line = cur_source(p)->line;
        rc = fail(p, "[source %s]: key '%s' is required for a %s source",
                  cur_source(p)->name, keys[k].name, type);
    }
    p->line = at;
    return rc;
}

static int end_section(struct parser *p)
{
    static const char *const tnames[] = {"tail", "stdin", "syslog"};
    struct lsl_source_conf *s;
    int rc;

    if (p->sect != SECT_SOURCE)
        return 0;
    s = cur_source(p);
    if (!p->seen[K_TYPE]) {
        unsigned at = p->line;

        p->line = s->line;
        rc = fail(p,
                  "[source %s]: key 'type' is required (tail, stdin or "
                  "syslog)",
                  s->name);
        p->line = at;
        return rc;
    }
    rc = check_type_key(p, K_PATH, s->type == LSL_SRC_TAIL, true,
                        tnames[s->type]);
    rc |= check_type_key(p, K_START, s->type == LSL_SRC_TAIL, false,
                         tnames[s->type]);
    rc |= check_type_key(p, K_ROTATE_WAIT, s->type == LSL_SRC_TAIL, false,
                         tnames[s->type]);
    rc |= check_type_key(p, K_LISTEN, s->type == LSL_SRC_SYSLOG, true,
                         tnames[s->type]);
    return rc ? LSL_ECONFIG : 0;
}

static bool name_ok(const char *n, size_t len)
{
    if (len == 0 || len >= sizeof(((struct lsl_source_conf *)0)->name))
        return false;
    if ((len == 1 && n[0] == '.') || (len == 2 && n[0] == '.' && n[1] == '.'))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char)n[i]) && !strchr("_.-", n[i]))
            return false;
    }
    return true;
}

static int add_source(struct parser *p, const char *name, size_t len)
{
    struct lsl_config *c = p->c;
    struct lsl_source_conf *s;

    if (!name_ok(name, len))
        return fail(p,
                    "source name '%.*s': expected 1-63 characters of "
                    "A-Z a-z 0-9 _ . -",
                    (int)(len > 64 ? 64 : len), name);
    for (size_t i = 0; i < c->nsources; i++) {
        if (strlen(c->sources[i].name) == len &&
            memcmp(c->sources[i].name, name, len) == 0)
            return fail(p,
                        "source name '%.*s' used twice (first on line "
                        "%u)",
                        (int)len, name, c->sources[i].line);
    }
    s = realloc(c->sources, (c->nsources + 1) * sizeof(*s));
    if (!s)
        return -ENOMEM;
    c->sources = s;
    s = &c->sources[c->nsources++];
    memset(s, 0, sizeof(*s));
    memcpy(s->name, name, len);
    s->start_at_end = true;
    s->sink = LSL_SINK_SEGMENTS;
    s->line = p->line;
    return 0;
}

static const char *skip_ws(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

static const char *trim_end(const char *s, const char *end)
{
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return end;
}

/* True if only blanks or a comment remain. */
static bool rest_empty(const char *s, const char *end)
{
    s = skip_ws(s, end);
    return s == end || *s == '#';
}

static int parse_section(struct parser *p, const char *s, const char *end)
{
    const char *close = memchr(s, ']', (size_t)(end - s));
    const char *name;
    int rc;

    /* The section before is checked (and its errors kept) whatever this
     * header is; keys under a refused header are skipped. */
    (void)end_section(p);
    memset(p->seen, 0, sizeof(p->seen));
    p->sect = SECT_SKIP;
    if (!close || !rest_empty(close + 1, end))
        return fail(p, "expected a section header [daemon] or "
                       "[source NAME]");
    s = skip_ws(s + 1, close);
    close = trim_end(s, close);
    if (close - s == 6 && memcmp(s, "daemon", 6) == 0) {
        if (p->daemon_line)
            return fail(p,
                        "section [daemon] given twice (first on line "
                        "%u)",
                        p->daemon_line);
        p->daemon_line = p->line;
        p->sect = SECT_DAEMON;
        return 0;
    }
    if (close - s == 5 && memcmp(s, "kafka", 5) == 0) {
        if (p->c->kafka.line)
            return fail(p, "section [kafka] given twice (first on line %u)",
                        p->c->kafka.line);
        p->c->kafka.line = p->line;
        p->sect = SECT_KAFKA;
        return 0;
    }
    if (close - s > 6 && memcmp(s, "source", 6) == 0 &&
        (s[6] == ' ' || s[6] == '\t')) {
        name = skip_ws(s + 6, close);
        rc = add_source(p, name, (size_t)(close - name));
        if (rc == 0)
            p->sect = SECT_SOURCE;
        return rc;
    }
    return fail(p,
                "unknown section [%.*s]; expected [daemon], [kafka] or "
                "[source NAME]",
                (int)(close - s > 64 ? 64 : close - s), s);
}

/* Copy the value (quoted or up to a comment) into `val`. */
static int parse_value(struct parser *p, const char *key, const char *s,
                       const char *end, char *val, size_t cap)
{
    const char *v = skip_ws(s, end), *vend;

    if (v < end && *v == '"') {
        vend = memchr(v + 1, '"', (size_t)(end - v - 1));
        if (!vend || !rest_empty(vend + 1, end))
            return fail(p, "key '%s': unterminated quoted value", key);
        v++;
    } else {
        for (vend = v; vend < end; vend++) {
            if (*vend == '#' &&
                (vend == v || vend[-1] == ' ' || vend[-1] == '\t'))
                break;
        }
        vend = trim_end(v, vend);
    }
    if ((size_t)(vend - v) >= cap)
        return fail(p, "key '%s': value too long", key);
    memcpy(val, v, (size_t)(vend - v));
    val[vend - v] = '\0';
    return 0;
}

static int parse_line(struct parser *p, const char *s, const char *end)
{
    char key[64], val[PATH_MAX + 8];
    const char *eq, *kend;
    int rc;

    if (end > s && end[-1] == '\r')
        end--;
    s = skip_ws(s, end);
    if (s == end || *s == '#' || *s == ';')
        return 0;
    if (*s == '[')
        return parse_section(p, s, end);
    eq = memchr(s, '=', (size_t)(end - s));
    if (!eq)
        return fail(p, "expected 'key = value', a [section] or a # comment");
    kend = trim_end(s, eq);
    if (kend == s || (size_t)(kend - s) >= sizeof(key))
        return fail(p, "expected a key name before '='");
    memcpy(key, s, (size_t)(kend - s));
    key[kend - s] = '\0';
    rc = parse_value(p, key, eq + 1, end, val, sizeof(val));
    if (rc == 0)
        rc = set_key(p, key, val);
    return rc;
}

/* Whole-file checks; every one that fails is reported. */
static int check_required(struct parser *p)
{
    static const char *const why[] = {
        "the directory with hash.key and vault.pub",
        "the directory for sealed vault files",
        "the directory for checkpoints",
    };
    const char *const have[] = {p->c->keys, p->c->vault, p->c->state};
    size_t nstdin = 0;
    int rc = 0;

    p->line = 0;
    for (size_t i = 0; i < LSL_ARRAY_SIZE(have); i++) {
        if (!have[i][0])
            rc = fail(p, "[daemon]: key '%s' is required (%s)", keys[i].name,
                      why[i]);
    }
    if (p->c->nsources == 0 && p->e->count == 0)
        rc = fail(p, "no [source NAME] section: nothing to read");
    if (!p->c->host[0] && lsl_host_default(p->c->host) != 0)
        rc = fail(p,
                  "[daemon]: no key 'host', and the hostname '%s' cannot "
                  "be a host id (it names files and partitions): set "
                  "host = NAME (A-Z a-z 0-9 . _ -)",
                  p->c->host);
    for (size_t i = 0; i < p->c->nsources; i++) {
        const struct lsl_source_conf *s = &p->c->sources[i];

        p->line = s->line;
        if (s->sink == LSL_SINK_SEGMENTS && !p->c->output[0])
            rc = fail(p,
                      "[source %s] writes segments: [daemon] key "
                      "'output' is required (the segment directory)",
                      s->name);
        if (s->sink == LSL_SINK_KAFKA &&
            (!p->c->kafka.brokers[0] || !p->c->kafka.topic[0]))
            rc = fail(p,
                      "[source %s] writes to Kafka: [kafka] keys 'brokers' "
                      "and 'topic' are required",
                      s->name);
        if (s->type == LSL_SRC_STDIN && ++nstdin > 1)
            rc = fail(p, "[source %s]: only one stdin source is possible",
                      s->name);
    }
    return rc;
}

static void defaults(struct lsl_config *c, const char *path)
{
    snprintf(c->path, sizeof(c->path), "%s", path);
    c->level = 6;
    c->segment_size = 64u << 20;
    c->segment_age = 300;
    c->log_level = LSL_LOG_INFO;
}

int lsl_config_parse(struct lsl_config **out, const char *path,
                     const char *text, size_t len, struct lsl_config_error *e)
{
    struct parser p = {.path = path, .e = e};
    const char *s = text, *end = text + len, *nl;
    int rc = 0;

    memset(e, 0, sizeof(*e));
    p.c = calloc(1, sizeof(*p.c));
    if (!p.c)
        return -ENOMEM;
    defaults(p.c, path);
    if (memchr(text, '\0', len))
        rc = fail(&p, "contains a NUL byte: not a text file");
    /* Past a mistake the parse goes on, so one run names every one; only
     * running out of memory stops it. */
    while (rc != -ENOMEM && s < end) {
        nl = memchr(s, '\n', (size_t)(end - s));
        p.line++;
        rc = parse_line(&p, s, nl ? nl : end);
        s = nl ? nl + 1 : end;
    }
    if (rc != -ENOMEM) {
        rc = end_section(&p);
        if (check_required(&p) || p.e->count)
            rc = LSL_ECONFIG;
    }
    if (rc) {
        lsl_config_free(p.c);
        return rc;
    }
    *out = p.c;
    return 0;
}

int lsl_config_load(struct lsl_config **out, const char *path,
                    struct lsl_config_error *e)
{
    struct parser p = {.path = path, .e = e};
    struct stat st;
    char *text = NULL;
    ssize_t n = 0;
    int fd, rc;

    memset(e, 0, sizeof(*e));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = -errno;
        fail(&p, "cannot read the configuration: %s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > MAX_CONFIG_BYTES) {
        rc = fail(&p, "not a regular file of at most %u bytes",
                  MAX_CONFIG_BYTES);
        goto out;
    }
    text = malloc((size_t)st.st_size + 1);
    if (!text) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t got = 0; got < (size_t)st.st_size; got += (size_t)n) {
        n = read(fd, text + got, (size_t)st.st_size - got);
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            fail(&p, "cannot read the configuration: %s", strerror(-rc));
            goto out;
        }
    }
    rc = lsl_config_parse(out, path, text, (size_t)st.st_size, e);
out:
    if (fd >= 0)
        close(fd);
    if (text) /* it may hold kafka.* passwords */
        sodium_memzero(text, (size_t)st.st_size);
    free(text);
    return rc;
}

const char *lsl_config_key(size_t i, const char **section)
{
    if (i >= LSL_ARRAY_SIZE(keys))
        return NULL;
    *section = keys[i].sect == SECT_DAEMON  ? "daemon"
               : keys[i].sect == SECT_KAFKA ? "kafka"
                                            : "source";
    return keys[i].name;
}

void lsl_config_free(struct lsl_config *c)
{
    if (!c)
        return;
    free(c->sources);
    lsl_config_kafka_free(&c->kafka);
    free(c);
}
