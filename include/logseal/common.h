/*
 * logseal — shared definitions: error codes, spans, attributes.
 *
 * Every fallible function in logseal returns 0 on success or a negative
 * code: -errno for system errors, or one of the LSL_E* codes below.
 * lsl_strerror() turns either kind into text.
 */
#ifndef LOGSEAL_COMMON_H
#define LOGSEAL_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define LSL_MUST_CHECK   __attribute__((warn_unused_result))
#define LSL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define LSL_MUST_CHECK
#define LSL_PRINTF(f, a)
#endif

#define LSL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Project error band. X(name, value, message). */
#define LSL_ERRNO_MAP(X)                                                       \
    X(ERULE, -1001, "invalid rule")                                            \
    X(ECORRUPT, -1002, "data is corrupt")                                      \
    X(EAUTH, -1003, "authentication failed: wrong key or tampered data")       \
    X(ETRUNC, -1004, "file is cut short")                                      \
    X(EKEYPERM, -1005, "key file is readable by others (must be mode 0600)")   \
    X(EFORMAT, -1006, "not a logseal file of the expected kind")               \
    X(ECONFIG, -1007, "invalid configuration")                                 \
    X(EUSAGE, -1008, "invalid usage")                                          \
    X(ENOTFOUND, -1009, "not found")                                           \
    X(ELIMIT, -1010, "pattern match limit reached")                            \
    X(EVERSION, -1011, "unsupported file version")                             \
    X(ENOKEY, -1013, "required key is missing")                                \
    X(EKEYOWNER, -1014, "key file is owned by another user")                   \
    X(EFORGED, -1015,                                                          \
      "a record does not match its token: forged or of another key")           \
    X(EKEYDIR, -1016,                                                          \
      "key file or its directory is writable by others (chmod go-w)")          \
    X(EPARTIAL, -1017, "done only in part")                                    \
    X(EOTHERKEY, -1018, "sealed with another key")

enum {
#define LSL_ERR_ENUM(name, val, msg) LSL_##name = (val),
    LSL_ERRNO_MAP(LSL_ERR_ENUM)
#undef LSL_ERR_ENUM
};

/* Text for a 0/-errno/LSL_E* code. Never NULL; static storage. */
const char *lsl_strerror(int err);

/* Borrowed bytes: valid until the producer's next call unless stated. */
struct lsl_span {
    const char *p;
    size_t len;
};

#define LSL_SPAN_LIT(s) ((struct lsl_span){(s), sizeof(s) - 1})

#endif
