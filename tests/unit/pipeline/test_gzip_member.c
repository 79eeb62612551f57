/*
 * The gzip member of a batch (lsl_worker_deflate, libdeflate) against the
 * reference decoder, zlib: at every level, on empty, tiny, log-like,
 * incompressible and highly repetitive input, each member inflates alone
 * to exactly its input (zlib checks the CRC-32 and length trailer), and
 * members written one after another read back as one stream, as segment
 * files and `zcat` read them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>
#include "../testrng.h"
#include "../token/testkey.h"
#include "logseal/batch.h"
#include "src/pipeline/batch_internal.h"

/* Inflate one gzip member from z[0..zlen); returns the bytes it used. */
static size_t inflate_member(const char *z, size_t zlen, struct lsl_buf *out)
{
    z_stream zs = {0};
    size_t used;

    assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)z;
    zs.avail_in = (uInt)zlen;
    for (;;) {
        int zrc;

        assert_int_equal(lsl_buf_reserve(out, 65536), 0);
        zs.next_out = (Bytef *)out->p + out->len;
        zs.avail_out = (uInt)(out->cap - out->len);
        zrc = inflate(&zs, Z_NO_FLUSH);
        out->len = out->cap - zs.avail_out;
        if (zrc == Z_STREAM_END)
            break;
        assert_int_equal(zrc, Z_OK);
    }
    used = zlen - zs.avail_in;
    inflateEnd(&zs);
    return used;
}

struct input {
    const char *name;
    struct lsl_buf b;
};

static void make_inputs(struct input *in, size_t n)
{
    uint64_t x = 0x9e3779b97f4a7c15u;

    assert_true(n == 5);
    memset(in, 0, n * sizeof(*in));
    in[0].name = "empty";
    in[1].name = "one byte";
    assert_int_equal(lsl_buf_append(&in[1].b, "\n", 1), 0);
    in[2].name = "log lines";
    for (unsigned i = 0; i < 9000; i++) {
        char line[160];
        int len = snprintf(line, sizeof(line),
                           "ip_%05u - - [29/Nov/2025:17:%02u:%02u +0900] "
                           "\"GET /live/ch%u/seg_%u.ts HTTP/1.1\" 200 %u\n",
                           (i * 7919u) % 30011u, i % 60, (i / 60) % 60, i % 13,
                           i, (i * 31u) % 100000u);

        assert_int_equal(lsl_buf_append(&in[2].b, line, (size_t)len), 0);
    }
    in[3].name = "random";
    assert_int_equal(lsl_buf_reserve(&in[3].b, 300000), 0);
    for (size_t i = 0; i < 300000; i++) {
        in[3].b.p[i] = (char)(testrng_next(&x) >> 24);
    }
    in[3].b.len = 300000;
    in[4].name = "one byte repeated";
    assert_int_equal(lsl_buf_reserve(&in[4].b, 1 << 20), 0);
    memset(in[4].b.p, 'a', 1 << 20);
    in[4].b.len = 1 << 20;
}

static void every_level_inflates_to_its_input(void **state)
{
    struct lsl_keyring *kr = testkey_open(1);
    struct input in[5];

    (void)state;
    make_inputs(in, 5);
    for (int level = 1; level <= 9; level++) {
        struct lsl_worker_opts o = {.keyring = kr, .gzip_level = level};
        struct lsl_worker *w = NULL;

        assert_int_equal(lsl_worker_open(&w, &o), 0);
        for (size_t i = 0; i < 5; i++) {
            struct lsl_buf gz = {0}, back = {0};

            assert_int_equal(lsl_worker_deflate(w, &in[i].b, &gz), 0);
            assert_true(gz.len >= 18); /* header and trailer at least */
            assert_int_equal(inflate_member(gz.p, gz.len, &back), gz.len);
            if (back.len != in[i].b.len ||
                (back.len && memcmp(back.p, in[i].b.p, back.len)))
                fail_msg("level %d, %s: inflates to other bytes", level,
                         in[i].name);
            lsl_buf_free(&gz);
            lsl_buf_free(&back);
        }
        lsl_worker_close(w);
    }
    for (size_t i = 0; i < 5; i++)
        lsl_buf_free(&in[i].b);
    lsl_keyring_close(kr);
}

/* A worker reuses its compressor: members in a row, each standing alone,
 * concatenate to the concatenated inputs. */
static void members_in_a_row_read_as_one_stream(void **state)
{
    struct lsl_keyring *kr = testkey_open(1);
    struct lsl_worker_opts o = {.keyring = kr, .gzip_level = 1};
    struct lsl_worker *w = NULL;
    struct lsl_buf file = {0}, whole = {0}, back = {0};
    struct input in[5];
    size_t at = 0;

    (void)state;
    make_inputs(in, 5);
    assert_int_equal(lsl_worker_open(&w, &o), 0);
    for (size_t i = 0; i < 5; i++) {
        struct lsl_buf gz = {0};

        assert_int_equal(lsl_worker_deflate(w, &in[i].b, &gz), 0);
        assert_int_equal(lsl_buf_append(&file, gz.p, gz.len), 0);
        assert_int_equal(lsl_buf_append(&whole, in[i].b.p, in[i].b.len), 0);
        lsl_buf_free(&gz);
    }
    while (at < file.len)
        at += inflate_member(file.p + at, file.len - at, &back);
    assert_int_equal(back.len, whole.len);
    assert_memory_equal(back.p, whole.p, whole.len);
    lsl_buf_free(&file);
    lsl_buf_free(&whole);
    lsl_buf_free(&back);
    for (size_t i = 0; i < 5; i++)
        lsl_buf_free(&in[i].b);
    lsl_worker_close(w);
    lsl_keyring_close(kr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_level_inflates_to_its_input),
        cmocka_unit_test(members_in_a_row_read_as_one_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
