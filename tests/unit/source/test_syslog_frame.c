/*
 * lsl_syslog_strip: real-shaped frames of every accepted kind, malformed
 * ones, and every frame cut at every byte (under ASan a read past the
 * given length fails the test: each cut copy lives in its own heap block).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "logseal/source.h"

#define NGINX_LINE                                                             \
    "192.0.2.17 - - [29/Nov/2024:17:00:00 +0000] \"GET /live/ch1/seg_7.ts"     \
    "?device_id=0f8fad5b-d9cb-469f-a165-70867728950e&n=7 HTTP/1.1\" 200 "      \
    "5 \"-\" \"curl/7.88.1\""

struct frame {
    const char *in;
    const char *msg;
};

static const struct frame frames[] = {
    /* nginx defaults: facility local7, severity info, host name, tag */
    {"<190>Nov 29 17:00:00 edge-01 nginx: " NGINX_LINE, NGINX_LINE},
    /* day of month below 10 is space-padded */
    {"<190>Nov  9 07:05:03 edge-01 nginx: " NGINX_LINE, NGINX_LINE},
    /* tag=... */
    {"<190>Nov 29 17:00:00 edge-01 hls_edge: hello", "hello"},
    /* nohostname */
    {"<190>Nov 29 17:00:00 nginx: " NGINX_LINE, NGINX_LINE},
    {"<134>Jan  1 00:00:00 api: GET /v1/users/42", "GET /v1/users/42"},
    /* facility/severity edges */
    {"<0>Dec 31 23:59:59 h t: m", "m"},
    {"<191>Feb 28 12:00:00 h t: m", "m"},
    /* tag with pid, as glibc syslog() writes */
    {"<13>Mar  3 10:00:00 host app[1234]: started", "started"},
    /* host is an IPv6 address: not mistaken for a tag */
    {"<13>Mar  3 10:00:00 2001:db8::1 app: x", "x"},
    {"<13>Mar  3 10:00:00 fe80:: app: x", "x"},
    /* no tag: the message follows the host */
    {"<13>Apr 10 10:00:00 host just a message", "just a message"},
    /* trailing newline(s), CR and NUL terminators are dropped */
    {"<190>Nov 29 17:00:00 h nginx: line\n", "line"},
    {"<190>Nov 29 17:00:00 h nginx: line\r\n", "line"},
    {"<190>Nov 29 17:00:00 h nginx: line\n\n", "line"},
    {"<190>Nov 29 17:00:00 h nginx: line", "line"},
    /* header only */
    {"<190>Nov 29 17:00:00 h nginx: ", ""},
    {"<190>Nov 29 17:00:00 h nginx:", ""},
    {"<190>Nov 29 17:00:00 nginx:", ""},
    {"<190>Nov 29 17:00:00 h", ""},
    /* message keeps its own colons and brackets */
    {"<190>Nov 29 17:00:00 h nginx: a: b [c]", "a: b [c]"},
    /* RFC 3339 time in a 3164-style header (rsyslog templates) */
    {"<30>2024-11-29T17:00:00.123+01:00 host app: msg", "msg"},
    /* RFC 5424 */
    {"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - "
     "ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" "
     "eventID=\"1011\"] \xef\xbb\xbf"
     "An application event",
     "An application event"},
    {"<34>1 2003-10-11T22:14:15.003Z host su - ID47 - 'su root' failed",
     "'su root' failed"},
    {"<165>1 - - - - - -", ""},
    {"<165>1 - - - - - - msg", "msg"},
    {"<165>1 - h a 1 m [x@1 k=\"a\\\"]b\"][y@2] msg", "msg"},
    {"<165>1 - h a 1 m [x@1 k=\"v\\\\\"] msg", "msg"},
    /* an nginx access line in an RFC 5424 frame */
    {"<190>1 2024-11-29T17:00:00+00:00 edge nginx - - - " NGINX_LINE,
     NGINX_LINE},
    /* no header: taken as is */
    {NGINX_LINE "\n", NGINX_LINE},
    {"plain text", "plain text"},
    {"", ""},
    {"\n", ""},
    /* malformed PRI: not a header, nothing stripped */
    {"<192>Nov 29 17:00:00 h t: m", "<192>Nov 29 17:00:00 h t: m"},
    {"<1900>Nov 29 17:00:00 h t: m", "<1900>Nov 29 17:00:00 h t: m"},
    {"<>Nov 29 17:00:00 h t: m", "<>Nov 29 17:00:00 h t: m"},
    {"<x>m", "<x>m"},
    {"<13", "<13"},
    /* valid PRI, unknown rest: only the PRI goes */
    {"<13>hello world", "hello world"},
    {"<13>Foo 29 17:00:00 h t: m", "Foo 29 17:00:00 h t: m"},
    {"<13>Nov 29 17:0", "Nov 29 17:0"},
    {"<13>Nov 29 1x:00:00 h t: m", "Nov 29 1x:00:00 h t: m"},
    /* broken RFC 5424: unclosed SD, missing fields */
    {"<165>1 - h a 1 m [x@1 k=\"v] msg", "1 - h a 1 m [x@1 k=\"v] msg"},
    {"<165>1 - h a", "1 - h a"},
    {"<165>1 - h a 1 m x msg", "1 - h a 1 m x msg"},
    {"<165>1  h a 1 m - msg", "1  h a 1 m - msg"},
};

static void check(const char *in, size_t len, const char *want)
{
    struct lsl_span m;
    char *copy = malloc(len ? len : 1);

    assert_non_null(copy);
    memcpy(copy, in, len);
    lsl_syslog_strip(copy, len, &m);
    assert_true(m.p >= copy && m.p + m.len <= copy + len);
    if (want) {
        if (m.len != strlen(want) || memcmp(m.p, want, m.len) != 0)
            fail_msg("in '%.*s': got '%.*s', want '%s'", (int)len, in,
                     (int)m.len, m.p, want);
    }
    free(copy);
}

static void test_frames(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
        check(frames[i].in, strlen(frames[i].in), frames[i].msg);
}

/* Every prefix of every frame: no read past the cut (ASan), and the
 * message lies inside the prefix. */
static void test_truncated(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
        const char *in = frames[i].in;
        size_t len = strlen(in);

        for (size_t cut = 0; cut <= len; cut++) {
            struct lsl_span m;
            char *copy = malloc(cut ? cut : 1);

            assert_non_null(copy);
            memcpy(copy, in, cut);
            lsl_syslog_strip(copy, cut, &m);
            assert_true(m.p >= copy && m.p <= copy + cut);
            assert_true(m.p + m.len <= copy + cut);
            free(copy);
        }
    }
}

/* A cut in the middle of the message keeps the header stripped. */
static void test_cut_message(void **state)
{
    const char *in = "<190>Nov 29 17:00:00 edge-01 nginx: " NGINX_LINE;
    size_t hdr = strlen("<190>Nov 29 17:00:00 edge-01 nginx: ");

    (void)state;
    for (size_t cut = hdr + 1; cut <= strlen(in); cut++) {
        struct lsl_span m;

        lsl_syslog_strip(in, cut, &m);
        assert_ptr_equal(m.p, in + hdr);
        assert_int_equal(m.len, cut - hdr);
    }
}

/* Random bytes, and random mutations of real frames: in bounds. */
static void test_garbage(void **state)
{
    uint32_t x = 2463534242u;

    (void)state;
    for (int round = 0; round < 20000; round++) {
        const char *base =
            frames[(size_t)round % (sizeof(frames) / sizeof(frames[0]))].in;
        size_t len = strlen(base);
        char *copy;

        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        if (len == 0)
            continue;
        copy = malloc(len);
        assert_non_null(copy);
        memcpy(copy, base, len);
        for (int k = 0; k < 3; k++)
            copy[(x >> (k * 8)) % len] = (char)(x >> (k * 5));
        check(copy, len, NULL);
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_cut_message),
        cmocka_unit_test(test_garbage),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
