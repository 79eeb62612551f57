/* Checkpoint files (round trip, strict parsing) and file identity. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "logseal/checkpoint.h"
#include "logseal/file.h"

/* Seals what the tests save (test_ckptseal.c tests the sealing). */
static struct lsl_ckpt_key *key;
static char key_dir[] = "/tmp/lsl-test-ckptkey-XXXXXX";

static int group_setup(void **state)
{
    char path[64];

    (void)state;
    if (!mkdtemp(key_dir))
        return -1;
    snprintf(path, sizeof(path), "%s/%s", key_dir, LSL_CKPT_KEY_FILE);
    return lsl_ckpt_key_open(path, true, &key, NULL);
}

static int group_teardown(void **state)
{
    char cmd[96];

    (void)state;
    lsl_ckpt_key_free(key);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", key_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int setup(void **state)
{
    char *dir = strdup("/tmp/lsl-test-ckpt-XXXXXX");

    if (!dir || !mkdtemp(dir))
        return -1;
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (char *)*state);
    free(*state);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_round_trip(void **state)
{
    const char *dir = *state;
    struct lsl_checkpoint cp, back;
    char path[256];
    struct stat st;

    memset(&cp, 0, sizeof(cp));
    cp.file.dev = 2049;
    cp.file.ino = 123456789012ull;
    cp.file.fp_len = 1024;
    for (int i = 0; i < LSL_FP_BYTES; i++)
        cp.file.fp[i] = (uint8_t)(i * 17);
    cp.offset = 1ull << 40;
    snprintf(cp.segment, sizeof(cp.segment), "/out/web/x y.log.gz.part");
    cp.segment_len = 777;
    cp.lines = 42;
    cp.mtime_ns = 1764000000123456789ll;
    cp.file.btime_ns = 1763000000987654321ll;
    cp.end_len = 1000;
    for (int i = 0; i < LSL_FP_BYTES; i++)
        cp.end_fp[i] = (uint8_t)(255 - i);
    cp.in_line = true;
    cp.deleted = true;
    lsl_head_marks_of((const uint8_t *)"ab\ncd\nef", 8, &cp.heads);
    cp.ndone = 2;
    cp.done[0] = cp.file;
    cp.done[1] = cp.file;
    cp.done[1].ino = 7;
    cp.done[1].btime_ns = 0;
    assert_int_equal(lsl_checkpoint_save(dir, "web", key, &cp), 0);
    assert_int_equal(lsl_checkpoint_load(dir, "web", key, &back), 0);
    assert_memory_equal(&cp.file, &back.file, sizeof(cp.file));
    assert_int_equal(back.offset, cp.offset);
    assert_int_equal(back.mtime_ns, cp.mtime_ns);
    assert_int_equal(back.end_len, 1000);
    assert_memory_equal(back.end_fp, cp.end_fp, LSL_FP_BYTES);
    assert_true(back.in_line);
    assert_true(back.deleted);
    assert_int_equal(back.heads.n, 2);
    assert_memory_equal(&back.heads, &cp.heads, sizeof(cp.heads));
    assert_int_equal(back.ndone, 2);
    assert_memory_equal(&back.done[0], &cp.done[0], sizeof(cp.done[0]));
    assert_memory_equal(&back.done[1], &cp.done[1], sizeof(cp.done[1]));
    assert_string_equal(back.segment, cp.segment);
    assert_int_equal(back.segment_len, 777);
    assert_int_equal(back.lines, 42);
    assert_true(back.sealed);
    assert_true(lsl_checkpoint_same(&cp, &back));
    back.heads.v[1].fp[3] ^= 1;
    assert_false(lsl_checkpoint_same(&cp, &back));
    back.heads.v[1].fp[3] ^= 1;
    back.done[1].btime_ns = 5;
    assert_false(lsl_checkpoint_same(&cp, &back));
    back.done[1].btime_ns = 0;
    back.segment[0] = 'x';
    assert_false(lsl_checkpoint_same(&cp, &back));
    snprintf(path, sizeof(path), "%s/web.ckpt", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* No open segment: an empty value. */
    cp.segment[0] = '\0';
    assert_int_equal(lsl_checkpoint_save(dir, "web", key, &cp), 0);
    assert_int_equal(lsl_checkpoint_load(dir, "web", key, &back), 0);
    assert_string_equal(back.segment, "");
}

static void test_missing(void **state)
{
    struct lsl_checkpoint cp;

    assert_int_equal(lsl_checkpoint_load(*state, "none", key, &cp), -ENOENT);
}

#define GOOD_FP "00112233445566778899aabbccddeeff"

static void expect_corrupt(const char *dir, const char *text, int want)
{
    struct lsl_checkpoint cp;

    write_text(dir, "bad.ckpt", text);
    assert_int_equal(lsl_checkpoint_load(dir, "bad", key, &cp), want);
}

/* Version 4 adds `heads`: line ends, increasing, inside the head. */
static void heads_corrupt(const char *dir, const char *rest)
{
    static const struct {
        const char *heads;
        int want;
    } cases[] = {
        {"", 0},
        {"3." GOOD_FP ",7." GOOD_FP, 0},
        {"3." GOOD_FP ",3." GOOD_FP, LSL_ECORRUPT}, /* not increasing */
        {"7." GOOD_FP ",3." GOOD_FP, LSL_ECORRUPT}, /* decreasing */
        {"10." GOOD_FP, LSL_ECORRUPT},              /* not inside fp_len */
        {"0." GOOD_FP, LSL_ECORRUPT},               /* empty prefix */
        {"3.0011", LSL_ECORRUPT},                   /* short fingerprint */
        {"3", LSL_ECORRUPT},                        /* no fingerprint */
        {"x." GOOD_FP, LSL_ECORRUPT},               /* no length */
        {"3." GOOD_FP ",", 0},                      /* (strtok: empty) */
    };
    char text[1024];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text),
                 "version 4\ndev 1\n%smtime 7\nend_len 5\nend_fp " GOOD_FP
                 "\nin_line 0\nbtime 9\ndone \ndeleted 0\nheads %s\n",
                 rest, cases[i].heads);
        expect_corrupt(dir, text, cases[i].want);
    }
    /* Seventeen marks: more than a checkpoint holds. */
    snprintf(text, sizeof(text),
             "version 4\ndev 1\n%smtime 7\nend_len 5\nend_fp " GOOD_FP
             "\nin_line 0\nbtime 9\ndone \ndeleted 0\nheads ",
             rest);
    for (int i = 1; i <= LSL_CKPT_HEADS + 1; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text),
                 "%s%d." GOOD_FP, i > 1 ? "," : "", i);
    strcat(text, "\n");
    expect_corrupt(dir, text, LSL_ECORRUPT);
    /* Version 3 has none; version 4 needs it. */
    snprintf(text, sizeof(text),
             "version 4\ndev 1\n%smtime 7\nend_len 5\nend_fp " GOOD_FP
             "\nin_line 0\nbtime 9\ndone \ndeleted 0\n",
             rest);
    expect_corrupt(dir, text, LSL_ECORRUPT);
    snprintf(text, sizeof(text),
             "version 3\ndev 1\n%smtime 7\nend_len 5\nend_fp " GOOD_FP
             "\nin_line 0\nbtime 9\ndone \ndeleted 0\nheads \n",
             rest);
    expect_corrupt(dir, text, LSL_ECORRUPT);
}

static void test_corrupt(void **state)
{
    const char *dir = *state;
    const char *rest = "ino 2\nfp_len 10\nfp " GOOD_FP "\noffset 5\n"
                       "segment \nsegment_len 0\nlines 1\n";
    char text[512];

    snprintf(text, sizeof(text), "version 1\ndev 1\n%s", rest);
    expect_corrupt(dir, text, 0); /* the baseline is valid */
    expect_corrupt(dir, "", LSL_ECORRUPT);
    snprintf(text, sizeof(text), "version 1\n%s", rest); /* no dev */
    expect_corrupt(dir, text, LSL_ECORRUPT);
    snprintf(text, sizeof(text), "version 1\ndev 1\ndev 1\n%s", rest);
    expect_corrupt(dir, text, LSL_ECORRUPT);
    snprintf(text, sizeof(text), "version 1\ndev x1\n%s", rest);
    expect_corrupt(dir, text, LSL_ECORRUPT);
    snprintf(text, sizeof(text), "version 1\ndev 1x\n%s", rest);
    expect_corrupt(dir, text, LSL_ECORRUPT);
    snprintf(text, sizeof(text), "version 1\ndev -1\n%s", rest);
    expect_corrupt(dir, text, LSL_ECORRUPT);
    snprintf(text, sizeof(text), "version 1\ndev 1\nmood 3\n%s", rest);
    expect_corrupt(dir, text, LSL_ECORRUPT);
    snprintf(text, sizeof(text), "version 9\ndev 1\n%s", rest);
    expect_corrupt(dir, text, LSL_EVERSION);
    /* Cut short: the last line has no newline. */
    snprintf(text, sizeof(text), "version 1\ndev 1\n%s", rest);
    text[strlen(text) - 1] = '\0';
    expect_corrupt(dir, text, LSL_ECORRUPT);
    expect_corrupt(dir,
                   "version 1\ndev 1\nino 2\nfp_len 10\nfp 0011\n"
                   "offset 5\nsegment \nsegment_len 0\nlines 1\n",
                   LSL_ECORRUPT);
    expect_corrupt(dir,
                   "version 1\ndev 1\nino 2\nfp_len 5000\nfp " GOOD_FP
                   "\noffset 5\nsegment \nsegment_len 0\nlines 1\n",
                   LSL_ECORRUPT);
    /* Version 2 needs its own keys, each in range. */
    snprintf(text, sizeof(text),
             "version 2\ndev 1\n%smtime 7\nend_len 5\nend_fp " GOOD_FP
             "\nin_line 0\nbtime 9\ndone \n",
             rest);
    expect_corrupt(dir, text, 0);
    snprintf(text, sizeof(text), "version 2\ndev 1\n%s", rest);
    expect_corrupt(dir, text, LSL_ECORRUPT);
    snprintf(text, sizeof(text),
             "version 2\ndev 1\n%smtime 7\nend_len 6\nend_fp " GOOD_FP
             "\nin_line 0\nbtime 9\ndone \n",
             rest); /* more end bytes than the offset */
    expect_corrupt(dir, text, LSL_ECORRUPT);
    snprintf(text, sizeof(text),
             "version 2\ndev 1\n%smtime 7\nend_len 5\nend_fp " GOOD_FP
             "\nin_line 2\nbtime 9\ndone \n",
             rest);
    expect_corrupt(dir, text, LSL_ECORRUPT);
    snprintf(text, sizeof(text),
             "version 2\ndev 1\n%smtime 7\nend_len 5\nend_fp " GOOD_FP
             "\nin_line 0\nbtime 9\ndone 1.2.3.10\n",
             rest); /* a done entry without its fingerprint */
    expect_corrupt(dir, text, LSL_ECORRUPT);
    /* Version 3 adds `deleted`, 0 or 1; version 2 has none. */
    snprintf(text, sizeof(text),
             "version 3\ndev 1\n%smtime 7\nend_len 5\nend_fp " GOOD_FP
             "\nin_line 0\nbtime 9\ndone \ndeleted 1\n",
             rest);
    expect_corrupt(dir, text, 0);
    snprintf(text, sizeof(text),
             "version 3\ndev 1\n%smtime 7\nend_len 5\nend_fp " GOOD_FP
             "\nin_line 0\nbtime 9\ndone \n",
             rest);
    expect_corrupt(dir, text, LSL_ECORRUPT);
    snprintf(text, sizeof(text),
             "version 3\ndev 1\n%smtime 7\nend_len 5\nend_fp " GOOD_FP
             "\nin_line 0\nbtime 9\ndone \ndeleted 2\n",
             rest);
    expect_corrupt(dir, text, LSL_ECORRUPT);
    snprintf(text, sizeof(text),
             "version 2\ndev 1\n%smtime 7\nend_len 5\nend_fp " GOOD_FP
             "\nin_line 0\nbtime 9\ndone \ndeleted 0\n",
             rest);
    expect_corrupt(dir, text, LSL_ECORRUPT);
    heads_corrupt(dir, rest);
    snprintf(text, sizeof(text), "version 6\ndev 1\n%s", rest);
    expect_corrupt(dir, text, LSL_EVERSION);
}

/* A version 2 checkpoint (written before `deleted`) is read: not deleted. */
static void test_version2(void **state)
{
    const char *dir = *state;
    struct lsl_checkpoint cp;

    write_text(dir, "v2.ckpt",
               "version 2\ndev 1\nino 2\nfp_len 10\nfp " GOOD_FP
               "\noffset 5\nsegment \nsegment_len 0\nlines 1\nmtime 7\n"
               "end_len 5\nend_fp " GOOD_FP "\nin_line 0\nbtime 9\ndone \n");
    assert_int_equal(lsl_checkpoint_load(dir, "v2", key, &cp), 0);
    assert_false(cp.deleted);
    assert_int_equal(cp.mtime_ns, 7);
}

/* A version 1 checkpoint: the new keys get their neutral values, and the
 * mtime is the checkpoint file's own. */
static void test_version1(void **state)
{
    const char *dir = *state;
    struct lsl_checkpoint cp;

    write_text(dir, "old.ckpt",
               "version 1\ndev 1\nino 2\nfp_len 10\nfp " GOOD_FP
               "\noffset 5\nsegment \nsegment_len 0\nlines 1\n");
    assert_int_equal(lsl_checkpoint_load(dir, "old", key, &cp), 0);
    assert_int_equal(cp.end_len, 0);
    assert_false(cp.in_line);
    assert_true(cp.mtime_ns > 0);
}

static int make_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    int fd;

    write_text(dir, name, text);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    return fd;
}

/* The bytes before the offset tell a rewritten file from the old one. */
static void test_end_fp(void **state)
{
    const char *dir = *state;
    struct lsl_checkpoint cp;
    char path[256];
    int fd = make_file(dir, "e.log", "line one\nline two\nline three\n");
    int w;

    memset(&cp, 0, sizeof(cp));
    cp.offset = 18;
    assert_int_equal(lsl_checkpoint_end_get(fd, &cp), 0);
    assert_int_equal(cp.end_len, 18);
    assert_true(lsl_checkpoint_end_same(fd, &cp));
    snprintf(path, sizeof(path), "%s/e.log", dir);
    w = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(w, "line one\nline 2wo\nline three\n", 29), 29);
    assert_false(lsl_checkpoint_end_same(fd, &cp));
    assert_int_equal(ftruncate(w, 10), 0);
    assert_false(lsl_checkpoint_end_same(fd, &cp));
    cp.offset = 40;
    assert_int_equal(lsl_checkpoint_end_get(fd, &cp), LSL_ETRUNC);
    close(w);
    close(fd);
}

static void test_file_id(void **state)
{
    const char *dir = *state;
    struct lsl_file_id a, b;
    char path[256];
    int fa = make_file(dir, "a.log", "first line\nsecond line\n");
    int fb = make_file(dir, "b.log", "first line\nsecond line\n");
    int fc;
    off_t pos;

    assert_int_equal(lsl_file_id_get(fa, &a), 0);
    assert_int_equal(a.fp_len, 23);
    pos = lseek(fa, 0, SEEK_CUR);
    assert_int_equal(pos, 0); /* pread: the offset did not move */
    assert_true(lsl_file_id_same(fa, &a));
    /* Same content, other inode: a copy, not the same file. */
    assert_int_equal(lsl_file_id_get(fb, &b), 0);
    assert_memory_equal(a.fp, b.fp, LSL_FP_BYTES);
    assert_false(lsl_file_id_same(fb, &a));
    assert_true(lsl_file_fp_same(fb, &a));

    /* Appending keeps the identity. */
    snprintf(path, sizeof(path), "%s/a.log", dir);
    fc = open(path, O_WRONLY | O_APPEND);
    assert_int_equal(write(fc, "third\n", 6), 6);
    assert_true(lsl_file_id_same(fa, &a));
    /* Rewritten in place (same inode): not the same file any more. */
    assert_int_equal(ftruncate(fc, 0), 0);
    assert_int_equal(write(fc, "FIRST line\nsecond line\n", 23), 23);
    assert_false(lsl_file_id_same(fa, &a));
    /* Truncated below the fingerprinted span: not the same either. */
    assert_int_equal(ftruncate(fc, 5), 0);
    assert_false(lsl_file_id_same(fa, &a));
    close(fc);
    close(fa);
    close(fb);
}

static void test_fp_span(void **state)
{
    char big[3000];
    struct lsl_file_id id;
    int fd;

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    fd = make_file(*state, "big.log", big);
    assert_int_equal(lsl_file_id_get(fd, &id), 0);
    assert_int_equal(id.fp_len, LSL_FP_SPAN);
    close(fd);
}

/* A copy shorter than the fingerprinted head is recognized by the head
 * mark of its length; other prefixes and other files are not. */
static void test_head_same(void **state)
{
    const char *text = "a1\nb22\nc3\n";
    struct lsl_checkpoint cp;
    static const struct {
        const char *copy;
        bool same;
    } cases[] = {
        {"a1\n", true},
        {"a1\nb22\n", true},     /* at line ends */
        {"a1\nb22\nc3\n", true}, /* the whole head: by its fingerprint */
        {"a1\nb22\nc3\nd4\n", true},
        {"a1\nb2", false}, /* no mark */
        {"x1\n", false},
        {"a1\nb23\n", false},
        {"", false},
    };
    int fd = make_file(*state, "orig.log", text);

    memset(&cp, 0, sizeof(cp));
    assert_int_equal(lsl_file_id_get(fd, &cp.file), 0);
    close(fd);
    lsl_head_marks_of((const uint8_t *)text, strlen(text), &cp.heads);
    assert_int_equal(cp.heads.n, 2); /* 3 and 7: 10 is the head itself */
    assert_int_equal(cp.heads.v[0].len, 3);
    assert_int_equal(cp.heads.v[1].len, 7);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fd = make_file(*state, "copy.log", cases[i].copy);
        assert_int_equal(
            lsl_checkpoint_head_same(fd, strlen(cases[i].copy), &cp),
            cases[i].same);
        close(fd);
    }
}

/* Fingerprints read their bytes with lsl_pread_exact: at an offset, the
 * file offset left alone, a short file an error. */
static void test_pread_exact(void **state)
{
    char buf[8] = {0};
    int fd = make_file(*state, "p.log", "abcdef");

    assert_int_equal(lsl_pread_exact(fd, buf, 3, 2), 0);
    assert_memory_equal(buf, "cde", 3);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
    assert_int_equal(lsl_pread_exact(fd, buf, 5, 3), LSL_ETRUNC);
    assert_int_equal(lsl_pread_exact(fd, buf, 1, -1), -EINVAL);
    assert_int_equal(lsl_pread_exact(fd, buf, 0, 99), 0);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fp_span, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_end_fp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_same, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pread_exact, setup, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
