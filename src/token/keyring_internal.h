/*
 * logseal — keyring internals shared inside the token module (not
 * installed): the address-map subkey for the prefix-preserving IP mode,
 * and that mode's map under a raw subkey (verification keys).
 */
#ifndef LOGSEAL_TOKEN_KEYRING_INT_H
#define LOGSEAL_TOKEN_KEYRING_INT_H

#include <sodium.h>
#include <stdint.h>
#include "logseal/token.h"

#define LSL_IPMAP_KEY_BYTES crypto_kdf_KEYBYTES

/*
 * Copy the address-map subkey of the key that tokenizes lines of time
 * `when` (as lsl_token_derive picks it) into out; the caller wipes it.
 * 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_keyring_ipmap_key(const struct lsl_keyring *kr,
                                         int64_t when,
                                         uint8_t out[LSL_IPMAP_KEY_BYTES]);

/*
 * The prefix-preserving map of `in` under an address-map subkey (as
 * lsl_ipaddr_prefix_map with the key of a line's epoch). 0, -EINVAL (not
 * an IPv4 or IPv6 address) or -EIO.
 */
LSL_MUST_CHECK int
lsl_ipaddr_prefix_map_key(const uint8_t key[LSL_IPMAP_KEY_BYTES],
                          const struct lsl_ipaddr *in, struct lsl_ipaddr *out);

#endif
