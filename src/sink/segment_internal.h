/* Private to the segment sink and its tests. */
#ifndef LSL_SEGMENT_INTERNAL_H
#define LSL_SEGMENT_INTERNAL_H

#include <stddef.h>

/*
 * How the segment sink appends a member: lsl_write_all unless a test
 * swaps in a failing writer to exercise the cut-back after a bad write.
 */
extern int (*lsl_segment_write_fn)(int fd, const void *buf, size_t len);

#endif
