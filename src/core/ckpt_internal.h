/* Private to src/core: sealing a checkpoint's fingerprints (ckptkey.c). */
#ifndef LSL_CKPT_INTERNAL_H
#define LSL_CKPT_INTERNAL_H

#include "logseal/checkpoint.h"

/*
 * Seal inner[0..inner_len) for `source`, the checkpoint text before the
 * sealed line being outer[0..outer_len): base64 into `out` (NUL-ended).
 * 0, -ENAMETOOLONG (cap too small), -ENOMEM.
 */
LSL_MUST_CHECK int lsl_ckpt_seal(const struct lsl_ckpt_key *k,
                                 const char *source, const char *outer,
                                 size_t outer_len, const char *inner,
                                 size_t inner_len, char *out, size_t cap);

/* Which key of k a checkpoint naming `kid` (LSL_CKPT_KID_LEN hex
 * characters; NULL: none named) was sealed with: one of these, or
 * LSL_EOTHERKEY. */
enum { LSL_CKPT_KEY_CUR, LSL_CKPT_KEY_PREV };
int lsl_ckpt_key_which(const struct lsl_ckpt_key *k, const char *kid);

/*
 * Open what lsl_ckpt_seal made (b64, b64_len bytes) with key `which` of k
 * (lsl_ckpt_key_which's answer for the id the text names) into inner (cap
 * bytes), its length in *len. 0, LSL_EAUTH (altered, of another source,
 * or another key), LSL_ECORRUPT (not base64 of a box), -ENAMETOOLONG,
 * -ENOMEM.
 */
LSL_MUST_CHECK int lsl_ckpt_unseal(const struct lsl_ckpt_key *k, int which,
                                   const char *source, const char *outer,
                                   size_t outer_len, const char *b64,
                                   size_t b64_len, char *inner, size_t cap,
                                   size_t *len);

#endif
