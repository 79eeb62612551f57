/* Private to the configuration parser (config.c, config_kafka.c). */
#ifndef LSL_CONFIG_INTERNAL_H
#define LSL_CONFIG_INTERNAL_H

#include "logseal/config.h"

/* "host/source" | "source" | "host" | "none" -> enum lsl_kafka_key.
 * 0 or LSL_ECONFIG (*out kept). */
int lsl_config_kafka_key(const char *v, uint8_t *out);

/*
 * Keep `kafka.NAME = value` (copied). 0, -ENOMEM, or LSL_ECONFIG: NAME is
 * empty or holds characters no librdkafka property has, or was given
 * before (*first: its line).
 */
int lsl_config_kafka_prop(struct lsl_kafka_conf *k, const char *name,
                          const char *value, unsigned line, unsigned *first);

/* Free the properties (values wiped). */
void lsl_config_kafka_free(struct lsl_kafka_conf *k);

#endif
