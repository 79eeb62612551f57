/* Test helper: keyrings with a fixed key, written as real key files. */
#ifndef LSL_TEST_TESTKEY_H
#define LSL_TEST_TESTKEY_H

#include <stddef.h>
#include <stdint.h>
#include "logseal/token.h"

#define TESTKEY_FILE_SIZE 56

/* Key file image for `key` (32 bytes) and `epoch`, built from the spec. */
void testkey_image(uint8_t img[TESTKEY_FILE_SIZE], const uint8_t key[32],
                   uint32_t epoch);

/* Write `len` bytes to a fresh temp file of `mode`; path into `path`. */
void testkey_write(char path[64], const void *buf, size_t len, unsigned mode);

/* Keyring with key bytes 00..1f and `epoch` (the KAT key). */
struct lsl_keyring *testkey_open(uint32_t epoch);

#endif
