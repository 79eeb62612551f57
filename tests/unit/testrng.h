/* Test helper: a small seeded generator (xorshift64), so a test's random
 * cases are the same on every run and a failure names a case that can be
 * replayed. Not for anything secret. */
#ifndef LSL_TEST_TESTRNG_H
#define LSL_TEST_TESTRNG_H

#include <stdint.h>

static inline uint64_t testrng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A number below n (n > 0). */
static inline unsigned testrng_below(uint64_t *s, unsigned n)
{
    return (unsigned)(testrng_next(s) >> 33) % n;
}

#endif
