/*
 * Tail source on a real loop: appends, rename-and-create rotation with a
 * late writer, copytruncate, truncation, shrink and regrow, deletion while
 * open, two rotations before a read, and restarts from the checkpoint
 * (exactly once, also across a rotation while stopped). The findings of
 * issue 14, each failing on the code before it: an idle start = end and a
 * crash before the first commit (a checkpoint at adoption), two rotations
 * while down with compress + delaycompress (the uncompressed one read, the
 * loss counted), copytruncate rotations during a stall (every copy read),
 * the copytruncate read race, a new file with the same head on the same
 * inode; and what the model test found (short copies, empty files).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "logseal/checkpoint.h"
#include "src/source/tail_internal.h"
#include "tail_harness.h"

/* A bound on waits that include a rotate wait and a file switch. */
#define SWITCH_MS 4000

static int setup(void **state)
{
    struct harness *h = calloc(1, sizeof(*h));

    if (!h)
        return -1;
    h_setup(h, "access.log");
    *state = h;
    return 0;
}

static int setup_glob(void **state)
{
    struct harness *h = calloc(1, sizeof(*h));

    if (!h)
        return -1;
    h_setup(h, "access.log*");
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    h_teardown(*state);
    free(*state);
    return 0;
}

static void test_follow(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "a1\na2\n");
    h_start(h);
    h_run_lines(h, 2, 2000);
    assert_string_equal(h_output(h), "a1|a2");
    h_append(h, "access.log", "a3\npar");
    /* Committed up to a3: the partial line is held. */
    assert_true(h_run_lag(h, 3, 2000));
    assert_string_equal(h_output(h), "a1|a2|a3");
    h_append(h, "access.log", "tial\na4\n");
    h_run_lines(h, 5, 2000);
    assert_string_equal(h_output(h), "a1|a2|a3|partial|a4");
    /* The commit reaches the source after the sink. */
    assert_true(h_run_lag(h, 0, 2000));
    h_append(h, "access.log", "unfinished");
    assert_true(h_run_lag(h, 10, 2000));
}

static void test_start_at_end(void **state)
{
    struct harness *h = *state;

    h->start_at_end = true;
    h_append(h, "access.log", "old1\nold2\n");
    h_start(h); /* the end is taken (and checkpointed) at the start */
    h_append(h, "access.log", "new1\n");
    h_run_lines(h, 1, 2000);
    assert_string_equal(h_output(h), "new1");
}

static void test_rename_create(void **state)
{
    struct harness *h = *state;
    char old[256];
    int late;

    /* A writer still on the old file after the rename: its lines count
     * as long as they come within the rotate wait. */
    h->rotate_wait_ms = 1000;
    h_append(h, "access.log", "a1\na2\n");
    h_start(h);
    h_run_lines(h, 2, 2000);
    snprintf(old, sizeof(old), "%s/access.log", h->dir);
    late = open(old, O_WRONLY | O_APPEND);
    assert_true(late >= 0);
    h_rename(h, "access.log", "access.log.1");
    h_append(h, "access.log", "b1\n");
    h_run(h, 100);
    /* The writer has not reopened yet: its lines go to the old file. */
    assert_int_equal(write(late, "a3\n", 3), 3);
    close(late);
    h_append(h, "access.log", "b2\n");
    h_run_lines(h, 5, SWITCH_MS);
    assert_string_equal(h_output(h), "a1|a2|a3|b1|b2");
}

static void test_copytruncate(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "a1\na2\n");
    h_start(h);
    h_run_lines(h, 2, 2000);
    /* Lines the tail has not read when the copy is taken. */
    h_append(h, "access.log", "a3\na4\n");
    h_copy(h, "access.log", "access.log.1");
    h_truncate(h, "access.log");
    h_append(h, "access.log", "b1\n");
    h_run_lines(h, 5, SWITCH_MS);
    assert_string_equal(h_output(h), "a1|a2|a3|a4|b1");
}

/* A copy is never written to: once its lines are read the source goes
 * back to the truncated original without waiting out the rotate wait
 * for late writers. */
static void test_copytruncate_no_rotate_wait(void **state)
{
    struct harness *h = *state;

    h->rotate_wait_ms = 60000;
    h_append(h, "access.log", "a1\n");
    h_start(h);
    h_run_lines(h, 1, 2000);
    h_append(h, "access.log", "a2\n");
    h_copy(h, "access.log", "access.log.1");
    h_truncate(h, "access.log");
    h_append(h, "access.log", "b1\n");
    h_run_lines(h, 3, SWITCH_MS);
    assert_string_equal(h_output(h), "a1|a2|b1");
}

static void test_truncate(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "first-line\nsecond-line\n");
    h_start(h);
    h_run_lines(h, 2, 2000);
    h_truncate(h, "access.log");
    h_run(h, 200);
    h_append(h, "access.log", "c1\n");
    h_run_lines(h, 3, 2000);
    assert_string_equal(h_output(h), "first-line|second-line|c1");
}

static void test_shrink_regrow(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "x1\nx2\n");
    h_start(h);
    h_run_lines(h, 2, 2000);
    /* Truncated and written past the old offset before the next read. */
    h_truncate(h, "access.log");
    h_append(h, "access.log", "y1-longer\ny2\n");
    h_run_lines(h, 4, 2000);
    assert_string_equal(h_output(h), "x1|x2|y1-longer|y2");
}

static void test_delete_while_open(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "d1\n");
    h_start(h);
    h_run_lines(h, 1, 2000);
    h_append(h, "access.log", "d2\n");
    h_unlink(h, "access.log");
    h_run_lines(h, 2, 2000);
    assert_string_equal(h_output(h), "d1|d2");
    h_append(h, "access.log", "e1\n");
    h_run_lines(h, 3, SWITCH_MS);
    assert_string_equal(h_output(h), "d1|d2|e1");
}

static void test_two_rotations(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "a1\n");
    h_start(h);
    h_run_lines(h, 1, 2000);
    /* Two rotations without the loop running in between. */
    h_append(h, "access.log", "a2\n");
    h_rename(h, "access.log", "access.log.1");
    h_append(h, "access.log", "b1\n");
    h_rename(h, "access.log.1", "access.log.2");
    h_rename(h, "access.log", "access.log.1");
    h_append(h, "access.log", "c1\n");
    h_run_lines(h, 4, 2 * SWITCH_MS);
    assert_string_equal(h_output(h), "a1|a2|b1|c1");
}

static void test_restart(void **state)
{
    struct harness *h = *state;
    struct lsl_checkpoint cp;

    h_append(h, "access.log", "1\n2\n3\n");
    h_start(h);
    h_run_lines(h, 3, 2000);
    h_append(h, "access.log", "4\npar");
    h_run_lines(h, 4, 2000);
    h_stop(h);
    /* The unfinished line is not committed: the checkpoint ends at 4. */
    assert_int_equal(lsl_checkpoint_load(h->state, "web", h->ckey, &cp), 0);
    assert_int_equal(cp.offset, 8);
    assert_int_equal(cp.lines, 4);
    h_append(h, "access.log", "tial\n5\n");
    h_start(h);
    h_run_lines(h, 6, 2000);
    assert_string_equal(h_output(h), "1|2|3|4|partial|5");
    h_stop(h);
    h_start(h);
    assert_true(h_run_lag(h, 0, 2000));
    h_stop(h);
    assert_string_equal(h_output(h), "1|2|3|4|partial|5");
}

static void test_restart_after_rotation(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "1\n2\n");
    h_start(h);
    h_run_lines(h, 2, 2000);
    h_stop(h);
    /* Rotated while the daemon was down, with unread lines in it. */
    h_append(h, "access.log", "3\n");
    h_rename(h, "access.log", "access.log-20260101");
    h_append(h, "access.log", "4\n");
    h_start(h);
    h_run_lines(h, 4, SWITCH_MS);
    assert_string_equal(h_output(h), "1|2|3|4");
    h_stop(h);
    h_start(h);
    h_append(h, "access.log", "5\n");
    h_run_lines(h, 5, 2000);
    assert_string_equal(h_output(h), "1|2|3|4|5");
}

static void test_restart_copytruncate(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "1\n2\n");
    h_start(h);
    h_run_lines(h, 2, 2000);
    h_stop(h);
    h_append(h, "access.log", "3\n");
    h_copy(h, "access.log", "access.log.1");
    h_truncate(h, "access.log");
    h_append(h, "access.log", "4\n");
    h_start(h);
    h_run_lines(h, 4, SWITCH_MS);
    assert_string_equal(h_output(h), "1|2|3|4");
}

/* The glob also matches the rotated copy: it is recognized, not followed. */
static void test_glob_copytruncate(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log.1", "older-file\n");
    h_append(h, "access.log", "a1\na2\n");
    h_start(h); /* follows the newest match */
    h_run_lines(h, 2, 2000);
    assert_string_equal(h_output(h), "a1|a2");
    h_append(h, "access.log", "a3\n");
    h_rename(h, "access.log.1", "access.log.2");
    h_copy(h, "access.log", "access.log.1");
    h_truncate(h, "access.log");
    h_append(h, "access.log", "b1\n");
    h_run_lines(h, 4, SWITCH_MS);
    assert_string_equal(h_output(h), "a1|a2|a3|b1");
    h_append(h, "access.log", "b2\n");
    h_run_lines(h, 5, 2000);
    /* Back on access.log, read to its end: the older files stay unread. */
    assert_true(h_run_lag(h, 0, SWITCH_MS));
    h_stop(h);
    assert_string_equal(h_output(h), "a1|a2|a3|b1|b2");
}

static void test_glob_rename(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "a1\n");
    h_start(h);
    h_run_lines(h, 1, 2000);
    h_rename(h, "access.log", "access.log.1");
    h_append(h, "access.log.1", "a2\n");
    h_append(h, "access.log", "b1\n");
    h_run_lines(h, 3, SWITCH_MS);
    assert_true(h_run_lag(h, 0, SWITCH_MS));
    h_stop(h);
    assert_string_equal(h_output(h), "a1|a2|b1");
}

/*
 * start = end on an idle file, stopped before any line came: the restart
 * must go on from where the first run began, not from the end again.
 */
static void test_idle_restart(void **state)
{
    struct harness *h = *state;
    struct lsl_checkpoint cp;

    h->start_at_end = true;
    h_append(h, "access.log", "old1\nold2\n");
    h_start(h);
    h_stop(h);
    /* Checkpointed when the file was adopted, before any read. */
    assert_int_equal(lsl_checkpoint_load(h->state, "web", h->ckey, &cp), 0);
    assert_int_equal(cp.offset, 10);
    h_append(h, "access.log", "new1\nnew2\n");
    h_start(h);
    h_run_lines(h, 2, 2000);
    assert_true(h_run_lag(h, 0, 2000));
    h_stop(h);
    assert_string_equal(h_output(h), "new1|new2");
}

/* start = beginning, a crash before the first commit, then a rotation
 * while down: the rotated file is still read. */
static void test_crash_before_first_commit(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "a1\na2\n");
    mem_sink_gate(&h->sink, true); /* nothing commits */
    h_start(h);
    h_snapshot(h);
    mem_sink_gate(&h->sink, false);
    h_stop(h);
    h_crash(h);
    h_rename(h, "access.log", "access.log.1");
    h_append(h, "access.log", "b1\n");
    h_start(h);
    h_run_lines(h, 3, SWITCH_MS);
    assert_true(h_run_lag(h, 0, SWITCH_MS));
    h_stop(h);
    assert_string_equal(h_output(h), "a1|a2|b1");
}

/*
 * logrotate with compress + delaycompress, rotating twice while the daemon
 * is down: the checkpointed file is compressed (its unread rest is lost,
 * counted), but the uncompressed rotation after it is read.
 */
static void test_two_rotations_while_down_compressed(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "1\n2\n");
    h_start(h);
    h_run_lines(h, 2, 2000);
    h_stop(h);
    h_append(h, "access.log", "3\n");
    h_rename(h, "access.log", "access.log.1");
    h_append(h, "access.log", "4\n");
    h_rename(h, "access.log.1", "access.log.2");
    h_gzip(h, "access.log.2", "access.log.2.gz");
    h_rename(h, "access.log", "access.log.1");
    h_append(h, "access.log", "5\n");
    h_start(h);
    h_run_lines(h, 4, SWITCH_MS);
    assert_true(h_run_lag(h, 0, SWITCH_MS));
    /* "3\n" was compressed before it was read: counted, with its file. */
    assert_int_equal(lsl_tail_source_base(h->t)->lost.bytes, 2);
    h_stop(h);
    assert_string_equal(h_output(h), "1|2|4|5");
}

/* One copytruncate rotation: copy, then truncate, then new lines. */
static void copytruncate_shift(struct harness *h, int keep)
{
    char from[32], to[32];

    for (int i = keep; i >= 1; i--) {
        snprintf(from, sizeof(from), "access.log.%d", i);
        snprintf(to, sizeof(to), "access.log.%d", i + 1);
        h_rename(h, from, to);
    }
    h_copy(h, "access.log", "access.log.1");
    h_truncate(h, "access.log");
}

/*
 * Three copytruncate rotations while the output is stuck (the source is
 * paused): the first copy holds unread lines, the two after it lines the
 * source never saw in access.log. Every copy is read, then the file.
 */
static void test_copytruncate_stall(void **state)
{
    struct harness *h = *state;

    h->max_inflight = 1;
    h_append(h, "access.log", "a1\n");
    h_start(h);
    h_run_lines(h, 1, 2000);
    mem_sink_gate(&h->sink, true);
    h_append(h, "access.log", "a2\n");
    while (!lsl_pipeline_busy(h->pl))
        uv_run(&h->loop, UV_RUN_ONCE);
    h_append(h, "access.log", "a3\n"); /* not read: paused */
    copytruncate_shift(h, 0);
    h_append(h, "access.log", "b1\n");
    copytruncate_shift(h, 1);
    h_append(h, "access.log", "c1\n");
    copytruncate_shift(h, 2);
    h_append(h, "access.log", "d1\n");
    mem_sink_gate(&h->sink, false);
    h_run_lines(h, 6, SWITCH_MS);
    assert_true(h_run_lag(h, 0, SWITCH_MS));
    assert_int_equal(lsl_tail_source_base(h->t)->lost.bytes, 0);
    h_stop(h);
    assert_string_equal(h_output(h), "a1|a2|a3|b1|c1|d1");
}

/* The same when the source had read everything before the first copy. */
static void test_copytruncate_twice_between_looks(void **state)
{
    struct harness *h = *state;

    h->max_inflight = 1;
    h_append(h, "access.log", "a1\n");
    h_start(h);
    h_run_lines(h, 1, 2000);
    mem_sink_gate(&h->sink, true);
    h_append(h, "access.log", "a2\n");
    while (!lsl_pipeline_busy(h->pl))
        uv_run(&h->loop, UV_RUN_ONCE);
    copytruncate_shift(h, 0);
    h_append(h, "access.log", "b1\n");
    copytruncate_shift(h, 1);
    h_append(h, "access.log", "c1\n");
    mem_sink_gate(&h->sink, false);
    h_run_lines(h, 4, SWITCH_MS);
    assert_true(h_run_lag(h, 0, SWITCH_MS));
    h_stop(h);
    assert_string_equal(h_output(h), "a1|a2|b1|c1");
}

static struct harness *race_h;

/* Issued at offset 6, the read runs after copytruncate and new writes. */
static void race_before_read(struct lsl_tail_source *t, uint64_t offset)
{
    (void)t;
    if (offset != 6 || !race_h)
        return;
    h_copy(race_h, "access.log", "access.log.1");
    h_rewrite(race_h, "access.log", "new-line-one\nb1\n");
    race_h = NULL;
}

static void test_copytruncate_read_race(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "a1\na2\n");
    h_start(h);
    h_run_lines(h, 2, 2000);
    race_h = h;
    lsl_tail_before_read = race_before_read;
    h_append(h, "access.log", "a3\n");
    h_run_lines(h, 5, SWITCH_MS);
    assert_true(h_run_lag(h, 0, SWITCH_MS));
    lsl_tail_before_read = NULL;
    h_stop(h);
    assert_null(race_h);
    assert_string_equal(h_output(h), "a1|a2|a3|new-line-one|b1");
}

/* The first read of the empty file found written: copytruncate and a new
 * line come first, between the look and the read. */
static void copytruncate_before_first_read(struct lsl_tail_source *t,
                                           uint64_t offset)
{
    (void)t;
    if (offset != 0 || !race_h)
        return;
    h_copy(race_h, "access.log", "access.log.1");
    h_truncate(race_h, "access.log");
    h_append(race_h, "access.log", "b1\n");
    race_h = NULL;
}

/*
 * The source is at the start of an empty file, whose fingerprint covers
 * nothing; lines come, and copytruncate with a new line after it runs
 * between the look and the read: the new line is not read for the file
 * the look saw (the copy holds those lines, and is read first).
 */
static void test_copytruncate_before_first_read(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "");
    h_start(h);
    h_run(h, 200);
    race_h = h;
    lsl_tail_before_read = copytruncate_before_first_read;
    h_append(h, "access.log", "a1\na2\n");
    h_run_lines(h, 3, SWITCH_MS);
    lsl_tail_before_read = NULL;
    assert_true(h_run_lag(h, 0, SWITCH_MS));
    h_stop(h);
    assert_null(race_h);
    assert_string_equal(h_output(h), "a1|a2|b1");
}

/*
 * The same inode with the same first KiB, rewritten while the daemon was
 * down (or a new file on a reused inode): it is a new file, read from
 * its start, not resumed at the old offset.
 */
static void test_same_head_new_file(void **state)
{
    struct harness *h = *state;
    char head[1200], text[1400];
    size_t n = 0;

    for (int i = 0; n + 6 < 1100; i++)
        n += (size_t)snprintf(head + n, sizeof(head) - n, "h%03d\n", i);
    snprintf(text, sizeof(text), "%sx1\nx2\n", head);
    h_append(h, "access.log", text);
    h_start(h);
    assert_true(h_run_lag(h, 0, 2000));
    h_stop(h);
    h_sink_clear(h);
    snprintf(text, sizeof(text), "%sy1\ny2\ny3\ny4\ny5\n", head);
    h_rewrite(h, "access.log", text);
    h_start(h);
    assert_true(h_run_lag(h, 0, 2000));
    h_stop(h);
    assert_non_null(strstr(h_output(h), "h000|h001"));
    assert_non_null(strstr(h_output(h), "|y1|y2|y3|y4|y5"));
}

/* A file truncated in place and written again, then copytruncated while
 * the daemon is down: the restart goes on in the copy, not from its start. */
static void test_truncated_then_copytruncate_while_down(void **state)
{
    struct harness *h = *state;
    char text[4096];
    size_t n = 0;

    h_append(h, "access.log", "old1\nold2\n");
    h_start(h);
    h_run_lines(h, 2, 2000);
    h_truncate(h, "access.log");
    assert_true(h_run_lag(h, 0, 2000));
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(
            text + n, sizeof(text) - n,
            "line-%02d-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", i);
    h_append(h, "access.log", text);
    h_run_lines(h, 42, 2000);
    assert_true(h_run_lag(h, 0, 2000));
    h_stop(h);
    h_append(h, "access.log", "more\n");
    h_copy(h, "access.log", "access.log.1");
    h_truncate(h, "access.log");
    h_append(h, "access.log", "after\n");
    h_start(h);
    h_run_lines(h, 44, SWITCH_MS);
    assert_true(h_run_lag(h, 0, SWITCH_MS));
    h_stop(h);
    assert_int_equal(h_lines(h), 44);
}

/* copytruncate whose window lines were read before the truncation: the
 * copy is shorter than what was read; it is recognized, not read again. */
static void test_copytruncate_window_read(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "a1\na2\n");
    h_start(h);
    h_run_lines(h, 2, 2000);
    h_copy(h, "access.log", "access.log.1");
    h_append(h, "access.log", "w1\n");
    h_run_lines(h, 3, 2000);
    assert_true(h_run_lag(h, 0, 2000));
    h_truncate(h, "access.log");
    h_append(h, "access.log", "b1\n");
    h_run_lines(h, 4, SWITCH_MS);
    assert_true(h_run_lag(h, 0, SWITCH_MS));
    h_stop(h);
    assert_string_equal(h_output(h), "a1|a2|w1|b1");
}

/*
 * copytruncate's copy is taken (`head`), a window line is written and
 * read, and the daemon stops before it sees the truncation; the copy,
 * shorter than the checkpoint's offset, was written in the tick of the
 * file's last look. A restart finds the file truncated and takes the
 * oldest file written since: not that copy, whose lines are committed.
 */
static void copy_shorter_than_checkpoint(struct harness *h, const char *head,
                                         size_t head_lines)
{
    char want[4096];

    h_append(h, "access.log", head);
    h_start(h);
    h_run_lines(h, head_lines, 2000);
    h_copy(h, "access.log", "access.log.1");
    h_append(h, "access.log", "w1\n");
    h_run_lines(h, head_lines + 1, 2000);
    assert_true(h_run_lag(h, 0, 2000));
    h_same_mtime(h, "access.log.1", "access.log");
    h_stop(h);
    assert_int_equal(h_lines(h), head_lines + 1);
    snprintf(want, sizeof(want), "%s|b1", h_output(h));
    h_truncate(h, "access.log");
    h_append(h, "access.log", "b1\n");
    h_start(h);
    h_run_lines(h, head_lines + 2, SWITCH_MS);
    assert_true(h_run_lag(h, 0, SWITCH_MS));
    h_stop(h);
    assert_string_equal(h_output(h), want);
}

/* The copy is shorter than the file's fingerprinted head. */
static void test_short_copy_while_down(void **state)
{
    copy_shorter_than_checkpoint(*state, "a1\na2\n", 2);
}

/* The copy holds the whole fingerprinted head (1 KiB and more). */
static void test_long_copy_short_of_checkpoint(void **state)
{
    char head[2048];
    size_t n = 0;

    for (int i = 0; i < 30; i++)
        n +=
            (size_t)snprintf(head + n, sizeof(head) - n,
                             "head-%02d-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", i);
    copy_shorter_than_checkpoint(*state, head, 30);
}

/*
 * The checkpoint's file is gone at a restart: the source reads the oldest
 * rotation written since, which is then deleted (rotated past the count)
 * while it is read; the rotations after it are read next, then the file.
 */
static void test_gone_then_oldest_deleted(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "x1\n");
    h_start(h);
    h_run_lines(h, 1, 2000);
    h_stop(h);
    h_rename(h, "access.log", "access.log.3");
    h_append(h, "access.log", "r1\n");
    h_rename(h, "access.log", "access.log.2");
    h_append(h, "access.log", "s1\n");
    h_rename(h, "access.log", "access.log.1");
    h_append(h, "access.log", "p1\n");
    h_unlink(h, "access.log.3");
    h_start(h);
    h_run_lines(h, 2, 2000);
    h_unlink(h, "access.log.2");
    h_run_lines(h, 4, SWITCH_MS);
    h_stop(h);
    assert_string_equal(h_output(h), "x1|r1|s1|p1");
}

static bool miss_rotation_1(const char *path, int pass)
{
    size_t n = strlen(path);

    return pass == 0 && n > 13 && strcmp(path + n - 13, "/access.log.1") == 0;
}

/*
 * The first look at the directory in each listing misses access.log.1 (a
 * readdir racing logrotate's renames): the source looks again until two
 * looks agree, and reads access.log.1 after access.log.2, not skips it.
 */
static void test_listing_misses_a_rotation(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "a1\n");
    h_start(h);
    h_run_lines(h, 1, 2000);
    h_rename(h, "access.log", "access.log.2");
    h_append(h, "access.log.1", "b1\n");
    h_append(h, "access.log", "c1\n");
    lsl_tail_scan_miss = miss_rotation_1;
    h_run_lines(h, 3, SWITCH_MS);
    lsl_tail_scan_miss = NULL;
    h_stop(h);
    assert_string_equal(h_output(h), "a1|b1|c1");
}

static struct harness *rotating;

/* Once: as the source opens access.log after listing it, logrotate
 * rotates (access.log.1 to .2, access.log to .1, a new access.log). */
static void rotate_before_adopt(const char *path)
{
    size_t n = strlen(path);

    if (!rotating || n < 11 || strcmp(path + n - 11, "/access.log") != 0)
        return;
    h_rename(rotating, "access.log.1", "access.log.2");
    h_rename(rotating, "access.log", "access.log.1");
    h_append(rotating, "access.log", "c1\n");
    rotating = NULL;
}

/*
 * A rotation between listing the directory and opening the file listed:
 * the name now holds another file, so the listing is taken again, and
 * the file listed (now access.log.1) is read before the new one.
 */
static void test_rotation_before_open(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "a1\n");
    h_start(h);
    h_run_lines(h, 1, 2000);
    h_rename(h, "access.log", "access.log.1");
    h_append(h, "access.log", "b1\n");
    rotating = h;
    lsl_tail_before_open = rotate_before_adopt;
    h_run_lines(h, 3, SWITCH_MS);
    lsl_tail_before_open = NULL;
    h_stop(h);
    assert_null(rotating);
    assert_string_equal(h_output(h), "a1|b1|c1");
}

/* Once: as the source opens access.log.1 to see if it is a copy, a second
 * copytruncate (access.log.1 to .2, a copy of access.log, truncation). */
static void copytruncate_before_open(const char *path)
{
    size_t n = strlen(path);

    if (!rotating || n < 13 || strcmp(path + n - 13, "/access.log.1") != 0)
        return;
    h_rename(rotating, "access.log.1", "access.log.2");
    h_copy(rotating, "access.log", "access.log.1");
    h_truncate(rotating, "access.log");
    rotating = NULL;
}

/*
 * copytruncate, and another one while the source looks for the copy of
 * the first: the copy listed as access.log.1 has moved to .2, so the
 * listing is taken again and the copy found there; then the second copy.
 */
static void test_copytruncate_during_copy_search(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log", "a1\na2\n");
    h_start(h);
    h_run_lines(h, 2, 2000);
    assert_true(h_run_lag(h, 0, 2000));
    rotating = h;
    lsl_tail_before_open = copytruncate_before_open;
    h_append(h, "access.log", "w1\n");
    h_copy(h, "access.log", "access.log.1");
    h_truncate(h, "access.log");
    h_append(h, "access.log", "b1\n");
    h_run_lines(h, 4, SWITCH_MS);
    lsl_tail_before_open = NULL;
    assert_true(h_run_lag(h, 0, SWITCH_MS));
    h_stop(h);
    assert_null(rotating);
    assert_string_equal(h_output(h), "a1|a2|w1|b1");
}

/*
 * A file on the inode of the one left, born after it, is another file
 * (the file system gave the freed inode again): the next file after the
 * one left, not the one left itself.
 */
static void test_reused_inode_is_another_file(void **state)
{
    struct harness *h = *state;
    struct tail_file prev, out;
    struct lsl_file_id b;
    char path[256];
    int fd;

    h_append(h, "access.log", "a1\n");
    h_start(h);
    h_run_lines(h, 1, 2000);
    h_append(h, "access.log.1", "b1\n");
    snprintf(path, sizeof(path), "%s/access.log.1", h->dir);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(lsl_file_id_get(fd, &b), 0);
    close(fd);
    if (b.btime_ns == 0) {
        h_stop(h);
        skip(); /* no birth times on this file system */
    }
    /* The file left: on access.log.1's inode, born before it. */
    memset(&prev, 0, sizeof(prev));
    prev.fd = -1;
    prev.id = b;
    prev.id.btime_ns = b.btime_ns - 1;
    prev.id.fp[0] ^= 1;
    assert_int_equal(tail_find_next(h->t, &prev, true, &out), 0);
    assert_true(out.fd >= 0);
    assert_string_equal(out.path, path);
    tail_file_close(&out);
    /* The file left itself (same birth) is never its own successor. */
    prev.id.btime_ns = b.btime_ns;
    assert_int_equal(tail_find_next(h->t, &prev, true, &out), 0);
    if (out.fd >= 0)
        assert_string_not_equal(out.path, path);
    tail_file_close(&out);
    h_stop(h);
}

/*
 * Start on "x1" with one batch in flight, gate the sink, truncate
 * access.log and run until the checkpoint of its new start fills the
 * pipeline: the source stays at byte 0 of the empty file, knowing nothing
 * of what is written to it until the gate opens.
 */
static void start_paused_on_emptied(struct harness *h)
{
    h->max_inflight = 1;
    h_append(h, "access.log", "x1\n");
    h_start(h);
    h_run_lines(h, 1, 2000);
    assert_true(h_run_lag(h, 0, 2000));
    mem_sink_gate(&h->sink, true);
    h_truncate(h, "access.log");
    for (int i = 0; i < 2000 && !lsl_pipeline_busy(h->pl); i++)
        uv_run(&h->loop, UV_RUN_ONCE);
    assert_true(lsl_pipeline_busy(h->pl));
}

/*
 * The source is at the start of an empty file (truncated) and paused; the
 * file is written, copytruncated and written again before it looks: the
 * copy is read first, though nothing of the file was known.
 */
static void test_copytruncate_of_empty_file(void **state)
{
    struct harness *h = *state;

    start_paused_on_emptied(h);
    h_append(h, "access.log", "a1\n");
    copytruncate_shift(h, 0);
    h_append(h, "access.log", "b1\n");
    mem_sink_gate(&h->sink, false);
    h_run_lines(h, 3, SWITCH_MS);
    assert_true(h_run_lag(h, 0, SWITCH_MS));
    /* Again, and this time the file stays empty after the truncation. */
    h_append(h, "access.log", "c1\n");
    h_run_lines(h, 4, SWITCH_MS);
    mem_sink_gate(&h->sink, true);
    h_truncate(h, "access.log");
    for (int i = 0; i < 2000 && !lsl_pipeline_busy(h->pl); i++)
        uv_run(&h->loop, UV_RUN_ONCE);
    h_rename(h, "access.log.1", "access.log.2");
    h_append(h, "access.log", "d1\n");
    copytruncate_shift(h, 0);
    mem_sink_gate(&h->sink, false);
    h_run_lines(h, 5, SWITCH_MS);
    h_stop(h);
    assert_string_equal(h_output(h), "x1|a1|b1|c1|d1");
}

/*
 * As above, but the file is deleted before the source looks: the copy is
 * read all the same (the live file is gone from the directory, so only
 * the copy's time tells it was written after the file was begun), and a
 * restart reads nothing twice.
 */
static void test_copytruncate_of_empty_file_deleted(void **state)
{
    struct harness *h = *state;

    start_paused_on_emptied(h);
    h_append(h, "access.log", "a1\n");
    copytruncate_shift(h, 0);
    /* Past the file system's timestamp granularity: the copy is older
     * than the file's last write. */
    usleep(30000);
    h_append(h, "access.log", "b1\n");
    h_unlink(h, "access.log");
    mem_sink_gate(&h->sink, false);
    h_run_lines(h, 3, SWITCH_MS);
    h_stop(h);
    h_start(h);
    h_run(h, 300);
    h_stop(h);
    assert_string_equal(h_output(h), "x1|a1|b1");
}

/*
 * As above, but rotated by rename-and-create instead of deleted: the copy
 * now sits before the unread file in rotation order, and is read too.
 */
static void test_copytruncate_of_empty_file_renamed(void **state)
{
    struct harness *h = *state;

    start_paused_on_emptied(h);
    h_append(h, "access.log", "a1\n");
    copytruncate_shift(h, 0);
    h_append(h, "access.log", "b1\n");
    h_rename(h, "access.log.1", "access.log.2");
    h_rename(h, "access.log", "access.log.1");
    h_append(h, "access.log", "c1\n");
    mem_sink_gate(&h->sink, false);
    h_run_lines(h, 4, SWITCH_MS);
    assert_true(h_run_lag(h, 0, SWITCH_MS));
    h_stop(h);
    assert_int_equal(h_lines(h), 4);
    assert_non_null(strstr(h_output(h), "a1"));
}

/*
 * A copytruncate and a rename rotation with compress while the source
 * looks away, the new file created in the same tick of the file system's
 * clock as the old one's last write: the truncated original is read from
 * its start, and the new file at the path, though as old by its mtime as
 * the original, is not taken for a copy of it and left for good (model
 * seed 48: its lines never came out).
 */
static void test_successor_as_old_as_original(void **state)
{
    struct harness *h = *state;

    h->max_inflight = 1;
    h_append(h, "access.log", "a1-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
    h_start(h);
    h_run_lines(h, 1, 2000);
    assert_true(h_run_lag(h, 0, 2000));
    mem_sink_gate(&h->sink, true);
    h_append(h, "access.log", "p1\n");
    for (int i = 0; i < 2000 && !lsl_pipeline_busy(h->pl); i++)
        uv_run(&h->loop, UV_RUN_ONCE);
    assert_true(lsl_pipeline_busy(h->pl));
    h_append(h, "access.log", "p2\n");
    h_copy(h, "access.log", "access.log.1");
    h_gzip(h, "access.log.1", "access.log.1.gz");
    h_truncate(h, "access.log");
    h_append(h, "access.log", "b1\n");
    h_rename(h, "access.log.1.gz", "access.log.2.gz");
    h_rename(h, "access.log", "access.log.1");
    h_append(h, "access.log", "");
    h_same_mtime(h, "access.log", "access.log.1");
    h_gzip(h, "access.log.1", "access.log.1.gz");
    mem_sink_gate(&h->sink, false);
    h_run_lines(h, 3, SWITCH_MS);
    h_run(h, 200);
    h_append(h, "access.log", "n1\n");
    h_run_lines(h, 4, SWITCH_MS);
    h_stop(h);
    assert_string_equal(h_output(h),
                        "a1-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx|p1|b1|n1");
}

/*
 * Empty rotated files from the same clock tick as the emptied file (a
 * rotation of files that had nothing): no copy of it holds anything, so
 * none is read in its place, and none is taken for a copy of another
 * (model seed 47: two such files were read in turn for ever, leaking a
 * descriptor each time).
 */
static void test_empty_rotations_same_tick(void **state)
{
    struct harness *h = *state;

    start_paused_on_emptied(h);
    h_append(h, "access.log.1", "");
    h_append(h, "access.log.2", "");
    h_same_mtime(h, "access.log.1", "access.log");
    h_same_mtime(h, "access.log.2", "access.log");
    mem_sink_gate(&h->sink, false);
    h_run(h, 300);
    h_append(h, "access.log", "z1\n");
    h_run_lines(h, 2, SWITCH_MS);
    h_stop(h);
    assert_string_equal(h_output(h), "x1|z1");
}

/*
 * A first run on an empty file while the rotation before it still gets a
 * late write: that rotation is older than the file (born before it), not
 * a copy of it, and not read -- rotations older than the file a first run
 * starts with are not its business.
 */
static void test_first_run_late_write_not_a_copy(void **state)
{
    struct harness *h = *state;

    h_append(h, "access.log.1", "old1\n");
    usleep(30000);
    h_append(h, "access.log", "");
    h_start(h);
    h_run(h, 100);
    usleep(30000);
    h_append(h, "access.log.1", "late1\n");
    usleep(30000);
    h_append(h, "access.log", "n1\n");
    h_run_lines(h, 1, SWITCH_MS);
    h_run(h, 300);
    h_stop(h);
    assert_string_equal(h_output(h), "n1");
}

/*
 * The checkpointed file was deleted (the source reading what was left of
 * it) when the daemon stopped; a new file with its first bytes was then
 * created and rotated. On restart that file looks just like a copy of the
 * deleted one, but a deleted file is never copied and truncated after:
 * the new file is read from its start (model seeds 94 and 119 skipped its
 * first lines).
 */
static void test_deleted_then_same_head_rotated(void **state)
{
    struct harness *h = *state;
    char path[256];
    int fd;

    h->rotate_wait_ms = 60000;
    h_append(h, "access.log", "h1\nh2\n");
    h_start(h);
    h_run_lines(h, 2, 2000);
    snprintf(path, sizeof(path), "%s/access.log", h->dir);
    fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    h_unlink(h, "access.log");
    h_run(h, 200);
    /* A line the source reads and commits from the deleted file. */
    assert_int_equal(write(fd, "a3\n", 3), 3);
    h_run_lines(h, 3, 2000);
    assert_true(h_run_lag(h, 0, 2000));
    close(fd);
    h_stop(h);
    h_append(h, "access.log", "h1\nh2\na3\nn1\n");
    h_rename(h, "access.log", "access.log.1");
    h_append(h, "access.log", "");
    h_start(h);
    h_run_lines(h, 7, SWITCH_MS);
    h_stop(h);
    assert_string_equal(h_output(h), "h1|h2|a3|h1|h2|a3|n1");
}

/* As above, with nothing read after the deletion was seen: the source
 * checkpoints its committed position again, now as of a deleted file. */
static void test_deleted_idle_then_same_head_rotated(void **state)
{
    struct harness *h = *state;

    h->rotate_wait_ms = 60000;
    h_append(h, "access.log", "h1\nh2\n");
    h_start(h);
    h_run_lines(h, 2, 2000);
    assert_true(h_run_lag(h, 0, 2000));
    h_unlink(h, "access.log");
    h_run(h, 300);
    h_stop(h);
    h_append(h, "access.log", "h1\nh2\nn1\n");
    h_rename(h, "access.log", "access.log.1");
    h_append(h, "access.log", "");
    h_start(h);
    h_run_lines(h, 5, SWITCH_MS);
    h_stop(h);
    assert_string_equal(h_output(h), "h1|h2|h1|h2|n1");
}

/*
 * Group commit: batches that are ready while a commit is stuck in the
 * sink commit together after it -- each written, one sync, one checkpoint
 * counting all their lines -- and a restart resumes after all of them.
 */
static void test_group_commit(void **state)
{
    struct harness *h = *state;
    struct lsl_checkpoint cp;
    unsigned writes, syncs;

    h_append(h, "access.log", "1\n");
    mem_sink_gate(&h->sink, true);
    h_start(h);
    h_run(h, 300);
    /* The first batch is stuck in the sink; two more queue up behind it. */
    h_append(h, "access.log", "2\n");
    h_run(h, 300);
    h_append(h, "access.log", "3\n4\n");
    h_run(h, 300);
    mem_sink_calls(&h->sink, &writes, &syncs);
    assert_int_equal(writes + syncs, 0);
    mem_sink_gate(&h->sink, false);
    h_run_lines(h, 4, 2000);
    assert_true(h_run_lag(h, 0, 2000));
    mem_sink_calls(&h->sink, &writes, &syncs);
    assert_int_equal(writes, 3);
    assert_int_equal(syncs, 2);
    h_stop(h);
    assert_int_equal(lsl_checkpoint_load(h->state, "web", h->ckey, &cp), 0);
    assert_int_equal(cp.offset, 8);
    assert_int_equal(cp.lines, 4);
    h_append(h, "access.log", "5\n");
    h_start(h);
    h_run_lines(h, 5, 2000);
    h_stop(h);
    assert_string_equal(h_output(h), "1|2|3|4|5");
}

/*
 * The flush timer gathers lines that trickle in; a backlog (more than one
 * read holds) read to its end is dispatched at once, so a start or a
 * restart catching up does not wait for the timer. With the timer at a
 * minute, the trickle stays in its batch and the backlog comes out.
 */
static void test_backlog_flushed_at_end(void **state)
{
    struct harness *h = *state;

    h->flush_ms = 60000;
    h_append(h, "access.log", "a\n");
    h_start(h);
    h_run(h, 200);
    assert_int_equal(h_lines(h), 0);
    /* 100 bytes: more than one 64-byte read, less than a batch (256). */
    h_append(h, "access.log",
             "0123456789abcdefghijklmnopqrstuvwxyz\n"
             "0123456789abcdefghijklmnopqrstuvwxyz\n"
             "0123456789abcdefghijklmnopq\n");
    h_run_lines(h, 4, 2000);
    assert_int_equal(h_lines(h), 4);
    h_stop(h);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_follow),
        T(test_start_at_end),
        T(test_rename_create),
        T(test_copytruncate),
        T(test_copytruncate_no_rotate_wait),
        T(test_truncate),
        T(test_shrink_regrow),
        T(test_delete_while_open),
        T(test_two_rotations),
        T(test_restart),
        T(test_restart_after_rotation),
        T(test_restart_copytruncate),
        cmocka_unit_test_setup_teardown(test_glob_copytruncate, setup_glob,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_glob_rename, setup_glob, teardown),
        T(test_idle_restart),
        T(test_crash_before_first_commit),
        T(test_two_rotations_while_down_compressed),
        T(test_copytruncate_stall),
        T(test_copytruncate_twice_between_looks),
        T(test_copytruncate_read_race),
        T(test_copytruncate_before_first_read),
        T(test_same_head_new_file),
        T(test_truncated_then_copytruncate_while_down),
        T(test_copytruncate_window_read),
        T(test_short_copy_while_down),
        T(test_gone_then_oldest_deleted),
        T(test_listing_misses_a_rotation),
        T(test_rotation_before_open),
        T(test_copytruncate_during_copy_search),
        T(test_reused_inode_is_another_file),
        T(test_long_copy_short_of_checkpoint),
        T(test_copytruncate_of_empty_file),
        T(test_copytruncate_of_empty_file_deleted),
        T(test_copytruncate_of_empty_file_renamed),
        T(test_successor_as_old_as_original),
        T(test_empty_rotations_same_tick),
        T(test_first_run_late_write_not_a_copy),
        T(test_deleted_then_same_head_rotated),
        T(test_deleted_idle_then_same_head_rotated),
        T(test_group_commit),
        T(test_backlog_flushed_at_end),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
