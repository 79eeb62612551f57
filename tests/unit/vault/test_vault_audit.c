/*
 * The signed, hash-chained audit trail: appending, escaping, listing, and
 * verification naming the first bad record for each kind of tampering
 * (edited, deleted, reordered, inserted copy, record of another chain,
 * another key, torn last line).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "src/vault/vault_internal.h"
#include "vt_util.h"

#define NREC     5
#define MAXLINES 16

struct fix {
    char *dir;
    char log[512];
    struct lsl_officer_key *key;
    struct lsl_audit_pub pub;
    uint8_t pk[32];
};

static void append(const char *dir, const struct lsl_officer_key *k,
                   const char *case_ref, uint64_t count)
{
    struct lsl_audit_entry e = {
        .time = 1764403200 + (int64_t)count,
        .operator_name = "ana",
        .case_ref = case_ref,
        .action = "unseal",
        .query = "2 tokens",
        .count = count,
    };

    assert_int_equal(lsl_audit_log_append(dir, k, &e, NULL), 0);
}

static int setup(void **state)
{
    static struct fix f;
    char ref[32];

    f.dir = vt_tmpdir();
    vt_keys(f.dir, &f.key, f.pk);
    assert_int_equal(lsl_audit_pub_derive(f.key, &f.pub), 0);
    snprintf(f.log, sizeof(f.log), "%s/audit.log", f.dir);
    for (int i = 1; i <= NREC; i++) {
        snprintf(ref, sizeof(ref), "CASE-%d", i);
        append(f.dir, f.key, ref, (uint64_t)i);
    }
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    lsl_officer_key_close(f->key);
    vt_rmrf(f->dir);
    return 0;
}

/* The log's lines (with their newlines), at most MAXLINES of 1 KiB. */
struct lines {
    char v[MAXLINES][1024];
    int n;
};

static void load(const char *path, struct lines *ls)
{
    FILE *fp = fopen(path, "r");

    assert_non_null(fp);
    ls->n = 0;
    while (ls->n < MAXLINES && fgets(ls->v[ls->n], 1024, fp))
        ls->n++;
    fclose(fp);
}

static void store(const char *path, const struct lines *ls)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    for (int i = 0; i < ls->n; i++)
        fputs(ls->v[i], fp);
    fclose(fp);
}

static void expect_fault(struct fix *f, uint64_t line,
                         enum lsl_audit_fault fault, const char *detail)
{
    struct lsl_audit_verdict v;

    assert_int_equal(lsl_audit_verify(f->log, &f->pub, &v), LSL_EAUTH);
    assert_int_equal(v.bad_line, line);
    assert_int_equal(v.fault, fault);
    assert_int_equal(v.records, line - 1);
    if (detail && !strstr(v.detail, detail))
        fail_msg("detail '%s' lacks '%s'", v.detail, detail);
}

static void test_intact_log_verifies(void **state)
{
    struct fix *f = *state;
    struct lsl_audit_verdict v;
    struct lsl_audit_pub vault_copy;
    struct lines ls;
    uint8_t head[32];
    char path[600];

    assert_int_equal(lsl_audit_verify(f->log, &f->pub, &v), 0);
    assert_int_equal(v.records, NREC);
    assert_int_equal(v.bad_line, 0);
    load(f->log, &ls);
    assert_int_equal(ls.n, NREC);
    lsl_audit_line_hash(ls.v[NREC - 1], strlen(ls.v[NREC - 1]) - 1, head);
    assert_memory_equal(v.head, head, 32);
    /* The first append left the verification key in the vault. */
    snprintf(path, sizeof(path), "%s/audit.pub", f->dir);
    assert_int_equal(lsl_audit_pub_load(path, &vault_copy), 0);
    assert_memory_equal(&vault_copy, &f->pub, sizeof(f->pub));
    assert_memory_equal(f->pub.vault_pk, f->pk, 32);
}

static void test_edited_record(void **state)
{
    struct fix *f = *state;
    struct lines ls;
    char *p;

    load(f->log, &ls);
    p = strstr(ls.v[2], "CASE-3");
    assert_non_null(p);
    p[5] = '9';
    store(f->log, &ls);
    expect_fault(f, 3, LSL_AUDIT_BAD_SIGNATURE, "edited");
}

static void test_deleted_record(void **state)
{
    struct fix *f = *state;
    struct lines ls;

    load(f->log, &ls);
    memmove(ls.v[2], ls.v[3], sizeof(ls.v[0]) * 2);
    ls.n--;
    store(f->log, &ls);
    expect_fault(f, 3, LSL_AUDIT_DELETED, "records 3..3 are missing");
}

static void test_reordered_records(void **state)
{
    struct fix *f = *state;
    struct lines ls;
    char tmp[1024];

    load(f->log, &ls);
    memcpy(tmp, ls.v[1], sizeof(tmp));
    memcpy(ls.v[1], ls.v[2], sizeof(tmp));
    memcpy(ls.v[2], tmp, sizeof(tmp));
    store(f->log, &ls);
    expect_fault(f, 2, LSL_AUDIT_REORDERED, "record 2 is at line 3");
}

static void test_inserted_copy(void **state)
{
    struct fix *f = *state;
    struct lines ls;

    load(f->log, &ls);
    memcpy(ls.v[ls.n++], ls.v[1], sizeof(ls.v[0]));
    store(f->log, &ls);
    expect_fault(f, NREC + 1, LSL_AUDIT_INSERTED, "exact copy");
}

static void test_record_of_another_chain(void **state)
{
    struct fix *f = *state;
    struct lines ls, other;
    char *dir2 = vt_tmpdir(), path[600];

    /* Same officer key, another vault: record 3 is validly signed. */
    for (int i = 1; i <= 3; i++)
        append(dir2, f->key, "OTHER", (uint64_t)(100 + i));
    snprintf(path, sizeof(path), "%s/audit.log", dir2);
    load(path, &other);
    load(f->log, &ls);
    memcpy(ls.v[2], other.v[2], sizeof(ls.v[0]));
    store(f->log, &ls);
    expect_fault(f, 3, LSL_AUDIT_INSERTED, "another audit log");
    vt_rmrf(dir2);
}

static void test_other_key_fails_first_record(void **state)
{
    struct fix *f = *state;
    struct lsl_officer_key *other = NULL;
    struct lsl_audit_verdict v;
    struct lsl_audit_pub opub;
    char *dir2 = vt_tmpdir();
    uint8_t pk[32];

    vt_keys(dir2, &other, pk);
    assert_int_equal(lsl_audit_pub_derive(other, &opub), 0);
    assert_int_equal(lsl_audit_verify(f->log, &opub, &v), LSL_EAUTH);
    assert_int_equal(v.bad_line, 1);
    assert_int_equal(v.fault, LSL_AUDIT_BAD_SIGNATURE);
    /* And another key may not append to this vault's log. */
    {
        struct lsl_audit_entry e = {.time = 1,
                                    .operator_name = "eve",
                                    .case_ref = "X",
                                    .action = "unseal",
                                    .query = "",
                                    .count = 0};

        assert_int_equal(lsl_audit_log_append(f->dir, other, &e, NULL),
                         LSL_EAUTH);
    }
    assert_int_equal(lsl_audit_verify(f->log, &f->pub, &v), 0);
    assert_int_equal(v.records, NREC);
    lsl_officer_key_close(other);
    vt_rmrf(dir2);
}

static void test_torn_last_line(void **state)
{
    struct fix *f = *state;
    struct lsl_audit_entry e = {.time = 1,
                                .operator_name = "ana",
                                .case_ref = "X",
                                .action = "unseal",
                                .query = "",
                                .count = 0,
                                .items = "tok=ip_aaaaaaaaaaaaaaaaaaaaaaaaaa"};
    struct lsl_audit_verdict v;
    struct lsl_audit_head h;
    struct lines ls;

    load(f->log, &ls);
    ls.v[NREC - 1][40] = '\0';
    store(f->log, &ls);
    /* A full disk or a crash during an append: the rest still verifies. */
    assert_int_equal(lsl_audit_verify(f->log, &f->pub, &v), LSL_ETRUNC);
    assert_int_equal(v.fault, LSL_AUDIT_TORN);
    assert_int_equal(v.records, NREC - 1);
    assert_int_equal(v.torn_bytes, 40);
    /* The next append cuts it, and says so: the log is not bricked. */
    assert_int_equal(lsl_audit_log_append(f->dir, f->key, &e, &h), 0);
    assert_int_equal(h.seq, NREC);
    assert_int_equal(lsl_audit_verify(f->log, &f->pub, &v), 0);
    assert_int_equal(v.records, NREC);
    assert_memory_equal(v.head, h.hash, sizeof(h.hash));
    load(f->log, &ls);
    assert_non_null(strstr(ls.v[NREC - 1],
                           "\ttok=ip_aaaaaaaaaaaaaaaaaaaaaaaaaa "
                           "repaired=40\t"));
}

/* A complete line that is no record is tampering: nothing is glued on. */
static void test_malformed_last_line(void **state)
{
    struct fix *f = *state;
    struct lsl_audit_entry e = {.time = 1,
                                .operator_name = "ana",
                                .case_ref = "X",
                                .action = "unseal",
                                .query = "",
                                .count = 0};
    struct lines ls;

    load(f->log, &ls);
    snprintf(ls.v[NREC - 1], sizeof(ls.v[0]), "not a record\n");
    store(f->log, &ls);
    expect_fault(f, NREC, LSL_AUDIT_MALFORMED, "fields");
    assert_int_equal(lsl_audit_log_append(f->dir, f->key, &e, NULL),
                     LSL_ECORRUPT);
    load(f->log, &ls);
    assert_int_equal(ls.n, NREC);
}

/* Items are signed like the rest; bad ones are refused; no symlinks. */
static void test_items_and_symlink(void **state)
{
    struct fix *f = *state;
    struct lsl_audit_entry e = {.time = 1,
                                .operator_name = "ana",
                                .case_ref = "X",
                                .action = "hold",
                                .query = "",
                                .count = 1,
                                .items = "epoch=20417 shares=1,3"};
    struct lsl_audit_verdict v;
    struct lines ls;
    char moved[600];

    assert_int_equal(lsl_audit_log_append(f->dir, f->key, &e, NULL), 0);
    load(f->log, &ls);
    assert_non_null(strstr(ls.v[NREC], "\tepoch=20417 shares=1,3\t"));
    /* An edited item breaks the signature. */
    *strstr(ls.v[NREC], "20417") = '3';
    store(f->log, &ls);
    expect_fault(f, NREC + 1, LSL_AUDIT_BAD_SIGNATURE, NULL);
    e.items = "tok=a\tb";
    assert_int_equal(lsl_audit_log_append(f->dir, f->key, &e, NULL), -EINVAL);
    /* audit.log as a symlink: neither read nor appended to. */
    snprintf(moved, sizeof(moved), "%s.real", f->log);
    assert_int_equal(rename(f->log, moved), 0);
    assert_int_equal(symlink(moved, f->log), 0);
    assert_int_equal(lsl_audit_verify(f->log, &f->pub, &v), -ELOOP);
    e.items = NULL;
    assert_int_equal(lsl_audit_log_append(f->dir, f->key, &e, NULL), -ELOOP);
}

struct seen {
    int n;
    char cases[NREC + 2][64];
};

static int collect(const struct lsl_audit_record *r, void *ud)
{
    struct seen *s = ud;

    assert_int_equal(r->seq, (uint64_t)s->n + 1);
    assert_int_equal(r->line, (uint64_t)s->n + 1);
    snprintf(s->cases[s->n++], 64, "%.*s", (int)r->case_ref.len, r->case_ref.p);
    return 0;
}

static void test_escaping_and_reading(void **state)
{
    struct fix *f = *state;
    struct seen s = {0};
    struct lsl_audit_verdict v;
    struct lsl_buf b = {0};
    uint64_t bad = 0;

    assert_int_equal(lsl_audit_escape(&b, "a\tb\nc\\d\x01\xc3\xa9 e"), 0);
    assert_int_equal(b.len, strlen("a\\tb\\nc\\\\d\\x01\\xc3\\xa9 e"));
    assert_memory_equal(b.p, "a\\tb\\nc\\\\d\\x01\\xc3\\xa9 e", b.len);
    lsl_buf_free(&b);
    append(f->dir, f->key, "tab\there\nnewline", 9);
    assert_int_equal(lsl_audit_verify(f->log, &f->pub, &v), 0);
    assert_int_equal(v.records, NREC + 1);
    assert_int_equal(lsl_audit_read(f->log, collect, &s, &bad), 0);
    assert_int_equal(s.n, NREC + 1);
    assert_string_equal(s.cases[0], "CASE-1");
    assert_string_equal(s.cases[NREC], "tab\\there\\nnewline");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_intact_log_verifies),
        T(test_edited_record),
        T(test_deleted_record),
        T(test_reordered_records),
        T(test_inserted_copy),
        T(test_record_of_another_chain),
        T(test_other_key_fails_first_record),
        T(test_torn_last_line),
        T(test_malformed_last_line),
        T(test_items_and_symlink),
        T(test_escaping_and_reading),
    };
#undef T

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
