/*
 * logseal — batches: the unit of work of the pipeline.
 *
 * A batch holds a run of input lines from one source, and after processing
 * on a worker, their pseudonymized text (plain and/or as one gzip member),
 * the mappings its tokens need in the vault, and counters. The loop thread
 * builds it (lsl_batch_add_line), a worker processes it (lsl_batch_process),
 * the commit stage writes vault entries then output, then the source may
 * checkpoint `pos`. No libuv here.
 */
#ifndef LOGSEAL_BATCH_H
#define LOGSEAL_BATCH_H

#include "logseal/buf.h"
#include "logseal/rules.h"
#include "logseal/token.h"

enum {
    LSL_LINE_PIECE = 1, /* a piece of an overlong line: no newline follows */
    LSL_LINE_NOEOL = 2, /* last line of the input had no newline */
    LSL_LINE_TAIL = 4,  /* the last piece of an overlong line */
};

struct lsl_line {
    uint32_t off;
    uint32_t len; /* without "\n" */
    uint32_t flags;
};

struct lsl_batch_stats {
    uint64_t lines_in;
    uint64_t lines_out;
    uint64_t parsed;
    uint64_t unparsed;
    uint64_t meta;       /* of parsed: header lines that hold no record
                          * (W3C '#' lines, lsl_plan.meta); JSON lines
                          * output writes no row for them */
    uint64_t limit_hits; /* rule hit a PCRE2 limit: scrubbed instead */
    uint64_t redacted;   /* of unparsed: written as a marker (--unparsed) */
    uint64_t dropped;    /* of unparsed: not written (--unparsed drop) */
    uint64_t overlong;   /* lines cut into pieces */
    uint64_t binary;     /* lines with NUL bytes or invalid UTF-8 */
    uint64_t noeol;      /* final line without newline (one was added) */
    uint64_t tokens;     /* identifiers replaced */
    uint64_t late;       /* lines older than the oldest key epoch held:
                          * tokenized with that key (token.h) */
    uint64_t bytes_in;
    uint64_t bytes_out; /* plain bytes of pseudonymized text */
};

/* Where the batch ends in its source (meaning is the source's). */
struct lsl_pos {
    uint64_t file_id;
    uint64_t offset;
};

struct lsl_batch {
    uint64_t seq;                /* pipeline-wide order */
    void *source;                /* opaque owner */
    struct lsl_batch *next;      /* the owner's list of spare batches */
    const struct lsl_rule *rule; /* borrowed; NULL = scrubber only */
    /* The header line in force at the batch's first line (W3C "#Fields:",
     * see lsl_rule_is_header), copied on the loop thread; empty if none. */
    struct lsl_buf header;
    int64_t arrival; /* unix s: time for lines without a time */
    struct lsl_pos pos;

    struct lsl_buf in; /* raw bytes */
    struct lsl_line *lines;
    size_t nlines, lines_cap;

    struct lsl_buf out;       /* pseudonymized text */
    struct lsl_buf gz;        /* out as one gzip member (if asked) */
    struct lsl_mapping *maps; /* values point into map_arena */
    size_t nmaps;
    struct lsl_buf map_arena;
    int64_t min_time, max_time; /* of line times, for segment naming */
    int64_t first_time;         /* the first line's: the rule's time, else the
                                 * arrival; dates the batch's segment */

    struct lsl_batch_stats st;
    int error; /* processing failure (-ENOMEM): nothing of it is written */
};

/* How batches are written out. */
enum lsl_out_format {
    LSL_OUT_TEXT = 0, /* the source's format, spans replaced */
    LSL_OUT_JSONL,    /* one JSON object per line (see src/pipeline/jsonl.c) */
};

/*
 * A pipeline-wide rendering for every ip span, overriding what the rules
 * say (span.mode/bits): for rules that say nothing, or one policy for all.
 */
struct lsl_ip_override {
    bool on;
    uint8_t mode;  /* enum lsl_ip_mode */
    uint8_t bits4; /* LSL_IPMODE_TRUNCATE: IPv4 prefix kept, 0 = default */
    uint8_t bits6; /* the same for IPv6 */
};

/*
 * Parse an ip mode as `pipe --ip-mode` and the config key `ip_mode` take
 * it: token | ip6 | prefix | truncate[/B4[,B6]] (B4 1-32 for IPv4 and,
 * with one number, for IPv6 too; B6 1-128). A count beyond a family's
 * width is refused: it would keep that family's addresses whole. Sets *ip
 * (on) and returns 0, or returns -EINVAL and leaves *ip as it was.
 */
LSL_MUST_CHECK int lsl_ip_override_parse(const char *s,
                                         struct lsl_ip_override *ip);

/*
 * What becomes of a line no rule matched (and of the pieces of an overlong
 * line): scrubbed with what the rule knows and written (default), written
 * as a fixed marker that gives only its length, or not written; all three
 * counted (lsl_batch_stats unparsed, redacted, dropped).
 */
enum lsl_unparsed {
    LSL_UNPARSED_SCRUB = 0,
    LSL_UNPARSED_REDACT,
    LSL_UNPARSED_DROP,
};

/* Parse "scrub", "redact" or "drop" into *mode. 0 or -EINVAL (kept). */
LSL_MUST_CHECK int lsl_unparsed_parse(const char *s, uint8_t *mode);

/*
 * JSON lines' column names: the shared ones each shipped rule maps its
 * fields to (`canonical` lines: client_ip, time, status, bytes, request,
 * user_agent, ...), so rows of several formats union by name; or each
 * field's name in its source (the group, key or column).
 */
enum lsl_columns {
    LSL_COLUMNS_CANONICAL = 0,
    LSL_COLUMNS_SOURCE,
};

/* Parse "canonical" or "source" into *columns. 0 or -EINVAL (kept). */
LSL_MUST_CHECK int lsl_columns_parse(const char *s, uint8_t *columns);

/* Parse "text" or "jsonl" into *format. 0 or -EINVAL (*format kept). */
LSL_MUST_CHECK int lsl_out_format_parse(const char *s, uint8_t *format);

/* Worker-local state: matcher, tokenizer, gzip compressor. */
struct lsl_worker;

struct lsl_worker_opts {
    const struct lsl_keyring *keyring; /* borrowed */
    int gzip_level;                    /* 0: no gzip member */
    size_t cache_entries;
    struct lsl_ip_override ip;
    uint8_t format;   /* enum lsl_out_format */
    uint8_t unparsed; /* enum lsl_unparsed */
    uint8_t columns;  /* enum lsl_columns */
    int64_t zone;     /* seconds east of UTC of times written without a zone */
    const struct lsl_stoplist *stop; /* borrowed, may be NULL */
};

LSL_MUST_CHECK int lsl_worker_open(struct lsl_worker **out,
                                   const struct lsl_worker_opts *o);
void lsl_worker_close(struct lsl_worker *w); /* NULL-safe */

LSL_MUST_CHECK int lsl_batch_open(struct lsl_batch **out);
/* Empty the batch for reuse (keeps memory, wipes the input and mapping
 * values: the originals). */
void lsl_batch_clear(struct lsl_batch *b);
/* Wipe (it holds originals) and free. NULL-safe. */
void lsl_batch_free(struct lsl_batch *b);

/* Append one line (bytes without the newline). 0 or -ENOMEM. */
LSL_MUST_CHECK int lsl_batch_add_line(struct lsl_batch *b, const char *p,
                                      size_t len, uint32_t flags);

/*
 * Pseudonymize every line into b->out (and b->gz), collect mappings and
 * counters. Thread-safe for distinct batches and workers.
 * 0 or -ENOMEM (also stored in b->error).
 */
LSL_MUST_CHECK int lsl_batch_process(struct lsl_batch *b, struct lsl_worker *w);

/* Add `src` counters to `dst`. */
void lsl_batch_stats_add(struct lsl_batch_stats *dst,
                         const struct lsl_batch_stats *src);

/*
 * Log one line of a source's counters (SIGUSR1, in `run` and `pipe`):
 * "counters: source NAME: lines_in N lines_out N ... lag_bytes N".
 */
void lsl_batch_stats_log(const char *source, const struct lsl_batch_stats *st,
                         uint64_t lag_bytes);

#endif
