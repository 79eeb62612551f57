/*
 * logseal — the daemon's configuration file.
 *
 * INI-style, one `key = value` per line, '#' comments, sections:
 *
 *   [daemon]
 *   keys         = /etc/logseal/keys        # hash.key + vault.pub
 *   vault        = /var/lib/logseal/vault
 *   state        = /var/lib/logseal/state   # checkpoints
 *   output       = /var/log/logseal         # segments: OUTDIR/<source>/...
 *   level        = 6                        # gzip level 1-9
 *   segment_size = 64M                      # close a segment at this size
 *   segment_age  = 5m                       # ... or this age
 *   metrics      = 127.0.0.1:9187           # Prometheus endpoint ("" = off)
 *   log_level    = info                     # error|warning|info|debug
 *   format       = text                     # text | jsonl (batch.h)
 *   ip_mode      = ip6                      # every address, all rules:
 *                                           #   token|ip6|prefix|
 *                                           #   truncate[/B4[,B6]]
 *   unparsed     = scrub                    # scrub | redact | drop
 *   columns      = canonical                # canonical | source (jsonl)
 *   timezone     = Z                        # offset of zone-less times
 *   host         = edge-1                   # host id (file.h), default
 *                                           #   the hostname
 *   layout       = hive                     # default | hive (sink.h)
 *   stop_timeout = 1m                       # a drain that takes longer
 *                                           #   ends as a second signal
 *                                           #   would (default: none)
 *
 *   [source nginx]                          # name: [A-Za-z0-9_.-]+
 *   type  = tail                            # tail | stdin | syslog
 *   path  = /var/log/nginx/access.log       # tail: a path or a glob
 *   start = end                             # tail, first run: end|beginning
 *   rotate_wait = 1s                        # tail: idle time before leaving
 *                                           #   a rotated file (ms, s, m)
 *   listen = unix:/run/logseal/nginx.sock   # syslog: unix:PATH or
 *                                           #   udp:127.0.0.1:PORT
 *   rule  = nginx-combined                  # NAME or path of a .rules file
 *   sink  = segments                        # segments | stdout | kafka
 *
 *   [kafka]                                 # for sources with sink = kafka
 *   brokers = k1:9093,k2:9093               # bootstrap servers
 *   topic   = logs.{source}                 # {source}, {host} replaced
 *   checkpoint_topic = logseal.checkpoints  # compacted; default this
 *   key     = host/source                   # host/source|source|host|none
 *   timeout = 10s                           # per broker round trip
 *   kafka.security.protocol = SASL_SSL      # any librdkafka property
 *
 * Unknown sections or keys, bad values, duplicate source names, a syslog
 * listener on a non-loopback address: refused with file, line and key.
 * Plain functions on buffers: no libuv.
 *
 * Details: values may be written "quoted" (no escapes); a '#' after whitespace
 * starts a comment. Paths must be absolute. Sizes are bytes or N with K, M or
 * G (powers of 1024); durations are seconds or N with s, m, h or d. `format`
 * (default text: the source's layout) and `ip_mode` (default: what each rule
 * says) are those of `logseal pipe --format` and `--ip-mode`, for every
 * source. `keys`, `vault` and `state` are required, `output` when a source
 * writes segments. `metrics` takes 127.x.x.x:PORT or [::1]:PORT. A source
 * needs `type`; tail needs `path`, syslog `listen`; keys of another type are
 * refused; at most one stdin source. Without `rule` a source's lines all go to
 * the scrubber (counted as unparsed). Each key at most once per section;
 * [daemon] and [kafka] at most once. A source with sink = kafka needs
 * [kafka] brokers and topic; `kafka.NAME` keys are kept for librdkafka,
 * which validates them (lsl_kafka_check); `format` applies to Kafka
 * messages as to segments.
 */
#ifndef LOGSEAL_CONFIG_H
#define LOGSEAL_CONFIG_H

#include <limits.h>
#include "logseal/batch.h"
#include "logseal/common.h"
#include "logseal/file.h"

enum lsl_source_type { LSL_SRC_TAIL, LSL_SRC_STDIN, LSL_SRC_SYSLOG };
enum lsl_sink_type { LSL_SINK_SEGMENTS, LSL_SINK_STDOUT, LSL_SINK_KAFKA };

/* A `kafka.NAME = value` line of [kafka]: owned strings (the value is
 * wiped at free: it may be a password). */
struct lsl_config_prop {
    char *name; /* without "kafka." */
    char *value;
    unsigned line;
};

struct lsl_kafka_conf {
    char brokers[1024];
    char topic[256];
    char checkpoint_topic[256]; /* "" = the sink's default */
    uint8_t key;                /* enum lsl_kafka_key (kafka.h) */
    unsigned timeout_ms;        /* 0 = the sink's default */
    struct lsl_config_prop *props;
    size_t nprops;
    unsigned line; /* of the [kafka] header, 0 if none */
};

struct lsl_source_conf {
    char name[64];
    enum lsl_source_type type;
    char path[PATH_MAX];     /* tail */
    bool start_at_end;       /* tail */
    unsigned rotate_wait_ms; /* tail; 0: the default (source.h) */
    char listen[PATH_MAX];   /* syslog, as written */
    char rule[PATH_MAX];
    enum lsl_sink_type sink;
    unsigned line; /* where the section starts, for messages */
};

struct lsl_config {
    char path[PATH_MAX];
    char keys[PATH_MAX];
    char vault[PATH_MAX];
    char state[PATH_MAX];
    char output[PATH_MAX];
    int level;
    uint64_t segment_size;       /* bytes */
    uint64_t segment_age;        /* seconds */
    char metrics[128];           /* host:port or "" */
    int log_level;               /* enum lsl_log_level */
    uint8_t format;              /* enum lsl_out_format */
    uint8_t unparsed;            /* enum lsl_unparsed */
    uint8_t columns;             /* enum lsl_columns */
    int64_t zone;                /* timezone: seconds east of UTC */
    struct lsl_ip_override ip;   /* ip_mode; .on false: as the rules say */
    char host[LSL_HOST_MAX + 1]; /* host id: the key, else the hostname */
    uint8_t layout;              /* enum lsl_layout (sink.h) */
    uint64_t stop_timeout;       /* seconds; 0: a drain waits for output */
    struct lsl_source_conf *sources;
    size_t nsources;
    struct lsl_kafka_conf kafka;
};

/* Errors kept of one file; more are counted, not kept. */
#define LSL_CONFIG_ERRORS_MAX 16

/*
 * Every mistake of a file, each message complete: "FILE:LINE: key 'K':
 * what was expected". `line` and `msg` repeat the first one.
 */
struct lsl_config_error {
    unsigned line; /* of the first error; 0 if not line-specific */
    char msg[512];
    unsigned count; /* errors found (may exceed `kept`) */
    unsigned kept;  /* of them in list[] */
    struct {
        unsigned line;
        char msg[512];
    } list[LSL_CONFIG_ERRORS_MAX];
};

/*
 * Parse config text; `path` names it in errors. A mistake does not stop
 * the parse: the rest of the file is read and every error reported in
 * `e` (a bad section header skips the keys under it). Owned:
 * lsl_config_free.
 */
LSL_MUST_CHECK int lsl_config_parse(struct lsl_config **out, const char *path,
                                    const char *text, size_t len,
                                    struct lsl_config_error *e);

/* Read and parse a file. LSL_ECONFIG (with e) or -errno. */
LSL_MUST_CHECK int lsl_config_load(struct lsl_config **out, const char *path,
                                   struct lsl_config_error *e);

void lsl_config_free(struct lsl_config *c); /* NULL-safe */

/*
 * The keys the parser knows, in table order, for documentation checks:
 * the name of key `i` and its section ("daemon", "source" or "kafka"), or NULL
 * past the last key.
 */
const char *lsl_config_key(size_t i, const char **section);

/*
 * Split a loopback listener "127.x.x.x:PORT" (or, with allow_v6,
 * "[::1]:PORT") into host text and port. 0 or LSL_ECONFIG.
 */
LSL_MUST_CHECK int lsl_config_loopback(const char *s, bool allow_v6, char *host,
                                       size_t cap, unsigned *port);

#endif
