/*
 * Normalization: one spelling per value, RFC 5952 text for IPv6, and the
 * canonical formatter checked against glibc's inet_ntop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "logseal/token.h"
#include "src/token/ipaddr_internal.h"

struct norm_case {
    enum lsl_class cls;
    const char *in;
    const char *want;
};

static const struct norm_case cases[] = {
    /* IPv4, zero-padded octets are decimal */
    {LSL_CLASS_IP, "192.0.2.1", "192.0.2.1"},
    {LSL_CLASS_IP, "010.001.002.003", "10.1.2.3"},
    {LSL_CLASS_IP, "000.000.000.000", "0.0.0.0"},
    {LSL_CLASS_IP, "255.255.255.255", "255.255.255.255"},
    /* IPv4-mapped IPv6 in several spellings */
    {LSL_CLASS_IP, "::ffff:192.0.2.1", "192.0.2.1"},
    {LSL_CLASS_IP, "::FFFF:192.0.2.1", "192.0.2.1"},
    {LSL_CLASS_IP, "::ffff:c000:201", "192.0.2.1"},
    {LSL_CLASS_IP, "::ffff:C000:0201", "192.0.2.1"},
    {LSL_CLASS_IP, "0:0:0:0:0:ffff:192.0.2.1", "192.0.2.1"},
    {LSL_CLASS_IP, "0000:0000:0000:0000:0000:FFFF:0102:0304", "1.2.3.4"},
    /* RFC 5952 section 4 */
    {LSL_CLASS_IP, "2001:0db8::0001", "2001:db8::1"},        /* 4.1 */
    {LSL_CLASS_IP, "2001:db8:0:0:0:0:2:1", "2001:db8::2:1"}, /* 4.2.1 */
    {LSL_CLASS_IP, "2001:db8::0:1", "2001:db8::1"},
    {LSL_CLASS_IP, "2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, /* 4.2.2 */
    {LSL_CLASS_IP, "2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},         /* 4.2.3 */
    {LSL_CLASS_IP, "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
    {LSL_CLASS_IP, "2001:DB8::ABCD", "2001:db8::abcd"}, /* 4.3 */
    {LSL_CLASS_IP, "0:0:0:0:0:0:0:0", "::"},
    {LSL_CLASS_IP, "0:0:0:0:0:0:0:1", "::1"},
    {LSL_CLASS_IP, "1:0:0:0:0:0:0:0", "1::"},
    {LSL_CLASS_IP, "1::2:3:4:5:6:7", "1:0:2:3:4:5:6:7"},
    {LSL_CLASS_IP, "::0.2.0.3", "::2:3"}, /* IPv4-compatible: hex */
    /* zone ids stay, after the canonical address */
    {LSL_CLASS_IP, "fe80::1%eth0", "fe80::1%eth0"},
    {LSL_CLASS_IP, "FE80:0:0:0:0:0:0:0001%eth0", "fe80::1%eth0"},
    {LSL_CLASS_IP, "fe80::1%", "fe80::1%"},
    /* not addresses: unchanged */
    {LSL_CLASS_IP, "1.2.3.256", "1.2.3.256"},
    {LSL_CLASS_IP, "1.2.3", "1.2.3"},
    {LSL_CLASS_IP, "0001.2.3.4", "1.2.3.4"}, /* octal 0001, as inet_aton */
    {LSL_CLASS_IP, "1.2.3.4 ", "1.2.3.4 "},
    {LSL_CLASS_IP, "2001:db8::g", "2001:db8::g"},
    {LSL_CLASS_IP, "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8:9"},
    {LSL_CLASS_IP, "Localhost", "Localhost"},
    {LSL_CLASS_IP, "", ""},
    /* percent-encoded: decoded first, so one address has one token */
    {LSL_CLASS_IP, "%31%39%32.168.7.4", "192.168.7.4"},
    {LSL_CLASS_IP, "192%2E168%2e7%2E4", "192.168.7.4"},
    {LSL_CLASS_IP, "fe80%3A%3A1", "fe80::1"},
    {LSL_CLASS_IP, "fe80::1%25eth0", "fe80::1%eth0"},
    {LSL_CLASS_IP, "FE80::1%2525eth0", "fe80::1%eth0"},
    {LSL_CLASS_IP, "%3A%3Affff%3A10.0.0.1", "10.0.0.1"},
    /* the other spellings inet_aton reads, four parts or one number */
    {LSL_CLASS_IP, "0xC0A80001", "192.168.0.1"},
    {LSL_CLASS_IP, "0xc0.0xa8.0x00.0x01", "192.168.0.1"},
    {LSL_CLASS_IP, "0300.0250.0.1", "192.168.0.1"},
    {LSL_CLASS_IP, "0xC0.168.0.01", "192.168.0.1"},
    {LSL_CLASS_IP, "3232235521", "192.168.0.1"},
    {LSL_CLASS_IP, "030052000001", "192.168.0.1"},
    {LSL_CLASS_IP, "127.1", "127.1"},
    {LSL_CLASS_IP, "42", "42"},
    {LSL_CLASS_IP, "0x2A", "0x2A"},
    {LSL_CLASS_IP, "4294967296", "4294967296"},
    {LSL_CLASS_IP, "0x1.0x2.0x3.0x100", "0x1.0x2.0x3.0x100"},
    {LSL_CLASS_IP, "08.1.1.1", "8.1.1.1"}, /* decimal first, as ever */
    {LSL_CLASS_IP, "0800.1.1.1", "0800.1.1.1"},
    /* a dashed quad from a host name */
    {LSL_CLASS_IP, "54-12-34-56", "54.12.34.56"},
    {LSL_CLASS_IP, "54%2D12%2D34%2D56", "54.12.34.56"},
    {LSL_CLASS_IP, "54-12-34-256", "54-12-34-256"},
    /* UUIDs lower-cased, other ids untouched */
    {LSL_CLASS_ID, "123E4567-E89B-12D3-A456-426614174000",
     "123e4567-e89b-12d3-a456-426614174000"},
    {LSL_CLASS_ID, "123E4567-E89B-12D3-A456-42661417400G",
     "123E4567-E89B-12D3-A456-42661417400G"},
    {LSL_CLASS_ID, "123E4567E89B-12D3-A456-426614174000-",
     "123E4567E89B-12D3-A456-426614174000-"},
    {LSL_CLASS_ID, "Device-ABC", "Device-ABC"},
    {LSL_CLASS_ID, "123E4567%2DE89B-12D3-A456-426614174000",
     "123e4567-e89b-12d3-a456-426614174000"},
    /* advertising ids without dashes: the same UUID */
    {LSL_CLASS_ID, "123E4567E89B12D3A456426614174000",
     "123e4567-e89b-12d3-a456-426614174000"},
    /* MAC addresses, three spellings, one text */
    {LSL_CLASS_ID, "00:1A:2B:3C:4D:5E", "00:1a:2b:3c:4d:5e"},
    {LSL_CLASS_ID, "00-1a-2b-3c-4d-5e", "00:1a:2b:3c:4d:5e"},
    {LSL_CLASS_ID, "001A.2B3C.4D5E", "00:1a:2b:3c:4d:5e"},
    {LSL_CLASS_ID, "00%3A1a%3A2b%3A3c%3A4d%3A5e", "00:1a:2b:3c:4d:5e"},
    {LSL_CLASS_ID, "00:1a-2b:3c:4d:5e", "00:1a-2b:3c:4d:5e"},
    /* Android ids and other long hex: case folded */
    {LSL_CLASS_ID, "9774D56D682E549C", "9774d56d682e549c"},
    {LSL_CLASS_ID, "9774D56D682E549", "9774D56D682E549"},
    /* IMEI in groups: its digits */
    {LSL_CLASS_ID, "35-209900-176148-1", "352099001761481"},
    {LSL_CLASS_ID, "35 209900 176148 23", "3520990017614823"},
    {LSL_CLASS_ID, "35-209900-176148", "35-209900-176148"},
    {LSL_CLASS_ID, "352099001761481", "352099001761481"},
    {LSL_CLASS_ID, "35--209900-176148-1", "35--209900-176148-1"},
    {LSL_CLASS_ID, "::FFFF:1.2.3.4", "::FFFF:1.2.3.4"},
    /* e-mail: ASCII lower case, other bytes kept */
    {LSL_CLASS_EMAIL, "Alice@Example.COM", "alice@example.com"},
    {LSL_CLASS_EMAIL, "J\xc3\x96rg@EX.org", "j\xc3\x96rg@ex.org"},
    {LSL_CLASS_EMAIL, "John%40Example.com", "john@example.com"},
    {LSL_CLASS_EMAIL, "john%2540example.com", "john@example.com"},
    /* other classes: unchanged */
    {LSL_CLASS_USER, "User42", "User42"},
    {LSL_CLASS_NAME, "Bob", "Bob"},
    {LSL_CLASS_SECRET, "AbC", "AbC"},
    /* secret: a card number in groups -> its digits */
    {LSL_CLASS_SECRET, "4111 1111 1111 1111", "4111111111111111"},
    {LSL_CLASS_SECRET, "4111-1111-1111-1111", "4111111111111111"},
    {LSL_CLASS_SECRET, "3782 822463 10005", "378282246310005"},
    {LSL_CLASS_SECRET, "4111%201111%201111%201111", "4111111111111111"},
    {LSL_CLASS_SECRET, "4111 1111 1111 1112", "4111 1111 1111 1112"},
    {LSL_CLASS_SECRET, "4111 1111-1111 1111", "4111 1111-1111 1111"},
    {LSL_CLASS_SECRET, "4111  1111 1111 1111", "4111  1111 1111 1111"},
    {LSL_CLASS_SECRET, "1234 5678", "1234 5678"},
    {LSL_CLASS_SECRET, "4111 1111 1111 1111 0000 0",
     "4111 1111 1111 1111 0000 0"},
    /* phone: the digits; +81 (and a "(0)" after it) -> the national 0 */
    {LSL_CLASS_PHONE, "+1-555-0100", "+15550100"},
    {LSL_CLASS_PHONE, "090-1234-5678", "09012345678"},
    {LSL_CLASS_PHONE, "090 1234 5678", "09012345678"},
    {LSL_CLASS_PHONE, "090.1234.5678", "09012345678"},
    {LSL_CLASS_PHONE, "03(1234)5678", "0312345678"},
    {LSL_CLASS_PHONE, "(03) 1234-5678", "0312345678"},
    {LSL_CLASS_PHONE, "+81-90-1234-5678", "09012345678"},
    {LSL_CLASS_PHONE, "+81 (0)90-1234-5678", "09012345678"},
    {LSL_CLASS_PHONE, "+81 090 1234 5678", "09012345678"},
    {LSL_CLASS_PHONE, "+819012345678", "09012345678"},
    {LSL_CLASS_PHONE, "%2B81%2090%201234%205678", "09012345678"},
    {LSL_CLASS_PHONE, "+81", "0"},
    {LSL_CLASS_PHONE, "+44 20 7946 0958", "+442079460958"},
    /* not only digits and separators: as written */
    {LSL_CLASS_PHONE, "090-1234-5678 ext", "090-1234-5678 ext"},
    {LSL_CLASS_PHONE, "tel:090-1234-5678", "tel:090-1234-5678"},
    {LSL_CLASS_PHONE, "090-1234-5678-", "090-1234-5678-"},
    {LSL_CLASS_PHONE, "++81 90", "++81 90"},
    {LSL_CLASS_PHONE, "90+81", "90+81"},
    {LSL_CLASS_PHONE, "+", "+"},
    {LSL_CLASS_PHONE, "", ""},
    /* Wide forms, as Japanese input methods type them: folded */
    {LSL_CLASS_PHONE,
     "\xef\xbc\x90\xef\xbc\x99\xef\xbc\x90\xef\xbc\x8d"
     "1234\xe3\x83\xbc"
     "5678",
     "09012345678"},
    {LSL_CLASS_EMAIL,
     "\xef\xbc\xa2ob\xef\xbc\xa0"
     "Example\xef\xbc\x8e"
     "com",
     "bob@example.com"},
    {LSL_CLASS_IP,
     "192\xe3\x80\x82"
     "168\xe3\x80\x82\xef\xbc\x91.1",
     "192.168.1.1"},
    {LSL_CLASS_EMAIL, "%EF%BC%A0x@y.org", "@x@y.org"},
    {LSL_CLASS_USER,
     "\xef\xbc\x85"
     "41",
     "\xef\xbc\x85"
     "41"},
    {LSL_CLASS_SECRET, "a%2Fb+c", "a/b+c"},
    {LSL_CLASS_USER, "%", "%"},
    /* "(at)" and "[dot]" that hide an address: folded, for e-mail only */
    {LSL_CLASS_EMAIL, "Bob(AT)Example.com", "bob@example.com"},
    {LSL_CLASS_EMAIL, "bob [at] example [dot] com", "bob@example.com"},
    {LSL_CLASS_EMAIL, "bob{at}example<dot>co(dot)jp", "bob@example.co.jp"},
    {LSL_CLASS_EMAIL, "bob%28at%29example.com", "bob@example.com"},
    {LSL_CLASS_EMAIL,
     "bob\xef\xbc\x88\xef\xbd\x81\xef\xbd\x94\xef\xbc\x89"
     "example.com",
     "bob@example.com"},
    {LSL_CLASS_EMAIL, "bob((at))x.org", "bob(@)x.org"},
    {LSL_CLASS_EMAIL, "bob(a t)x.org", "bob(a t)x.org"},
    {LSL_CLASS_USER, "bob(at)home", "bob(at)home"},
    {LSL_CLASS_EMAIL,
     "Bob\xe2\x98\x85"
     "example.com",
     "bob@example.com"},
    {LSL_CLASS_EMAIL,
     "bob\xe3\x82\xa2\xe3\x83\x83\xe3\x83\x88\xe3\x83\x9e\xe3\x83\xbc"
     "\xe3\x82\xaf"
     "example.com",
     "bob@example.com"},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < LSL_ARRAY_SIZE(cases); i++) {
        const struct norm_case *k = &cases[i];
        size_t len = strlen(k->in);
        char out[256];
        long n =
            lsl_token_normalize(k->cls, k->in, len, out, len + LSL_NORM_SLACK);

        if (n < 0 || (size_t)n != strlen(k->want) ||
            memcmp(out, k->want, (size_t)n) != 0)
            fail_msg("case %zu: '%s' -> '%.*s', want '%s'", i, k->in,
                     n < 0 ? 0 : (int)n, out, k->want);
    }
}

/* The normalization before phone numbers were read as their digits: a
 * phone number decoded but as written, every other class as now. */
static void test_legacy(void **state)
{
    static const char wide[] = "\xef\xbc\x90\xef\xbc\x99\xef\xbc\x90-"
                               "1234-5678";
    char a[256], b[256];
    long n, m;

    (void)state;
    n = lsl_token_normalize_legacy(LSL_CLASS_PHONE, wide, strlen(wide), a,
                                   sizeof(a));
    assert_int_equal(n, strlen("090-1234-5678"));
    assert_memory_equal(a, "090-1234-5678", (size_t)n);
    n = lsl_token_normalize_legacy(LSL_CLASS_PHONE, "+81%2090", 8, a,
                                   sizeof(a));
    assert_int_equal(n, 6);
    assert_memory_equal(a, "+81 90", 6);
    for (size_t i = 0; i < LSL_ARRAY_SIZE(cases); i++) {
        const struct norm_case *k = &cases[i];
        size_t len = strlen(k->in);

        if (k->cls == LSL_CLASS_PHONE)
            continue;
        n = lsl_token_normalize(k->cls, k->in, len, a, sizeof(a));
        m = lsl_token_normalize_legacy(k->cls, k->in, len, b, sizeof(b));
        assert_int_equal(n, m);
        assert_memory_equal(a, b, (size_t)n);
    }
}

static void test_enospc(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(lsl_token_normalize(LSL_CLASS_USER, "abcdef", 6, out, 5),
                     -ENOSPC);
    assert_int_equal(lsl_token_normalize(LSL_CLASS_EMAIL, "A@B", 3, out, 2),
                     -ENOSPC);
    /* The canonical form may be longer than the input. */
    assert_int_equal(
        lsl_token_normalize(LSL_CLASS_IP, "1::2:3:4:5:6:7", 14, out, 14),
        -ENOSPC);
    assert_int_equal(
        lsl_token_normalize(LSL_CLASS_IP, "1::2:3:4:5:6:7", 14, out, 15), 15);
    assert_int_equal(
        lsl_token_normalize(LSL_CLASS_IP, "fe80::1%eth0", 12, out, 11),
        -ENOSPC);
    assert_int_equal(lsl_token_normalize(LSL_CLASS_IP, "", 0, out, 0), 0);
}

/*
 * glibc's inet_ntop follows RFC 5952 for zero runs, but prints the
 * deprecated IPv4-compatible range (::a.b.c.d) in dotted form. Ours must
 * agree everywhere else and stay hexadecimal there.
 */
static void test_glibc_ntop(void **state)
{
    uint8_t a[16];
    char ours[LSL_IP6_TEXT_MAX], theirs[INET6_ADDRSTRLEN];
    unsigned dotted = 0;

    (void)state;
    srand(5952);
    for (int round = 0; round < 100000; round++) {
        /* Each group zero with probability 1/2, to make many runs. */
        for (int g = 0; g < 8; g++) {
            unsigned w = rand() & 1 ? 0 : (unsigned)rand() & 0xffff;

            if (g < 6 && round % 7 == 0)
                w = 0;
            a[2 * g] = (uint8_t)(w >> 8);
            a[2 * g + 1] = (uint8_t)w;
        }
        if (round % 11 == 0) /* some IPv4-mapped */
            memcpy(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
        lsl_ip6_format(a, ours);
        assert_non_null(inet_ntop(AF_INET6, a, theirs, sizeof(theirs)));
        if (strchr(theirs, '.')) {
            dotted++;
            assert_null(strchr(ours, '.'));
            continue;
        }
        if (strcmp(ours, theirs) != 0)
            fail_msg("ours %s, glibc %s", ours, theirs);
    }
    /* The difference is real: glibc dots ::2:3. */
    memset(a, 0, sizeof(a));
    a[13] = 2;
    a[15] = 3;
    assert_non_null(inet_ntop(AF_INET6, a, theirs, sizeof(theirs)));
    lsl_ip6_format(a, ours);
    assert_string_equal(ours, "::2:3");
    assert_true(dotted > 0);
}

static void test_ip_valid(void **state)
{
    (void)state;
    assert_true(lsl_ip_valid("1.2.3.4", 7));
    assert_true(lsl_ip_valid("::1", 3));
    assert_false(lsl_ip_valid("1.2.3.4x", 8));
    assert_false(lsl_ip_valid("", 0));
}

/* 1..max bytes drawn from alphabet, NUL-terminated, into s. */
static const char *random_text(char *s, const char *alphabet, size_t max)
{
    size_t len = 1 + (size_t)rand() % max, n = strlen(alphabet);

    for (size_t i = 0; i < len; i++)
        s[i] = alphabet[(size_t)rand() % n];
    s[len] = '\0';
    return s;
}

/* The IPv4 check is ours; it must accept exactly what inet_pton does. */
static void check_like_pton(const char *s)
{
    unsigned char bin[16];

    if (lsl_ip_valid(s, strlen(s)) != (inet_pton(AF_INET, s, bin) == 1))
        fail_msg("lsl_ip_valid and inet_pton differ on \"%s\"", s);
}

static void test_ip4_like_pton(void **state)
{
    static const char *edge[] = {
        "0.0.0.0",    "255.255.255.255", "256.1.1.1", "01.2.3.4",  "1.2.3.04",
        "1.2.3",      "1.2.3.4.",        ".1.2.3.4",  "1..2.3",    "1.2.3.4.5",
        "1234.1.1.1", "1.2.3.255",       "1.2.3.256", "0.00.0.0",  "1.2.3.-1",
        "1.2.3.+1",   " 1.2.3.4",        "1.2.3.4 ",  "999.2.3.4", "10.0.0.1",
    };
    char s[20];

    (void)state;
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
        check_like_pton(edge[i]);
    srand(7);
    for (int n = 0; n < 200000; n++)
        check_like_pton(random_text(s, "0123456789..", 16));
}

/* The lenient IPv4 reader must read exactly what inet_aton reads (no
 * blanks in the text: inet_aton stops at one, ours does not). */
static bool check_like_aton(const char *s)
{
    uint8_t ours[4];
    struct in_addr theirs;
    bool ok = lsl_ip4_parse_lenient(s, strlen(s), ours);

    if (ok != (inet_aton(s, &theirs) != 0))
        fail_msg("lsl_ip4_parse_lenient and inet_aton differ on \"%s\"", s);
    if (ok && memcmp(ours, &theirs.s_addr, 4) != 0)
        fail_msg("lsl_ip4_parse_lenient and inet_aton give other bytes for "
                 "\"%s\"",
                 s);
    return ok;
}

/* 1-4 parts, each decimal, octal or hex of random size. */
static const char *shaped_aton(char *s)
{
    int parts = 1 + rand() % 4;
    size_t k = 0;

    for (int p = 0; p < parts; p++) {
        int kind = rand() % 3, digits = 1 + rand() % (rand() % 4 ? 3 : 11);

        if (p > 0)
            s[k++] = '.';
        if (kind == 1)
            s[k++] = '0';
        if (kind == 2) {
            s[k++] = '0';
            s[k++] = rand() % 2 ? 'x' : 'X';
        }
        for (int d = 0; d < digits; d++)
            s[k++] = "0123456789abcdefABCDEF"[rand() % (kind == 2 ? 22 : 10)];
    }
    s[k] = '\0';
    return s;
}

static void test_ip4_like_aton(void **state)
{
    static const char *edge[] = {
        "0xC0A80001",
        "0xc0.0xa8.0.1",
        "0300.0250.0.1",
        "3232235521",
        "4294967295",
        "4294967296",
        "127.1",
        "1.2.3",
        "0x",
        "0x.1.2.3",
        "08",
        "0",
        "00",
        "1.2.3.4.",
        "1..2",
        ".1",
        "0x100.1.1.1",
        "1.0xffffff",
        "1.0x1000000",
        "1.2.0xffff",
        "1.2.0x10000",
        "99999999999999999999",
        "0xfffffffff",
        "1.2.3.4",
    };
    char s[96];
    int valid = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
        check_like_aton(edge[i]);
    srand(1003);
    for (int n = 0; n < 200000; n++)
        check_like_aton(random_text(s, "0123456789abcdefxX....", 24));
    for (int n = 0; n < 300000; n++)
        valid += check_like_aton(shaped_aton(s));
    assert_true(valid > 30000);
}

/* Ours against inet_pton(AF_INET6): the same verdict, the same bytes. */
static bool check_ip6_like_pton(const char *s)
{
    uint8_t ours[16], theirs[16];
    bool ok = lsl_ip6_parse(s, strlen(s), ours);

    if (ok != (inet_pton(AF_INET6, s, theirs) == 1))
        fail_msg("lsl_ip6_parse and inet_pton differ on \"%s\"", s);
    if (ok && memcmp(ours, theirs, 16) != 0)
        fail_msg("lsl_ip6_parse and inet_pton give other bytes for \"%s\"", s);
    return ok;
}

/* 1-9 groups of 1-5 hex digits, maybe a "::", maybe a dotted quad. */
static const char *shaped_ip6(char *s)
{
    int groups = 1 + rand() % 9, gap = rand() % 2 ? rand() % (groups + 1) : -1;
    size_t k = 0;

    for (int g = 0; g < groups; g++) {
        if (g == gap)
            s[k++] = ':';
        if (g > 0 || g == gap)
            s[k++] = ':';
        for (int d = 1 + rand() % (rand() % 8 ? 4 : 5); d > 0; d--)
            s[k++] = "0123456789abcdef"[rand() % 16];
    }
    if (gap == groups)
        s[k++] = ':', s[k++] = ':';
    if (rand() % 4 == 0)
        k += (size_t)sprintf(s + k, "%s%d.%d.%d.%d", k ? ":" : "", rand() % 300,
                             rand() % 256, rand() % 256, rand() % 256);
    s[k] = '\0';
    return s;
}

static void test_ip6_like_pton(void **state)
{
    static const char *edge[] = {
        "::",
        "::1",
        "1::",
        ":1::",
        "1:::2",
        ":::",
        "1::2::3",
        "1:",
        ":1",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8::",
        "12345::",
        "1::fffff",
        "::ffff:1.2.3.4",
        "::1.2.3.4",
        "1.2.3.4::",
        "::1.2.3",
        "::1.2.3.04",
        "1:2:3:4:5:6:1.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4",
        "::1.2.3.4:5",
        "fe80::1%eth0",
        "2001:DB8::A",
        "::a.2.3.4",
        "::1234.1.1.1",
        "",
        "1::2:",
        "::ffff:1.2.3.4.",
        "0:0:0:0:0:0:0:0",
        "1:2:3:4:5::1.2.3.4",
        "1:2:3:4:5:6::1.2.3.4",
    };
    char s[96];
    int valid = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
        check_ip6_like_pton(edge[i]);
    srand(11);
    for (int n = 0; n < 300000; n++)
        check_ip6_like_pton(
            random_text(s, "0123456789abcdefABCDEF::::...x%", 40));
    /* Address-shaped text, so that many are valid. */
    for (int n = 0; n < 300000; n++)
        valid += check_ip6_like_pton(shaped_ip6(s));
    assert_true(valid > 30000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_legacy),
        cmocka_unit_test(test_enospc),
        cmocka_unit_test(test_glibc_ntop),
        cmocka_unit_test(test_ip_valid),
        cmocka_unit_test(test_ip4_like_pton),
        cmocka_unit_test(test_ip6_like_pton),
        cmocka_unit_test(test_ip4_like_aton),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
