/*
 * Vault writer and reader together: round trips, once-per-value, the
 * bounded seen set, failed flushes and their retry.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "logseal/file.h"
#include "src/vault/vault_internal.h"
#include "vt_util.h"

struct fx {
    char *dir;
    char vdir[512];
    struct lsl_officer_key *key;
    uint8_t pk[32];
    struct vt_coll got;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->dir = vt_tmpdir();
    snprintf(f->vdir, sizeof(f->vdir), "%s/vault/sub", f->dir);
    vt_keys(f->dir, &f->key, f->pk);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    lsl_officer_key_close(f->key);
    vt_coll_free(&f->got);
    vt_rmrf(f->dir);
    free(f);
    return 0;
}

static void read_ok(struct fx *f, const char *path,
                    struct lsl_vault_file_info *info)
{
    vt_coll_free(&f->got);
    assert_int_equal(
        lsl_vault_read_file(path, f->key, vt_collect, &f->got, info), 0);
    assert_true(info->complete);
    assert_int_equal(info->error, 0);
    assert_int_equal(info->records, f->got.n);
}

static void expect_rec(const struct vt_rec *r, enum lsl_vault_rec_type type,
                       const struct lsl_mapping *m, const char *source)
{
    assert_int_equal(r->type, type);
    assert_int_equal(r->tok.cls, m->tok.cls);
    assert_int_equal(r->tok.kid, m->tok.kid);
    assert_memory_equal(r->tok.hash, m->tok.hash, LSL_TOKEN_HASH_BYTES);
    assert_int_equal(r->first_seen, m->first_seen);
    assert_int_equal(r->last_seen, m->last_seen);
    assert_string_equal(r->source, source);
    if (type == LSL_VAULT_REC_MAP)
        assert_memory_equal(r->value, m->value.p, m->value.len + 1);
    else
        assert_string_equal(r->value, "");
}

static void test_round_trip(void **state)
{
    struct fx *f = *state;
    struct lsl_mapping m[6] = {
        vt_map(LSL_CLASS_IP, 7, "192.0.2.1", 100, 100),
        vt_map(LSL_CLASS_ID, 7, "4f0e2b1c-aaaa-bbbb-cccc-000000000001", 101,
               105),
        vt_map(LSL_CLASS_USER, 7, "alice", 102, 102),
        vt_map(LSL_CLASS_EMAIL, 7, "bob@example.org", 110, 111),
        vt_map(LSL_CLASS_IP, 7, "2001:db8::1", 112, 112),
        vt_map(LSL_CLASS_NAME, 7, "", 120, 120),
    };
    struct lsl_vault_writer *w = vt_writer(f->vdir, f->pk, "nginx", 0);
    struct lsl_vault_file_info info;
    char path[512];
    regex_t re;
    struct stat st;

    assert_int_equal(lsl_vault_writer_flush(w), 0); /* nothing queued */
    for (int i = 0; i < 3; i++)
        vt_add(w, &m[i], true);
    assert_int_equal(lsl_vault_writer_entries(w), 0);
    assert_int_equal(lsl_vault_writer_flush(w), 0);
    assert_int_equal(lsl_vault_writer_entries(w), 3);
    vt_add(w, &m[3], true);
    vt_add(w, &m[0], false);
    vt_add(w, &m[4], true);
    assert_int_equal(lsl_vault_writer_flush(w), 0);
    vt_add(w, &m[5], true);
    snprintf(path, sizeof(path), "%s", lsl_vault_writer_path(w));
    assert_int_equal(lsl_vault_writer_close(w), 0);

    assert_int_equal(regcomp(&re, "/7-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}\\.lsv$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    assert_int_equal(regexec(&re, path, 0, NULL, 0), 0);
    regfree(&re);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(f->vdir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    read_ok(f, path, &info);
    assert_int_equal(info.epoch, 7);
    assert_true(info.created > 1600000000);
    /* Three data chunks and the final one (which holds m[5]). */
    assert_int_equal(info.chunks, 3);
    assert_int_equal(f->got.n, 6);
    for (int i = 0; i < 6; i++)
        expect_rec(&f->got.v[i], LSL_VAULT_REC_MAP, &m[i], "nginx");
}

static void test_empty_writer(void **state)
{
    struct fx *f = *state;
    struct lsl_vault_writer *w = vt_writer(f->vdir, f->pk, NULL, 0);
    struct lsl_vault_file_info info;
    char path[512];

    snprintf(path, sizeof(path), "%s", lsl_vault_writer_path(w));
    assert_int_equal(lsl_vault_writer_close(w), 0);
    assert_int_equal(lsl_vault_writer_close(NULL), 0);
    read_ok(f, path, &info);
    assert_int_equal(info.chunks, 1);
    assert_int_equal(info.records, 0);
}

/* The host id names the file (epoch first, so files still sort by
 * epoch); an id that could leave the directory is refused. */
static void test_host_name(void **state)
{
    struct fx *f = *state;
    struct lsl_vault_writer_opts o;
    struct lsl_vault_writer *w;
    struct lsl_vault_file_info info;
    const char *name;
    char path[512], host[LSL_HOST_MAX + 1];

    vt_writer_opts(&o, f->vdir, f->pk);
    o.host = "edge-1.fra";
    assert_int_equal(lsl_vault_writer_open(&w, &o), 0);
    snprintf(path, sizeof(path), "%s", lsl_vault_writer_path(w));
    name = strrchr(path, '/') + 1;
    assert_int_equal(strncmp(name, "7-edge-1.fra-", 13), 0);
    assert_int_equal(strlen(name), strlen("7-edge-1.fra-20250101T000000Z-"
                                          "0123abcd.lsv"));
    assert_int_equal(lsl_vault_writer_close(w), 0);
    read_ok(f, path, &info);
    assert_int_equal(info.epoch, 7);
    assert_true(lsl_vault_name_host(path, host, sizeof(host)));
    assert_string_equal(host, "edge-1.fra");
    assert_false(lsl_vault_name_host("7-20250101T000000Z-0123abcd.lsv", host,
                                     sizeof(host)));
    assert_true(lsl_vault_name_host("/v/12-a-20250101T000000Z-0123abcd.lsv",
                                    host, sizeof(host)));
    assert_string_equal(host, "a");
    assert_false(lsl_vault_name_host("x-a-20250101T000000Z-0123abcd.lsv", host,
                                     sizeof(host)));
    o.host = "../up";
    assert_int_equal(lsl_vault_writer_open(&w, &o), -EINVAL);
    o.host = "a/b";
    assert_int_equal(lsl_vault_writer_open(&w, &o), -EINVAL);
}

static void test_once_per_value(void **state)
{
    struct fx *f = *state;
    struct lsl_vault_writer *w = vt_writer(f->vdir, f->pk, "api", 0);
    struct lsl_mapping m = vt_map(LSL_CLASS_IP, 7, "198.51.100.7", 1000, 1000);
    struct lsl_vault_index *ix = NULL;
    const struct lsl_vault_index_entry *e;
    struct lsl_vault_file_info info;
    char path[512];

    vt_add(w, &m, true);
    for (int i = 1; i < 1000; i++) {
        struct lsl_mapping again = m;

        again.first_seen = again.last_seen = 1000 + i;
        if (i == 500)
            again.first_seen = 400;
        vt_add(w, &again, false);
        if (i % 100 == 0)
            assert_int_equal(lsl_vault_writer_flush(w), 0);
    }
    assert_int_equal(lsl_vault_writer_entries(w), 1);
    snprintf(path, sizeof(path), "%s", lsl_vault_writer_path(w));
    assert_int_equal(lsl_vault_writer_close(w), 0);

    read_ok(f, path, &info);
    /* One MAP with the value; one SEEN with the grown range, no value. */
    assert_int_equal(f->got.n, 2);
    expect_rec(&f->got.v[0], LSL_VAULT_REC_MAP, &m, "api");
    m.first_seen = 400;
    m.last_seen = 1999;
    expect_rec(&f->got.v[1], LSL_VAULT_REC_SEEN, &m, "api");

    assert_int_equal(lsl_vault_index_open(&ix), 0);
    assert_int_equal(
        lsl_vault_read_file(path, f->key, lsl_vault_index_add, ix, NULL), 0);
    e = lsl_vault_index_lookup(ix, &m.tok);
    assert_non_null(e);
    assert_true(e->has_value);
    assert_int_equal(e->first_seen, 400);
    assert_int_equal(e->last_seen, 1999);
    assert_int_equal(e->value.len, strlen("198.51.100.7"));
    assert_memory_equal(e->value.p, "198.51.100.7", e->value.len);
    lsl_vault_index_free(ix);
}

#define OVF_TOKENS 50
#define OVF_PASSES 3

static void test_seen_overflow(void **state)
{
    struct fx *f = *state;
    struct lsl_vault_writer *w = vt_writer(f->vdir, f->pk, "x", 4);
    struct lsl_vault_index *ix = NULL;
    char values[OVF_TOKENS][16];
    uint64_t maps = 0;
    char path[512];

    for (int i = 0; i < OVF_TOKENS; i++)
        snprintf(values[i], sizeof(values[i]), "user-%d", i);
    /*
     * Each pass sees every token again, later; pass 1 also earlier. With
     * room for 4 tokens, the grown ranges reach the file only as SEEN
     * records written when the set is emptied.
     */
    for (int p = 0; p < OVF_PASSES; p++) {
        for (int i = 0; i < OVF_TOKENS; i++) {
            int64_t t = 10000 * (p + 1) + i;
            struct lsl_mapping m =
                vt_map(LSL_CLASS_USER, 7, values[i], p == 1 ? i : t, t);
            bool is_new;

            assert_int_equal(lsl_vault_writer_add(w, &m, &is_new), 0);
            maps += is_new;
            /* Seen again at once: only its range grows, in memory. */
            m.first_seen = m.last_seen = t + 5;
            vt_add(w, &m, false);
        }
        assert_int_equal(lsl_vault_writer_flush(w), 0);
    }
    /* A tiny set forgets: values were written more than once. */
    assert_true(maps > OVF_TOKENS);
    assert_int_equal(lsl_vault_writer_entries(w), maps);
    snprintf(path, sizeof(path), "%s", lsl_vault_writer_path(w));
    assert_int_equal(lsl_vault_writer_close(w), 0);

    assert_int_equal(lsl_vault_index_open(&ix), 0);
    assert_int_equal(
        lsl_vault_read_file(path, f->key, lsl_vault_index_add, ix, NULL), 0);
    assert_int_equal(lsl_vault_index_count(ix), OVF_TOKENS);
    for (int i = 0; i < OVF_TOKENS; i++) {
        struct lsl_mapping m = vt_map(LSL_CLASS_USER, 7, values[i], 0, 0);
        const struct lsl_vault_index_entry *e =
            lsl_vault_index_lookup(ix, &m.tok);

        assert_non_null(e);
        assert_true(e->has_value);
        assert_string_equal(e->value.p, values[i]);
        assert_int_equal(e->first_seen, i);
        assert_int_equal(e->last_seen, 10000 * OVF_PASSES + i + 5);
        assert_int_equal(e->nsources, 1);
        assert_string_equal(e->sources[0], "x");
    }
    lsl_vault_index_free(ix);
}

static void test_add_rejects(void **state)
{
    struct fx *f = *state;
    struct lsl_vault_writer *w = vt_writer(f->vdir, f->pk, "x", 0);
    struct lsl_mapping m = vt_map(LSL_CLASS_IP, 7, "192.0.2.1", 5, 5);
    bool is_new = true;

    m.tok.cls = LSL_CLASS_COUNT;
    assert_int_equal(lsl_vault_writer_add(w, &m, &is_new), -EINVAL);
    assert_false(is_new);
    m.tok.cls = LSL_CLASS_IP;
    m.value.len = LSL_VAULT_VALUE_MAX + 1;
    assert_int_equal(lsl_vault_writer_add(w, &m, &is_new), -EINVAL);
    m.value.len = 9;
    m.first_seen = 6;
    assert_int_equal(lsl_vault_writer_add(w, &m, &is_new), -EINVAL);
    assert_int_equal(lsl_vault_writer_close(w), 0);
}

static void test_failed_flush_retry(void **state)
{
    struct fx *f = *state;
    struct lsl_vault_writer *w = vt_writer(f->vdir, f->pk, "s", 0);
    struct lsl_mapping m[3] = {
        vt_map(LSL_CLASS_IP, 7, "192.0.2.1", 1, 1),
        vt_map(LSL_CLASS_IP, 7, "192.0.2.2", 2, 2),
        vt_map(LSL_CLASS_IP, 7, "192.0.2.3", 3, 3),
    };
    struct lsl_vault_file_info info;
    char path[512];

    snprintf(path, sizeof(path), "%s", lsl_vault_writer_path(w));
    vt_add(w, &m[0], true);
    assert_int_equal(lsl_vault_writer_flush(w), 0);
    vt_add(w, &m[1], true);
    lsl_vault_writer_set_pwrite(w, vt_pwrite_eio);
    assert_int_equal(lsl_vault_writer_flush(w), -EIO);
    assert_int_equal(lsl_vault_writer_entries(w), 1);
    /* Half a chunk reaches the disk, then it fills. */
    vt_half_calls = 0;
    lsl_vault_writer_set_pwrite(w, vt_pwrite_half);
    assert_int_equal(lsl_vault_writer_flush(w), -ENOSPC);
    assert_int_equal(vt_half_calls, 2);
    vt_add(w, &m[2], true);
    lsl_vault_writer_set_pwrite(w, NULL);
    assert_int_equal(lsl_vault_writer_flush(w), 0);
    assert_int_equal(lsl_vault_writer_entries(w), 3);
    assert_int_equal(lsl_vault_writer_close(w), 0);

    read_ok(f, path, &info);
    assert_int_equal(f->got.n, 3);
    for (int i = 0; i < 3; i++)
        expect_rec(&f->got.v[i], LSL_VAULT_REC_MAP, &m[i], "s");
}

static int count_big(const struct lsl_vault_record *r, void *ud)
{
    size_t *n = ud;

    assert_int_equal(r->value.len, 1000);
    assert_int_equal((unsigned char)r->value.p[999], (*n) % 255 + 1);
    (*n)++;
    return 0;
}

static void test_big_flush_splits(void **state)
{
    struct fx *f = *state;
    struct lsl_vault_writer *w = vt_writer(f->vdir, f->pk, "s", 0);
    struct lsl_vault_file_info info;
    char path[512], v[1001];
    size_t n = 0;

    memset(v, 'v', sizeof(v));
    v[1000] = '\0';
    for (unsigned i = 0; i < 3000; i++) {
        struct lsl_mapping m;

        /* Distinct values: a token is its value's. */
        snprintf(v, 9, "%08u", i);
        v[8] = 'v';
        v[999] = (char)(i % 255 + 1); /* never NUL: the value is 1000 */
        m = vt_map(LSL_CLASS_ID, 7, v, i, i);
        vt_add(w, &m, true);
    }
    snprintf(path, sizeof(path), "%s", lsl_vault_writer_path(w));
    assert_int_equal(lsl_vault_writer_flush(w), 0);
    assert_int_equal(lsl_vault_writer_close(w), 0);
    assert_int_equal(lsl_vault_read_file(path, f->key, count_big, &n, &info),
                     0);
    assert_int_equal(n, 3000);
    /* 3 MB of records: cut into chunks of about 1 MiB, plus the final. */
    assert_int_equal(info.chunks, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_once_per_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seen_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_flush_retry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_big_flush_splits, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
