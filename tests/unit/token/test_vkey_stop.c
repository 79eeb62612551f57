/*
 * Verification keys and the stop list: a vault record's token is checked
 * against its value with the epoch's verification key alone (keyed and
 * prefix-mode tokens; another value, class, kid or key is refused); the
 * stop list recognizes an erased value in every spelling the tokenizer
 * normalizes, and the tokenizer then writes "<class>_erased" and records
 * no mapping, on the cached path too.
 */
#include <errno.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "logseal/token.h"
#include "testkey.h"

static struct lsl_keyring *kr;
static uint8_t *vk; /* epoch 9's verification key, secure memory */

static int setup(void **state)
{
    (void)state;
    kr = testkey_open(9);
    vk = sodium_malloc(LSL_VKEY_BYTES);
    assert_non_null(vk);
    assert_int_equal(lsl_keyring_vkey(kr, 9, vk), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sodium_free(vk);
    lsl_keyring_close(kr);
    return 0;
}

static struct lsl_token token_of(enum lsl_class c, const char *norm)
{
    struct lsl_token t;

    assert_int_equal(lsl_token_derive(kr, 0, c, norm, strlen(norm), &t), 0);
    return t;
}

static bool verify(const struct lsl_token *t, const char *value)
{
    return lsl_token_verify(vk, 9, t, value, strlen(value));
}

static void test_vkey_keyed(void **state)
{
    struct lsl_token t = token_of(LSL_CLASS_USER, "90816599");
    struct lsl_token other = t;

    (void)state;
    for (unsigned c = 0; c < LSL_CLASS_COUNT; c++) {
        struct lsl_token a = token_of((enum lsl_class)c, "90816599"), b;

        assert_int_equal(
            lsl_token_derive_vkey(vk, 9, (enum lsl_class)c, "90816599", 8, &b),
            0);
        assert_true(lsl_token_equal(&a, &b));
    }
    assert_true(verify(&t, "90816599"));
    /* Another person's value under a real token: a planted mapping. */
    assert_false(verify(&t, "90816598"));
    assert_false(verify(&t, ""));
    other.cls = LSL_CLASS_ID;
    assert_false(verify(&other, "90816599"));
    other = t;
    other.kid = 10; /* a record of another epoch's id in this file */
    assert_false(verify(&other, "90816599"));
    assert_false(lsl_token_verify(vk, 10, &t, "90816599", 8));
    other = t;
    other.hash[14] ^= 1;
    assert_false(verify(&other, "90816599"));
    /* The epoch not held: no key to hand out. */
    assert_int_equal(lsl_keyring_vkey(kr, 8, vk), LSL_ENOKEY);
    assert_int_equal(lsl_keyring_vkey(kr, 9, vk), 0);
}

static void test_vkey_prefix(void **state)
{
    struct lsl_ipaddr in, mapped;
    struct lsl_token key;

    (void)state;
    assert_int_equal(lsl_ipaddr_parse("203.0.113.7", 11, &in), 0);
    assert_int_equal(lsl_ipaddr_prefix_map(kr, 0, &in, &mapped), 0);
    lsl_ipaddr_lookup_token(&mapped, 9, &key);
    assert_true(verify(&key, "203.0.113.7"));
    assert_false(verify(&key, "203.0.113.8"));
    assert_false(verify(&key, "not an address"));
}

static void test_vkey_other_key(void **state)
{
    uint8_t *fake = sodium_malloc(LSL_VKEY_BYTES);
    struct lsl_token t = token_of(LSL_CLASS_IP, "198.51.100.4");

    (void)state;
    randombytes_buf(fake, LSL_VKEY_BYTES);
    assert_false(lsl_token_verify(fake, 9, &t, "198.51.100.4", 12));
    sodium_free(fake);
}

static struct lsl_stoplist *stop_of(enum lsl_class c, const char *norm)
{
    uint8_t key[LSL_STOP_KEY_BYTES];
    struct lsl_stoplist *sl = NULL;
    struct lsl_stop_entry e;

    memset(key, 0x5c, sizeof(key));
    assert_int_equal(lsl_stoplist_open(&sl, key), 0);
    assert_int_equal(lsl_stop_hash(key, c, norm, strlen(norm), &e), 0);
    assert_int_equal(lsl_stoplist_add(sl, &e), 0);
    assert_int_equal(lsl_stoplist_add(sl, &e), 0); /* once */
    assert_int_equal(lsl_stoplist_count(sl), 1);
    return sl;
}

static void test_stoplist(void **state)
{
    struct lsl_stoplist *sl = stop_of(LSL_CLASS_EMAIL, "john@example.com");
    struct lsl_stop_entry bad = {.cls = LSL_CLASS_COUNT};

    (void)state;
    assert_true(lsl_stoplist_has(sl, LSL_CLASS_EMAIL, "john@example.com", 16));
    assert_false(lsl_stoplist_has(sl, LSL_CLASS_USER, "john@example.com", 16));
    assert_false(lsl_stoplist_has(sl, LSL_CLASS_EMAIL, "jane@example.com", 16));
    assert_false(lsl_stoplist_has(NULL, LSL_CLASS_EMAIL, "x", 1));
    assert_int_equal(lsl_stoplist_add(sl, &bad), -EINVAL);
    lsl_stoplist_close(sl);
}

static struct lsl_tokenizer *open_tz(const struct lsl_stoplist *sl,
                                     size_t cache)
{
    struct lsl_tokenizer_opts o;
    struct lsl_tokenizer *tz = NULL;

    lsl_tokenizer_opts_init(&o);
    o.keyring = kr;
    o.stop = sl;
    o.cache_entries = cache;
    assert_int_equal(lsl_tokenizer_open(&tz, &o), 0);
    return tz;
}

/* Emit v of class c twice (cache miss, then hit); true if both times the
 * erased marker was written and no mapping recorded. */
static bool erased_as(struct lsl_tokenizer *tz, enum lsl_class c, const char *v)
{
    char marker[32];
    struct lsl_buf out = {0};
    size_t n = 1;
    bool erased = true;

    snprintf(marker, sizeof(marker), "%s_erased", lsl_class_name(c));
    lsl_tokenizer_reset(tz);
    for (int i = 0; i < 2; i++) {
        out.len = 0;
        assert_int_equal(lsl_tokenizer_emit(tz, c, v, strlen(v), 0, &out), 0);
        erased &=
            out.len == strlen(marker) && memcmp(out.p, marker, out.len) == 0;
    }
    lsl_tokenizer_mappings(tz, &n);
    lsl_buf_free(&out);
    return erased && n == 0;
}

static void emit_erased(struct lsl_tokenizer *tz, const char *v)
{
    assert_true(erased_as(tz, LSL_CLASS_EMAIL, v));
    assert_int_equal(lsl_tokenizer_emitted(tz), 2);
}

static void test_tokenizer_stops(void **state)
{
    struct lsl_stoplist *sl = stop_of(LSL_CLASS_EMAIL, "john@example.com");
    struct lsl_tokenizer *tz;
    struct lsl_token t;
    struct lsl_buf out = {0};
    size_t n;

    (void)state;
    for (size_t cache = 0; cache <= 64; cache += 64) {
        tz = open_tz(sl, cache);
        /* Every spelling that normalizes to the erased value. */
        emit_erased(tz, "John@Example.COM");
        emit_erased(tz, "john@example.com");
        assert_int_equal(lsl_tokenizer_get(tz, LSL_CLASS_EMAIL,
                                           "john@example.com", 16, 0, &t),
                         0);
        assert_true(lsl_token_is_erased(&t));
        assert_true(
            lsl_tokenizer_stops(tz, LSL_CLASS_EMAIL, "john@example.com", 16));
        /* Someone else is tokenized and recorded as before. */
        assert_int_equal(lsl_tokenizer_emit(tz, LSL_CLASS_EMAIL,
                                            "jane@example.com", 16, 0, &out),
                         0);
        lsl_tokenizer_mappings(tz, &n);
        assert_int_equal(n, 1);
        lsl_tokenizer_close(tz);
        out.len = 0;
    }
    lsl_buf_free(&out);
    lsl_stoplist_close(sl);
}

/* An erased phone number is stopped in every spelling of its digits; one
 * erased before numbers were read as their digits, in its spelling. */
static void test_tokenizer_stops_phone(void **state)
{
    static const char *const spellings[] = {
        "090-1234-5678",
        "090 1234 5678",
        "(090)1234-5678",
        "09012345678",
        "+81 (0)90-1234-5678",
        "+81-90-1234-5678",
        "\xef\xbc\x90\xef\xbc\x99\xef\xbc\x90-1234-5678"};
    struct lsl_stoplist *digits = stop_of(LSL_CLASS_PHONE, "09012345678");
    struct lsl_stoplist *written = stop_of(LSL_CLASS_PHONE, "090-1234-5678");
    char longv[301];
    struct lsl_stoplist *longsl;
    struct lsl_tokenizer *tz;

    (void)state;
    for (size_t cache = 0; cache <= 64; cache += 64) {
        tz = open_tz(digits, cache);
        for (size_t i = 0; i < sizeof(spellings) / sizeof(*spellings); i++)
            assert_true(erased_as(tz, LSL_CLASS_PHONE, spellings[i]));
        assert_false(erased_as(tz, LSL_CLASS_PHONE, "080-1234-5678"));
        assert_false(erased_as(tz, LSL_CLASS_USER, "09012345678"));
        lsl_tokenizer_close(tz);

        tz = open_tz(written, cache);
        assert_true(erased_as(tz, LSL_CLASS_PHONE, "090-1234-5678"));
        assert_true(erased_as(tz, LSL_CLASS_PHONE, spellings[6]));
        assert_false(erased_as(tz, LSL_CLASS_PHONE, "090 1234 5678"));
        lsl_tokenizer_close(tz);
    }
    /* As written beyond the tokenizer's stack buffer. */
    for (size_t i = 0; i + 1 < sizeof(longv); i += 2)
        memcpy(longv + i, "1-", 2);
    longv[sizeof(longv) - 2] = '1';
    longv[sizeof(longv) - 1] = '\0';
    longsl = stop_of(LSL_CLASS_PHONE, longv);
    tz = open_tz(longsl, 64);
    assert_true(erased_as(tz, LSL_CLASS_PHONE, longv));
    lsl_tokenizer_close(tz);
    lsl_stoplist_close(longsl);
    lsl_stoplist_close(digits);
    lsl_stoplist_close(written);
}

static void test_erased_text(void **state)
{
    struct lsl_token t = {.cls = LSL_CLASS_USER, .kid = LSL_TOKEN_KID_ERASED};
    char text[LSL_TOKEN_TEXT_MAX];
    size_t pos = 0, tlen;

    (void)state;
    assert_int_equal(lsl_token_format(&t, text), strlen("user_erased"));
    assert_string_equal(text, "user_erased");
    assert_int_equal(lsl_token_parse(text, strlen(text), &t), -EINVAL);
    assert_false(lsl_token_scan(text, strlen(text), &pos, &tlen));
}

static void test_stop_key_file(void **state)
{
    uint8_t key[LSL_STOP_KEY_BYTES], back[LSL_STOP_KEY_BYTES];
    char path[64];

    (void)state;
    snprintf(path, sizeof(path), "/tmp/lsl-stop-key-%d", (int)getpid());
    unlink(path);
    randombytes_buf(key, sizeof(key));
    assert_int_equal(lsl_stop_key_write(path, key), 0);
    assert_int_equal(lsl_stop_key_write(path, key), -EEXIST);
    assert_int_equal(lsl_stop_key_load(path, back), 0);
    assert_memory_equal(key, back, sizeof(key));
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(lsl_stop_key_load(path, back), LSL_EKEYPERM);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vkey_keyed),
        cmocka_unit_test(test_vkey_prefix),
        cmocka_unit_test(test_vkey_other_key),
        cmocka_unit_test(test_stoplist),
        cmocka_unit_test(test_tokenizer_stops),
        cmocka_unit_test(test_tokenizer_stops_phone),
        cmocka_unit_test(test_erased_text),
        cmocka_unit_test(test_stop_key_file),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
