/*
 * Helpers shared by the fuzz targets: a scratch directory removed at exit,
 * a keyring with a fixed key, and an invariant check that aborts (so both
 * libFuzzer and the replay main report it as a crash).
 */
#ifndef LSL_FUZZ_UTIL_H
#define LSL_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "logseal/checkpoint.h"
#include "logseal/rules.h"
#include "logseal/token.h"

/* Abort with a message naming the broken invariant. */
#define FZ_CHECK(cond)                                                         \
    do {                                                                       \
        if (!(cond))                                                           \
            fz_fail(__FILE__, __LINE__, #cond);                                \
    } while (0)

_Noreturn void fz_fail(const char *file, int line, const char *what);

/* A fresh directory, removed with its files at exit. Never NULL. */
const char *fz_tmpdir(void);

/* A keyring loaded from a key file with a fixed key (epoch 1). */
struct lsl_keyring *fz_keyring(void);

/* A checkpoint key with fixed bytes (the seeds of kafka_ckpt use it). */
struct lsl_ckpt_key *fz_ckpt_key(void);

/* Load rules/NAME.rules of the source tree. */
struct lsl_rule *fz_rule(const char *name);

/*
 * Plan invariants for line[0..len): spans sorted, non-overlapping,
 * non-empty, in bounds, with a valid action and class; the time field
 * inside the line. With `scrubbed`, also what the scrubber promises, read
 * percent-decoded: every span is an address (dashed ones are digits and
 * '-', URL hosts any inet_aton form), an e-mail, a device id (UUID, MAC,
 * IMEI), a secret or URL user (one word) or a phone number.
 */
void fz_check_plan(const struct lsl_plan *p, const char *line, size_t len,
                   bool scrubbed);

/* The rules of the source tree, in a fixed order; NULL-terminated. */
extern const char *const fz_rule_names[];
#define FZ_NRULES 8

/* The rules for other servers' logs (issue 19: Apache, Caddy, Traefik,
 * HAProxy, AWS, CloudFront, Zeek), in a fixed order; NULL-terminated. */
extern const char *const fz_real_rule_names[];
#define FZ_NREAL 12

#endif
