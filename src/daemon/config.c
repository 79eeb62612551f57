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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config_internal.h"
#include "logseal/log.h"

#define MAX_CONFIG_BYTES (1u << 20)

int lsl_config_fail(struct parser *p, const char *fmt, ...)
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

static int unknown_key(struct parser *p, const char *key)
{
    char list[256] = "";
    size_t n = 0;

    for (size_t i = 0; i < LSL_ARRAY_SIZE(lsl_config_keys); i++) {
        if (lsl_config_keys[i].sect == p->sect && n < sizeof(list))
            n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
                                  n ? ", " : "", lsl_config_keys[i].name);
    }
    return lsl_config_fail(
        p, "unknown key '%s' in [%s]; expected one of: %s%s", key,
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
        return lsl_config_fail(
            p,
            "key '%s' outside a section; put it under [daemon] "
            "or [source NAME]",
            key);
    for (size_t i = 0; i < LSL_ARRAY_SIZE(lsl_config_keys); i++) {
        if (lsl_config_keys[i].sect != p->sect ||
            strcmp(lsl_config_keys[i].name, key) != 0)
            continue;
        if (p->seen[i])
            return lsl_config_fail(
                p,
                "key '%s' given twice in this section (first on "
                "line %u)",
                key, p->seen[i]);
        p->seen[i] = p->line;
        return lsl_config_keys[i].set(p, &lsl_config_keys[i], val);
    }
    if (p->sect == SECT_KAFKA && strncmp(key, "kafka.", 6) == 0)
        return lsl_config_set_kafka_prop(p, key + 6, val);
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
        rc = lsl_config_fail(p, "key '%s' does not apply to a %s source",
                             lsl_config_keys[k].name, type);
    } else if (!p->seen[k] && wanted && required) {
        p->line = lsl_config_cur_source(p)->line;
        rc = lsl_config_fail(
            p, "[source %s]: key '%s' is required for a %s source",
            lsl_config_cur_source(p)->name, lsl_config_keys[k].name, type);
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
    s = lsl_config_cur_source(p);
    if (!p->seen[K_TYPE]) {
        unsigned at = p->line;

        p->line = s->line;
        rc = lsl_config_fail(
            p,
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
        return lsl_config_fail(
            p,
            "source name '%.*s': expected 1-63 characters of "
            "A-Z a-z 0-9 _ . -",
            (int)(len > 64 ? 64 : len), name);
    for (size_t i = 0; i < c->nsources; i++) {
        if (strlen(c->sources[i].name) == len &&
            memcmp(c->sources[i].name, name, len) == 0)
            return lsl_config_fail(
                p,
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
        return lsl_config_fail(p, "expected a section header [daemon] or "
                                  "[source NAME]");
    s = skip_ws(s + 1, close);
    close = trim_end(s, close);
    if (close - s == 6 && memcmp(s, "daemon", 6) == 0) {
        if (p->daemon_line)
            return lsl_config_fail(
                p,
                "section [daemon] given twice (first on line "
                "%u)",
                p->daemon_line);
        p->daemon_line = p->line;
        p->sect = SECT_DAEMON;
        return 0;
    }
    if (close - s == 5 && memcmp(s, "kafka", 5) == 0) {
        if (p->c->kafka.line)
            return lsl_config_fail(
                p, "section [kafka] given twice (first on line %u)",
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
    return lsl_config_fail(
        p,
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
            return lsl_config_fail(p, "key '%s': unterminated quoted value",
                                   key);
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
        return lsl_config_fail(p, "key '%s': value too long", key);
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
        return lsl_config_fail(
            p, "expected 'key = value', a [section] or a # comment");
    kend = trim_end(s, eq);
    if (kend == s || (size_t)(kend - s) >= sizeof(key))
        return lsl_config_fail(p, "expected a key name before '='");
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
            rc = lsl_config_fail(p, "[daemon]: key '%s' is required (%s)",
                                 lsl_config_keys[i].name, why[i]);
    }
    if (p->c->nsources == 0 && p->e->count == 0)
        rc = lsl_config_fail(p, "no [source NAME] section: nothing to read");
    if (!p->c->host[0] && lsl_host_default(p->c->host) != 0)
        rc = lsl_config_fail(
            p,
            "[daemon]: no key 'host', and the hostname '%s' cannot "
            "be a host id (it names files and partitions): set "
            "host = NAME (A-Z a-z 0-9 . _ -)",
            p->c->host);
    for (size_t i = 0; i < p->c->nsources; i++) {
        const struct lsl_source_conf *s = &p->c->sources[i];

        p->line = s->line;
        if (s->sink == LSL_SINK_SEGMENTS && !p->c->output[0])
            rc = lsl_config_fail(p,
                                 "[source %s] writes segments: [daemon] key "
                                 "'output' is required (the segment directory)",
                                 s->name);
        if (s->sink == LSL_SINK_KAFKA &&
            (!p->c->kafka.brokers[0] || !p->c->kafka.topic[0]))
            rc = lsl_config_fail(
                p,
                "[source %s] writes to Kafka: [kafka] keys 'brokers' "
                "and 'topic' are required",
                s->name);
        if (s->type == LSL_SRC_STDIN && ++nstdin > 1)
            rc = lsl_config_fail(
                p, "[source %s]: only one stdin source is possible", s->name);
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
        rc = lsl_config_fail(&p, "contains a NUL byte: not a text file");
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
        lsl_config_fail(&p, "cannot read the configuration: %s",
                        strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > MAX_CONFIG_BYTES) {
        rc = lsl_config_fail(&p, "not a regular file of at most %u bytes",
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
            lsl_config_fail(&p, "cannot read the configuration: %s",
                            strerror(-rc));
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
    if (i >= LSL_ARRAY_SIZE(lsl_config_keys))
        return NULL;
    *section = lsl_config_keys[i].sect == SECT_DAEMON  ? "daemon"
               : lsl_config_keys[i].sect == SECT_KAFKA ? "kafka"
                                                       : "source";
    return lsl_config_keys[i].name;
}

void lsl_config_free(struct lsl_config *c)
{
    if (!c)
        return;
    free(c->sources);
    lsl_config_kafka_free(&c->kafka);
    free(c);
}
