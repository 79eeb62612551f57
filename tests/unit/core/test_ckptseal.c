/*
 * Sealed checkpoints (version 5): the fingerprints are not in the text,
 * and whoever edits, forges, moves or replays one without the key is
 * refused, each with the error that says which; the key's rotation.
 */
#include <errno.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "logseal/checkpoint.h"

struct t {
    char dir[64];
    char key_path[96];
    struct lsl_ckpt_key *key;
    struct lsl_checkpoint cp;
};

static int setup(void **state)
{
    struct t *t = calloc(1, sizeof(*t));

    if (!t)
        return -1;
    snprintf(t->dir, sizeof(t->dir), "/tmp/lsl-test-seal-XXXXXX");
    if (!mkdtemp(t->dir))
        return -1;
    snprintf(t->key_path, sizeof(t->key_path), "%s/%s", t->dir,
             LSL_CKPT_KEY_FILE);
    if (lsl_ckpt_key_open(t->key_path, true, &t->key, NULL) != 0)
        return -1;
    t->cp.file.dev = 2049;
    t->cp.file.ino = 77;
    t->cp.file.fp_len = 12;
    t->cp.offset = 12;
    t->cp.end_len = 12;
    t->cp.lines = 3;
    lsl_fp_of("a1\nb2\nc3\nd4\n", 12, t->cp.file.fp);
    lsl_fp_of("a1\nb2\nc3\nd4\n", 12, t->cp.end_fp);
    lsl_head_marks_of((const uint8_t *)"a1\nb2\nc3\nd4\n", 12, &t->cp.heads);
    t->cp.ndone = 1;
    t->cp.done[0] = t->cp.file;
    snprintf(t->cp.segment, sizeof(t->cp.segment), "/out/web/a.log.part");
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct t *t = *state;
    char cmd[128];

    lsl_ckpt_key_free(t->key);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
    free(t);
    return system(cmd) == 0 ? 0 : -1;
}

static char *read_ckpt(const struct t *t, const char *source)
{
    static char text[LSL_CKPT_TEXT_MAX + 1];
    char path[128];
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s.ckpt", t->dir, source);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(text, 1, LSL_CKPT_TEXT_MAX, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

static void write_ckpt(const struct t *t, const char *source, const char *text)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s.ckpt", t->dir, source);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int load(const struct t *t, const char *source,
                const struct lsl_ckpt_key *key)
{
    struct lsl_checkpoint back;

    return lsl_checkpoint_load(t->dir, source, key, &back);
}

/* No fingerprint of the file in the text; what operators read stays. */
static void test_no_fingerprint_in_text(void **state)
{
    struct t *t = *state;
    char hex[LSL_FP_BYTES * 2 + 1];
    const char *text, *last;

    assert_int_equal(lsl_checkpoint_save(t->dir, "web", t->key, &t->cp), 0);
    text = read_ckpt(t, "web");
    sodium_bin2hex(hex, sizeof(hex), t->cp.file.fp, LSL_FP_BYTES);
    assert_null(strstr(text, hex));
    for (unsigned i = 0; i < t->cp.heads.n; i++) {
        sodium_bin2hex(hex, sizeof(hex), t->cp.heads.v[i].fp, LSL_FP_BYTES);
        assert_null(strstr(text, hex));
    }
    assert_null(strstr(text, "\nfp "));
    assert_null(strstr(text, "\nheads "));
    assert_null(strstr(text, "\ndone "));
    assert_non_null(strstr(text, "\nlines 3\n"));
    assert_non_null(strstr(text, "\nsegment /out/web/a.log.part\n"));
    assert_non_null(strstr(text, lsl_ckpt_key_id(t->key)));
    last = strstr(text, "\nsealed ");
    assert_non_null(last);
    assert_ptr_equal(strchr(last + 1, '\n'), text + strlen(text) - 1);
    assert_int_equal(load(t, "web", t->key), 0);
}

/* Any byte changed, in the plain part or the sealed one: refused. */
static void test_altered(void **state)
{
    struct t *t = *state;
    char *text, *p;

    assert_int_equal(lsl_checkpoint_save(t->dir, "web", t->key, &t->cp), 0);
    text = read_ckpt(t, "web");
    p = strstr(text, "\noffset 12\n");
    assert_non_null(p);
    p[9] = '0'; /* offset 10: lines skipped or read twice */
    write_ckpt(t, "web", text);
    assert_int_equal(load(t, "web", t->key), LSL_EAUTH);

    assert_int_equal(lsl_checkpoint_save(t->dir, "web", t->key, &t->cp), 0);
    text = read_ckpt(t, "web");
    p = strstr(text, "\nsealed ") + 20;
    *p = *p == 'A' ? 'B' : 'A';
    write_ckpt(t, "web", text);
    assert_int_equal(load(t, "web", t->key), LSL_EAUTH);

    /* The sealed line cut off: the fingerprints are missing. */
    assert_int_equal(lsl_checkpoint_save(t->dir, "web", t->key, &t->cp), 0);
    text = read_ckpt(t, "web");
    strstr(text, "\nsealed ")[1] = '\0';
    write_ckpt(t, "web", text);
    assert_int_equal(load(t, "web", t->key), LSL_ECORRUPT);
}

/* The fingerprints written in plain beside the sealed line, or instead
 * of it under version 5: refused. */
static void test_plain_fingerprints(void **state)
{
    struct t *t = *state;
    char text[LSL_CKPT_TEXT_MAX + 64];
    const char *saved, *sealed;

    assert_int_equal(lsl_checkpoint_save(t->dir, "web", t->key, &t->cp), 0);
    saved = read_ckpt(t, "web");
    sealed = strstr(saved, "\nsealed ");
    assert_non_null(sealed);
    snprintf(text, sizeof(text), "%.*s\nfp %s%s", (int)(sealed - saved), saved,
             "00112233445566778899aabbccddeeff", sealed);
    write_ckpt(t, "web", text);
    assert_int_equal(load(t, "web", t->key), LSL_EAUTH);
    write_ckpt(t, "web",
               "version 5\ndev 1\nino 2\nfp_len 10\nbtime 0\nmtime 7\n"
               "end_len 0\noffset 5\nin_line 0\nsegment \nsegment_len 0\n"
               "lines 1\ndeleted 0\nkey 0000000000000000\n"
               "fp 00112233445566778899aabbccddeeff\n"
               "end_fp 00112233445566778899aabbccddeeff\ndone \nheads \n");
    assert_int_equal(load(t, "web", t->key), LSL_ECORRUPT);
}

/* Another source's checkpoint, or another's sealed line under this one's
 * plain part: refused. */
static void test_moved(void **state)
{
    struct t *t = *state;
    char mine[LSL_CKPT_TEXT_MAX + 1];
    const char *other_sealed;

    assert_int_equal(lsl_checkpoint_save(t->dir, "web", t->key, &t->cp), 0);
    write_ckpt(t, "api", read_ckpt(t, "web"));
    assert_int_equal(load(t, "api", t->key), LSL_EAUTH);

    snprintf(mine, sizeof(mine), "%s", read_ckpt(t, "web"));
    t->cp.offset = 4;
    t->cp.end_len = 4;
    assert_int_equal(lsl_checkpoint_save(t->dir, "web", t->key, &t->cp), 0);
    other_sealed = strstr(read_ckpt(t, "web"), "\nsealed ");
    strcpy(strstr(mine, "\nsealed "), other_sealed);
    write_ckpt(t, "web", mine);
    assert_int_equal(load(t, "web", t->key), LSL_EAUTH);
}

/* Another key, or none: told apart from an alteration. */
static void test_other_key(void **state)
{
    struct t *t = *state;
    struct lsl_ckpt_key *other;
    char path[128];
    struct lsl_checkpoint cp;
    char text[LSL_CKPT_TEXT_MAX];
    size_t n;

    snprintf(path, sizeof(path), "%s/other.key", t->dir);
    assert_int_equal(lsl_ckpt_key_open(path, true, &other, NULL), 0);
    assert_string_not_equal(lsl_ckpt_key_id(other), lsl_ckpt_key_id(t->key));
    assert_int_equal(lsl_checkpoint_save(t->dir, "web", t->key, &t->cp), 0);
    assert_int_equal(load(t, "web", other), LSL_EOTHERKEY);
    assert_int_equal(load(t, "web", NULL), LSL_ENOKEY);
    assert_int_equal(
        lsl_checkpoint_format(&t->cp, "web", NULL, text, sizeof(text), &n),
        -EINVAL);
    assert_int_equal(
        lsl_checkpoint_format(&t->cp, "web", other, text, sizeof(text), &n), 0);
    assert_int_equal(lsl_checkpoint_parse(text, n, "web", other, &cp), 0);
    assert_true(cp.sealed);
    assert_memory_equal(cp.file.fp, t->cp.file.fp, LSL_FP_BYTES);
    assert_memory_equal(&cp.heads, &t->cp.heads, sizeof(cp.heads));
    assert_int_equal(lsl_checkpoint_parse(text, n, "web", t->key, &cp),
                     LSL_EOTHERKEY);
    lsl_ckpt_key_free(other);
}

/* The key file: made 0600 once, then the same key; refused when wider,
 * of another kind, or missing without `create`. */
static void test_key_file(void **state)
{
    struct t *t = *state;
    struct lsl_ckpt_key *k;
    char path[128], id[LSL_CKPT_KID_LEN + 1];
    struct stat st;
    bool made = true;
    FILE *f;

    assert_int_equal(stat(t->key_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 40);
    assert_int_equal(lsl_ckpt_key_open(t->key_path, true, &k, &made), 0);
    assert_false(made);
    assert_string_equal(lsl_ckpt_key_id(k), lsl_ckpt_key_id(t->key));
    lsl_ckpt_key_free(k);

    snprintf(path, sizeof(path), "%s/new.key", t->dir);
    assert_int_equal(lsl_ckpt_key_open(path, false, &k, NULL), -ENOENT);
    assert_null(k);
    assert_int_equal(lsl_ckpt_key_open(path, true, &k, &made), 0);
    assert_true(made);
    snprintf(id, sizeof(id), "%s", lsl_ckpt_key_id(k));
    lsl_ckpt_key_free(k);
    assert_string_not_equal(id, lsl_ckpt_key_id(t->key));

    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(lsl_ckpt_key_open(path, true, &k, NULL), LSL_EKEYPERM);
    f = fopen(path, "r+");
    assert_non_null(f);
    fputs("LSLHKEY1", f); /* a hash key's magic */
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(lsl_ckpt_key_open(path, true, &k, NULL), LSL_EFORMAT);
}

/* The text of t->cp sealed with k, its key line then naming `kid`. */
static void sealed_naming(const struct t *t, const struct lsl_ckpt_key *k,
                          const char *kid, char *text)
{
    size_t n = 0;
    char *line;

    assert_int_equal(
        lsl_checkpoint_format(&t->cp, "web", k, text, LSL_CKPT_TEXT_MAX, &n),
        0);
    line = strstr(text, "\nkey ");
    assert_non_null(line);
    memcpy(line + 5, kid, LSL_CKPT_KID_LEN);
}

/* A rotation: the old key opens what it sealed until its file goes, the
 * next save seals with the new key, and a key line cannot pick the key. */
static void test_rotate(void **state)
{
    struct t *t = *state;
    char old_id[LSL_CKPT_KID_LEN + 1], new_id[LSL_CKPT_KID_LEN + 1];
    char text[LSL_CKPT_TEXT_MAX], old_path[128];
    struct lsl_ckpt_key *k2 = NULL, *k1 = NULL;
    struct lsl_checkpoint cp;
    struct stat st;

    assert_int_equal(lsl_checkpoint_save(t->dir, "web", t->key, &t->cp), 0);
    assert_int_equal(lsl_ckpt_key_rotate(t->key_path, old_id, new_id), 0);
    assert_string_equal(old_id, lsl_ckpt_key_id(t->key));
    assert_string_not_equal(new_id, old_id);
    snprintf(old_path, sizeof(old_path), "%s%s", t->key_path, LSL_CKPT_KEY_OLD);
    assert_int_equal(stat(old_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(t->key_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(lsl_ckpt_key_open(old_path, false, &k1, NULL), 0);
    assert_string_equal(lsl_ckpt_key_id(k1), old_id);
    lsl_ckpt_key_free(k1);

    assert_int_equal(lsl_ckpt_key_open(t->key_path, false, &k2, NULL), 0);
    assert_string_equal(lsl_ckpt_key_id(k2), new_id);
    assert_string_equal(lsl_ckpt_key_prev_id(k2), old_id);
    assert_int_equal(lsl_checkpoint_load(t->dir, "web", k2, &cp), 0);
    assert_true(cp.sealed && cp.old_key);
    assert_memory_equal(cp.file.fp, t->cp.file.fp, LSL_FP_BYTES);
    assert_int_equal(lsl_checkpoint_save(t->dir, "web", k2, &cp), 0);
    assert_non_null(strstr(read_ckpt(t, "web"), new_id));
    assert_int_equal(lsl_checkpoint_load(t->dir, "web", k2, &cp), 0);
    assert_true(cp.sealed && !cp.old_key);

    /* The key line is bound: renaming the key does not open it. */
    sealed_naming(t, t->key, new_id, text);
    write_ckpt(t, "web", text);
    assert_int_equal(load(t, "web", k2), LSL_EAUTH);
    sealed_naming(t, k2, old_id, text);
    write_ckpt(t, "web", text);
    assert_int_equal(load(t, "web", k2), LSL_EAUTH);

    /* Not twice while the old key is kept; without it, its checkpoints
     * are another key's. */
    assert_int_equal(lsl_ckpt_key_rotate(t->key_path, old_id, new_id), -EEXIST);
    assert_int_equal(lsl_checkpoint_save(t->dir, "web", t->key, &t->cp), 0);
    assert_int_equal(chmod(old_path, 0644), 0);
    lsl_ckpt_key_free(k2);
    assert_int_equal(lsl_ckpt_key_open(t->key_path, false, &k2, NULL),
                     LSL_EKEYPERM);
    assert_int_equal(unlink(old_path), 0);
    assert_int_equal(lsl_ckpt_key_open(t->key_path, false, &k2, NULL), 0);
    assert_null(lsl_ckpt_key_prev_id(k2));
    assert_int_equal(load(t, "web", k2), LSL_EOTHERKEY);
    lsl_ckpt_key_free(k2);

    snprintf(old_path, sizeof(old_path), "%s/none.key", t->dir);
    assert_int_equal(lsl_ckpt_key_rotate(old_path, old_id, new_id), -ENOENT);
}

/* Checkpoints from before version 5 are still read, as unsealed. */
static void test_unsealed_read(void **state)
{
    struct t *t = *state;
    struct lsl_checkpoint cp;

    write_ckpt(t, "old",
               "version 4\ndev 1\nino 2\nfp_len 10\nfp "
               "00112233445566778899aabbccddeeff\noffset 5\nsegment \n"
               "segment_len 0\nlines 1\nmtime 7\nend_len 5\nend_fp "
               "00112233445566778899aabbccddeeff\nin_line 0\nbtime 9\n"
               "done \ndeleted 0\nheads \n");
    assert_int_equal(lsl_checkpoint_load(t->dir, "old", t->key, &cp), 0);
    assert_false(cp.sealed);
    assert_int_equal(lsl_checkpoint_load(t->dir, "old", NULL, &cp), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_fingerprint_in_text, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_altered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_fingerprints, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_moved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsealed_read, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
