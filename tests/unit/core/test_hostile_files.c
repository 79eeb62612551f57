/*
 * Secret files someone else controls: a key file owned by another user is
 * refused even when its mode is 0600 and even for root (who could read
 * it), because its owner can read or replace the key.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "logseal/file.h"

static void owned_by_another_user(void **state)
{
    char path[] = "/tmp/lsl-test-owner-XXXXXX";
    char buf[8];
    int fd;

    (void)state;
    if (geteuid() != 0)
        skip(); /* only root can give a file away */
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "12345678", 8), 8);
    close(fd);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(lsl_secret_file_read(path, buf, sizeof(buf)), 0);
    assert_int_equal(chown(path, 65534, (gid_t)-1), 0);
    assert_int_equal(lsl_secret_file_read(path, buf, sizeof(buf)),
                     LSL_EKEYOWNER);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(owned_by_another_user),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
