/*
 * Hostile values for address validation and normalization, from fuzzing:
 * bytes after a NUL must count. inet_pton reads a C string, so a copy of
 * "192.0.2.44\0<anything>" would stop at the NUL; then two different
 * values would normalize alike and share a token, and the vault would
 * keep a shortened original.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <string.h>
#include <cmocka.h>
#include "logseal/token.h"

static void nul_inside_address_is_not_an_address(void **state)
{
    static const char v4[] = "192.0.2.44\0x";
    static const char v6[] = "2001:db8::1\0::2";

    (void)state;
    assert_false(lsl_ip_valid(v4, sizeof(v4) - 1));
    assert_false(lsl_ip_valid(v6, sizeof(v6) - 1));
    assert_true(lsl_ip_valid(v6, strlen(v6)));
}

static void nul_inside_address_is_kept_by_normalize(void **state)
{
    static const char mapped[] = "::FFFF:192.0.2.44\0fe80::1%eth0";
    static const char plain[] = "2001:db8::1\0junk";
    char out[128];
    long n;

    (void)state;
    n = lsl_token_normalize(LSL_CLASS_IP, mapped, sizeof(mapped) - 1, out,
                            sizeof(out));
    assert_int_equal(n, sizeof(mapped) - 1);
    assert_memory_equal(out, mapped, sizeof(mapped) - 1);
    n = lsl_token_normalize(LSL_CLASS_IP, plain, sizeof(plain) - 1, out,
                            sizeof(out));
    assert_int_equal(n, sizeof(plain) - 1);
    assert_memory_equal(out, plain, sizeof(plain) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nul_inside_address_is_not_an_address),
        cmocka_unit_test(nul_inside_address_is_kept_by_normalize),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
