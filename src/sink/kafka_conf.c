/*
 * Kafka sink: librdkafka configuration, validation for `run --check`, and
 * the rule that secrets never reach a log line.
 *
 * Pass-through properties are handed to rd_kafka_conf_set as written, so
 * librdkafka itself judges them (a misspelt property or a bad value is
 * refused at --check, not at the first connection). Its error text may
 * quote the value, so for a secret property the message is ours and names
 * the property only. librdkafka's own log lines come through a callback
 * that drops any line holding a secret value (debug contexts can print
 * configuration).
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kafka_internal.h"
#include "logseal/log.h"

bool lsl_kafka_prop_secret(const char *name)
{
    static const char *const words[] = {
        "password",   "secret", "key.pem", "private",
        "credential", "token",  "jaas",    "sasl.oauthbearer.config"};

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strstr(name, words[i]))
            return true;
    }
    /* ssl.key.location names a file, not a secret; ssl_key (PEM text via
     * the API) is one. */
    return strcmp(name, "ssl_key") == 0;
}

void kafka_secrets_free(struct kafka_secrets *sec)
{
    for (size_t i = 0; i < sec->n; i++) {
        sodium_memzero(sec->values[i], strlen(sec->values[i]));
        free(sec->values[i]);
    }
    free(sec->values);
    sec->values = NULL;
    sec->n = 0;
}

static int secret_add(struct kafka_secrets *sec, const char *v)
{
    char **all;

    if (!v[0])
        return 0;
    all = realloc(sec->values, (sec->n + 1) * sizeof(*all));
    if (!all)
        return -ENOMEM;
    sec->values = all;
    all[sec->n] = strdup(v);
    if (!all[sec->n])
        return -ENOMEM;
    sec->n++;
    return 0;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
                   const char *buf)
{
    const struct kafka_secrets *sec = rd_kafka_opaque(rk);
    enum lsl_log_level l = level <= 3   ? LSL_LOG_ERROR
                           : level == 4 ? LSL_LOG_WARN
                           : level <= 6 ? LSL_LOG_INFO
                                        : LSL_LOG_DEBUG;

    for (size_t i = 0; sec && i < sec->n; i++) {
        if (strstr(buf, sec->values[i])) {
            lsl_log_warn("kafka: a librdkafka %s message was withheld: it "
                         "held a secret property value",
                         fac);
            return;
        }
    }
    lsl_log(l, "kafka: %s: %s", fac, buf);
}

static void log_none(const rd_kafka_t *rk, int level, const char *fac,
                     const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf;
}

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *val,
                    char *err, size_t cap)
{
    char why[512];

    if (rd_kafka_conf_set(conf, name, val, why, sizeof(why)) ==
        RD_KAFKA_CONF_OK)
        return 0;
    if (lsl_kafka_prop_secret(name))
        snprintf(err, cap,
                 "kafka.%s: librdkafka refused the value (not shown: "
                 "a secret); check the property's documentation",
                 name);
    else
        snprintf(err, cap, "kafka.%s: %s", name, why);
    return LSL_ECONFIG;
}

int kafka_conf_build(rd_kafka_conf_t **out, const struct lsl_kafka_opts *o,
                     const char *const *extra, struct kafka_secrets *sec,
                     char *err, size_t cap)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = 0;

    if (!conf)
        return -ENOMEM;
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_opaque(conf, sec);
    if (o->brokers)
        rc = conf_set(conf, "bootstrap.servers", o->brokers, err, cap);
    for (size_t i = 0; rc == 0 && i < o->nprops; i++) {
        const struct lsl_kafka_prop *p = &o->props[i];

        if (lsl_kafka_prop_secret(p->name) && sec)
            rc = secret_add(sec, p->value);
        if (rc == 0)
            rc = conf_set(conf, p->name, p->value, err, cap);
    }
    for (size_t i = 0; rc == 0 && extra && extra[i]; i += 2)
        rc = conf_set(conf, extra[i], extra[i + 1], err, cap);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    *out = conf;
    return 0;
}

int lsl_kafka_check(const struct lsl_kafka_opts *o, char *err, size_t cap)
{
    static const char *const producer[] = {"transactional.id", "logseal-check",
                                           NULL};
    struct lsl_kafka_opts quiet;
    rd_kafka_conf_t *conf = NULL;
    char why[512];
    rd_kafka_t *rk;
    int rc;

    err[0] = '\0';
    if (!o->brokers || !o->brokers[0] || !o->topic || !o->topic[0]) {
        snprintf(err, cap, "a kafka sink needs brokers and topic");
        return LSL_ECONFIG;
    }
    /* Without bootstrap servers the client never connects: --check
     * stays off the network, and its log stays quiet. */
    memcpy(&quiet, o, sizeof(quiet));
    quiet.brokers = NULL;
    rc = kafka_conf_build(&conf, &quiet, producer, NULL, err, cap);
    if (rc)
        return rc;
    rd_kafka_conf_set_log_cb(conf, log_none);
    /* rd_kafka_new checks what conf_set cannot (e.g. properties that
     * exclude each other, files named by properties). */
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, cap, "kafka: %s", why);
        for (size_t i = 0; i < o->nprops; i++) {
            if (lsl_kafka_prop_secret(o->props[i].name) &&
                o->props[i].value[0] && strstr(why, o->props[i].value))
                snprintf(err, cap,
                         "kafka: librdkafka refused the "
                         "configuration (message withheld: it "
                         "held a secret)");
        }
        return LSL_ECONFIG;
    }
    rd_kafka_destroy(rk);
    return 0;
}

int kafka_errno(const rd_kafka_error_t *e)
{
    rd_kafka_resp_err_t code = rd_kafka_error_code(e);

    if (code == RD_KAFKA_RESP_ERR__FENCED ||
        code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
        code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH ||
        code == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED ||
        code == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
        return -EPERM;
    if (rd_kafka_error_is_fatal(e))
        return -ENOTRECOVERABLE;
    return -EAGAIN;
}

int lsl_kafka_url_parse(const char *url, char *brokers, size_t bcap,
                        char *topic, size_t tcap)
{
    const char *p, *slash;
    size_t blen, tlen;

    if (strncmp(url, "kafka://", 8) != 0)
        return -EINVAL;
    p = url + 8;
    slash = strchr(p, '/');
    if (!slash)
        return -EINVAL;
    blen = (size_t)(slash - p);
    tlen = strlen(slash + 1);
    if (blen == 0 || tlen == 0 || blen >= bcap || tlen >= tcap ||
        strchr(slash + 1, '/'))
        return -EINVAL;
    memcpy(brokers, p, blen);
    brokers[blen] = '\0';
    memcpy(topic, slash + 1, tlen + 1);
    return 0;
}
