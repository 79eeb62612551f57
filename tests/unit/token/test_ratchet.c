/*
 * Key epochs and the ratchet: UTC boundary math for day, week and month
 * (expected values computed independently with Python's calendar.timegm),
 * tokens that depend only on the line's time, the key file rewritten with
 * the ratcheted key and the old key gone from it, late lines, the cap on
 * future times, and derivation racing an advance.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "logseal/token.h"

#define DAY 86400
/* 2025-01-01T00:00:00Z: well in the past, so no future capping applies. */
#define T2025 1735689600

static void test_day_boundaries(void **state)
{
    (void)state;
    assert_int_equal(lsl_epoch_index(LSL_EPOCH_DAY, T2025 - 1),
                     T2025 / DAY - 1);
    assert_int_equal(lsl_epoch_index(LSL_EPOCH_DAY, T2025), T2025 / DAY);
    assert_int_equal(lsl_epoch_index(LSL_EPOCH_DAY, T2025 + DAY - 1),
                     T2025 / DAY);
    assert_int_equal(lsl_epoch_start(LSL_EPOCH_DAY, T2025 / DAY), T2025);
    assert_int_equal(lsl_epoch_index(LSL_EPOCH_DAY, -5), 0);
    assert_int_equal(lsl_epoch_index(LSL_EPOCH_NEVER, T2025), 0);
}

static void test_week_boundaries(void **state)
{
    /* Monday 2025-12-01T00:00:00Z = 1764547200 is week 2917. */
    (void)state;
    assert_int_equal(lsl_epoch_index(LSL_EPOCH_WEEK, 1764547200), 2917);
    assert_int_equal(lsl_epoch_index(LSL_EPOCH_WEEK, 1764547199), 2916);
    assert_int_equal(lsl_epoch_index(LSL_EPOCH_WEEK, 1764547200 + 7 * DAY - 1),
                     2917);
    assert_int_equal(lsl_epoch_start(LSL_EPOCH_WEEK, 2917), 1764547200);
    assert_int_equal(lsl_epoch_start(LSL_EPOCH_WEEK, 0), 4 * DAY);
}

static void test_month_boundaries(void **state)
{
    /* 2024-03-01T00:00:00Z = 1709251200: month 54 * 12 + 2 = 650. */
    (void)state;
    assert_int_equal(lsl_epoch_index(LSL_EPOCH_MONTH, 1709251200), 650);
    assert_int_equal(lsl_epoch_index(LSL_EPOCH_MONTH, 1709251199), 649);
    assert_int_equal(lsl_epoch_start(LSL_EPOCH_MONTH, 650), 1709251200);
    /* Leap day 2024-02-29 and the Dec -> Jan rollover. */
    assert_int_equal(lsl_epoch_start(LSL_EPOCH_MONTH, 649), 1706745600);
    assert_int_equal(lsl_epoch_index(LSL_EPOCH_MONTH, T2025 - 1), 659);
    assert_int_equal(lsl_epoch_index(LSL_EPOCH_MONTH, T2025), 660);
    assert_int_equal(lsl_epoch_start(LSL_EPOCH_MONTH, 660), T2025);
    assert_int_equal(lsl_epoch_start(LSL_EPOCH_MONTH, 0), 0);
}

static void temp_path(char path[64])
{
    int fd;

    snprintf(path, 64, "/tmp/lsl-test-ratchet-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
}

static void read_file(const char *path, uint8_t img[56])
{
    FILE *f = fopen(path, "rb");

    assert_non_null(f);
    assert_int_equal(fread(img, 1, 56, f), 56);
    fclose(f);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static struct lsl_token tok_at(const struct lsl_keyring *kr, int64_t when)
{
    struct lsl_token t;

    assert_int_equal(lsl_token_derive(kr, when, LSL_CLASS_USER, "4242", 4, &t),
                     0);
    return t;
}

/* Tokens depend on the line time only: order of derivation is irrelevant. */
static void test_deterministic(void **state)
{
    struct lsl_keyring *a = NULL, *b = NULL;
    struct lsl_token ta[3], tb[3];
    uint32_t e0 = T2025 / DAY;
    char path[64];

    (void)state;
    temp_path(path);
    assert_int_equal(lsl_keyring_create_at(path, LSL_EPOCH_DAY, T2025 + 5), 0);
    assert_int_equal(lsl_keyring_open(&a, path), 0);
    assert_int_equal(lsl_keyring_open(&b, path), 0);
    assert_int_equal(lsl_keyring_epoch(a), e0);
    for (int i = 0; i < 3; i++)
        ta[i] = tok_at(a, T2025 + i * DAY + 7);
    for (int i = 2; i >= 0; i--)
        tb[i] = tok_at(b, T2025 + i * DAY + 100);
    for (int i = 0; i < 3; i++) {
        assert_true(lsl_token_equal(&ta[i], &tb[i]));
        assert_int_equal(ta[i].kid, (e0 + (uint32_t)i) % 1024);
        assert_int_equal(lsl_keyring_kid(a, T2025 + i * DAY), ta[i].kid);
    }
    /* Same value, another epoch: an unrelated token. */
    assert_memory_not_equal(ta[0].hash, ta[1].hash, LSL_TOKEN_HASH_BYTES);
    assert_int_equal(lsl_keyring_epoch_of_kid(a, ta[2].kid), e0 + 2);
    lsl_keyring_close(a);
    lsl_keyring_close(b);
    unlink(path);
}

static bool contains(const uint8_t *hay, size_t n, const uint8_t *k)
{
    for (size_t i = 0; i + 32 <= n; i++) {
        if (memcmp(hay + i, k, 32) == 0)
            return true;
    }
    return false;
}

/* Advance: the file holds the ratcheted key only; late lines use it. */
static void test_advance_destroys_old_key(void **state)
{
    struct lsl_keyring *kr = NULL, *re = NULL;
    uint8_t before[56], after[56], k2[32];
    struct lsl_token t2, late, t2_again;
    uint32_t e0 = T2025 / DAY;
    char path[64];

    (void)state;
    temp_path(path);
    assert_int_equal(lsl_keyring_create_at(path, LSL_EPOCH_DAY, T2025), 0);
    read_file(path, before);
    assert_int_equal(lsl_keyring_open(&kr, path), 0);
    t2 = tok_at(kr, T2025 + 2 * DAY);
    assert_false(lsl_keyring_is_late(kr, T2025));
    assert_int_equal(lsl_keyring_advance(kr, T2025 + 2 * DAY + 9), 0);
    read_file(path, after);
    assert_int_equal(le32(after + 12), e0 + 2);
    /* The new key is two one-way steps from the old; the old is gone. */
    memcpy(k2, before + 24, 32);
    assert_int_equal(lsl_keyring_ratchet_key(k2, 2), 0);
    assert_memory_equal(after + 24, k2, 32);
    assert_false(contains(after, sizeof(after), before + 24));
    /* A line of epoch e0 is late now: tokenized with the e0 + 2 key. */
    assert_true(lsl_keyring_is_late(kr, T2025));
    late = tok_at(kr, T2025);
    assert_int_equal(late.kid, (e0 + 2) % 1024);
    assert_true(lsl_token_equal(&late, &t2));
    /* Reopening the rewritten file continues where the ratchet was. */
    assert_int_equal(lsl_keyring_open(&re, path), 0);
    t2_again = tok_at(re, T2025 + 2 * DAY + 50);
    assert_true(lsl_token_equal(&t2, &t2_again));
    /* Not backwards: an older time is a no-op. */
    assert_int_equal(lsl_keyring_advance(kr, T2025), 0);
    assert_int_equal(lsl_keyring_epoch(kr), e0 + 2);
    lsl_keyring_close(kr);
    lsl_keyring_close(re);
    unlink(path);
}

/* A time far in the future is capped at the clock's next epoch. */
static void test_future_capped(void **state)
{
    struct lsl_keyring *kr = NULL;
    int64_t now = (int64_t)time(NULL);
    uint32_t next = lsl_epoch_index(LSL_EPOCH_DAY, now) + 1;
    char path[64];

    (void)state;
    temp_path(path);
    assert_int_equal(lsl_keyring_create_at(path, LSL_EPOCH_DAY, now), 0);
    assert_int_equal(lsl_keyring_open(&kr, path), 0);
    assert_int_equal(lsl_keyring_epoch_at(kr, now + 400 * DAY), next);
    assert_int_equal(tok_at(kr, now + 400 * DAY).kid, next % 1024);
    lsl_keyring_close(kr);
    unlink(path);
}

/* A fixed key ignores time and never ratchets. */
static void test_never(void **state)
{
    struct lsl_keyring *kr = NULL;
    uint8_t before[56], after[56];
    struct lsl_token a, b;
    char path[64];

    (void)state;
    temp_path(path);
    assert_int_equal(lsl_keyring_create(path, LSL_EPOCH_NEVER), 0);
    read_file(path, before);
    assert_int_equal(lsl_keyring_open(&kr, path), 0);
    a = tok_at(kr, T2025);
    assert_int_equal(lsl_keyring_advance(kr, T2025 + 90 * DAY), 0);
    b = tok_at(kr, T2025 + 90 * DAY);
    assert_true(lsl_token_equal(&a, &b));
    assert_int_equal(a.kid, 0);
    read_file(path, after);
    assert_memory_equal(before, after, 56);
    lsl_keyring_close(kr);
    unlink(path);
}

struct race {
    struct lsl_keyring *kr;
    int errors;
};

static void *deriver(void *p)
{
    struct race *r = p;
    struct lsl_token t;

    for (int i = 0; i < 2000; i++) {
        int64_t when = T2025 + (i % 40) * DAY;

        if (lsl_token_derive(r->kr, when, LSL_CLASS_IP, "10.0.0.1", 8, &t))
            r->errors++;
        else if (t.kid != lsl_keyring_epoch_at(r->kr, when) % 1024 &&
                 !lsl_keyring_is_late(r->kr, when))
            r->errors++;
    }
    return NULL;
}

/* Derivations race advances; none fails and none uses a wrong key id. */
static void test_concurrent_advance(void **state)
{
    struct race r[4];
    pthread_t th[4];
    struct lsl_keyring *kr = NULL;
    char path[64];

    (void)state;
    temp_path(path);
    assert_int_equal(lsl_keyring_create_at(path, LSL_EPOCH_DAY, T2025), 0);
    assert_int_equal(lsl_keyring_open(&kr, path), 0);
    for (int i = 0; i < 4; i++) {
        r[i] = (struct race){.kr = kr};
        assert_int_equal(pthread_create(&th[i], NULL, deriver, &r[i]), 0);
    }
    for (int d = 1; d <= 30; d++)
        assert_int_equal(lsl_keyring_advance(kr, T2025 + d * DAY), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(r[i].errors, 0);
    }
    assert_int_equal(lsl_keyring_epoch(kr), T2025 / DAY + 30);
    lsl_keyring_close(kr);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_boundaries),
        cmocka_unit_test(test_week_boundaries),
        cmocka_unit_test(test_month_boundaries),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_advance_destroys_old_key),
        cmocka_unit_test(test_future_capped),
        cmocka_unit_test(test_never),
        cmocka_unit_test(test_concurrent_advance),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
