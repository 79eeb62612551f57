/*
 * Fuzz target: the batch path (lsl_batch_add_line + lsl_batch_process)
 * with a fixed key. Input: byte 0 picks the rule (bits 0-2: a shipped
 * rule, or none) and the worker (bits 3-4: text, text + gzip, JSON lines,
 * text with every address as an fd00::/8 address); byte 1 marks lines as
 * pieces of an overlong line (bit i % 8 for line i); the rest is split
 * into lines at '\n'. Checks: every whole line is counted once and ends
 * in one '\n' (in JSON lines every piece too, and a W3C header line, a
 * counted meta line, writes nothing); parsed + unparsed = lines; the gzip
 * member inflates to the text, and a batch of no lines writes no member;
 * in token output every mapping's token (or, for an address, its ip6-mode
 * address) is in the text and every token in the text parses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "fuzz_util.h"
#include "logseal/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bits 0-2 of byte 0: the first seven shipped rules, 7 = none. */
#define BATCH_RULES 7
static struct lsl_rule *rules[BATCH_RULES + 1]; /* the last one NULL */
enum { W_TEXT, W_GZIP, W_JSONL, W_IP6, W_COUNT };
static struct lsl_worker *workers[W_COUNT];

static void init(void)
{
    struct lsl_worker_opts o = {.keyring = fz_keyring(), .cache_entries = 64};

    for (int i = 0; i < BATCH_RULES; i++)
        rules[i] = fz_rule(fz_rule_names[i]);
    FZ_CHECK(lsl_worker_open(&workers[W_TEXT], &o) == 0);
    o.gzip_level = 1;
    FZ_CHECK(lsl_worker_open(&workers[W_GZIP], &o) == 0);
    o.gzip_level = 0;
    o.format = LSL_OUT_JSONL;
    FZ_CHECK(lsl_worker_open(&workers[W_JSONL], &o) == 0);
    o.format = LSL_OUT_TEXT;
    o.ip = (struct lsl_ip_override){.on = true, .mode = LSL_IPMODE_IP6};
    FZ_CHECK(lsl_worker_open(&workers[W_IP6], &o) == 0);
}

/* Add the lines; returns how many are whole lines (not pieces). */
static uint64_t add_lines(struct lsl_batch *b, const char *p, size_t len,
                          uint8_t pieces)
{
    uint64_t whole = 0;
    bool prev_piece = false;

    for (size_t i = 0; len > 0; i++) {
        const char *nl = memchr(p, '\n', len);
        size_t n = nl ? (size_t)(nl - p) : len;
        uint32_t flags = 0;

        if (!nl)
            flags = LSL_LINE_NOEOL;
        else if (pieces & (1u << (i % 8)) && n + 1 < len)
            flags = LSL_LINE_PIECE;
        if (prev_piece && !(flags & LSL_LINE_PIECE))
            flags |= LSL_LINE_TAIL;
        FZ_CHECK(lsl_batch_add_line(b, p, n, flags) == 0);
        whole += !(flags & LSL_LINE_PIECE);
        prev_piece = flags & LSL_LINE_PIECE;
        p += nl ? n + 1 : n;
        len -= nl ? n + 1 : n;
    }
    return whole;
}

static void check_gzip(const struct lsl_batch *b)
{
    uLongf n = (uLongf)b->out.len;
    z_stream zs = {0};
    char *plain = malloc(n + 1);

    FZ_CHECK(plain != NULL);
    FZ_CHECK(inflateInit2(&zs, 15 + 16) == Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)b->gz.p;
    zs.avail_in = (uInt)b->gz.len;
    zs.next_out = (Bytef *)plain;
    zs.avail_out = (uInt)n + 1;
    FZ_CHECK(inflate(&zs, Z_FINISH) == Z_STREAM_END);
    FZ_CHECK(zs.total_out == n);
    FZ_CHECK(n == 0 || memcmp(plain, b->out.p, n) == 0);
    inflateEnd(&zs);
    free(plain);
}

static void check_tokens(const struct lsl_batch *b)
{
    size_t pos = 0, tlen;
    struct lsl_token t;

    for (size_t i = 0; i < b->nmaps; i++) {
        char text[LSL_TOKEN_TEXT_MAX], ip6[48];
        size_t n = lsl_token_format(&b->maps[i].tok, text);
        /* An address field's token is written as an ip6-mode address. */
        size_t n6 = b->maps[i].tok.cls == LSL_CLASS_IP
                        ? lsl_token_format_ip6(&b->maps[i].tok, ip6)
                        : 0;

        FZ_CHECK(memmem(b->out.p, b->out.len, text, n) != NULL ||
                 (n6 && memmem(b->out.p, b->out.len, ip6, n6) != NULL));
        FZ_CHECK(b->maps[i].first_seen <= b->maps[i].last_seen);
    }
    while (lsl_token_scan(b->out.p, b->out.len, &pos, &tlen)) {
        FZ_CHECK(lsl_token_parse(b->out.p + pos, tlen, &t) == 0);
        pos += tlen;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lsl_batch *b = NULL;
    unsigned kind;
    uint64_t whole, nl = 0, jsonl_meta;

    if (!workers[0])
        init();
    if (size < 2)
        return 0;
    FZ_CHECK(lsl_batch_open(&b) == 0);
    b->rule = rules[data[0] & 7];
    b->arrival = 1764403200;
    kind = (data[0] >> 3) & 3;
    whole = add_lines(b, (const char *)data + 2, size - 2, data[1]);
    FZ_CHECK(lsl_batch_process(b, workers[kind]) == 0);
    for (size_t i = 0; i < b->out.len; i++)
        nl += b->out.p[i] == '\n';
    /* JSON lines write no row for a W3C header line (counted as meta),
     * and each piece of an overlong line as its own object. */
    jsonl_meta = kind == W_JSONL ? b->st.meta : 0;
    FZ_CHECK(b->st.meta <= whole);
    FZ_CHECK(b->st.lines_in == whole && b->st.lines_out == whole - jsonl_meta);
    FZ_CHECK(nl == (kind == W_JSONL ? b->nlines - jsonl_meta : whole));
    FZ_CHECK(b->st.parsed + b->st.unparsed == whole);
    FZ_CHECK(b->st.bytes_out == b->out.len);
    if (kind == W_GZIP && b->nlines == 0)
        FZ_CHECK(b->gz.len == 0);
    else if (kind == W_GZIP)
        check_gzip(b);
    if (kind == W_TEXT || kind == W_GZIP)
        check_tokens(b);
    lsl_batch_free(b);
    return 0;
}
