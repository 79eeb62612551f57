/*
 * The daemon configuration's keys: one setter per kind of value (each
 * checks it and stores it where the key table says) and the table itself,
 * which config.c's parser walks.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include "config_internal.h"
#include "logseal/log.h"
#include "logseal/sink.h"

struct lsl_source_conf *lsl_config_cur_source(struct parser *p)
{
    return &p->c->sources[p->c->nsources - 1];
}

static void *field(struct parser *p, const struct key_def *k)
{
    char *base = k->sect == SECT_DAEMON  ? (char *)p->c
                 : k->sect == SECT_KAFKA ? (char *)p->c
                                         : (char *)lsl_config_cur_source(p);

    return base + k->off;
}

static int set_str(struct parser *p, const struct key_def *k, const char *v)
{
    if (!v[0])
        return lsl_config_fail(p, "key '%s': expected a value", k->name);
    if (strlen(v) >= k->cap)
        return lsl_config_fail(p,
                               "key '%s': value too long (at most %zu bytes)",
                               k->name, k->cap - 1);
    memcpy(field(p, k), v, strlen(v) + 1);
    return 0;
}

static int set_path(struct parser *p, const struct key_def *k, const char *v)
{
    if (v[0] != '/')
        return lsl_config_fail(p, "key '%s': expected an absolute path",
                               k->name);
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
        return lsl_config_fail(p,
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
        return lsl_config_fail(p,
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
        return lsl_config_fail(
            p,
            "key '%s': expected a duration above 0 and at most 1h "
            "such as 250ms, 2s or a number of seconds, not '%s'",
            k->name, v);
    *(unsigned *)field(p, k) = (unsigned)ms;
    return 0;
}

static int set_level(struct parser *p, const struct key_def *k, const char *v)
{
    if (strlen(v) != 1 || v[0] < '1' || v[0] > '9')
        return lsl_config_fail(
            p, "key '%s': expected a gzip level 1-9, not '%s'", k->name, v);
    p->c->level = v[0] - '0';
    return 0;
}

/*
 * A key of a closed set of words (k->words), stored as the field's own
 * width: bool and uint8_t fields take one byte, int and enum fields an int.
 */
static int set_word(struct parser *p, const struct key_def *k, const char *v)
{
    char list[160];
    size_t n = 0;
    const struct key_word *w;

    for (w = k->words; w->word; w++) {
        if (strcmp(v, w->word) != 0)
            continue;
        if (k->cap == 1)
            *(uint8_t *)field(p, k) = (uint8_t)w->value;
        else
            memcpy(field(p, k), &w->value, sizeof(w->value));
        return 0;
    }
    list[0] = '\0';
    for (w = k->words; w->word && n < sizeof(list); w++)
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
                              w == k->words ? ""
                              : w[1].word   ? ", "
                                            : " or ",
                              w->word);
    return lsl_config_fail(p, "key '%s': expected %s, not '%s'", k->name, list,
                           v);
}

static int set_metrics(struct parser *p, const struct key_def *k, const char *v)
{
    char host[64];
    unsigned port;

    if (v[0] && lsl_config_loopback(v, true, host, sizeof(host), &port))
        return lsl_config_fail(
            p,
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
        return lsl_config_fail(p, "key '%s': expected text or jsonl, not '%s'",
                               k->name, v);
    return 0;
}

static int set_ip_mode(struct parser *p, const struct key_def *k, const char *v)
{
    if (lsl_ip_override_parse(v, &p->c->ip))
        return lsl_config_fail(
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
        return lsl_config_fail(
            p, "key '%s': expected scrub, redact or drop, not '%s'", k->name,
            v);
    return 0;
}

static int set_columns(struct parser *p, const struct key_def *k, const char *v)
{
    if (lsl_columns_parse(v, &p->c->columns))
        return lsl_config_fail(
            p, "key '%s': expected canonical or source, not '%s'", k->name, v);
    return 0;
}

static int set_timezone(struct parser *p, const struct key_def *k,
                        const char *v)
{
    if (lsl_tz_parse(v, &p->c->zone))
        return lsl_config_fail(p,
                               "key '%s': expected Z, UTC or an offset such as "
                               "+09:00, not '%s'",
                               k->name, v);
    return 0;
}

static int set_host(struct parser *p, const struct key_def *k, const char *v)
{
    if (!lsl_host_valid(v))
        return lsl_config_fail(
            p,
            "key '%s': expected a host id of 1-%d characters of "
            "A-Z a-z 0-9 . _ - (starting with a letter or digit, "
            "no '..'), not '%.80s'",
            k->name, LSL_HOST_MAX, v);
    return set_str(p, k, v);
}

static int set_kafka_key(struct parser *p, const struct key_def *k,
                         const char *v)
{
    if (lsl_config_kafka_key(v, &p->c->kafka.key))
        return lsl_config_fail(
            p,
            "key '%s': expected host/source, source, host or none, "
            "not '%s'",
            k->name, v);
    return 0;
}

/* Its value is never repeated in a message: it may be a secret. */
int lsl_config_set_kafka_prop(struct parser *p, const char *name, const char *v)
{
    unsigned first = 0;
    int rc = lsl_config_kafka_prop(&p->c->kafka, name, v, p->line, &first);

    if (rc == LSL_ECONFIG)
        return lsl_config_fail(
            p, "key 'kafka.%s': %s (first on line %u)", name,
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
    return lsl_config_fail(p,
                           "key '%s': expected unix:/ABSOLUTE/PATH or "
                           "udp:127.x.x.x:PORT (loopback only), not '%s'",
                           k->name, v);
}

#define DKEY(n, fn, f)                                                         \
    {                                                                          \
        n, SECT_DAEMON, fn, offsetof(struct lsl_config, f),                    \
            sizeof(((struct lsl_config *)0)->f), NULL                          \
    }
#define KKEY(n, fn, f)                                                         \
    {                                                                          \
        n, SECT_KAFKA, fn, offsetof(struct lsl_config, kafka.f),               \
            sizeof(((struct lsl_config *)0)->kafka.f), NULL                    \
    }
#define SKEY(n, fn, f)                                                         \
    {                                                                          \
        n, SECT_SOURCE, fn, offsetof(struct lsl_source_conf, f),               \
            sizeof(((struct lsl_source_conf *)0)->f), NULL                     \
    }
#define DWORD(n, f, list)                                                      \
    {                                                                          \
        n, SECT_DAEMON, set_word, offsetof(struct lsl_config, f),              \
            sizeof(((struct lsl_config *)0)->f), list                          \
    }
#define SWORD(n, f, list)                                                      \
    {                                                                          \
        n, SECT_SOURCE, set_word, offsetof(struct lsl_source_conf, f),         \
            sizeof(((struct lsl_source_conf *)0)->f), list                     \
    }

static const struct key_word log_levels[] = {{"error", LSL_LOG_ERROR},
                                             {"warning", LSL_LOG_WARN},
                                             {"info", LSL_LOG_INFO},
                                             {"debug", LSL_LOG_DEBUG},
                                             {NULL, 0}};
static const struct key_word layouts[] = {
    {"default", LSL_LAYOUT_DEFAULT}, {"hive", LSL_LAYOUT_HIVE}, {NULL, 0}};
static const struct key_word source_types[] = {{"tail", LSL_SRC_TAIL},
                                               {"stdin", LSL_SRC_STDIN},
                                               {"syslog", LSL_SRC_SYSLOG},
                                               {NULL, 0}};
static const struct key_word starts[] = {
    {"end", true}, {"beginning", false}, {NULL, 0}};
static const struct key_word sinks[] = {{"segments", LSL_SINK_SEGMENTS},
                                        {"stdout", LSL_SINK_STDOUT},
                                        {"kafka", LSL_SINK_KAFKA},
                                        {NULL, 0}};

const struct key_def lsl_config_keys[K_COUNT] = {
    [K_KEYS] = DKEY("keys", set_path, keys),
    [K_VAULT] = DKEY("vault", set_path, vault),
    [K_STATE] = DKEY("state", set_path, state),
    [K_OUTPUT] = DKEY("output", set_path, output),
    [K_LEVEL] = DKEY("level", set_level, level),
    [K_SEGMENT_SIZE] = DKEY("segment_size", set_size, segment_size),
    [K_SEGMENT_AGE] = DKEY("segment_age", set_duration, segment_age),
    [K_METRICS] = DKEY("metrics", set_metrics, metrics),
    [K_LOG_LEVEL] = DWORD("log_level", log_level, log_levels),
    [K_TYPE] = SWORD("type", type, source_types),
    [K_PATH] = SKEY("path", set_path, path),
    [K_START] = SWORD("start", start_at_end, starts),
    [K_LISTEN] = SKEY("listen", set_listen, listen),
    [K_RULE] = SKEY("rule", set_str, rule),
    [K_SINK] = SWORD("sink", sink, sinks),
    [K_FORMAT] = DKEY("format", set_format, format),
    [K_IP_MODE] = DKEY("ip_mode", set_ip_mode, ip),
    [K_ROTATE_WAIT] = SKEY("rotate_wait", set_wait, rotate_wait_ms),
    [K_UNPARSED] = DKEY("unparsed", set_unparsed, unparsed),
    [K_COLUMNS] = DKEY("columns", set_columns, columns),
    [K_TIMEZONE] = DKEY("timezone", set_timezone, zone),
    [K_HOST] = DKEY("host", set_host, host),
    [K_LAYOUT] = DWORD("layout", layout, layouts),
    [K_STOP_TIMEOUT] = DKEY("stop_timeout", set_duration, stop_timeout),
    [K_BROKERS] = KKEY("brokers", set_str, brokers),
    [K_TOPIC] = KKEY("topic", set_str, topic),
    [K_CHECKPOINT_TOPIC] = KKEY("checkpoint_topic", set_str, checkpoint_topic),
    [K_KEY] = KKEY("key", set_kafka_key, key),
    [K_TIMEOUT] = KKEY("timeout", set_wait, timeout_ms),
};
