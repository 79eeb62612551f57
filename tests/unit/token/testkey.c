/*
 * Test keyrings: the key file image is assembled here from the format
 * description, independently of keyring.c, and loaded through the real
 * lsl_keyring_open so the file format is exercised too.
 */
#include "testkey.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void testkey_image(uint8_t img[TESTKEY_FILE_SIZE], const uint8_t key[32],
                   uint32_t epoch)
{
    memset(img, 0, TESTKEY_FILE_SIZE);
    memcpy(img, "LSLHKEY1", 8);
    img[8] = 1;               /* version */
    img[9] = LSL_EPOCH_NEVER; /* epoch_len; 10..11 reserved */
    put_le(img + 12, epoch, 4);
    put_le(img + 16, 1700000000, 8); /* epoch_start */
    memcpy(img + 24, key, 32);
}

void testkey_write(char path[64], const void *buf, size_t len, unsigned mode)
{
    int fd;

    snprintf(path, 64, "/tmp/lsl-test-key-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, (mode_t)mode), 0);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    close(fd);
}

struct lsl_keyring *testkey_open(uint32_t epoch)
{
    uint8_t key[32], img[TESTKEY_FILE_SIZE];
    struct lsl_keyring *kr = NULL;
    char path[64];

    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
    testkey_image(img, key, epoch);
    testkey_write(path, img, sizeof(img), 0600);
    assert_int_equal(lsl_keyring_open(&kr, path), 0);
    unlink(path);
    return kr;
}
