/*
 * The [kafka] section's values that need more than a string copy: the
 * message key mode and the librdkafka pass-through properties. Property
 * values may be passwords: they are kept in memory wiped at free and never
 * put in a message (librdkafka judges them: lsl_kafka_check).
 */
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "config_internal.h"
#include "logseal/kafka.h"

int lsl_config_kafka_key(const char *v, uint8_t *out)
{
    static const char *const names[] = {"host/source", "source", "host",
                                        "none"};

    for (size_t i = 0; i < LSL_ARRAY_SIZE(names); i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = (uint8_t)i;
            return 0;
        }
    }
    return LSL_ECONFIG;
}

int lsl_config_kafka_prop(struct lsl_kafka_conf *k, const char *name,
                          const char *value, unsigned line, unsigned *first)
{
    struct lsl_config_prop *all, *p;

    *first = 0;
    if (!name[0])
        return LSL_ECONFIG;
    for (const char *c = name; *c; c++) {
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-')
            return LSL_ECONFIG;
    }
    for (size_t i = 0; i < k->nprops; i++) {
        if (strcmp(k->props[i].name, name) == 0) {
            *first = k->props[i].line;
            return LSL_ECONFIG;
        }
    }
    all = realloc(k->props, (k->nprops + 1) * sizeof(*all));
    if (!all)
        return -ENOMEM;
    k->props = all;
    p = &all[k->nprops];
    p->name = strdup(name);
    p->value = strdup(value);
    p->line = line;
    if (!p->name || !p->value) {
        free(p->name);
        free(p->value);
        return -ENOMEM;
    }
    k->nprops++;
    return 0;
}

void lsl_config_kafka_free(struct lsl_kafka_conf *k)
{
    for (size_t i = 0; i < k->nprops; i++) {
        sodium_memzero(k->props[i].value, strlen(k->props[i].value));
        free(k->props[i].value);
        free(k->props[i].name);
    }
    free(k->props);
    k->props = NULL;
    k->nprops = 0;
}
