/*
 * Segment sink: names (never reused), size and age limits, cut-back after
 * a failed write, resume from a checkpoint (cut back, or a new segment),
 * .part files left by a crash (removed, or finished for sources that
 * cannot read again), an overlong line kept in one file.
 */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>
#include "logseal/checkpoint.h"
#include "logseal/file.h"
#include "logseal/sink.h"
#include "src/sink/segment_internal.h"

struct fix {
    char dir[64];
    struct lsl_segment_opts o;
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/lsl-test-seg-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    f->o.out_dir = f->dir;
    f->o.source = "web";
    f->o.host = "h1";
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    char cmd[128];

    lsl_segment_write_fn = lsl_write_all;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    free(f);
    return system(cmd) == 0 ? 0 : -1;
}

/* The sink's durable position, as the commit step reads it. */
static void seg_state(const struct lsl_sink *s, char *part, size_t cap,
                      uint64_t *len)
{
    struct lsl_sink_state st;

    s->ops->state(s, &st);
    snprintf(part, cap, "%s", st.part);
    *len = st.len;
}

static int write_dated(struct lsl_sink *s, const char *text, int64_t first)
{
    struct lsl_batch b;
    int rc;

    memset(&b, 0, sizeof(b));
    b.first_time = first;
    b.st.lines_out = 1;
    if (lsl_buf_append(&b.gz, text, strlen(text)))
        return -ENOMEM;
    rc = s->ops->write(s, &b);
    if (rc == 0)
        rc = s->ops->sync(s);
    lsl_buf_free(&b.gz);
    return rc;
}

static int write_text(struct lsl_sink *s, const char *text)
{
    return write_dated(s, text, 0);
}

/* `text` as one gzip member, written as a batch of one line with
 * `last_flags`, whose first line's time is `first` (0: none). */
static int write_member_at(struct lsl_sink *s, const char *text,
                           uint32_t last_flags, int64_t first)
{
    struct lsl_batch b;
    struct lsl_line ln = {0, 0, last_flags};
    uLongf cap;
    z_stream zs;
    int rc;

    memset(&b, 0, sizeof(b));
    memset(&zs, 0, sizeof(zs));
    b.first_time = first;
    b.st.lines_out = 1;
    b.lines = &ln;
    b.nlines = 1;
    assert_int_equal(
        deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    cap = deflateBound(&zs, strlen(text));
    assert_int_equal(lsl_buf_reserve(&b.gz, cap), 0);
    zs.next_in = (Bytef *)(uintptr_t)text;
    zs.avail_in = (uInt)strlen(text);
    zs.next_out = (Bytef *)b.gz.p;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    b.gz.len = cap - zs.avail_out;
    deflateEnd(&zs);
    rc = s->ops->write(s, &b);
    if (rc == 0)
        rc = s->ops->sync(s);
    lsl_buf_free(&b.gz);
    return rc;
}

static int write_member(struct lsl_sink *s, const char *text,
                        uint32_t last_flags)
{
    return write_member_at(s, text, last_flags, 0);
}

/* Decompressed text of a file (whole members). */
static void assert_gz_content(const char *path, const char *want)
{
    char buf[4096];
    gzFile g = gzopen(path, "rb");
    int n;

    assert_non_null(g);
    n = gzread(g, buf, sizeof(buf) - 1);
    gzclose(g);
    assert_true(n >= 0);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

/* Paths under OUTDIR/web/ * / matching `suffix`, sorted. */
static size_t list(const struct fix *f, const char *suffix, glob_t *g)
{
    char pat[256];

    snprintf(pat, sizeof(pat), "%s/web/*/web-*%s", f->dir, suffix);
    if (glob(pat, 0, NULL, g) != 0) {
        g->gl_pathc = 0;
        g->gl_pathv = NULL;
    }
    return g->gl_pathc;
}

static void assert_content(const char *path, const char *want)
{
    char buf[4096];
    FILE *fp = fopen(path, "rb");
    size_t n;

    assert_non_null(fp);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static void test_naming(void **state)
{
    struct fix *f = *state;
    struct lsl_sink *s = NULL;
    char part[PATH_MAX], want[64], stamp[32], date[16];
    uint64_t len;
    time_t before = time(NULL), after;
    struct tm tm;
    glob_t g;
    const char *base;

    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_true(s->gzip && s->sync_each);
    seg_state(s, part, sizeof(part), &len);
    assert_string_equal(part, ""); /* nothing written: no segment yet */
    assert_int_equal(write_text(s, "member-1"), 0);
    after = time(NULL);
    seg_state(s, part, sizeof(part), &len);
    assert_int_equal(len, 8);
    assert_non_null(strstr(part, ".log.gz.part"));
    assert_int_equal(s->ops->close(s, true), 0);
    assert_int_equal(list(f, ".log.gz", &g), 1);
    assert_content(g.gl_pathv[0], "member-1");
    base = strrchr(g.gl_pathv[0], '/') + 1;
    /* UTC date directory and stamp of the segment start. */
    gmtime_r(&before, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    strftime(date, sizeof(date), "%Y-%m-%d", &tm);
    snprintf(want, sizeof(want), "web-h1-%s-000.log.gz", stamp);
    if (before != after && strcmp(base, want) != 0) {
        gmtime_r(&after, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
        strftime(date, sizeof(date), "%Y-%m-%d", &tm);
        snprintf(want, sizeof(want), "web-h1-%s-000.log.gz", stamp);
    }
    assert_string_equal(base, want);
    assert_non_null(strstr(g.gl_pathv[0], date));
    globfree(&g);
    assert_int_equal(list(f, ".part", &g), 0);
}

static void test_size_limit(void **state)
{
    struct fix *f = *state;
    struct lsl_sink *s = NULL;
    glob_t g;

    f->o.max_bytes = 10;
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(write_text(s, "aaaaaaaa"), 0);
    assert_int_equal(write_text(s, "bbbbbbbb"), 0); /* 16 >= 10 now */
    assert_int_equal(list(f, ".log.gz", &g), 0);
    assert_int_equal(write_text(s, "cccccccc"), 0); /* finishes the first */
    assert_int_equal(list(f, ".log.gz", &g), 1);
    assert_content(g.gl_pathv[0], "aaaaaaaabbbbbbbb");
    globfree(&g);
    assert_int_equal(s->ops->close(s, true), 0);
    /* Same second or not, the two names differ and sort in order. */
    assert_int_equal(list(f, ".log.gz", &g), 2);
    assert_content(g.gl_pathv[1], "cccccccc");
    globfree(&g);
}

static void test_age_limit(void **state)
{
    struct fix *f = *state;
    struct lsl_sink *s = NULL;
    char part[PATH_MAX];
    uint64_t len;
    glob_t g;

    f->o.max_age = 60;
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(write_text(s, "old"), 0);
    assert_int_equal(s->ops->tick(s, (int64_t)time(NULL) + 30), 0);
    assert_int_equal(list(f, ".log.gz", &g), 0);
    assert_int_equal(s->ops->tick(s, (int64_t)time(NULL) + 61), 0);
    assert_int_equal(list(f, ".log.gz", &g), 1);
    globfree(&g);
    seg_state(s, part, sizeof(part), &len);
    assert_string_equal(part, "");
    assert_int_equal(len, 0);
    /* An idle sink has nothing to finish; close leaves no empty file. */
    assert_int_equal(s->ops->tick(s, (int64_t)time(NULL) + 500), 0);
    assert_int_equal(s->ops->close(s, true), 0);
    assert_int_equal(list(f, ".log.gz", &g), 1);
    globfree(&g);
}

static int failing_write(int fd, const void *buf, size_t len)
{
    /* Half a member reaches the file, then the disk is full. */
    if (lsl_write_all(fd, buf, len / 2) != 0)
        return -EIO;
    return -ENOSPC;
}

static void test_write_failure(void **state)
{
    struct fix *f = *state;
    struct lsl_sink *s = NULL;
    char part[PATH_MAX];
    uint64_t len;
    struct stat st;

    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(write_text(s, "good-1;"), 0);
    lsl_segment_write_fn = failing_write;
    assert_int_equal(write_text(s, "second-member;"), -ENOSPC);
    seg_state(s, part, sizeof(part), &len);
    assert_int_equal(len, 7);
    assert_int_equal(stat(part, &st), 0);
    assert_int_equal(st.st_size, 7); /* cut back: no half member */
    lsl_segment_write_fn = lsl_write_all;
    assert_int_equal(write_text(s, "second-member;"), 0);
    assert_content(part, "good-1;second-member;");
    assert_int_equal(s->ops->close(s, false), 0);
    assert_content(part, "good-1;second-member;"); /* left as .part */
}

static void test_resume_cut_back(void **state)
{
    struct fix *f = *state;
    struct lsl_sink *s = NULL;
    struct lsl_checkpoint cp;
    glob_t g;

    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(write_text(s, "one;"), 0);
    assert_int_equal(write_text(s, "two;"), 0);
    memset(&cp, 0, sizeof(cp));
    seg_state(s, cp.segment, sizeof(cp.segment), &cp.segment_len);
    /* Written but never checkpointed, then the daemon dies. */
    assert_int_equal(write_text(s, "lost;"), 0);
    assert_int_equal(s->ops->close(s, false), 0);

    f->o.resume = &cp;
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_content(cp.segment, "one;two;");
    assert_int_equal(write_text(s, "three;"), 0);
    assert_int_equal(s->ops->close(s, true), 0);
    assert_int_equal(list(f, ".log.gz", &g), 1);
    assert_content(g.gl_pathv[0], "one;two;three;");
    globfree(&g);
}

static void test_resume_finished(void **state)
{
    struct fix *f = *state;
    struct lsl_sink *s = NULL;
    struct lsl_checkpoint cp;
    glob_t g;

    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(write_text(s, "one;"), 0);
    memset(&cp, 0, sizeof(cp));
    seg_state(s, cp.segment, sizeof(cp.segment), &cp.segment_len);
    /* Finished (renamed) after the checkpoint, before the crash. */
    assert_int_equal(s->ops->close(s, true), 0);
    f->o.resume = &cp;
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(write_text(s, "two;"), 0);
    assert_int_equal(s->ops->close(s, true), 0);
    assert_int_equal(list(f, ".log.gz", &g), 2);
    assert_content(g.gl_pathv[0], "one;");
    assert_content(g.gl_pathv[1], "two;");
    globfree(&g);
}

/* A .part no checkpoint names (crash before its first checkpoint) holds
 * only lines that will be read again: it is removed on open. */
static void test_orphan_removed(void **state)
{
    struct fix *f = *state;
    struct lsl_sink *s = NULL;
    struct lsl_checkpoint cp;
    char orphan[PATH_MAX];
    FILE *fp;
    glob_t g;

    f->o.input_replays = true;
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(write_text(s, "kept;"), 0);
    memset(&cp, 0, sizeof(cp));
    seg_state(s, cp.segment, sizeof(cp.segment), &cp.segment_len);
    assert_int_equal(s->ops->close(s, false), 0);
    /* The next segment was created, then the daemon died before the
     * checkpoint named it. */
    snprintf(orphan, sizeof(orphan), "%.*s-999.log.gz.part",
             (int)(strlen(cp.segment) - strlen("-000.log.gz.part")),
             cp.segment);
    fp = fopen(orphan, "wb");
    assert_non_null(fp);
    fputs("uncommitted;", fp);
    fclose(fp);
    assert_int_equal(list(f, ".part", &g), 2);
    globfree(&g);
    f->o.resume = &cp;
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(list(f, ".part", &g), 1);
    assert_string_equal(g.gl_pathv[0], cp.segment);
    globfree(&g);
    assert_int_equal(s->ops->close(s, true), 0);
    assert_int_equal(list(f, ".log.gz", &g), 1);
    assert_content(g.gl_pathv[0], "kept;");
    globfree(&g);
}

static void test_resume_refused(void **state)
{
    struct fix *f = *state;
    struct lsl_sink *s = NULL;
    struct lsl_checkpoint cp;

    memset(&cp, 0, sizeof(cp));
    f->o.resume = &cp;
    /* Never cut back a file outside this sink's directory. */
    snprintf(cp.segment, sizeof(cp.segment), "/etc/passwd.part");
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), LSL_ECORRUPT);
    snprintf(cp.segment, sizeof(cp.segment), "%s/web/../../x.log.gz.part",
             f->dir);
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), LSL_ECORRUPT);

    /* A .part shorter than its checkpoint: committed output is gone. */
    f->o.resume = NULL;
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(write_text(s, "abc"), 0);
    seg_state(s, cp.segment, sizeof(cp.segment), &cp.segment_len);
    assert_int_equal(s->ops->close(s, false), 0);
    cp.segment_len = 100;
    f->o.resume = &cp;
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), LSL_ECORRUPT);
}

/*
 * syslog and stdin cannot read anything twice: a .part a kill -9 left
 * holds committed lines. It is finished, cut back to its whole members
 * (a member being written when the daemon died is cut off).
 */
static void test_orphan_finished(void **state)
{
    struct fix *f = *state;
    struct lsl_sink *s = NULL;
    char part[PATH_MAX];
    uint64_t len;
    FILE *fp;
    glob_t g;

    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(write_member(s, "line 1\n", 0), 0);
    assert_int_equal(write_member(s, "line 2\n", 0), 0);
    seg_state(s, part, sizeof(part), &len);
    assert_int_equal(s->ops->close(s, false), 0); /* a kill -9 */
    fp = fopen(part, "ab");
    assert_non_null(fp);
    fwrite("\x1f\x8b\x08\x00half", 1, 8, fp); /* a member cut short */
    fclose(fp);
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(list(f, ".part", &g), 0);
    assert_int_equal(list(f, ".log.gz", &g), 1);
    assert_gz_content(g.gl_pathv[0], "line 1\nline 2\n");
    globfree(&g);
    /* The next segment gets a name of its own. */
    assert_int_equal(write_member(s, "line 3\n", 0), 0);
    assert_int_equal(s->ops->close(s, true), 0);
    assert_int_equal(list(f, ".log.gz", &g), 2);
    assert_gz_content(g.gl_pathv[1], "line 3\n");
    globfree(&g);

    /* A .part without one whole member holds nothing: removed. */
    fp = fopen(part, "wb");
    assert_non_null(fp);
    fwrite("\x1f\x8b", 1, 2, fp);
    fclose(fp);
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(list(f, ".part", &g), 0);
    assert_int_equal(list(f, ".log.gz", &g), 2);
    globfree(&g);
    assert_int_equal(s->ops->close(s, true), 0);
}

/*
 * A shipper moves finished segments away at once: move them, keep the
 * open one's name as names[i] and check no earlier one had it.
 */
static void shipped_name(const struct fix *f, int i, char names[][PATH_MAX])
{
    char moved[PATH_MAX];
    glob_t g;

    while (list(f, ".log.gz", &g) > 0) {
        snprintf(moved, sizeof(moved), "%s/shipped-%d", f->dir, i);
        assert_int_equal(rename(g.gl_pathv[0], moved), 0);
        globfree(&g);
    }
    assert_int_equal(list(f, ".part", &g), 1);
    snprintf(names[i], PATH_MAX, "%s", g.gl_pathv[0]);
    globfree(&g);
    for (int j = 0; j < i; j++)
        assert_string_not_equal(names[i], names[j]);
}

/* Finished segments moved away at once (a shipper): no name comes back. */
static void test_names_not_reused(void **state)
{
    struct fix *f = *state;
    struct lsl_sink *s = NULL;
    char names[8][PATH_MAX];

    f->o.max_bytes = 1;
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(write_text(s, "x"), 0); /* finishes the last */
        shipped_name(f, i, names);
    }
    assert_int_equal(s->ops->close(s, true), 0);
}

/* A batch that ends inside an overlong line keeps the segment open until
 * the line is complete: the line is never split across files. */
static void test_long_line_one_file(void **state)
{
    struct fix *f = *state;
    struct lsl_sink *s = NULL;
    struct lsl_checkpoint cp;
    glob_t g;

    f->o.max_bytes = 1;
    f->o.max_age = 1;
    f->o.input_replays = true; /* a tail source's sink */
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(write_member(s, "aaaa", LSL_LINE_PIECE), 0);
    assert_int_equal(s->ops->tick(s, (int64_t)time(NULL) + 100), 0);
    assert_int_equal(write_member(s, "bbbb", LSL_LINE_PIECE), 0);
    assert_int_equal(list(f, ".log.gz", &g), 0); /* not finished */
    memset(&cp, 0, sizeof(cp));
    seg_state(s, cp.segment, sizeof(cp.segment), &cp.segment_len);
    cp.in_line = true;
    /* A stop now leaves it unfinished, for the next start to continue. */
    assert_int_equal(s->ops->close(s, true), 0);
    assert_int_equal(list(f, ".part", &g), 1);
    globfree(&g);
    assert_int_equal(list(f, ".log.gz", &g), 0);
    f->o.resume = &cp;
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(s->ops->tick(s, (int64_t)time(NULL) + 100), 0);
    assert_int_equal(list(f, ".log.gz", &g), 0); /* still in the line */
    assert_int_equal(write_member(s, "cc\n", LSL_LINE_TAIL), 0);
    assert_int_equal(write_member(s, "next\n", 0), 0); /* finishes it */
    assert_int_equal(list(f, ".log.gz", &g), 1);
    assert_gz_content(g.gl_pathv[0], "aaaabbbbcc\n");
    globfree(&g);
    assert_int_equal(s->ops->close(s, true), 0);
}

/* Pipe-mode output has nothing to resume: no state for a checkpoint. */
static void test_state_other_sink(void **state)
{
    struct fix *f = *state;
    struct lsl_sink *s = NULL;
    char path[128];

    snprintf(path, sizeof(path), "%s/pipe.gz", f->dir);
    assert_int_equal(lsl_file_sink_open(&s, path), 0);
    assert_null(s->ops->state);
    assert_int_equal(s->ops->close(s, false), 0);
}

/*
 * A segment is dated by its first line, not the clock, and a batch of
 * another partition starts a new one: the hive tree's hours, then a day
 * in the default layout; a crafted time far ahead is dated by the clock.
 */
static void test_dated_by_lines(void **state)
{
    struct fix *f = *state;
    struct lsl_sink *s = NULL;
    const int64_t t0 = 1764403509; /* 2025-11-29T08:05:09Z */
    char path[PATH_MAX];
    glob_t g;

    f->o.layout = LSL_LAYOUT_HIVE;
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(write_dated(s, "a", t0), 0);
    assert_int_equal(write_dated(s, "b", t0 + 600), 0);  /* same hour */
    assert_int_equal(write_dated(s, "c", t0 + 3600), 0); /* next hour */
    assert_int_equal(write_dated(s, "d", (int64_t)time(NULL) + 30 * 86400), 0);
    assert_int_equal(s->ops->close(s, true), 0);
    snprintf(path, sizeof(path),
             "%s/source=web/dt=2025-11-29/hour=08/host=h1/"
             "web-h1-20251129T080509Z-000.log.gz",
             f->dir);
    assert_content(path, "ab");
    snprintf(path, sizeof(path),
             "%s/source=web/dt=2025-11-29/hour=09/host=h1/"
             "web-h1-20251129T090509Z-000.log.gz",
             f->dir);
    assert_content(path, "c");
    snprintf(path, sizeof(path), "%s/source=web/dt=20[2-9]*/hour=*/host=h1/*",
             f->dir);
    assert_int_equal(glob(path, 0, NULL, &g), 0);
    assert_int_equal(g.gl_pathc, 3); /* "d" dated by the clock */
    globfree(&g);
    f->o.layout = LSL_LAYOUT_DEFAULT;
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(write_dated(s, "e", t0), 0);
    assert_int_equal(write_dated(s, "f", t0 + 3600), 0);  /* same day */
    assert_int_equal(write_dated(s, "g", t0 + 86400), 0); /* next day */
    assert_int_equal(s->ops->close(s, true), 0);
    snprintf(path, sizeof(path),
             "%s/web/2025-11-29/web-h1-20251129T080509Z-000.log.gz", f->dir);
    assert_content(path, "ef");
    snprintf(path, sizeof(path),
             "%s/web/2025-11-30/web-h1-20251130T080509Z-000.log.gz", f->dir);
    assert_content(path, "g");
    /* A host id or source that could leave OUTDIR is refused. */
    f->o.host = "../x";
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), -EINVAL);
    f->o.host = "h1";
    f->o.source = "a=b";
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), -EINVAL);
}

/*
 * Segments dated by their lines: a second comes back when line times are
 * out of order. With finished files moved away at once, no name given
 * before is given again.
 */
static void test_dated_names_not_reused(void **state)
{
    static const int back[] = {0, 0, 10, 0, 5, 0, 10, 5};
    struct fix *f = *state;
    struct lsl_sink *s = NULL;
    const int64_t t0 = 1764403509;
    char names[8][PATH_MAX];

    f->o.max_bytes = 1;
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(write_dated(s, "x", t0 + back[i]), 0);
        shipped_name(f, i, names);
    }
    assert_int_equal(s->ops->close(s, true), 0);
}

/*
 * Two hosts share a hive OUTPUT and both are killed (stdin sources: their
 * .part files hold committed lines). A start finishes only its own host's
 * leftover, in its own partition; the other's .part is left for its own
 * host, which resumes it from its checkpoint.
 */
static void test_hive_hosts_after_crash(void **state)
{
    struct fix *f = *state;
    struct lsl_sink *s = NULL;
    struct lsl_checkpoint cp;
    const int64_t t0 = 1764403509; /* 2025-11-29T08:05:09Z */
    char part1[PATH_MAX], path[PATH_MAX];
    uint64_t len;

    f->o.layout = LSL_LAYOUT_HIVE;
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(write_member_at(s, "h1 a\n", 0, t0), 0);
    seg_state(s, part1, sizeof(part1), &len);
    assert_int_equal(s->ops->close(s, false), 0);
    f->o.host = "h2";
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(write_member_at(s, "h2 a\n", 0, t0 + 60), 0);
    memset(&cp, 0, sizeof(cp));
    seg_state(s, cp.segment, sizeof(cp.segment), &cp.segment_len);
    assert_int_equal(s->ops->close(s, false), 0);
    assert_non_null(strstr(cp.segment, "/host=h2/web-h2-20251129T080609Z-"));

    f->o.host = "h1"; /* no checkpoint: its .part is a leftover */
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(access(part1, F_OK), -1);
    snprintf(path, sizeof(path),
             "%s/source=web/dt=2025-11-29/hour=08/host=h1/"
             "web-h1-20251129T080509Z-000.log.gz",
             f->dir);
    assert_gz_content(path, "h1 a\n");
    assert_int_equal(access(cp.segment, F_OK), 0); /* h2's: untouched */
    assert_int_equal(s->ops->close(s, true), 0);

    f->o.host = "h2";
    f->o.resume = &cp;
    assert_int_equal(lsl_segment_sink_open(&s, &f->o), 0);
    assert_int_equal(write_member_at(s, "h2 b\n", 0, t0 + 61), 0);
    assert_int_equal(s->ops->close(s, true), 0);
    snprintf(path, sizeof(path), "%.*s", (int)(strlen(cp.segment) - 5),
             cp.segment);
    assert_gz_content(path, "h2 a\nh2 b\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_naming, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_age_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_cut_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_finished, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphan_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_other_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dated_by_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hive_hosts_after_crash, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dated_names_not_reused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_orphan_finished, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_not_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_line_one_file, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
