/*
 * lsl_array_grow: the capacities it picks (the sites it replaced keep their
 * growth), that a request it cannot meet changes nothing, and that room
 * already there is left alone.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "logseal/array.h"

struct item {
    uint64_t a;
    uint32_t b;
};

/* One element at a time from empty: first, then doubling, contents kept. */
static void grows_by_doubling(void **state)
{
    static const size_t caps[] = {4, 4, 4, 4, 8, 8, 8, 8, 16};
    struct item *v = NULL;
    size_t cap = 0;

    (void)state;
    for (size_t n = 0; n < sizeof(caps) / sizeof(caps[0]); n++) {
        assert_int_equal(lsl_array_grow(&v, &cap, n + 1, sizeof(*v), 4), 0);
        assert_int_equal(cap, caps[n]);
        assert_non_null(v);
        v[n] = (struct item){.a = n * 1000003u, .b = (uint32_t)n};
        for (size_t i = 0; i <= n; i++) {
            assert_int_equal(v[i].a, i * 1000003u);
            assert_int_equal(v[i].b, i);
        }
    }
    free(v);
}

/* A request beyond one doubling doubles until it fits, from any start. */
static void grows_past_one_doubling(void **state)
{
    unsigned char *v = NULL;
    size_t cap = 0;

    (void)state;
    assert_int_equal(lsl_array_grow(&v, &cap, 100, 12, 16), 0);
    assert_int_equal(cap, 128);
    v[100 * 12 - 1] = 7;
    assert_int_equal(lsl_array_grow(&v, &cap, 129, 12, 16), 0);
    assert_int_equal(cap, 256);
    assert_int_equal(v[100 * 12 - 1], 7);
    v[256 * 12 - 1] = 1;
    free(v);
}

/* need <= cap: nothing moves, even for an empty array asked for nothing. */
static void room_already_there(void **state)
{
    struct item *v = NULL, *before;
    size_t cap = 0;

    (void)state;
    assert_int_equal(lsl_array_grow(&v, &cap, 0, sizeof(*v), 8), 0);
    assert_null(v);
    assert_int_equal(cap, 0);
    assert_int_equal(lsl_array_grow(&v, &cap, 5, sizeof(*v), 8), 0);
    before = v;
    for (size_t need = 0; need <= 8; need++) {
        assert_int_equal(lsl_array_grow(&v, &cap, need, sizeof(*v), 8), 0);
        assert_ptr_equal(v, before);
        assert_int_equal(cap, 8);
    }
    free(v);
}

/* Sizes whose product overflows a size_t: -ENOMEM before any realloc,
 * with the array and its capacity untouched. */
static void overflow_changes_nothing(void **state)
{
    struct item *v = NULL, *before;
    size_t cap = 0;

    (void)state;
    assert_int_equal(lsl_array_grow(&v, &cap, 3, SIZE_MAX / 2, 4), -ENOMEM);
    assert_null(v);
    assert_int_equal(cap, 0);

    assert_int_equal(lsl_array_grow(&v, &cap, 2, sizeof(*v), 2), 0);
    before = v;
    /* the doubling would overflow: the capacity becomes `need`, whose
     * bytes still do not fit */
    assert_int_equal(lsl_array_grow(&v, &cap, SIZE_MAX / 2 + 2, 2, 2), -ENOMEM);
    assert_ptr_equal(v, before);
    assert_int_equal(cap, 2);
    assert_int_equal(lsl_array_grow(&v, &cap, SIZE_MAX, sizeof(*v), 2),
                     -ENOMEM);
    assert_ptr_equal(v, before);
    assert_int_equal(cap, 2);
    free(v);
}

/* A zero size or first capacity is a caller's mistake, not a loop. */
static void zero_size_refused(void **state)
{
    struct item *v = NULL;
    size_t cap = 0;

    (void)state;
    assert_int_equal(lsl_array_grow(&v, &cap, 1, 0, 4), -EINVAL);
    assert_int_equal(lsl_array_grow(&v, &cap, 1, sizeof(*v), 0), -EINVAL);
    assert_null(v);
    assert_int_equal(cap, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grows_by_doubling),
        cmocka_unit_test(grows_past_one_doubling),
        cmocka_unit_test(room_already_there),
        cmocka_unit_test(overflow_changes_nothing),
        cmocka_unit_test(zero_size_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
