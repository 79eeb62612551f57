/*
 * Config parser: a complete file parses to the documented values; every
 * kind of mistake is refused with the file, the line and the key named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "logseal/config.h"
#include "logseal/log.h"
#include "logseal/sink.h"

#define HEAD                                                                   \
    "[daemon]\n"                                                               \
    "keys = /k\n"                                                              \
    "vault = /v\n"                                                             \
    "state = /s\n"                                                             \
    "output = /o\n"

static int parse(const char *text, struct lsl_config **c,
                 struct lsl_config_error *e)
{
    *c = NULL;
    return lsl_config_parse(c, "test.conf", text, strlen(text), e);
}

/* The text must be refused at `line` with a message containing `want`. */
static void refused(const char *text, unsigned line, const char *want)
{
    struct lsl_config_error e;
    struct lsl_config *c;
    char prefix[64];

    assert_int_equal(parse(text, &c, &e), LSL_ECONFIG);
    assert_null(c);
    assert_int_equal(e.line, line);
    if (line)
        snprintf(prefix, sizeof(prefix), "test.conf:%u: ", line);
    else
        snprintf(prefix, sizeof(prefix), "test.conf: ");
    if (strncmp(e.msg, prefix, strlen(prefix)) != 0 || !strstr(e.msg, want))
        fail_msg("message '%s' lacks '%s' or '%s'", e.msg, prefix, want);
}

static void full_config(void **state)
{
    static const char text[] =
        "# comment\n"
        "[daemon]\n"
        "keys         = /etc/logseal/keys        # hash.key + vault.pub\n"
        "vault        = /var/lib/logseal/vault\r\n"
        "state        = /var/lib/logseal/state\n"
        "output       = \"/var/log/logseal\"\n"
        "level        = 9\n"
        "segment_size = 512K\n"
        "segment_age  = 1h\n"
        "metrics      = 127.0.0.1:9187\n"
        "log_level    = debug\n"
        "\n"
        "[source nginx]\n"
        "type  = tail\n"
        "path  = /var/log/nginx/access.log\n"
        "start = beginning\n"
        "rotate_wait = 250ms\n"
        "rule  = nginx-combined\n"
        "[ source  chat.v2-x ]\n"
        "type = syslog\n"
        "listen = unix:/run/logseal/chat.sock\n"
        "sink = stdout\n"
        "[source in]\n"
        "type = stdin\n";
    struct lsl_config_error e;
    struct lsl_config *c;

    (void)state;
    assert_int_equal(parse(text, &c, &e), 0);
    assert_string_equal(c->path, "test.conf");
    assert_string_equal(c->keys, "/etc/logseal/keys");
    assert_string_equal(c->vault, "/var/lib/logseal/vault");
    assert_string_equal(c->output, "/var/log/logseal");
    assert_int_equal(c->level, 9);
    assert_int_equal(c->segment_size, 512 * 1024);
    assert_int_equal(c->segment_age, 3600);
    assert_string_equal(c->metrics, "127.0.0.1:9187");
    assert_int_equal(c->log_level, LSL_LOG_DEBUG);
    assert_int_equal(c->nsources, 3);
    assert_string_equal(c->sources[0].name, "nginx");
    assert_int_equal(c->sources[0].type, LSL_SRC_TAIL);
    assert_false(c->sources[0].start_at_end);
    assert_string_equal(c->sources[0].rule, "nginx-combined");
    assert_int_equal(c->sources[0].sink, LSL_SINK_SEGMENTS);
    assert_int_equal(c->sources[0].line, 13);
    assert_int_equal(c->sources[0].rotate_wait_ms, 250);
    assert_string_equal(c->sources[1].name, "chat.v2-x");
    assert_int_equal(c->sources[1].type, LSL_SRC_SYSLOG);
    assert_string_equal(c->sources[1].listen, "unix:/run/logseal/chat.sock");
    assert_int_equal(c->sources[1].sink, LSL_SINK_STDOUT);
    assert_int_equal(c->sources[2].type, LSL_SRC_STDIN);
    assert_string_equal(c->sources[2].rule, "");
    lsl_config_free(c);
}

static void defaults(void **state)
{
    struct lsl_config_error e;
    struct lsl_config *c;

    (void)state;
    assert_int_equal(parse(HEAD "[source a]\ntype = tail\npath = /x\n", &c, &e),
                     0);
    assert_int_equal(c->level, 6);
    assert_int_equal(c->segment_size, 64u << 20);
    assert_int_equal(c->segment_age, 300);
    assert_string_equal(c->metrics, "");
    assert_int_equal(c->log_level, LSL_LOG_INFO);
    assert_true(c->sources[0].start_at_end);
    assert_int_equal(c->sources[0].rotate_wait_ms, 0);
    lsl_config_free(c);
    assert_int_equal(parse(HEAD "[source a]\ntype = tail\npath = /x\n"
                                "rotate_wait = 2s\n",
                           &c, &e),
                     0);
    assert_int_equal(c->sources[0].rotate_wait_ms, 2000);
    lsl_config_free(c);
}

static void sizes_and_durations(void **state)
{
    struct lsl_config_error e;
    struct lsl_config *c;

    (void)state;
    assert_int_equal(parse(HEAD "segment_size = 64M\nsegment_age = 30s\n"
                                "[source a]\ntype = stdin\n",
                           &c, &e),
                     0);
    assert_int_equal(c->segment_size, 64u << 20);
    assert_int_equal(c->segment_age, 30);
    lsl_config_free(c);
    assert_int_equal(parse(HEAD "segment_size = 1000\nsegment_age = 5m\n"
                                "[source a]\ntype = stdin\n",
                           &c, &e),
                     0);
    assert_int_equal(c->segment_size, 1000);
    assert_int_equal(c->segment_age, 300);
    lsl_config_free(c);
    refused(HEAD "segment_size = 64X\n", 6, "key 'segment_size'");
    refused(HEAD "segment_size = 0\n", 6, "64M");
    refused(HEAD "segment_size = M\n", 6, "64M");
    refused(HEAD "segment_size = 99999999999999999999\n", 6, "size");
    refused(HEAD "segment_age = 5 m\n", 6, "key 'segment_age'");
    refused(HEAD "segment_age = 1w\n", 6, "30s, 5m, 1h");
}

static void bad_values(void **state)
{
    (void)state;
    refused(HEAD "level = 0\n", 6, "key 'level': expected a gzip level");
    refused(HEAD "level = 10\n", 6, "1-9");
    refused(HEAD "log_level = loud\n", 6,
            "key 'log_level': expected error, warning, info or debug, "
            "not 'loud'");
    refused(HEAD "metrics = 0.0.0.0:9187\n", 6, "key 'metrics'");
    refused(HEAD "metrics = 10.0.0.1:80\n", 6, "loopback");
    refused(HEAD "metrics = 127.0.0.1:0\n", 6, "loopback");
    refused(HEAD "metrics = 127.0.0.1\n", 6, "loopback");
    refused("[daemon]\nkeys = relative/dir\n", 2, "absolute path");
    refused(HEAD "output = \"/open\n", 6, "unterminated");
    refused(HEAD "[source a]\ntype = file\n", 7,
            "key 'type': expected tail, stdin or syslog, not 'file'");
    refused(HEAD "[source a]\ntype=tail\npath=/x\nstart = middle\n", 9,
            "key 'start': expected end or beginning, not 'middle'");
    refused(HEAD "[source a]\ntype = stdin\nsink = s3\n", 8,
            "key 'sink': expected segments, stdout or kafka, not 's3'");
    refused(HEAD "[source a]\ntype=tail\npath=/x\nrotate_wait = 0ms\n", 9,
            "key 'rotate_wait'");
    refused(HEAD "[source a]\ntype=tail\npath=/x\nrotate_wait = 2h\n", 9,
            "at most 1h");
    refused(HEAD "[source a]\ntype=tail\npath=/x\nrotate_wait = 5x\n", 9,
            "such as 250ms");
    refused(HEAD "[source a]\ntype=stdin\nrotate_wait = 1s\n", 8,
            "key 'rotate_wait' does not apply to a stdin source");
}

/*
 * host: one safe path component (it names files and the host=
 * partition); the hostname when absent.
 */
static void host_id(void **state)
{
    static const char *const bad[] = {
        "a/b", "..",     "a..b", ".hidden", "-lead", "x=y",
        "a b", "edge:1", "é",    "a\\b",    "",
    };
    char want[LSL_HOST_MAX + 1], text[512], longest[LSL_HOST_MAX + 2];
    struct lsl_config_error e;
    struct lsl_config *c;

    (void)state;
    assert_int_equal(parse(HEAD "host = edge-1.fra_2\n[source a]\ntype = "
                                "stdin\n",
                           &c, &e),
                     0);
    assert_string_equal(c->host, "edge-1.fra_2");
    lsl_config_free(c);
    if (lsl_host_default(want) == 0) {
        assert_int_equal(parse(HEAD "[source a]\ntype = stdin\n", &c, &e), 0);
        assert_string_equal(c->host, want);
        lsl_config_free(c);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), HEAD "host = \"%s\"\n", bad[i]);
        refused(text, 6, "key 'host': expected a host id");
        assert_false(lsl_host_valid(bad[i]));
    }
    memset(longest, 'h', sizeof(longest) - 1);
    longest[LSL_HOST_MAX] = '\0';
    assert_true(lsl_host_valid(longest));
    longest[LSL_HOST_MAX] = 'h';
    longest[LSL_HOST_MAX + 1] = '\0';
    assert_false(lsl_host_valid(longest));
    snprintf(text, sizeof(text), HEAD "host = %s\n", longest);
    refused(text, 6, "key 'host'");
}

/* layout: the default tree or the hive-partitioned one. */
static void layout_key(void **state)
{
    struct lsl_config_error e;
    struct lsl_config *c;

    (void)state;
    assert_int_equal(parse(HEAD "[source a]\ntype = stdin\n", &c, &e), 0);
    assert_int_equal(c->layout, LSL_LAYOUT_DEFAULT);
    lsl_config_free(c);
    assert_int_equal(
        parse(HEAD "layout = hive\n[source a]\ntype = stdin\n", &c, &e), 0);
    assert_int_equal(c->layout, LSL_LAYOUT_HIVE);
    lsl_config_free(c);
    refused(HEAD "layout = parquet\n", 6,
            "key 'layout': expected default or hive, not 'parquet'");
}

/* format and ip_mode: the values of `pipe --format` and `--ip-mode`. */
static void output_keys(void **state)
{
    static const char *const modes[] = {"token", "ip6", "prefix", "truncate"};
    struct lsl_config_error e;
    struct lsl_config *c;
    char text[256];

    (void)state;
    assert_int_equal(parse(HEAD "[source a]\ntype = stdin\n", &c, &e), 0);
    assert_int_equal(c->format, LSL_OUT_TEXT);
    assert_false(c->ip.on);
    lsl_config_free(c);
    for (unsigned m = 0; m < 4; m++) {
        snprintf(text, sizeof(text),
                 HEAD "format = jsonl\nip_mode = %s\n[source a]\n"
                      "type = stdin\n",
                 modes[m]);
        assert_int_equal(parse(text, &c, &e), 0);
        assert_int_equal(c->format, LSL_OUT_JSONL);
        assert_true(c->ip.on);
        assert_int_equal(c->ip.mode, m);
        assert_int_equal(c->ip.bits4, 0);
        lsl_config_free(c);
    }
    assert_int_equal(parse(HEAD "ip_mode = \"truncate/24\"\nformat = text\n"
                                "[source a]\ntype = stdin\n",
                           &c, &e),
                     0);
    assert_int_equal(c->ip.mode, LSL_IPMODE_TRUNCATE);
    assert_int_equal(c->ip.bits4, 24);
    assert_int_equal(c->ip.bits6, 24);
    assert_int_equal(c->format, LSL_OUT_TEXT);
    lsl_config_free(c);
    refused(HEAD "format = json\n", 6,
            "key 'format': expected text or jsonl, not 'json'");
    refused(HEAD "format =\n", 6, "key 'format'");
    refused(HEAD "ip_mode = hash\n", 6,
            "key 'ip_mode': expected token, ip6, prefix or truncate");
    refused(HEAD "ip_mode = truncate/0\n", 6, "key 'ip_mode'");
    refused(HEAD "ip_mode = truncate/129\n", 6, "B4 1-32");
    /* One count for both families may not exceed IPv4's 32 bits. */
    refused(HEAD "ip_mode = truncate/33\n", 6, "B4 1-32");
    refused(HEAD "ip_mode = truncate/24,129\n", 6, "B6 1-128");
    refused(HEAD "ip_mode = truncate/\n", 6, "key 'ip_mode'");
    refused(HEAD "ip_mode = ip6/64\n", 6, "key 'ip_mode'");
    refused(HEAD "ip_mode = ip6\nip_mode = token\n", 7, "given twice");
    refused(HEAD "[source a]\ntype = stdin\nformat = jsonl\n", 8,
            "unknown key 'format' in [source NAME]");
}

static void unknown_names(void **state)
{
    (void)state;
    refused(HEAD "colour = blue\n", 6,
            "unknown key 'colour' in [daemon]; expected one of: keys");
    refused(HEAD "[source a]\ntype = stdin\nfile = /x\n", 8,
            "unknown key 'file' in [source NAME]");
    refused(HEAD "[sauce a]\n", 6, "unknown section [sauce a]");
    refused("keys = /k\n", 1, "outside a section");
    refused(HEAD "just words\n", 6, "expected 'key = value'");
    refused(HEAD "[daemon\n", 6, "section header");
    refused(HEAD "[daemon]\n", 6, "[daemon] given twice (first on line 1)");
    refused(HEAD "vault = /w\n", 6, "key 'vault' given twice");
}

static void required_keys(void **state)
{
    (void)state;
    refused("[daemon]\nvault=/v\nstate=/s\n[source a]\ntype=stdin\n"
            "sink=stdout\n",
            0, "key 'keys' is required");
    refused("[daemon]\nkeys=/k\nstate=/s\n[source a]\ntype=stdin\n", 0,
            "key 'vault' is required");
    refused("[daemon]\nkeys=/k\nvault=/v\n[source a]\ntype=stdin\n", 0,
            "key 'state' is required");
    refused("[daemon]\nkeys=/k\nvault=/v\nstate=/s\n[source a]\n"
            "type=stdin\n",
            5, "key 'output' is required");
    refused(HEAD, 0, "no [source NAME] section");
    refused(HEAD "[source a]\nrule = x\n", 6, "key 'type' is required");
    refused(HEAD "[source a]\ntype = tail\n", 6,
            "key 'path' is required for a tail source");
    refused(HEAD "[source a]\ntype = syslog\n", 6,
            "key 'listen' is required for a syslog source");
}

static void sources(void **state)
{
    struct lsl_config_error e;
    struct lsl_config *c;

    (void)state;
    refused(HEAD "[source a]\ntype=stdin\n[source a]\ntype=stdin\n", 8,
            "source name 'a' used twice (first on line 6)");
    refused(HEAD "[source a b]\n", 6, "source name 'a b'");
    refused(HEAD "[source ..]\n", 6, "source name '..'");
    refused(HEAD "[source a/b]\n", 6, "source name");
    refused(HEAD "[source a]\ntype=stdin\n[source b]\ntype=stdin\n", 8,
            "only one stdin source");
    refused(HEAD "[source a]\npath = /x\ntype = stdin\n", 7,
            "key 'path' does not apply to a stdin source");
    refused(HEAD "[source a]\ntype = tail\npath=/x\nlisten=unix:/s\n", 9,
            "key 'listen' does not apply to a tail source");
    refused(HEAD "[source a]\ntype = syslog\nlisten = udp:0.0.0.0:514\n", 8,
            "unix:/ABSOLUTE/PATH or udp:127.x.x.x:PORT");
    refused(HEAD "[source a]\ntype = syslog\nlisten = tcp:127.0.0.1:514\n", 8,
            "key 'listen'");
    refused(HEAD "[source a]\ntype = syslog\nlisten = unix:rel.sock\n", 8,
            "key 'listen'");
    refused(HEAD "[source a]\ntype = syslog\nlisten = udp:[::1]:514\n", 8,
            "key 'listen'");
    assert_int_equal(parse(HEAD "[source a]\ntype = syslog\n"
                                "listen = udp:127.1.2.3:5140\n",
                           &c, &e),
                     0);
    assert_string_equal(c->sources[0].listen, "udp:127.1.2.3:5140");
    lsl_config_free(c);
}

static void loopback(void **state)
{
    char host[64];
    unsigned port = 0;

    (void)state;
    assert_int_equal(
        lsl_config_loopback("127.0.0.1:9187", false, host, sizeof(host), &port),
        0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9187);
    assert_int_equal(
        lsl_config_loopback("[::1]:80", true, host, sizeof(host), &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(
        lsl_config_loopback("[::1]:80", false, host, sizeof(host), &port),
        LSL_ECONFIG);
    assert_int_equal(
        lsl_config_loopback("127.0.0.256:1", false, host, sizeof(host), &port),
        LSL_ECONFIG);
    assert_int_equal(
        lsl_config_loopback("127.0.0:1", false, host, sizeof(host), &port),
        LSL_ECONFIG);
    assert_int_equal(lsl_config_loopback("127.0.0.1:65536", false, host,
                                         sizeof(host), &port),
                     LSL_ECONFIG);
}

static void load_file(void **state)
{
    struct lsl_config_error e;
    struct lsl_config *c = NULL;
    char path[] = "/tmp/lsl_config_XXXXXX";
    int fd = mkstemp(path);
    FILE *f;

    (void)state;
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(HEAD "[source a]\ntype = stdin\nbogus = 1\n", f);
    fclose(f);
    assert_int_equal(lsl_config_load(&c, path, &e), LSL_ECONFIG);
    assert_int_equal(e.line, 8);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "'bogus'"));
    unlink(path);
    assert_true(lsl_config_load(&c, path, &e) < 0);
    assert_non_null(strstr(e.msg, "cannot read"));
}

/* Every mistake of a file is reported in one pass, each with its line. */
static void all_errors(void **state)
{
    static const char text[] = "[daemon]\n"         /* 1 */
                               "keys = relative\n"  /* 2: not absolute */
                               "vault = /v\n"       /* 3 */
                               "level = 10\n"       /* 4: bad level */
                               "colour = blue\n"    /* 5: unknown key */
                               "[sourc x]\n"        /* 6: bad section */
                               "type = nonsense\n"  /* 7: skipped */
                               "[source a]\n"       /* 8 */
                               "type = tail\n"      /* 9: no path */
                               "listen = unix:/x\n" /* 10: not for tail */
                               "[source b]\n"       /* 11 */
                               "type = stdin\n";    /* 12 */
    static const unsigned lines[] = {2, 4, 5, 6, 8, 10, 0, 0, 8, 11};
    static const char *const want[] = {
        "absolute path",
        "gzip level",
        "unknown key 'colour'",
        "unknown section",
        "'path' is required",
        "does not apply",
        "key 'keys' is required",
        "key 'state' is required",
        "[source a] writes segments",
        "[source b] writes segments",
    };
    struct lsl_config_error e;
    struct lsl_config *c;

    (void)state;
    assert_int_equal(parse(text, &c, &e), LSL_ECONFIG);
    assert_null(c);
    assert_int_equal(e.count, LSL_ARRAY_SIZE(want));
    assert_int_equal(e.kept, e.count);
    assert_int_equal(e.line, 2);
    assert_string_equal(e.msg, e.list[0].msg);
    for (size_t i = 0; i < LSL_ARRAY_SIZE(want); i++) {
        assert_int_equal(e.list[i].line, lines[i]);
        if (!strstr(e.list[i].msg, want[i]))
            fail_msg("error %zu: '%s' lacks '%s'", i, e.list[i].msg, want[i]);
    }
}

/* Past LSL_CONFIG_ERRORS_MAX errors are counted, not kept. */
static void many_errors(void **state)
{
    char text[4096] = HEAD;
    struct lsl_config_error e;
    struct lsl_config *c;

    (void)state;
    for (int i = 0; i < 40; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text),
                 "bogus%d = 1\n", i);
    strcat(text, "[source a]\ntype = stdin\n");
    assert_int_equal(parse(text, &c, &e), LSL_ECONFIG);
    assert_int_equal(e.count, 40);
    assert_int_equal(e.kept, LSL_CONFIG_ERRORS_MAX);
    assert_non_null(strstr(e.list[LSL_CONFIG_ERRORS_MAX - 1].msg, "bogus15"));
}

/* [kafka]: keys, pass-through properties, and what is refused. */
static void kafka_section(void **state)
{
    static const char head[] = "[daemon]\nkeys=/k\nvault=/v\nstate=/s\n"
                               "[source a]\ntype=stdin\nsink=kafka\n";
    struct lsl_config_error e;
    struct lsl_config *c;
    char text[1024];

    (void)state;
    snprintf(text, sizeof(text),
             "%s[kafka]\nbrokers = k1:9093,k2:9093\ntopic = logs.{source}\n"
             "key = source\ntimeout = 500ms\n"
             "kafka.sasl.password = \"p w#1\"\n"
             "kafka.compression.codec = zstd\n",
             head);
    assert_int_equal(parse(text, &c, &e), 0);
    assert_int_equal(c->sources[0].sink, LSL_SINK_KAFKA);
    assert_string_equal(c->kafka.brokers, "k1:9093,k2:9093");
    assert_string_equal(c->kafka.topic, "logs.{source}");
    assert_int_equal(c->kafka.key, 1);
    assert_int_equal(c->kafka.timeout_ms, 500);
    assert_int_equal(c->kafka.nprops, 2);
    assert_string_equal(c->kafka.props[0].name, "sasl.password");
    assert_string_equal(c->kafka.props[0].value, "p w#1");
    assert_int_equal(c->kafka.props[1].line, 14);
    lsl_config_free(c);

    refused("[daemon]\nkeys=/k\nvault=/v\nstate=/s\n[source a]\n"
            "type=stdin\nsink=kafka\n",
            5, "'brokers' and 'topic' are required");
    snprintf(text, sizeof(text),
             "%s[kafka]\nbrokers=b:1\ntopic=t\nkafka.acks=1\n"
             "kafka.acks=all\n",
             head);
    refused(text, 12, "key 'kafka.acks': given twice (first on line 11)");
    snprintf(text, sizeof(text), "%s[kafka]\nbrokers=b:1\ntopic=t\nkey=x\n",
             head);
    refused(text, 11, "expected host/source, source, host or none");
    snprintf(text, sizeof(text), "%s[kafka]\nbrokers=b:1\ntopic=t\nacks=1\n",
             head);
    refused(text, 11, "kafka.PROPERTY");
    snprintf(text, sizeof(text),
             "%s[kafka]\nbrokers=b:1\ntopic=t\n[kafka]\nbrokers=c:1\n", head);
    refused(text, 11, "section [kafka] given twice");
}

/* Is `key` a key of `section` in the parser's table? */
static bool known_key(const char *section, const char *key)
{
    const char *sect, *name;

    for (size_t i = 0; (name = lsl_config_key(i, &sect)) != NULL; i++) {
        if (strcmp(sect, section) == 0 && strcmp(name, key) == 0)
            return true;
    }
    return false;
}

/*
 * logseal.conf(5) documents exactly the keys the parser knows: each key
 * of the table as ".It Ic KEY" under its section's ".Ss" heading, and no
 * other. A key added to the table (or dropped) fails here until the man
 * page says so.
 */
static void man_page_keys(void **state)
{
    static const char path[] = LSL_TEST_DATA "/../../man/logseal.conf.5";
    char documented[64][2][32];
    size_t ndoc = 0;
    char line[512], section[16] = "";
    const char *sect, *name;
    FILE *f = fopen(path, "r");

    (void)state;
    if (!f)
        fail_msg("%s: cannot open", path);
    while (fgets(line, sizeof(line), f) && ndoc < 64) {
        char key[32];

        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, ".Sh", 3) == 0 || strncmp(line, ".Ss", 3) == 0)
            snprintf(section, sizeof(section), "%s",
                     strcmp(line, ".Ss \"[daemon]\"") == 0        ? "daemon"
                     : strcmp(line, ".Ss \"[source NAME]\"") == 0 ? "source"
                     : strcmp(line, ".Ss \"[kafka]\"") == 0       ? "kafka"
                                                                  : "");
        if (!section[0] || sscanf(line, ".It Ic %31s", key) != 1)
            continue;
        if (!known_key(section, key))
            fail_msg("logseal.conf(5) documents [%s] key '%s', which the "
                     "parser does not know",
                     section, key);
        snprintf(documented[ndoc][0], 32, "%s", section);
        snprintf(documented[ndoc++][1], 32, "%s", key);
    }
    fclose(f);
    for (size_t i = 0; (name = lsl_config_key(i, &sect)) != NULL; i++) {
        bool found = false;

        for (size_t j = 0; j < ndoc && !found; j++)
            found = strcmp(documented[j][0], sect) == 0 &&
                    strcmp(documented[j][1], name) == 0;
        if (!found)
            fail_msg("[%s] key '%s' is not documented in logseal.conf(5) "
                     "(add '.It Ic %s' under its section)",
                     sect, name, name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_config),   cmocka_unit_test(kafka_section),
        cmocka_unit_test(defaults),      cmocka_unit_test(sizes_and_durations),
        cmocka_unit_test(bad_values),    cmocka_unit_test(output_keys),
        cmocka_unit_test(host_id),       cmocka_unit_test(layout_key),
        cmocka_unit_test(unknown_names), cmocka_unit_test(required_keys),
        cmocka_unit_test(sources),       cmocka_unit_test(loopback),
        cmocka_unit_test(load_file),     cmocka_unit_test(all_errors),
        cmocka_unit_test(many_errors),   cmocka_unit_test(man_page_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
