/*
 * Fuzz helpers. Set-up failures abort: a target that cannot build its
 * fixture must not pass as "no crash".
 */
#include "fuzz_util.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

void fz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    abort();
}

static void rm_tmpdir(void)
{
    char path[512];
    struct dirent *e;
    DIR *d = opendir(tmpdir);

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(tmpdir);
}

const char *fz_tmpdir(void)
{
    const char *base = getenv("TMPDIR");

    if (tmpdir[0])
        return tmpdir;
    snprintf(tmpdir, sizeof(tmpdir), "%s/lsl-fuzz-XXXXXX",
             base && base[0] ? base : "/tmp");
    FZ_CHECK(mkdtemp(tmpdir) != NULL);
    atexit(rm_tmpdir);
    return tmpdir;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Write a key file `name` of the scratch directory; its path in out. */
static void key_file(const char *name, const uint8_t *img, size_t len,
                     char *out, size_t cap)
{
    int fd;

    snprintf(out, cap, "%s/%s", fz_tmpdir(), name);
    fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FZ_CHECK(fd >= 0);
    FZ_CHECK(write(fd, img, len) == (ssize_t)len);
    close(fd);
}

struct lsl_keyring *fz_keyring(void)
{
    /* The key file layout of src/token/keyring.c, written out here so the
     * fuzzers need no key generation (and always use the same key). */
    uint8_t img[56] = "LSLHKEY1";
    struct lsl_keyring *kr = NULL;
    char path[512];

    img[8] = 1;               /* version */
    img[9] = LSL_EPOCH_NEVER; /* epoch_len */
    put_le(img + 12, 1, 4);   /* epoch */
    put_le(img + 16, 1700000000, 8);
    for (int i = 0; i < 32; i++)
        img[24 + i] = (uint8_t)(0xa0 + i);
    key_file("hash.key", img, sizeof(img), path, sizeof(path));
    FZ_CHECK(lsl_keyring_open(&kr, path) == 0);
    unlink(path);
    return kr;
}

struct lsl_ckpt_key *fz_ckpt_key(void)
{
    /* src/core/ckptkey.c's layout; the key is 0xc0, 0xc1, ... 0xdf. */
    uint8_t img[40] = "LSLCKEY1";
    struct lsl_ckpt_key *k = NULL;
    char path[512];

    for (int i = 0; i < 32; i++)
        img[8 + i] = (uint8_t)(0xc0 + i);
    key_file(LSL_CKPT_KEY_FILE, img, sizeof(img), path, sizeof(path));
    FZ_CHECK(lsl_ckpt_key_open(path, false, &k, NULL) == 0);
    unlink(path);
    return k;
}

const char *const fz_rule_names[FZ_NRULES + 1] = {
    "nginx-combined", "nginx-main",       "nginx-json", "w3c", "nginx-rtmp",
    "posting",        "nginx-disclosure", "text",       NULL,
};

const char *const fz_real_rule_names[FZ_NREAL + 1] = {
    "apache-common",
    "apache-combined",
    "apache-vhost-combined",
    "caddy",
    "traefik",
    "haproxy-http",
    "aws-alb",
    "aws-elb",
    "aws-s3",
    "cloudfront",
    "cloudfront-rtmp",
    "zeek-http",
    NULL,
};

struct lsl_rule *fz_rule(const char *name)
{
    char path[512];
    struct lsl_rule *r = NULL;
    struct lsl_rule_error e;

    snprintf(path, sizeof(path), "%s/%s.rules", LSL_FUZZ_RULES_DIR, name);
    if (lsl_rule_load(&r, path, &e) != 0) {
        fprintf(stderr, "%s:%u: %s\n", path, e.line, e.msg);
        abort();
    }
    return r;
}

/* Four dotted numbers 0-255; leading zeros allowed (read as decimal). */
static bool dotted_quad(const char *t, size_t n)
{
    unsigned parts = 0, digits = 0, val = 0;

    for (size_t i = 0; i <= n; i++) {
        if (i < n && t[i] >= '0' && t[i] <= '9') {
            val = val * 10 + (unsigned)(t[i] - '0');
            if (++digits > 3 || val > 255)
                return false;
            continue;
        }
        if (digits == 0 || (i < n && t[i] != '.'))
            return false;
        parts++;
        digits = val = 0;
    }
    return parts == 4;
}

/* What a scrubber span of class ip may hold, decoded (t[0..n)). */
static void check_ip_span(const struct lsl_plan_span *s, const char *t,
                          size_t n)
{
    uint8_t a[4];

    if (s->flags & LSL_SPAN_F_DASHED) {
        for (size_t i = 0; i < n; i++)
            FZ_CHECK((t[i] >= '0' && t[i] <= '9') || t[i] == '-');
        return;
    }
    if (!memchr(t, ':', n)) {
        /* A dotted quad, or a URL host spelled as inet_aton reads it. */
        FZ_CHECK(dotted_quad(t, n) || lsl_ip4_parse_lenient(t, n, a));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '%') {
            n = i; /* a zone id follows the address */
            break;
        }
    }
    FZ_CHECK(lsl_ip_valid(t, n));
}

static size_t count_digits(const char *t, size_t n)
{
    size_t d = 0;

    for (size_t i = 0; i < n; i++)
        d += t[i] >= '0' && t[i] <= '9';
    return d;
}

/* A device id: UUID, MAC (17 or 14 bytes) or IMEI (14-16 digits). */
static void check_id_span(const char *t, size_t n)
{
    size_t d = count_digits(t, n);

    FZ_CHECK(n == 36 || n == 17 || n == 14 ||
             (d >= 14 && d <= 16 && n <= d + 3));
}

/* Scrubber spans are checked read as the scrubber reads them: escapes
 * decoded (JSON's and nginx's when flagged, then percent), wide forms and
 * "(at)" folded; their spans cover the raw bytes. */
/* Digits in groups joined by ' ' or '-': a card number (card.c). */
static bool card_shaped(const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(t[i] >= '0' && t[i] <= '9') && t[i] != ' ' && t[i] != '-')
            return false;
    return count_digits(t, n) >= 14;
}

static void check_scrub_span(const struct lsl_plan_span *s, const char *raw)
{
    char *t = malloc(s->len ? s->len : 1), *u = malloc(s->len ? s->len : 1);
    size_t n = s->len;
    bool blank;

    FZ_CHECK(t != NULL && u != NULL);
    memcpy(u, raw, n);
    if (s->flags & LSL_SPAN_F_JSON)
        n = lsl_json_unescape(raw, n, u, NULL, LSL_JSON_CTL_KEEP);
    else if (s->flags & LSL_SPAN_F_XESC)
        n = lsl_xesc_decode(raw, n, u, NULL);
    n = lsl_pct_decode(u, n, t, NULL);
    /* A blank the text holds, and still holds read folded: an ideographic
     * space a word held (read unfolded) folds to one, and "(at)" folds
     * its blanks away. */
    blank = memchr(t, ' ', n) || memchr(t, '\t', n);
    n = lsl_wide_fold(t, n, NULL);
    n = lsl_atdot_fold(t, n, NULL);
    blank = blank && (memchr(t, ' ', n) || memchr(t, '\t', n));
    FZ_CHECK(n > 0);
    FZ_CHECK(s->action == LSL_ACT_TOKEN);
    if (s->cls == LSL_CLASS_IP)
        check_ip_span(s, t, n);
    else if (s->cls == LSL_CLASS_EMAIL)
        FZ_CHECK(memchr(t, '@', n) != NULL);
    else if (s->cls == LSL_CLASS_ID)
        check_id_span(t, n);
    else if (s->cls == LSL_CLASS_SECRET || s->cls == LSL_CLASS_USER)
        /* JWTs, credentials, URL userinfo: one word; or a card number. */
        FZ_CHECK(!blank || (s->cls == LSL_CLASS_SECRET && card_shaped(t, n)));
    else
        FZ_CHECK(s->cls == LSL_CLASS_PHONE); /* Japanese phone numbers */
    free(t);
    free(u);
}

void fz_check_plan(const struct lsl_plan *p, const char *line, size_t len,
                   bool scrubbed)
{
    uint64_t end = 0;

    for (size_t i = 0; i < p->count; i++) {
        const struct lsl_plan_span *s = &p->spans[i];

        FZ_CHECK(s->len > 0);
        FZ_CHECK(s->off >= end);
        FZ_CHECK((uint64_t)s->off + s->len <= len);
        FZ_CHECK(s->action == LSL_ACT_TOKEN || s->action == LSL_ACT_DROP);
        FZ_CHECK(s->cls < LSL_CLASS_COUNT);
        /* Only a span holding an escape is read unescaped. */
        FZ_CHECK(!(s->flags & LSL_SPAN_F_JSON) ||
                 memchr(line + s->off, '\\', s->len) != NULL);
        if (scrubbed)
            check_scrub_span(s, line + s->off);
        end = (uint64_t)s->off + s->len;
    }
    if (p->time.p)
        FZ_CHECK(p->time.p >= line && p->time.p + p->time.len <= line + len);
    if (scrubbed)
        FZ_CHECK(!p->matched && !p->time.p);
}
