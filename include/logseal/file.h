/*
 * logseal — small file helpers shared by keys, vault, sinks and state.
 *
 * All return 0 or -errno (or an LSL_E* code where stated) and preserve the
 * errno of the failing call in the returned code, not in errno.
 */
#ifndef LOGSEAL_FILE_H
#define LOGSEAL_FILE_H

#include <sys/types.h>
#include "logseal/common.h"

/* write(2) all of buf, retrying on EINTR and short writes. */
LSL_MUST_CHECK int lsl_write_all(int fd, const void *buf, size_t len);

/* read(2) exactly len bytes. 0, LSL_ETRUNC at early EOF, or -errno. */
LSL_MUST_CHECK int lsl_read_exact(int fd, void *buf, size_t len);

/* pread(2) exactly len bytes at `off` (the file offset does not move). 0,
 * LSL_ETRUNC at early EOF, or -errno. */
LSL_MUST_CHECK int lsl_pread_exact(int fd, void *buf, size_t len, off_t off);

/*
 * Read a secret file of exactly `len` bytes into `buf` after checking that
 * it is a regular file not readable or writable by group or others
 * (LSL_EKEYPERM otherwise) and owned by the effective user (LSL_EKEYOWNER
 * otherwise: whoever owns it can swap or read the key; root is no
 * exception). LSL_EFORMAT if its size differs.
 */
LSL_MUST_CHECK int lsl_secret_file_read(const char *path, void *buf,
                                        size_t len);

/*
 * A raw key file: LSL_KEYFILE_MAGIC_LEN bytes of `magic` naming its kind,
 * then the `len` key bytes. Read as lsl_secret_file_read does (and
 * LSL_EFORMAT for another magic); created 0600, never over an existing
 * file (-EEXIST). The image passes through sodium_malloc'd memory only.
 */
#define LSL_KEYFILE_MAGIC_LEN 8
LSL_MUST_CHECK int lsl_keyfile_read(const char *path, const char *magic,
                                    uint8_t *key, size_t len);
LSL_MUST_CHECK int lsl_keyfile_create(const char *path, const char *magic,
                                      const uint8_t *key, size_t len);

/*
 * Create `path` exclusively with `mode`, write buf, fsync it and its
 * directory. -EEXIST if it exists. On failure nothing is left behind.
 */
LSL_MUST_CHECK int lsl_file_create_excl(const char *path, unsigned mode,
                                        const void *buf, size_t len);

/*
 * Replace `path` atomically: write `path.tmp`, fsync, rename, fsync the
 * directory.
 */
LSL_MUST_CHECK int lsl_file_replace(const char *path, unsigned mode,
                                    const void *buf, size_t len);

/* fsync the directory containing `path`. */
LSL_MUST_CHECK int lsl_fsync_parent(const char *path);

/* mkdir -p with `mode` for created components. */
LSL_MUST_CHECK int lsl_mkdir_p(const char *path, unsigned mode);

/* Join dir + "/" + name into out. 0 or -ENAMETOOLONG. */
LSL_MUST_CHECK int lsl_path_join(char *out, size_t cap, const char *dir,
                                 const char *name);

/*
 * Host ids (hostid.c): `host =` in the configuration, `pipe --host`,
 * default the hostname. A host id becomes part of segment and vault file
 * names and of partition paths (host=<id>), so it is one safe path
 * component: 1 to LSL_HOST_MAX letters, digits, '.', '_' or '-', starting
 * with a letter or digit, without "..".
 */
#define LSL_HOST_MAX 64

bool lsl_host_valid(const char *s);

/*
 * The hostname as a host id into out. 0, -EINVAL (the hostname is not a
 * valid id; out holds it, cut to LSL_HOST_MAX bytes, for the message) or
 * -errno.
 */
LSL_MUST_CHECK int lsl_host_default(char out[LSL_HOST_MAX + 1]);

#endif
