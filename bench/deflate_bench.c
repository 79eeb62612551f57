/*
 * The gzip compressors side by side on the bytes logseal compresses: a
 * file (normally `logseal pipe --out -` output) cut at newlines into
 * batches of about CHUNK KiB, each written as one gzip member, as the
 * pipeline does. For zlib, libdeflate and (when built with it) ISA-L at
 * their levels: compressed size and CPU seconds of this thread (less
 * disturbed by a busy machine than wall time). Every member is inflated
 * again with zlib and compared, so a row is only printed for output that
 * is right.
 *
 * Usage: deflate_bench FILE [CHUNK_KIB [LIB]] (LIB: zlib, libdeflate or
 * isa-l; default all). One row per library and level:
 * "lib level bytes cpu_s" (machine-readable; bench/run turns it into a
 * table).
 */
#include <libdeflate.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#ifdef LSL_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

struct chunks {
    const unsigned char *p;
    size_t n;
    size_t *off; /* n + 1 offsets into p */
};

/* A compressor: gzip member of in[0..len) into out (room cap); bytes or 0. */
typedef size_t (*compress_fn)(void *ctx, const unsigned char *in, size_t len,
                              unsigned char *out, size_t cap);

static double cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t zlib_member(void *ctx, const unsigned char *in, size_t len,
                          unsigned char *out, size_t cap)
{
    z_stream *zs = ctx;

    if (deflateReset(zs) != Z_OK)
        return 0;
    zs->next_in = (Bytef *)(uintptr_t)in;
    zs->avail_in = (uInt)len;
    zs->next_out = out;
    zs->avail_out = (uInt)cap;
    if (deflate(zs, Z_FINISH) != Z_STREAM_END)
        return 0;
    return cap - zs->avail_out;
}

static size_t libdeflate_member(void *ctx, const unsigned char *in, size_t len,
                                unsigned char *out, size_t cap)
{
    return libdeflate_gzip_compress(ctx, in, len, out, cap);
}

#ifdef LSL_HAVE_ISAL
struct isal_ctx {
    struct isal_zstream zs;
    int level;
    unsigned char *lbuf;
    uint32_t lbuf_size;
};

static size_t isal_member(void *ctx, const unsigned char *in, size_t len,
                          unsigned char *out, size_t cap)
{
    struct isal_ctx *c = ctx;

    isal_deflate_init(&c->zs);
    c->zs.level = (uint32_t)c->level;
    c->zs.level_buf = c->lbuf;
    c->zs.level_buf_size = c->lbuf_size;
    c->zs.gzip_flag = IGZIP_GZIP;
    c->zs.end_of_stream = 1;
    c->zs.flush = NO_FLUSH;
    c->zs.next_in = (uint8_t *)(uintptr_t)in;
    c->zs.avail_in = (uint32_t)len;
    c->zs.next_out = out;
    c->zs.avail_out = (uint32_t)cap;
    if (isal_deflate(&c->zs) != COMP_OK ||
        c->zs.internal_state.state != ZSTATE_END)
        return 0;
    return cap - c->zs.avail_out;
}
#endif

/* Inflate the member and compare with its input: 0 when equal. */
static int check_member(const unsigned char *z, size_t zlen,
                        const unsigned char *in, size_t len, unsigned char *tmp)
{
    z_stream zs = {0};
    int ok;

    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return -1;
    zs.next_in = (Bytef *)(uintptr_t)z;
    zs.avail_in = (uInt)zlen;
    zs.next_out = tmp;
    zs.avail_out = (uInt)len + 1;
    ok = inflate(&zs, Z_FINISH) == Z_STREAM_END && zs.total_out == len &&
         zs.avail_in == 0 && memcmp(tmp, in, len) == 0;
    inflateEnd(&zs);
    return ok ? 0 : -1;
}

static int run(const char *lib, int level, compress_fn fn, void *ctx,
               const struct chunks *c, unsigned char *out, size_t cap,
               unsigned char *tmp)
{
    size_t total = 0;
    double cpu = 0;

    for (size_t i = 0; i < c->n; i++) {
        const unsigned char *in = c->p + c->off[i];
        size_t len = c->off[i + 1] - c->off[i];
        double t0 = cpu_now();
        size_t n = fn(ctx, in, len, out, cap);

        cpu += cpu_now() - t0;
        if (n == 0 || check_member(out, n, in, len, tmp)) {
            fprintf(stderr, "deflate_bench: %s level %d: batch %zu wrong\n",
                    lib, level, i);
            return -1;
        }
        total += n;
    }
    printf("%s %d %zu %.4f\n", lib, level, total, cpu);
    fflush(stdout);
    return 0;
}

static int run_zlib(int level, const struct chunks *c, unsigned char *out,
                    size_t cap, unsigned char *tmp)
{
    z_stream zs = {0};
    int rc;

    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return -1;
    rc = run("zlib", level, zlib_member, &zs, c, out, cap, tmp);
    deflateEnd(&zs);
    return rc;
}

static int run_libdeflate(int level, const struct chunks *c, unsigned char *out,
                          size_t cap, unsigned char *tmp)
{
    struct libdeflate_compressor *d = libdeflate_alloc_compressor(level);
    int rc;

    if (!d)
        return -1;
    rc = run("libdeflate", level, libdeflate_member, d, c, out, cap, tmp);
    libdeflate_free_compressor(d);
    return rc;
}

#ifdef LSL_HAVE_ISAL
static int run_isal(int level, const struct chunks *c, unsigned char *out,
                    size_t cap, unsigned char *tmp)
{
    static const uint32_t sizes[] = {
        ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT,
        ISAL_DEF_LVL3_DEFAULT};
    struct isal_ctx x = {.level = level, .lbuf_size = sizes[level]};
    int rc;

    x.lbuf = malloc(x.lbuf_size);
    if (!x.lbuf)
        return -1;
    rc = run("isa-l", level, isal_member, &x, c, out, cap, tmp);
    free(x.lbuf);
    return rc;
}
#endif

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (n == cap) {
            unsigned char *q;

            cap = cap ? cap * 2 : 1 << 24;
            q = realloc(p, cap);
            if (!q)
                break;
            p = q;
        }
        size_t got = fread(p + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *len = n;
    return p;
}

/* Cut at the last newline at or before each CHUNK boundary. */
static int cut(struct chunks *c, size_t len, size_t chunk)
{
    size_t at = 0, cap = 1024;

    c->off = malloc(cap * sizeof(*c->off));
    if (!c->off)
        return -1;
    c->n = 0;
    c->off[0] = 0;
    while (at < len) {
        size_t end = at + chunk < len ? at + chunk : len;
        const unsigned char *nl =
            end < len ? memrchr(c->p + at, '\n', end - at) : NULL;

        if (nl)
            end = (size_t)(nl - c->p) + 1;
        if (c->n + 2 > cap) {
            size_t *o = realloc(c->off, 2 * cap * sizeof(*o));

            if (!o)
                return -1;
            c->off = o;
            cap *= 2;
        }
        c->off[++c->n] = end;
        at = end;
    }
    return 0;
}

static bool want(const char *only, const char *lib)
{
    return !only || strcmp(only, lib) == 0;
}

int main(int argc, char **argv)
{
    struct chunks c = {0};
    size_t len = 0, chunk, cap;
    const char *only;
    unsigned char *out, *tmp;
    int rc = 0;

    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: deflate_bench FILE [CHUNK_KIB [LIB]]\n");
        return 2;
    }
    chunk = (argc >= 3 ? strtoul(argv[2], NULL, 10) : 512) * 1024;
    only = argc == 4 ? argv[3] : NULL;
    c.p = read_all(argv[1], &len);
    if (!c.p || len == 0 || chunk == 0 || cut(&c, len, chunk)) {
        fprintf(stderr, "deflate_bench: cannot read %s\n", argv[1]);
        return 1;
    }
    cap = chunk * 2 + 65536;
    out = malloc(cap);
    tmp = malloc(cap);
    if (!out || !tmp)
        return 1;
    printf("input %zu %zu\n", len, c.n);
    for (int l = 1; l <= 9 && rc == 0 && want(only, "zlib"); l++)
        if (l == 1 || l == 6 || l == 9)
            rc = run_zlib(l, &c, out, cap, tmp);
    for (int l = 1; l <= 9 && rc == 0 && want(only, "libdeflate"); l++)
        rc = run_libdeflate(l, &c, out, cap, tmp);
#ifdef LSL_HAVE_ISAL
    for (int l = 0; l <= 3 && rc == 0 && want(only, "isa-l"); l++)
        rc = run_isal(l, &c, out, cap, tmp);
#endif
    free(out);
    free(tmp);
    free(c.off);
    free((void *)(uintptr_t)c.p);
    return rc ? 1 : 0;
}
