/*
 * `logseal pipe --in FILE.gz`: gzip input (rotated logs), recognized by
 * its magic bytes and inflated on a thread of its own into a pipe that
 * the pipeline reads like any other input. Every member of a
 * multi-member file is read; damage is an error that names the byte.
 */
#ifndef LSL_CLI_GUNZIP_INTERNAL_H
#define LSL_CLI_GUNZIP_INTERNAL_H

#include <stdint.h>
#include "logseal/common.h"

struct lsl_gunzip;

/* True if `head` (the first bytes of an input) starts a gzip member. */
bool lsl_gunzip_magic(const void *head, size_t len);

/*
 * Inflate `head` (bytes already read from in_fd) and the rest of in_fd on
 * a new thread. *read_fd is the read end of the pipe the text comes out
 * of (owned by the caller; closing it early stops the thread). Takes
 * in_fd on success (standard input is read, never closed). 0 or -errno.
 */
LSL_MUST_CHECK int lsl_gunzip_start(struct lsl_gunzip **out, int in_fd,
                                    const void *head, size_t len, int *read_fd);

/* Compressed bytes consumed so far (any thread): progress. */
uint64_t lsl_gunzip_consumed(const struct lsl_gunzip *g);

/*
 * Wait for the thread (close *read_fd first if the input is abandoned)
 * and free. Returns 0, LSL_ECORRUPT (not gzip data, a bad checksum),
 * LSL_ETRUNC (cut short) or -errno, logged with `name` and the byte
 * offset; a reader that went away (-EPIPE) is not logged. NULL-safe.
 */
int lsl_gunzip_finish(struct lsl_gunzip *g, const char *name);

#endif
