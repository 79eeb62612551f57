/*
 * The vault's legal side: rewriting a file without some records (others
 * intact, a new file key, its place in the chain kept, flagged with the
 * audit record), finishing a cut-short file, refusing one being written,
 * overwriting the old bytes (a hard link loses them too); the legal state
 * derived from signed audit records (holds, releases, erasures, the stop
 * list, removed files) whatever files are deleted; the legacy files of
 * earlier versions read for import; the signed stop list, and the writers
 * refusing a deleted, replayed or altered one; the header epoch checked
 * against the file name and record key ids; format versions 1 and 2
 * refused.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "logseal/legal.h"
#include "vt_util.h"

struct fx {
    char *dir;
    struct lsl_officer_key *key;
    struct lsl_audit_pub pub;
    uint8_t pk[32];
    char path[4096];
    struct lsl_vault_link link; /* of the file write_epoch7 made */
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->dir = vt_tmpdir();
    vt_keys(f->dir, &f->key, f->pk);
    assert_int_equal(lsl_audit_pub_derive(f->key, &f->pub), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    lsl_officer_key_close(f->key);
    vt_rmrf(f->dir);
    free(f);
    return 0;
}

static const char *const values[] = {"203.0.113.7", "198.51.100.23",
                                     "2001:db8::1"};

/* A file of epoch 7 (day epochs) with the three values, one per chunk. */
static struct lsl_vault_writer *open_epoch7(struct fx *f)
{
    struct lsl_vault_writer_opts o;
    struct lsl_vault_writer *w = NULL;

    vt_writer_opts(&o, f->dir, f->pk);
    o.source = "posting";
    o.epoch_len = LSL_EPOCH_DAY;
    assert_int_equal(lsl_vault_writer_open(&w, &o), 0);
    for (unsigned i = 0; i < 3; i++) {
        struct lsl_mapping m =
            vt_map(LSL_CLASS_IP, 7, values[i], 100 + i, 200 + i);

        vt_add(w, &m, true);
        assert_int_equal(lsl_vault_writer_flush(w), 0);
    }
    snprintf(f->path, sizeof(f->path), "%s", lsl_vault_writer_path(w));
    return w;
}

static void write_epoch7(struct fx *f)
{
    struct lsl_vault_file_info info;

    assert_int_equal(lsl_vault_writer_close(open_epoch7(f)), 0);
    assert_int_equal(lsl_vault_read_file(f->path, f->key, NULL, NULL, &info),
                     0);
    f->link = info.link;
}

static bool drop_second(const struct lsl_vault_record *r, void *ud)
{
    const struct lsl_mapping *m = ud;

    return lsl_token_equal(&r->tok, &m->tok);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i])
            return false;
    }
    return true;
}

static void test_rewrite_drops_only_victims(void **state)
{
    struct fx *f = *state;
    struct lsl_mapping victim = vt_map(LSL_CLASS_IP, 7, values[1], 0, 0);
    struct lsl_vault_rewrite_opts o = {
        .drop = drop_second, .ud = &victim, .audit_seq = 42};
    struct lsl_vault_rewrite_result res;
    struct lsl_vault_file_info info;
    struct vt_coll got = {0};
    uint8_t *before, *after, *linked;
    size_t blen, alen, llen, files;
    char link_path[4200];

    write_epoch7(f);
    /* A backup made with cp -l: the same bytes under another name. */
    snprintf(link_path, sizeof(link_path), "%s/backup.bin", f->dir);
    assert_int_equal(link(f->path, link_path), 0);
    files = count_entries(f->dir);
    before = vt_slurp(f->path, &blen);
    assert_int_equal(lsl_vault_rewrite(f->path, f->key, &o, &res), 0);
    assert_true(res.rewritten && res.overwritten && !res.was_cut);
    assert_int_equal(res.dropped, 1);
    after = vt_slurp(f->path, &alen);
    /* A new file key: the sealed box differs; no temporary is left. */
    assert_memory_not_equal(before + 88, after + 88, 368);
    assert_int_equal(count_entries(f->dir), files);
    /* The old bytes are gone from every name they had. */
    linked = vt_slurp(link_path, &llen);
    assert_int_equal(llen, blen);
    assert_true(all_zero(linked, llen));
    assert_int_equal(
        lsl_vault_read_file(f->path, f->key, vt_collect, &got, &info), 0);
    assert_int_equal(info.epoch, 7);
    assert_int_equal(info.epoch_len, LSL_EPOCH_DAY);
    assert_int_equal(info.flags, LSL_VAULT_F_REWRITTEN);
    assert_int_equal(info.audit_seq, 42);
    /* Its place in the writer's chain is kept. */
    assert_memory_equal(&info.link, &f->link, sizeof(f->link));
    assert_int_equal(got.n, 2);
    assert_string_equal(got.v[0].value, values[0]);
    assert_string_equal(got.v[1].value, values[2]);
    assert_string_equal(got.v[1].source, "posting");
    assert_int_equal(got.v[1].first_seen, 102);
    assert_int_equal(got.v[1].last_seen, 202);
    /* Nothing to drop: the file is left byte for byte. */
    free(before);
    before = vt_slurp(f->path, &blen);
    assert_int_equal(lsl_vault_rewrite(f->path, f->key, &o, &res), 0);
    assert_false(res.rewritten);
    free(after);
    after = vt_slurp(f->path, &alen);
    assert_int_equal(alen, blen);
    assert_memory_equal(before, after, blen);
    free(before);
    free(after);
    free(linked);
    vt_coll_free(&got);
}

static void test_rewrite_cut_short(void **state)
{
    struct fx *f = *state;
    struct lsl_vault_rewrite_opts o = {.audit_seq = 9};
    struct lsl_vault_rewrite_result res;
    struct lsl_vault_file_info info;
    struct vt_coll got = {0};
    uint8_t *img;
    size_t len, offs[8];

    write_epoch7(f);
    img = vt_slurp(f->path, &len);
    assert_int_equal(vt_chunks(img, len, offs, 8), 4);
    /* A crash in the middle of the third chunk. */
    vt_spit(f->path, img, offs[2] + 10);
    assert_int_equal(lsl_vault_rewrite(f->path, f->key, &o, &res), 0);
    assert_true(res.was_cut && res.rewritten && res.overwritten);
    assert_int_equal(res.chunks, 2);
    assert_int_equal(
        lsl_vault_read_file(f->path, f->key, vt_collect, &got, &info), 0);
    assert_true(info.complete);
    assert_int_equal(got.n, 2);
    assert_int_equal(info.audit_seq, 9);
    assert_memory_equal(&info.link, &f->link, sizeof(f->link));
    free(img);
    vt_coll_free(&got);
}

static void test_rewrite_refuses_busy(void **state)
{
    struct fx *f = *state;
    struct lsl_mapping victim = vt_map(LSL_CLASS_IP, 7, values[0], 0, 0);
    struct lsl_vault_writer *w = open_epoch7(f);
    struct lsl_vault_rewrite_opts o = {.drop = drop_second, .ud = &victim};
    struct lsl_vault_rewrite_result res;
    uint8_t *before, *after;
    size_t blen, alen;

    before = vt_slurp(f->path, &blen);
    /* The writer still holds it: being written, not to be touched. */
    assert_int_equal(lsl_vault_rewrite(f->path, f->key, &o, &res), -EBUSY);
    assert_false(res.rewritten);
    after = vt_slurp(f->path, &alen);
    assert_int_equal(alen, blen);
    assert_memory_equal(before, after, blen);
    assert_int_equal(lsl_vault_writer_close(w), 0);
    free(before);
    free(after);
}

/* Append a signed record with items. */
static void record(struct fx *f, const char *case_ref, const char *action,
                   const char *items)
{
    struct lsl_audit_entry e = {.time = 1764403200,
                                .operator_name = "ana",
                                .case_ref = case_ref,
                                .action = action,
                                .query = "",
                                .count = 1,
                                .items = items};

    assert_int_equal(lsl_audit_log_append(f->dir, f->key, &e, NULL), 0);
}

static struct lsl_ledger *ledger(struct fx *f)
{
    struct lsl_audit_verdict v;
    struct lsl_ledger *l = NULL;

    assert_int_equal(lsl_ledger_load(&l, f->dir, &f->pub, &v), 0);
    return l;
}

static void tok_item(char *out, size_t cap, const char *key,
                     const struct lsl_mapping *m)
{
    char text[LSL_TOKEN_TEXT_MAX];

    lsl_token_format(&m->tok, text);
    snprintf(out, cap, "%s=%s", key, text);
}

static void test_ledger(void **state)
{
    struct fx *f = *state;
    struct lsl_mapping held = vt_map(2, 3, "u", 0, 0),
                       other = vt_map(2, 4, "v", 0, 0),
                       in_epoch = vt_map(2, 5 + 1024, "w", 0, 0),
                       gone = vt_map(1, 3, "x", 0, 0);
    uint8_t writer[LSL_VAULT_ID_BYTES];
    const struct lsl_stop_entry *stops;
    const struct lsl_vault_anchor *a;
    struct lsl_ledger *l;
    char items[256], w[2 * LSL_VAULT_ID_BYTES + 1];
    size_t n;

    memset(writer, 0xab, sizeof(writer));
    sodium_bin2hex(w, sizeof(w), writer, sizeof(writer));
    tok_item(items, sizeof(items), "tok", &held);
    record(f, "SUBJ", "hold", items);
    record(f, "EPOCH", "hold", "epoch=5");
    tok_item(items, sizeof(items), "tok", &gone);
    strcat(items, " stop=user:00112233445566778899aabbccddee");
    record(f, "DEL", "erase", items);
    snprintf(items, sizeof(items), "removed=%s:2 writer=%s:9:%s", w, w,
             "0123456789abcdef0123456789abcdef");
    record(f, "retention", "expire", items);
    /* Plain files prove nothing: the log is the legal state. */
    snprintf(f->path, sizeof(f->path), "%s/holds", f->dir);
    vt_spit(f->path, (const uint8_t *)"", 0);
    l = ledger(f);
    assert_true(lsl_ledger_held_token(l, &held.tok));
    assert_false(lsl_ledger_held_token(l, &other.tok));
    assert_true(lsl_ledger_held_token(l, &in_epoch.tok)); /* kid 5 */
    assert_true(lsl_ledger_held_epoch(l, 5));
    assert_true(lsl_ledger_held_epoch(l, 3)); /* the held token's epoch */
    assert_false(lsl_ledger_held_epoch(l, 6));
    assert_true(lsl_ledger_erased(l, &gone.tok));
    assert_false(lsl_ledger_erased(l, &held.tok));
    stops = lsl_ledger_stops(l, &n);
    assert_int_equal(n, 1);
    assert_int_equal(stops[0].cls, LSL_CLASS_USER);
    assert_int_equal(stops[0].hash[14], 0xee);
    assert_true(lsl_ledger_removed(l, writer, 2));
    assert_false(lsl_ledger_removed(l, writer, 3));
    a = lsl_ledger_writers(l, &n);
    assert_int_equal(n, 1);
    assert_int_equal(a[0].seq, 9);
    assert_int_equal(a[0].audit_seq, 4);
    assert_int_equal(lsl_ledger_holds_of(l, "SUBJ"), 1);
    lsl_ledger_free(l);
    /* A release lifts its case's holds, and only those. */
    record(f, "SUBJ", "release", "");
    l = ledger(f);
    assert_false(lsl_ledger_held_token(l, &held.tok));
    assert_false(lsl_ledger_held_epoch(l, 3));
    assert_true(lsl_ledger_held_epoch(l, 5));
    assert_int_equal(lsl_ledger_holds_of(l, "SUBJ"), 0);
    lsl_ledger_free(l);
}

static void test_ledger_needs_a_good_log(void **state)
{
    struct fx *f = *state;
    struct lsl_audit_verdict v;
    struct lsl_ledger *l = NULL;
    char log[4200];
    uint8_t *img;
    size_t len;

    record(f, "EPOCH", "hold", "epoch=5");
    record(f, "X", "unseal", "");
    snprintf(log, sizeof(log), "%s/audit.log", f->dir);
    img = vt_slurp(log, &len);
    /* The hold edited away: the signature says so, no state is given. */
    memcpy(strstr((char *)img, "epoch=5"), "epoch=6", 7);
    vt_spit(log, img, len);
    assert_int_equal(lsl_ledger_load(&l, f->dir, &f->pub, &v), LSL_EAUTH);
    assert_null(l);
    assert_int_equal(v.bad_line, 1);
    free(img);
}

static void test_legacy_files(void **state)
{
    struct fx *f = *state;
    struct lsl_mapping a = vt_map(2, 3, "u", 0, 0);
    struct lsl_buf erased = {0}, holds = {0};
    char text[LSL_TOKEN_TEXT_MAX], line[256], path[4200];
    bool found;

    lsl_token_format(&a.tok, text);
    assert_int_equal(lsl_legal_legacy_load(f->dir, &erased, &holds, &found), 0);
    assert_false(found);
    snprintf(path, sizeof(path), "%s/erased", f->dir);
    snprintf(line, sizeof(line), "%s\t2025-11-29T00:00:00Z\tDEL-1\n", text);
    vt_spit(path, (const uint8_t *)line, strlen(line));
    snprintf(path, sizeof(path), "%s/holds", f->dir);
    snprintf(line, sizeof(line), "KEEP-1\tsubject\t%s\nKEEP-2\tepoch\t5\n",
             text);
    vt_spit(path, (const uint8_t *)line, strlen(line));
    assert_int_equal(lsl_legal_legacy_load(f->dir, &erased, &holds, &found), 0);
    assert_true(found);
    snprintf(line, sizeof(line), "tok=%s", text);
    assert_int_equal(erased.len, strlen(line));
    assert_memory_equal(erased.p, line, erased.len);
    snprintf(line, sizeof(line), "KEEP-1\ttok=%s\nKEEP-2\tepoch=5\n", text);
    assert_int_equal(holds.len, strlen(line));
    assert_memory_equal(holds.p, line, holds.len);
    assert_int_equal(lsl_legal_legacy_retire(f->dir, ".imported"), 0);
    snprintf(path, sizeof(path), "%s/holds.imported", f->dir);
    assert_int_equal(access(path, F_OK), 0);
    lsl_buf_free(&erased);
    lsl_buf_free(&holds);
}

static void test_stop_list(void **state)
{
    struct fx *f = *state;
    struct lsl_stop_entry e[2] = {{.cls = LSL_CLASS_USER},
                                  {.cls = LSL_CLASS_EMAIL}},
                          *got = NULL;
    struct lsl_vault_wstate *ws = NULL;
    struct lsl_stoplist *sl = NULL;
    char path[4400], keys[4200];
    uint8_t key[LSL_STOP_KEY_BYTES], *img;
    uint64_t seq = 0;
    size_t n, len;

    memset(e[0].hash, 1, sizeof(e[0].hash));
    memset(e[1].hash, 2, sizeof(e[1].hash));
    assert_int_equal(lsl_stopfile_write(f->dir, f->key, 7, e, 2), 0);
    assert_int_equal(lsl_stopfile_read(f->dir, &f->pub, &seq, &got, &n), 0);
    assert_int_equal(seq, 7);
    assert_int_equal(n, 2);
    assert_memory_equal(got, e, sizeof(e));
    free(got);
    /* The writers' side: KEYS with audit.pub and stop.key. */
    snprintf(keys, sizeof(keys), "%s/keys", f->dir);
    assert_int_equal(mkdir(keys, 0700), 0);
    snprintf(path, sizeof(path), "%s/audit.pub", keys);
    assert_int_equal(lsl_audit_pub_write(path, &f->pub), 0);
    assert_int_equal(lsl_officer_stop_key(f->key, key), 0);
    snprintf(path, sizeof(path), "%s/stop.key", keys);
    assert_int_equal(lsl_stop_key_write(path, key), 0);
    snprintf(path, sizeof(path), "%s/writer.state", keys);
    assert_int_equal(lsl_vault_wstate_open(&ws, path), 0);
    assert_int_equal(lsl_stoplist_load(&sl, f->dir, keys, ws), 0);
    assert_int_equal(lsl_stoplist_count(sl), 2);
    lsl_stoplist_close(sl);
    lsl_vault_wstate_close(ws);
    assert_int_equal(lsl_vault_wstate_open(&ws, path), 0);
    assert_int_equal(lsl_vault_wstate_stop_seq(ws), 7);
    /* An older list replayed over it, or none: refused. */
    assert_int_equal(lsl_stopfile_write(f->dir, f->key, 6, e, 1), 0);
    assert_int_equal(lsl_stoplist_load(&sl, f->dir, keys, ws), LSL_EAUTH);
    snprintf(path, sizeof(path), "%s/stop.list", f->dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(lsl_stoplist_load(&sl, f->dir, keys, ws), LSL_EAUTH);
    assert_null(sl);
    /* An entry changed (someone let a subject back in): refused. */
    assert_int_equal(lsl_stopfile_write(f->dir, f->key, 8, e, 2), 0);
    img = vt_slurp(path, &len);
    img[30] ^= 1;
    vt_spit(path, img, len);
    assert_int_equal(lsl_stoplist_load(&sl, f->dir, keys, ws), LSL_EAUTH);
    free(img);
    lsl_vault_wstate_close(ws);
}

static void test_epoch_name_and_kid(void **state)
{
    struct fx *f = *state;
    struct lsl_vault_writer_opts o;
    struct lsl_vault_writer *w = NULL;
    struct lsl_mapping m = vt_map(LSL_CLASS_IP, 8, "10.0.0.1", 1, 1);
    char copy[4096];
    uint8_t *img;
    size_t len;

    write_epoch7(f);
    /* The same file under epoch 8's name. */
    img = vt_slurp(f->path, &len);
    snprintf(copy, sizeof(copy), "%s/8-copy.lsv", f->dir);
    vt_spit(copy, img, len);
    free(img);
    assert_int_equal(lsl_vault_read_file(copy, f->key, NULL, NULL, NULL),
                     LSL_EAUTH);
    unlink(copy);
    /* An epoch-7 file holding a record of key id 8, whatever the key. */
    for (int len_kind = 0; len_kind < 2; len_kind++) {
        vt_writer_opts(&o, f->dir, f->pk);
        o.epoch_len = len_kind ? LSL_EPOCH_WEEK : LSL_EPOCH_NEVER;
        assert_int_equal(lsl_vault_writer_open(&w, &o), 0);
        vt_add(w, &m, true);
        snprintf(copy, sizeof(copy), "%s", lsl_vault_writer_path(w));
        assert_int_equal(lsl_vault_writer_close(w), 0);
        assert_int_equal(lsl_vault_read_file(copy, f->key, NULL, NULL, NULL),
                         LSL_ECORRUPT);
    }
}

/* Versions 1 and 2 carry no verification key: refused, said so. */
static void test_old_versions_refused(void **state)
{
    struct fx *f = *state;
    struct lsl_vault_file_info info;
    uint8_t img[200] = "LSLVAULT";

    for (uint8_t v = 1; v <= 2; v++) {
        img[8] = v;
        snprintf(f->path, sizeof(f->path), "%s/3-v%u.lsv", f->dir, v);
        vt_spit(f->path, img, sizeof(img));
        assert_int_equal(
            lsl_vault_read_file(f->path, f->key, NULL, NULL, &info),
            LSL_EVERSION);
        assert_int_equal(info.version, v);
    }
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_rewrite_drops_only_victims),
        T(test_rewrite_cut_short),
        T(test_rewrite_refuses_busy),
        T(test_ledger),
        T(test_ledger_needs_a_good_log),
        T(test_legacy_files),
        T(test_stop_list),
        T(test_epoch_name_and_kid),
        T(test_old_versions_refused),
    };
#undef T

    return cmocka_run_group_tests(tests, NULL, NULL);
}
