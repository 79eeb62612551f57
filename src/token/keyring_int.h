/*
 * logseal — keyring internals shared inside the token module (not
 * installed): the address-map subkey for the prefix-preserving IP mode.
 */
#ifndef LOGSEAL_TOKEN_KEYRING_INT_H
#define LOGSEAL_TOKEN_KEYRING_INT_H

#include <stdint.h>
#include <sodium.h>
#include "logseal/token.h"

#define LSL_IPMAP_KEY_BYTES crypto_kdf_KEYBYTES

/* The address-map subkey of the epoch at `when`; read-only, keyring's. */
const uint8_t *lsl_keyring_ipmap_key(const struct lsl_keyring *kr,
                                     int64_t when);

#endif
