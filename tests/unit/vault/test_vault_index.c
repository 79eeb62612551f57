/* The merge index: several files and sources, SEEN before MAP, no-value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vt_util.h"

static struct lsl_vault_record rec(enum lsl_vault_rec_type type, unsigned n,
                                   const char *value, const char *source,
                                   int64_t first, int64_t last)
{
    struct lsl_mapping m = vt_map_raw(LSL_CLASS_ID, n, value, first, last);
    struct lsl_vault_record r = {
        .type = type,
        .tok = m.tok,
        .first_seen = first,
        .last_seen = last,
        .source = {source, strlen(source)},
        .value = m.value,
    };

    return r;
}

static int count_entries(const struct lsl_vault_index_entry *e, void *ud)
{
    size_t *n = ud;

    assert_non_null(e);
    (*n)++;
    return 0;
}

static int stop_at_first(const struct lsl_vault_index_entry *e, void *ud)
{
    (void)e;
    (void)ud;
    return 42;
}

static void test_merge(void **state)
{
    struct lsl_vault_index *ix = NULL;
    const struct lsl_vault_index_entry *e;
    struct lsl_vault_record r;
    struct lsl_mapping other = vt_map_raw(LSL_CLASS_ID, 99, "", 0, 0);
    size_t n = 0;

    (void)state;
    assert_int_equal(lsl_vault_index_open(&ix), 0);
    /* A SEEN that arrives first (another file read earlier). */
    r = rec(LSL_VAULT_REC_SEEN, 1, "", "a", 50, 60);
    assert_int_equal(lsl_vault_index_add(&r, ix), 0);
    e = lsl_vault_index_lookup(ix, &r.tok);
    assert_non_null(e);
    assert_false(e->has_value);
    assert_int_equal(e->value.len, 0);
    r = rec(LSL_VAULT_REC_MAP, 1, "dev-1", "b", 70, 80);
    assert_int_equal(lsl_vault_index_add(&r, ix), 0);
    r = rec(LSL_VAULT_REC_MAP, 1, "dev-1", "a", 40, 45);
    assert_int_equal(lsl_vault_index_add(&r, ix), 0);
    r = rec(LSL_VAULT_REC_MAP, 2, "dev-2", "", 1, 2);
    assert_int_equal(lsl_vault_index_add(&r, ix), 0);
    /* Enough tokens to grow the table several times. */
    for (unsigned i = 100; i < 1100; i++) {
        r = rec(LSL_VAULT_REC_MAP, i, "v", "c", i, i);
        assert_int_equal(lsl_vault_index_add(&r, ix), 0);
    }

    r = rec(LSL_VAULT_REC_MAP, 1, "", "", 0, 0);
    e = lsl_vault_index_lookup(ix, &r.tok);
    assert_non_null(e);
    assert_true(e->has_value);
    assert_int_equal(e->value.len, 5);
    assert_string_equal(e->value.p, "dev-1");
    assert_int_equal(e->first_seen, 40);
    assert_int_equal(e->last_seen, 80);
    assert_int_equal(e->nsources, 2);
    assert_string_equal(e->sources[0], "a");
    assert_string_equal(e->sources[1], "b");
    r = rec(LSL_VAULT_REC_MAP, 2, "", "", 0, 0);
    e = lsl_vault_index_lookup(ix, &r.tok);
    assert_non_null(e);
    assert_int_equal(e->nsources, 0);
    r = rec(LSL_VAULT_REC_MAP, 777, "", "", 0, 0);
    e = lsl_vault_index_lookup(ix, &r.tok);
    assert_non_null(e);
    assert_int_equal(e->first_seen, 777);
    assert_string_equal(e->sources[0], "c");
    assert_null(lsl_vault_index_lookup(ix, &other.tok));

    assert_int_equal(lsl_vault_index_count(ix), 1002);
    assert_int_equal(lsl_vault_index_foreach(ix, count_entries, &n), 0);
    assert_int_equal(n, 1002);
    assert_int_equal(lsl_vault_index_foreach(ix, stop_at_first, NULL), 42);
    lsl_vault_index_free(ix);
    lsl_vault_index_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
