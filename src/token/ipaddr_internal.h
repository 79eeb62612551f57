/*
 * logseal — private address helpers of the token module (not installed).
 */
#ifndef LOGSEAL_TOKEN_IPADDR_H
#define LOGSEAL_TOKEN_IPADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest RFC 5952 text of an address (8 groups of 4 and 7 colons) + NUL. */
#define LSL_IP6_TEXT_MAX 40

/*
 * Write `a` in RFC 5952 canonical form: lower-case hex without leading
 * zeros, the longest run of two or more zero groups (the leftmost on a
 * tie) as "::", and always hexadecimal groups: unlike glibc's inet_ntop,
 * which prints ::a.b.c.d for the deprecated IPv4-compatible range.
 * NUL-terminated; returns the length.
 */
size_t lsl_ip6_format(const uint8_t a[16], char out[LSL_IP6_TEXT_MAX]);

/* Parse an IPv6 address exactly as inet_pton(AF_INET6) would, from
 * s[0..len) (no NUL needed); false if it is not one. */
bool lsl_ip6_parse(const char *s, size_t len, uint8_t a[16]);

/* Dotted quad with 1-3 decimal digits per octet (leading zeros allowed). */
bool lsl_ip4_parse(const char *s, size_t len, uint8_t a[4]);

/* Dotted quad of `a` (at most 15 bytes, not NUL-terminated); the length. */
size_t lsl_ip4_format(const uint8_t a[4], char *out);

/* True for ::ffff:0:0/96. */
bool lsl_ip6_is_v4_mapped(const uint8_t a[16]);

#endif
