/* Private to the configuration parser (config.c, config_keys.c,
 * config_kafka.c). */
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

/* Keys by their place in the table; the checks name some of them. */
enum {
    K_KEYS,
    K_VAULT,
    K_STATE,
    K_OUTPUT,
    K_LEVEL,
    K_SEGMENT_SIZE,
    K_SEGMENT_AGE,
    K_METRICS,
    K_LOG_LEVEL,
    K_TYPE,
    K_PATH,
    K_START,
    K_LISTEN,
    K_RULE,
    K_SINK,
    K_FORMAT,
    K_IP_MODE,
    K_ROTATE_WAIT,
    K_UNPARSED,
    K_COLUMNS,
    K_TIMEZONE,
    K_HOST,
    K_LAYOUT,
    K_STOP_TIMEOUT,
    K_BROKERS,
    K_TOPIC,
    K_CHECKPOINT_TOPIC,
    K_KEY,
    K_TIMEOUT,
    K_COUNT
};

/* SECT_SKIP: under a section header that was refused; its keys are not
 * checked (each would only repeat that error). */
enum sect { SECT_NONE, SECT_DAEMON, SECT_SOURCE, SECT_SKIP, SECT_KAFKA };

struct parser;

/* One word a key of a closed set of values takes, and what it stores. */
struct key_word {
    const char *word; /* NULL ends a list */
    int value;
};

struct key_def {
    const char *name;
    enum sect sect;
    int (*set)(struct parser *p, const struct key_def *k, const char *v);
    size_t off; /* field offset in lsl_config or lsl_source_conf */
    size_t cap; /* the field's size (string fields: of the array) */
    const struct key_word *words; /* a word key's values */
};

struct parser {
    struct lsl_config *c;
    struct lsl_config_error *e;
    const char *path;
    unsigned line;
    enum sect sect;
    unsigned daemon_line;
    unsigned seen[K_COUNT]; /* line of each key in the current section */
};

/* Record one error (the parse goes on); returns LSL_ECONFIG. */
int lsl_config_fail(struct parser *p, const char *fmt, ...) LSL_PRINTF(2, 3);

/* The [source NAME] section being read. */
struct lsl_source_conf *lsl_config_cur_source(struct parser *p);

/* `kafka.NAME = v` in [kafka]; its value is never put in a message. */
int lsl_config_set_kafka_prop(struct parser *p, const char *name,
                              const char *v);

/* Every key, indexed by K_*. */
extern const struct key_def lsl_config_keys[K_COUNT];

#endif
