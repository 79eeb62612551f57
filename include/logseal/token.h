/*
 * logseal — keyed tokens.
 *
 * A token is a keyed BLAKE2b hash of (class, normalized value), printed as
 *
 *     <class>_<kid><body>        e.g.  ip_aa5x3k...      (see LSL_TOKEN_*)
 *
 * where <class> is the class name (ip, id, user, email, secret, phone,
 * name), <kid> is the key epoch id in two base32 characters and <body> is
 * 120 bits of hash in 24 base32 characters (RFC 4648 alphabet, lower case).
 * Per-class subkeys come from crypto_kdf, so equal text in two classes
 * gives unrelated tokens.
 *
 * Normalization makes one spelling of a value: percent-escapes are
 * decoded, IPv4-mapped IPv6 becomes IPv4, IPv6 is written in RFC 5952
 * canonical form, other IPv4 spellings become dotted quads, UUIDs, hex ids,
 * MAC addresses and e-mail addresses are lower-cased. Values that do not
 * parse as their class are hashed as given (after decoding).
 *
 * Everything here is a plain function on buffers: no I/O except the key
 * file functions, no libuv.
 */
#ifndef LOGSEAL_TOKEN_H
#define LOGSEAL_TOKEN_H

#include "logseal/buf.h"
#include "logseal/common.h"

enum lsl_class {
    LSL_CLASS_IP = 0,
    LSL_CLASS_ID,   /* device ids, generic identifiers */
    LSL_CLASS_USER, /* account ids */
    LSL_CLASS_EMAIL,
    LSL_CLASS_SECRET, /* auth tokens, stream keys */
    LSL_CLASS_PHONE,
    LSL_CLASS_NAME, /* user names, display names */
    LSL_CLASS_COUNT
};

#define LSL_TOKEN_HASH_BYTES 15 /* 120 bits */
#define LSL_TOKEN_KID_CHARS  2
#define LSL_TOKEN_BODY_CHARS 24
/* Longest printed token, with room for a NUL. */
#define LSL_TOKEN_TEXT_MAX 40
/* Normalization never makes a value longer than max(len, this). */
#define LSL_NORM_SLACK 64

struct lsl_token {
    uint8_t cls;  /* enum lsl_class */
    uint16_t kid; /* key epoch id, 0..1023 */
    uint8_t hash[LSL_TOKEN_HASH_BYTES];
};

/* "ip", "id", ... Never NULL for a valid class. */
const char *lsl_class_name(enum lsl_class c);

/* Parse a class name. 0 or LSL_ENOTFOUND. */
LSL_MUST_CHECK int lsl_class_parse(const char *s, size_t len,
                                   enum lsl_class *out);

/*
 * Normalize `v` for class `c` into `out` (capacity `cap`, at least
 * len + LSL_NORM_SLACK). Returns the normalized length, or -ENOSPC if cap
 * is too small. Never fails on content.
 *
 *   all    percent-escapes decoded first (lsl_pct_decode), then wide
 *          forms folded (lsl_wide_fold: fullwidth digits, Japanese dashes).
 *   ip     IPv4 (zero-padded octets read as decimal: 010.001.002.003 ->
 *          10.1.2.3); IPv4-mapped IPv6 in any spelling -> IPv4; IPv6 ->
 *          RFC 5952 text (hex groups only); a zone id ("%eth0") is kept
 *          after the address as given; a dashed quad (1-2-3-4), and the
 *          forms of lsl_ip4_parse_lenient with four parts or as one
 *          number above 0xFFFFFF (0xC0A80001, 3232235521) -> dotted quad
 *          ("127.1" and "42" are kept as written).
 *   id     UUID-shaped values (8-4-4-4-12 hex) -> lower case; 32 hex
 *          digits -> that UUID text; a MAC address in any of its three
 *          spellings -> aa:bb:cc:dd:ee:ff; other hex of 16 or more digits
 *          -> lower case; an IMEI/IMEISV in groups (35-209900-176148-1)
 *          -> its 15 or 16 digits.
 *   email  ASCII lower case; "(at)" and "[dot]" folded (lsl_atdot_fold).
 *   secret a payment card number in groups (4111 1111 1111 1111,
 *          4111-1111-...) -> its digits.
 *   phone  digits and separators (- . blank parentheses) -> the digits,
 *          "+81" and a "(0)" after it -> "0" ("+81 (0)90-1234-5678" ->
 *          "09012345678"); another '+' country code keeps its '+'.
 * Other classes, and values that are not of their class, are copied
 * (decoded).
 * `out` is not NUL-terminated.
 */
LSL_MUST_CHECK long lsl_token_normalize(enum lsl_class c, const char *v,
                                        size_t len, char *out, size_t cap);

/*
 * The normalization before phone numbers were read as their digits: as
 * lsl_token_normalize, except that a phone number stays as written
 * (decoded). Tokens and stop entries made then hashed that spelling; the
 * stop check and officer commands try it too, so a number erased or
 * sealed before still answers to the spelling it was erased or sealed in.
 */
LSL_MUST_CHECK long lsl_token_normalize_legacy(enum lsl_class c, const char *v,
                                               size_t len, char *out,
                                               size_t cap);

/* The Luhn check (ISO/IEC 7812) of the digits d[0..n): card numbers'
 * and IMEIs' last digit. */
bool lsl_luhn_ok(const char *d, size_t n);

/* True if s[0..len) is exactly an IPv4 or IPv6 address. */
bool lsl_ip_valid(const char *s, size_t len);

/*
 * An IPv4 address in any form inet_aton(3) reads: 1 to 4 parts separated
 * by '.', each decimal, 0x hex or 0-prefixed octal, the last one filling
 * the bytes left (3232235521, 0xC0A80001, 0300.0250.0.1, 0xC0.0xA8.0.1,
 * 192.168.1, 127.1), into a[4]. Unlike inet_aton, nothing may follow the
 * address (no trailing blank). Note that lsl_token_normalize reads a
 * zero-padded dotted quad (010.1.1.1) as decimal first; this function is
 * for the other spellings.
 */
bool lsl_ip4_parse_lenient(const char *s, size_t len, uint8_t a[4]);

/* ---- percent-decoding (RFC 3986 2.1), shared by rules and tokens ---- */

/* True if s[0..len) holds a valid escape: '%' and two hex digits. */
bool lsl_pct_has_escape(const char *s, size_t len);

/*
 * Decode s[0..len) into out (room for len bytes; out may be s itself):
 * each "%XX" (hex, either case) becomes its byte, any other byte (a '%'
 * without two hex digits, '+') is copied, and text encoded more than once
 * is decoded until no escape is left ("%2540" and "%252540" give "@"), in
 * linear time. The result holds no escape, so decoding it again changes
 * nothing. With `map` (len + 1 entries, borrowed) map[k] is the offset in
 * s where decoded byte k came from and map[n] = len: decoded text [a, b)
 * is s[map[a], map[b]). Returns the decoded length n <= len. Never fails.
 */
size_t lsl_pct_decode(const char *s, size_t len, char *out, uint32_t *map);

/* ---- wide forms (fullwidth ASCII, Japanese dashes): wide.c ---- */

/* The ASCII byte of the wide form that starts at s[i], or -1. */
int lsl_wide_char(const char *s, size_t len, size_t i);
/* True if s[0..len) holds one. */
bool lsl_wide_has(const char *s, size_t len);
/*
 * Fold s[0..len) in place: each wide form (3 bytes of UTF-8) becomes the
 * ASCII byte it stands for ("０９０－１２３４" -> "090-1234"), except a
 * hex digit that would complete a percent escape ("%２５"); the rest is
 * kept. With `map` (len + 1 entries: the offsets of s's bytes in some
 * raw text, as lsl_pct_decode makes them) the entries move with their
 * bytes, map[n] = the old map[len]. Returns n <= len. Run after
 * lsl_pct_decode, never before: the pair is how rules and tokens read.
 */
size_t lsl_wide_fold(char *s, size_t len, uint32_t *map);

/* ---- "(at)" and "[dot]" for '@' and '.' in hidden addresses: atdot.c ---- */

/* An "@" form ("(at)", "[AT]", "{at}", "<at>") starts at s[i]. */
bool lsl_atdot_at(const char *s, size_t len, size_t i);
/* True if s[0..len) holds a form, for '@' or '.'. */
bool lsl_atdot_has(const char *s, size_t len);
/*
 * Fold s[0..len) in place: each bracketed "at" becomes '@' and "dot" '.',
 * with one blank on each side ("bob (at) example [dot] com" ->
 * "bob@example.com"). `map` as lsl_wide_fold's. Returns n <= len. Run
 * after lsl_wide_fold.
 */
size_t lsl_atdot_fold(char *s, size_t len, uint32_t *map);

/* ---- JSON string escapes (RFC 8259 7): jstr.c ---- */

/* What lsl_json_unescape makes of an escaped control character ("\n",
 * "\u0000".."\u001f", "\u007f") or a lone surrogate. */
enum lsl_json_ctl {
    LSL_JSON_CTL_KEEP,  /* the escape as written: a value's text */
    LSL_JSON_CTL_BLANK, /* one blank: text read for the words in it */
};

/*
 * Unescape JSON string text s[0..len) into out (room for len bytes, not
 * s): "\"", "\\", "\/" and "\uXXXX" become their character in UTF-8 (a
 * surrogate pair one character), controls as `ctl` says; a '\' that
 * starts no valid escape is copied. With `map` (len + 1 entries) map[k]
 * is the offset in s of the escape or byte that out[k] came from and
 * map[n] = len, as lsl_pct_decode's. Returns n <= len. Never fails.
 */
size_t lsl_json_unescape(const char *s, size_t len, char *out, uint32_t *map,
                         enum lsl_json_ctl ctl);

/* ---- "\xHH" escapes of nginx and Apache access logs: xesc.c ---- */

/* True if s[0..len) holds one: "\x" and two hex digits. */
bool lsl_xesc_has(const char *s, size_t len);

/*
 * Decode s[0..len) into out (room for len bytes): each "\xHH" (hex, either
 * case) becomes its byte, the rest is copied; once, so "\x5Cx41" is the
 * text "\x41". `map` as lsl_pct_decode's. Returns n <= len.
 */
size_t lsl_xesc_decode(const char *s, size_t len, char *out, uint32_t *map);

/* Print a token; returns the length (< LSL_TOKEN_TEXT_MAX), NUL-terminated. */
size_t lsl_token_format(const struct lsl_token *t,
                        char out[LSL_TOKEN_TEXT_MAX]);

/* Parse printed token text exactly. 0 or -EINVAL. */
LSL_MUST_CHECK int lsl_token_parse(const char *s, size_t len,
                                   struct lsl_token *out);

/*
 * Find the next printed token in s[0..len) at or after *pos. On success
 * sets *pos to its start, *tlen to its length and returns true.
 */
bool lsl_token_scan(const char *s, size_t len, size_t *pos, size_t *tlen);

/*
 * The kid of a token read back from an ip6-mode address (an fd00::/8
 * address holds the token's 120 hash bits, not its epoch): lookups that
 * meet it compare class and hash only.
 */
#define LSL_TOKEN_KID_IP6 0xfffeu

/*
 * Find the next printed token or ip6-mode address (an IPv6 address in
 * fd00::/8 standing alone: not part of a longer word or address) in
 * s[0..len) at or after *pos: sets *pos, *tlen and *t (an address as class
 * ip, kid LSL_TOKEN_KID_IP6) and returns true.
 */
bool lsl_token_scan_any(const char *s, size_t len, size_t *pos, size_t *tlen,
                        struct lsl_token *t);

bool lsl_token_equal(const struct lsl_token *a, const struct lsl_token *b);

/*
 * The kid of the neutral marker a tokenizer writes for a value on the stop
 * list (an erased subject): printed "<class>_erased", hash all zero. It
 * maps to nothing and never enters the vault; lsl_token_parse never
 * returns it.
 */
#define LSL_TOKEN_KID_ERASED 0xffffu

/* True if t is the erased marker. */
bool lsl_token_is_erased(const struct lsl_token *t);

/* ---- keyring: the daemon's secret hashing key ---- */

enum lsl_epoch_len {
    LSL_EPOCH_NEVER = 0,
    LSL_EPOCH_DAY,
    LSL_EPOCH_WEEK,
    LSL_EPOCH_MONTH,
};

struct lsl_keyring;

/*
 * Epochs on the UTC calendar (absolute numbers: days, weeks from Monday
 * 1970-01-05, months since 1970-01). lsl_epoch_index gives the epoch of
 * unix time `when` (0 for LSL_EPOCH_NEVER and for times before the first
 * epoch); lsl_epoch_start the unix time epoch `epoch` begins (0 for
 * LSL_EPOCH_NEVER). An epoch ends where the next one starts.
 */
uint32_t lsl_epoch_index(enum lsl_epoch_len len, int64_t when);
int64_t lsl_epoch_start(enum lsl_epoch_len len, uint32_t epoch);

/*
 * Create a new random hash key file at `path` (mode 0600, O_EXCL) whose
 * first epoch is the one holding `since` (unix seconds; for
 * LSL_EPOCH_NEVER the epoch counter is 0 and `since` is recorded as its
 * start). lsl_keyring_create uses the current time. Returns 0, -EEXIST
 * if the file exists, -EINVAL (bad epoch length) or -errno.
 */
LSL_MUST_CHECK int lsl_keyring_create_at(const char *path,
                                         enum lsl_epoch_len epoch_len,
                                         int64_t since);
LSL_MUST_CHECK int lsl_keyring_create(const char *path,
                                      enum lsl_epoch_len epoch_len);

/*
 * Load the hash key file. The key lives in sodium_malloc'd memory.
 * Returns 0, LSL_EKEYPERM if group/other may read it, LSL_EKEYOWNER if
 * another user owns it, LSL_EFORMAT (wrong size, magic or reserved bits),
 * LSL_EVERSION, or -errno. *out is owned by the caller; free with
 * lsl_keyring_close(). The path is kept: a ratcheting keyring rewrites the
 * file (lsl_keyring_advance).
 */
LSL_MUST_CHECK int lsl_keyring_open(struct lsl_keyring **out, const char *path);

/* Wipe and free. NULL-safe. */
void lsl_keyring_close(struct lsl_keyring *kr);

enum lsl_epoch_len lsl_keyring_epoch_len(const struct lsl_keyring *kr);

/* The oldest epoch whose key is held (the key file's epoch on open). */
uint32_t lsl_keyring_epoch(const struct lsl_keyring *kr);

/*
 * Epoch whose key tokenizes a line of time `when` (unix seconds): the
 * line's calendar epoch, but never older than the oldest key held (late
 * lines) nor later than the wall clock's next epoch. With a fixed key
 * (LSL_EPOCH_NEVER) it is the key file's epoch counter, whatever `when`.
 */
uint32_t lsl_keyring_epoch_at(const struct lsl_keyring *kr, int64_t when);

/* Key epoch id used for tokens at time `when`: epoch_at % 1024. */
uint16_t lsl_keyring_kid(const struct lsl_keyring *kr, int64_t when);

/* True if `when` falls before the oldest key held (a ratcheting key). */
bool lsl_keyring_is_late(const struct lsl_keyring *kr, int64_t when);

/*
 * The full epoch number of key id `kid`: the latest epoch with that id
 * not after the newest key held.
 */
uint32_t lsl_keyring_epoch_of_kid(const struct lsl_keyring *kr, uint16_t kid);

/*
 * Ratchet: make the epoch of `when` (capped like epoch_at) the oldest one
 * held. Older keys are wiped from memory and the key file is replaced
 * (atomically) by the new oldest key, the old file's blocks zeroed. Call
 * it only once output tokenized with the newer key is durable, from one
 * thread at a time (the pipeline's commit stage); concurrent
 * lsl_token_derive calls are safe. No-op for a fixed key or an epoch not
 * after the current one. 0, -ENOMEM or -errno (the in-memory ratchet may
 * have happened; the file is rewritten by the next call).
 */
LSL_MUST_CHECK int lsl_keyring_advance(struct lsl_keyring *kr, int64_t when);

/* Apply the ratchet step `steps` times to a raw 32-byte key (tests). */
LSL_MUST_CHECK int lsl_keyring_ratchet_key(uint8_t key[32], uint32_t steps);

/*
 * Derive the token of an already-normalized value with the key of
 * lsl_keyring_epoch_at(kr, when) (the token's kid says which). Thread-safe
 * for concurrent callers sharing one keyring, also while one thread
 * advances it. 0, -EINVAL (bad class), -ENOMEM (a later epoch's key could
 * not be held).
 */
LSL_MUST_CHECK int lsl_token_derive(const struct lsl_keyring *kr, int64_t when,
                                    enum lsl_class c, const char *norm,
                                    size_t len, struct lsl_token *out);

/*
 * The IPv6 rendering of a token for the `ip6` output mode: fd00::/8 with
 * the 120 hash bits. Writes a NUL-terminated string, returns its length.
 */
size_t lsl_token_format_ip6(const struct lsl_token *t, char out[48]);

/* ---- verification keys: how an officer checks a vault record ---- */

/*
 * The verification key of one key epoch: the seven class subkeys and the
 * address-map subkey of that epoch (sub[0] .. sub[6] | ipmap, 32 bytes
 * each). It recomputes that epoch's tokens and prefix-mode lookup keys,
 * nothing else: the epoch key cannot be found from it, so it does not
 * ratchet forward to later epochs. Writers seal it into every vault file
 * for the officer, whose reader then checks each record's token against
 * its value. A secret: keep it in sodium_malloc memory.
 */
#define LSL_VKEY_BYTES ((LSL_CLASS_COUNT + 1) * 32)

/*
 * Copy the verification key of `epoch` into out. 0, or LSL_ENOKEY when kr
 * does not hold that epoch's key (ratcheted past it, or not yet derived).
 */
LSL_MUST_CHECK int lsl_keyring_vkey(const struct lsl_keyring *kr,
                                    uint32_t epoch,
                                    uint8_t out[LSL_VKEY_BYTES]);

/*
 * The keyed token vk makes of a normalized value, with key id `kid` (what
 * lsl_token_derive gives with that epoch's key). 0 or -EINVAL (class).
 */
LSL_MUST_CHECK int lsl_token_derive_vkey(const uint8_t vk[LSL_VKEY_BYTES],
                                         uint16_t kid, enum lsl_class c,
                                         const char *norm, size_t len,
                                         struct lsl_token *out);

/*
 * The prefix-mode lookup key vk makes of the normalized address
 * value[0..len): the vault key (lsl_ipaddr_lookup_token, key id `kid`)
 * of the address it maps to. 0, or -EINVAL when value is no address.
 */
LSL_MUST_CHECK int lsl_token_lookup_vkey(const uint8_t vk[LSL_VKEY_BYTES],
                                         uint16_t kid, const char *value,
                                         size_t len, struct lsl_token *out);

/*
 * True if t (with key id `kid`) is what vk makes of the normalized value
 * value[0..len): its keyed token, or for class ip the prefix-mode lookup
 * key of the address the value maps to.
 */
bool lsl_token_verify(const uint8_t vk[LSL_VKEY_BYTES], uint16_t kid,
                      const struct lsl_token *t, const char *value, size_t len);

/*
 * lsl_token_verify for many tokens of one verification key: the class
 * subkeys' hash states are prepared once, so each check hashes only the
 * value. The verifier holds the key: secure memory, wiped at close.
 * open: 0, -EINVAL or -ENOMEM. check: as lsl_token_verify.
 */
struct lsl_token_verifier;
LSL_MUST_CHECK int lsl_token_verifier_open(struct lsl_token_verifier **out,
                                           const uint8_t vk[LSL_VKEY_BYTES]);
bool lsl_token_verifier_check(const struct lsl_token_verifier *v, uint16_t kid,
                              const struct lsl_token *t, const char *value,
                              size_t len);
void lsl_token_verifier_close(struct lsl_token_verifier *v); /* NULL-safe */

/* ---- the stop list: erased subjects are never tokenized again ---- */

/*
 * A stop entry is a keyed hash of (class, normalized value) under the stop
 * key, a key of its own that never ratchets, so an erased subject is
 * recognized in every later key epoch. The stop key is derived from the
 * officer secret (the officer computes entries at erase) and given to the
 * writers as KEYS/stop.key; it lets its holder confirm a guessed value is
 * on the list, nothing else. Entries are hashes, never values.
 */
#define LSL_STOP_KEY_BYTES 32

struct lsl_stop_entry {
    uint8_t cls; /* enum lsl_class */
    uint8_t hash[LSL_TOKEN_HASH_BYTES];
};

/* The stop entry of a normalized value. 0, or -EINVAL (bad class). */
LSL_MUST_CHECK int lsl_stop_hash(const uint8_t key[LSL_STOP_KEY_BYTES],
                                 enum lsl_class c, const char *norm, size_t len,
                                 struct lsl_stop_entry *out);

/*
 * KEYS/stop.key: "LSLSKEY1" | key, mode 0600. write: O_EXCL, -EEXIST
 * if present. load: the checks of a secret file (LSL_EKEYPERM,
 * LSL_EKEYOWNER, LSL_EFORMAT) or -errno.
 */
LSL_MUST_CHECK int lsl_stop_key_write(const char *path,
                                      const uint8_t key[LSL_STOP_KEY_BYTES]);
LSL_MUST_CHECK int lsl_stop_key_load(const char *path,
                                     uint8_t key[LSL_STOP_KEY_BYTES]);

/*
 * The stop list the tokenizers consult: the key (copied into secure
 * memory, per-class hash states prepared) and the entries. Built once,
 * then shared read-only by every worker.
 */
struct lsl_stoplist;

/* An empty list under `key`. 0 or -ENOMEM. *out owned by the caller. */
LSL_MUST_CHECK int lsl_stoplist_open(struct lsl_stoplist **out,
                                     const uint8_t key[LSL_STOP_KEY_BYTES]);

/* Add one entry (before the list is shared). 0, -EINVAL or -ENOMEM. */
LSL_MUST_CHECK int lsl_stoplist_add(struct lsl_stoplist *sl,
                                    const struct lsl_stop_entry *e);

/* True if the normalized value of class c is on the list. Thread-safe. */
bool lsl_stoplist_has(const struct lsl_stoplist *sl, enum lsl_class c,
                      const char *norm, size_t len);

size_t lsl_stoplist_count(const struct lsl_stoplist *sl); /* NULL: 0 */

/* Wipe and free. NULL-safe. */
void lsl_stoplist_close(struct lsl_stoplist *sl);

/* ---- addresses for the IP output modes (rules.h: enum lsl_ip_mode) ---- */

/* An address in binary: IPv4 in a[0..4) with bits 32, IPv6 with bits 128. */
struct lsl_ipaddr {
    uint8_t a[16];
    uint8_t bits;
};

/* Longest printed address (IPv6, RFC 5952) with room for a NUL. */
#define LSL_IP_TEXT_MAX 48

/*
 * Default prefixes kept by the truncate mode: anonip's defaults (it masks
 * the last 12 bits of IPv4 and 84 of IPv6).
 */
#define LSL_IP4_TRUNCATE_DEFAULT 20
#define LSL_IP6_TRUNCATE_DEFAULT 44

/*
 * Parse exactly one IPv4 or IPv6 address (no zone id; IPv4 octets may be
 * zero-padded), or any spelling lsl_token_normalize reads as one
 * (percent-encoded, the inet_aton forms, a dashed quad). IPv4-mapped IPv6
 * becomes IPv4, so it keeps its family in every mode. 0 or -EINVAL.
 */
LSL_MUST_CHECK int lsl_ipaddr_parse(const char *s, size_t len,
                                    struct lsl_ipaddr *out);

/* Dotted quad or RFC 5952 text, NUL-terminated; returns the length. */
size_t lsl_ipaddr_format(const struct lsl_ipaddr *ip,
                         char out[LSL_IP_TEXT_MAX]);

/*
 * Keep the first `keep` bits, zero the rest. keep 0 means the default of
 * the family (LSL_IP4/6_TRUNCATE_DEFAULT); keep at or above the address
 * length keeps it whole. One `keep` serves both families, so /24 on an
 * IPv6 address keeps 24 bits: never more than asked.
 */
void lsl_ipaddr_truncate(struct lsl_ipaddr *ip, unsigned keep);

/*
 * Keyed prefix-preserving pseudonymization (the Crypto-PAn construction):
 * output bit i = input bit i XOR f(first i input bits), f keyed with the
 * epoch's address-map subkey (crypto_kdf). Two inputs sharing exactly a
 * /k prefix give outputs sharing exactly a /k prefix; IPv4 stays IPv4. A
 * bijection per key. Thread-safe on a shared keyring. 0 or -EIO.
 */
LSL_MUST_CHECK int lsl_ipaddr_prefix_map(const struct lsl_keyring *kr,
                                         int64_t when,
                                         const struct lsl_ipaddr *in,
                                         struct lsl_ipaddr *out);

/*
 * The vault key of a prefix-mode output address: class ip, `kid`, and an
 * unkeyed BLAKE2b of a domain tag and the output address. The printed
 * address alone (no hash key) gives it back, which is what lets an
 * officer unseal an address read in pseudonymized output; the tag keeps
 * it apart from every keyed token.
 */
void lsl_ipaddr_lookup_token(const struct lsl_ipaddr *out_addr, uint16_t kid,
                             struct lsl_token *tok);

/* ---- tokenizer: per-worker cache and the batch's mapping candidates ---- */

/*
 * A mapping seen in a batch: one per distinct token, with the earliest and
 * latest line time it was seen at. `value` points into the tokenizer's
 * arena and stays valid until lsl_tokenizer_reset().
 */
struct lsl_mapping {
    struct lsl_token tok;
    int64_t first_seen;
    int64_t last_seen;
    struct lsl_span value; /* normalized original */
};

struct lsl_tokenizer;

struct lsl_tokenizer_opts {
    const struct lsl_keyring *keyring; /* borrowed; must outlive it */
    const struct lsl_stoplist *stop;   /* borrowed, may be NULL: values on
                                        * it are written as the erased
                                        * marker and never recorded */
    size_t cache_entries; /* rounded up to a power of two; 0: no cache.
                           * Default 65536 (about 6 MiB). Values over 64
                           * bytes are never cached. */
};

void lsl_tokenizer_opts_init(struct lsl_tokenizer_opts *o);

/*
 * A tokenizer is single-threaded: one per worker. 0, -EINVAL (no keyring,
 * cache_entries over 2^26) or -ENOMEM. *out is owned by the caller.
 */
LSL_MUST_CHECK int lsl_tokenizer_open(struct lsl_tokenizer **out,
                                      const struct lsl_tokenizer_opts *o);

/* Wipe (the cache holds originals) and free. NULL-safe. */
void lsl_tokenizer_close(struct lsl_tokenizer *tz);

/*
 * True for the values emit copies through untokenized: the empty string
 * and "-" (the log placeholder for "no value"); they identify nobody.
 */
bool lsl_tokenizer_skips(const char *v, size_t len);

/*
 * Normalize and tokenize `v` (class `c`, seen at `when`), append the
 * printed token to `out` and record the mapping for this batch.
 * Values for which lsl_tokenizer_skips() is true are appended unchanged,
 * recorded nowhere and not counted. A value on the stop list is written
 * as "<class>_erased", counted, and recorded nowhere. 0, -EINVAL (bad class) or
 * -ENOMEM; on failure neither `out` nor the mapping set has changed.
 */
LSL_MUST_CHECK int lsl_tokenizer_emit(struct lsl_tokenizer *tz,
                                      enum lsl_class c, const char *v,
                                      size_t len, int64_t when,
                                      struct lsl_buf *out);

/*
 * As lsl_tokenizer_emit, but returns the token instead of printing it (for
 * the ip6 mode). It tokenizes every value, the empty one and "-"
 * included: callers that want emit's pass-through check
 * lsl_tokenizer_skips() first. A value on the stop list gives the erased
 * marker (lsl_token_is_erased) and records nothing.
 */
LSL_MUST_CHECK int lsl_tokenizer_get(struct lsl_tokenizer *tz, enum lsl_class c,
                                     const char *v, size_t len, int64_t when,
                                     struct lsl_token *tok);

/*
 * As lsl_tokenizer_emit for an address written in ip6 mode: the token of
 * `v` (class ip) as an fd00::/8 address (lsl_token_format_ip6; fd00:: for
 * an erased subject), its text kept in the cache entry. Every value is
 * tokenized, as by lsl_tokenizer_get. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_tokenizer_emit_ip6(struct lsl_tokenizer *tz,
                                          const char *v, size_t len,
                                          int64_t when, struct lsl_buf *out);

/* True if the normalized value of class c is on the stop list. */
bool lsl_tokenizer_stops(const struct lsl_tokenizer *tz, enum lsl_class c,
                         const char *norm, size_t len);

/*
 * Record the mapping tok -> norm (an already-normalized original) for
 * this batch and count one token, as emit does for the tokens it prints;
 * for renderings whose vault key is not the value's own token (prefix
 * mode). 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_tokenizer_record(struct lsl_tokenizer *tz,
                                        const struct lsl_token *tok,
                                        const char *norm, size_t len,
                                        int64_t when);

/* Mappings recorded since the last reset, in first-seen order. */
const struct lsl_mapping *lsl_tokenizer_mappings(const struct lsl_tokenizer *tz,
                                                 size_t *count);

/*
 * Tokens produced by emit and get since the last reset (occurrences, not
 * distinct values).
 */
uint64_t lsl_tokenizer_emitted(const struct lsl_tokenizer *tz);

/*
 * Forget the batch's mappings and the emitted count; the arena holding
 * their values is wiped. The cache stays. Between resets the tokenizer
 * asks the keyring for a time's key id once (the last time asked is
 * remembered), so a ratchet reaches it at the next reset: reset it per
 * batch.
 */
void lsl_tokenizer_reset(struct lsl_tokenizer *tz);

#endif
