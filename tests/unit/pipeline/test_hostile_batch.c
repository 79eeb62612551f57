/*
 * Hostile batches, from fuzzing: a batch of empty lines only (its input
 * buffer was never allocated) is processed like any other, in text and
 * in JSON lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <string.h>
#include <cmocka.h>
#include "../token/testkey.h"
#include "logseal/batch.h"

static void empty_lines_only(void **state)
{
    struct lsl_keyring *kr = testkey_open(1);
    struct lsl_worker_opts o = {.keyring = kr, .gzip_level = 1};
    struct lsl_worker *w = NULL;
    struct lsl_batch *b = NULL;

    (void)state;
    assert_int_equal(lsl_worker_open(&w, &o), 0);
    assert_int_equal(lsl_batch_open(&b), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(lsl_batch_add_line(b, "", 0, 0), 0);
    assert_int_equal(lsl_batch_process(b, w), 0);
    assert_int_equal(b->out.len, 3);
    assert_memory_equal(b->out.p, "\n\n\n", 3);
    assert_int_equal(b->st.lines_in, 3);
    assert_int_equal(b->st.unparsed, 3);
    assert_true(b->gz.len > 0);
    lsl_batch_free(b);
    lsl_worker_close(w);
    lsl_keyring_close(kr);
}

/* The same in JSON lines: each empty line is an unparsed "" line. */
static void empty_lines_only_jsonl(void **state)
{
    struct lsl_keyring *kr = testkey_open(1);
    struct lsl_worker_opts o = {.keyring = kr, .format = LSL_OUT_JSONL};
    struct lsl_worker *w = NULL;
    struct lsl_batch *b = NULL;
    size_t nl = 0;

    (void)state;
    assert_int_equal(lsl_worker_open(&w, &o), 0);
    assert_int_equal(lsl_batch_open(&b), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(lsl_batch_add_line(b, "", 0, 0), 0);
    assert_int_equal(lsl_batch_process(b, w), 0);
    for (size_t i = 0; i < b->out.len; i++)
        nl += b->out.p[i] == '\n';
    assert_int_equal(nl, 2);
    assert_non_null(memmem(b->out.p, b->out.len, "\"_line\":\"\"", 10));
    lsl_batch_free(b);
    lsl_worker_close(w);
    lsl_keyring_close(kr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_lines_only),
        cmocka_unit_test(empty_lines_only_jsonl),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
