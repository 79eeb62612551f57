/*
 * Kafka sink, the parts that need no broker: which properties are
 * secrets, `pipe --out kafka://` URLs, the checkpoint record (round trip
 * through lsl_checkpoint_format, and hostile records refused, never
 * guessed at), and --check's validation through librdkafka.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "logseal/kafka.h"
#include "src/sink/kafka_internal.h"

static void secrets(void **state)
{
    static const char *const yes[] = {"sasl.password",
                                      "ssl.key.password",
                                      "ssl.keystore.password",
                                      "sasl.oauthbearer.client.secret",
                                      "ssl_key",
                                      "ssl.key.pem",
                                      "sasl.oauthbearer.config",
                                      "sasl.kerberos.keytab.credential"};
    static const char *const no[] = {"bootstrap.servers", "ssl.key.location",
                                     "compression.codec", "sasl.username",
                                     "security.protocol"};

    (void)state;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(lsl_kafka_prop_secret(yes[i]));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(lsl_kafka_prop_secret(no[i]));
}

static void urls(void **state)
{
    char b[64], t[32];

    (void)state;
    assert_int_equal(lsl_kafka_url_parse("kafka://h1:9092,h2:9092/logs", b,
                                         sizeof(b), t, sizeof(t)),
                     0);
    assert_string_equal(b, "h1:9092,h2:9092");
    assert_string_equal(t, "logs");
    assert_int_equal(
        lsl_kafka_url_parse("kafka://h:1", b, sizeof(b), t, sizeof(t)),
        -EINVAL);
    assert_int_equal(
        lsl_kafka_url_parse("kafka:///t", b, sizeof(b), t, sizeof(t)), -EINVAL);
    assert_int_equal(
        lsl_kafka_url_parse("kafka://h:1/a/b", b, sizeof(b), t, sizeof(t)),
        -EINVAL);
    assert_int_equal(
        lsl_kafka_url_parse("http://h:1/t", b, sizeof(b), t, sizeof(t)),
        -EINVAL);
    assert_int_equal(lsl_kafka_url_parse("kafka://h:1/a-topic-name-longer-"
                                         "than-the-buffer",
                                         b, sizeof(b), t, sizeof(t)),
                     -EINVAL);
}

/* A checkpoint key in a directory of its own, removed at once. */
static struct lsl_ckpt_key *make_key(void)
{
    char dir[] = "/tmp/lsl-test-kafka-XXXXXX", path[64];
    struct lsl_ckpt_key *k = NULL;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/%s", dir, LSL_CKPT_KEY_FILE);
    assert_int_equal(lsl_ckpt_key_open(path, true, &k, NULL), 0);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    return k;
}

static void record(void **state)
{
    struct lsl_ckpt_key *key = make_key();
    char ctx[KAFKA_CKPT_CTX_MAX];
    struct lsl_checkpoint cp, got;
    char text[LSL_CKPT_TEXT_MAX + 64];
    size_t n, len = 0;
    uint64_t seq = 0;
    bool have = false;

    (void)state;
    memset(&cp, 0, sizeof(cp));
    cp.file.dev = 7;
    cp.file.ino = 42;
    cp.offset = 1234;
    cp.lines = 10;
    snprintf(cp.segment, sizeof(cp.segment), "kafka:logseal.h.web");
    n = (size_t)snprintf(text, sizeof(text), "%stxn 17/00ff\n",
                         KAFKA_CKPT_MAGIC);
    kafka_ckpt_context(ctx, "web", "17/00ff");
    assert_int_equal(
        lsl_checkpoint_format(&cp, ctx, key, text + n, sizeof(text) - n, &len),
        0);
    assert_int_equal(
        kafka_ckpt_parse(text, n + len, "web", key, &seq, &got, &have), 0);
    assert_true(have);
    assert_true(got.sealed);
    assert_int_equal(seq, 17);
    assert_int_equal(got.offset, 1234);
    assert_int_equal(got.file.ino, 42);
    assert_string_equal(got.segment, cp.segment);
    /* Another source's record (a writer of the topic moved it): refused. */
    assert_int_equal(
        kafka_ckpt_parse(text, n + len, "api", key, &seq, &got, &have),
        LSL_EAUTH);
    /* Given a higher sequence number, to be taken for the latest: refused. */
    text[n - 7] = '8';
    assert_int_equal(
        kafka_ckpt_parse(text, n + len, "web", key, &seq, &got, &have),
        LSL_EAUTH);

    /* A transaction of a source that keeps no checkpoint. */
    n = (size_t)snprintf(text, sizeof(text), "%stxn 3/ab\nnone\n",
                         KAFKA_CKPT_MAGIC);
    assert_int_equal(kafka_ckpt_parse(text, n, "web", key, &seq, &got, &have),
                     0);
    assert_false(have);
    assert_int_equal(seq, 3);
    lsl_ckpt_key_free(key);
}

static void hostile_records(void **state)
{
    static const char *const bad[] = {
        "",
        "logseal-kafka-checkpoint 2\ntxn 1/a\nnone\n",
        "logseal-kafka-checkpoint 1\n",
        "logseal-kafka-checkpoint 1\ntxn \nnone\n",
        "logseal-kafka-checkpoint 1\ntxn x/a\nnone\n",
        "logseal-kafka-checkpoint 1\ntxn 99999999999999999999999/a\nnone\n",
        "logseal-kafka-checkpoint 1\ntxn 5\nnone\n",
        "logseal-kafka-checkpoint 1\ntxn 5/a\nnonesuch\n",
        "logseal-kafka-checkpoint 1\ntxn 5/a\nversion 2\noffset 1\n",
        "logseal-kafka-checkpoint 1\ntxn 5/a",
    };
    struct lsl_ckpt_key *key = make_key();
    struct lsl_checkpoint cp;
    uint64_t seq;
    bool have;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_not_equal(kafka_ckpt_parse(bad[i], strlen(bad[i]), "web",
                                              key, &seq, &cp, &have),
                             0);
    lsl_ckpt_key_free(key);
}

/* One record for kafka_found_add: its checkpoint names inode `ino`. */
static int add(struct kafka_found *f, int32_t partition, int rc, uint64_t seq,
               uint64_t ino, bool old_key)
{
    static int64_t offset;
    struct kafka_rec_at at = {"ckpt", partition, offset++};
    struct lsl_checkpoint cp;

    memset(&cp, 0, sizeof(cp));
    cp.file.ino = ino;
    cp.sealed = true;
    cp.old_key = old_key;
    return kafka_found_add(f, &at, "h.web", rc, seq, true, &cp);
}

static uint64_t picked(const struct kafka_found *f)
{
    const struct kafka_best *b = NULL;

    assert_int_equal(kafka_found_pick(f, "h.web", &b), 0);
    return b->any ? b->cp.file.ino : 0;
}

/* Which record a start resumes from: the highest number, an old record
 * written again ignored; across a checkpoint.key rotation the current
 * key's records first; a record of a key not held skipped once a later
 * one of its partition opens, and fatal when it is the latest. */
static void pick_records(void **state)
{
    const struct kafka_best *b = NULL;
    struct kafka_found f;

    (void)state;
    memset(&f, 0, sizeof(f));
    assert_int_equal(picked(&f), 0);
    assert_int_equal(add(&f, 0, 0, 5, 1, false), 0);
    assert_int_equal(add(&f, 0, 0, 7, 2, false), 0);
    assert_int_equal(add(&f, 0, 0, 5, 1, false), 0);
    assert_int_equal(picked(&f), 2);

    memset(&f, 0, sizeof(f));
    assert_int_equal(add(&f, 0, 0, 3, 3, true), 0);
    assert_int_equal(add(&f, 0, 0, 5, 5, true), 0);
    assert_int_equal(picked(&f), 5);
    assert_int_equal(add(&f, 0, 0, 6, 6, false), 0);
    assert_int_equal(add(&f, 0, 0, 9, 9, true), 0); /* the old key's holder */
    assert_int_equal(picked(&f), 6);

    memset(&f, 0, sizeof(f));
    assert_int_equal(add(&f, 0, LSL_EOTHERKEY, 3, 3, false), 0);
    assert_int_equal(add(&f, 0, 0, 4, 4, false), 0);
    assert_int_equal(picked(&f), 4);
    assert_int_equal(add(&f, 1, LSL_EOTHERKEY, 8, 8, false), 0);
    assert_int_equal(add(&f, 0, 0, 9, 9, false), 0);
    assert_int_equal(kafka_found_pick(&f, "h.web", &b), LSL_EOTHERKEY);

    memset(&f, 0, sizeof(f));
    assert_int_equal(add(&f, 0, LSL_EAUTH, 3, 3, false), LSL_EAUTH);
    assert_int_equal(add(&f, 0, LSL_ECORRUPT, 3, 3, false), LSL_ECORRUPT);
}

static void check_props(void **state)
{
    struct lsl_kafka_prop bad[] = {{"compression.codec", "bogus"}};
    struct lsl_kafka_prop unknown[] = {{"no.such.property", "1"}};
    struct lsl_kafka_prop good[] = {{"compression.codec", "lz4"},
                                    {"sasl.password", "s3cr3t-val"}};
    struct lsl_kafka_opts o;
    char err[512];

    (void)state;
    lsl_kafka_opts_init(&o);
    o.brokers = "127.0.0.1:1";
    o.topic = "logs";
    o.source = "web";
    o.props = good;
    o.nprops = 2;
    assert_int_equal(lsl_kafka_check(&o, err, sizeof(err)), 0);
    o.props = bad;
    o.nprops = 1;
    assert_int_equal(lsl_kafka_check(&o, err, sizeof(err)), LSL_ECONFIG);
    assert_non_null(strstr(err, "kafka.compression.codec"));
    o.props = unknown;
    assert_int_equal(lsl_kafka_check(&o, err, sizeof(err)), LSL_ECONFIG);
    assert_non_null(strstr(err, "kafka.no.such.property"));
    o.nprops = 0;
    o.topic = "";
    assert_int_equal(lsl_kafka_check(&o, err, sizeof(err)), LSL_ECONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(secrets),      cmocka_unit_test(urls),
        cmocka_unit_test(record),       cmocka_unit_test(hostile_records),
        cmocka_unit_test(pick_records), cmocka_unit_test(check_props),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
