/* Private to batch processing: the worker and the line transform. */
#ifndef LSL_BATCH_INTERNAL_H
#define LSL_BATCH_INTERNAL_H

#include <libdeflate.h>
#include "logseal/batch.h"

/* Times repeat line after line: the last one parsed is remembered. */
#define LSL_TIME_MEMO_MAX 64

struct lsl_worker {
    struct lsl_matcher *m;
    struct lsl_tokenizer *tz;
    const struct lsl_keyring *kr;
    struct lsl_ip_override ip;
    uint8_t format;                   /* enum lsl_out_format */
    uint8_t unparsed;                 /* enum lsl_unparsed */
    uint8_t columns;                  /* enum lsl_columns */
    int64_t zone;                     /* of times written without one */
    struct lsl_buf scratch;           /* dashed-address rewrite */
    struct lsl_buf unesc;             /* a JSON span unescaped */
    struct lsl_buf field;             /* a JSON field's pseudonymized text */
    struct libdeflate_compressor *dc; /* NULL when gzip_level is 0 */
    int gzip_level;
    /* The batch rule's time format of the remembered time (NULL: none):
     * compared by address, so forgotten when a batch starts. */
    const char *time_fmt;
    size_t time_len;
    char time_text[LSL_TIME_MEMO_MAX];
    int64_t time_value;
};

/* Pseudonymize one line into b->out and count it in b->st. */
LSL_MUST_CHECK int lsl_line_transform(struct lsl_worker *w, struct lsl_batch *b,
                                      const struct lsl_line *ln);

/*
 * Write the replacement of span `s` of `line` (a token, a rendered
 * address, or "-" for a dropped field) to `out`; the text written goes on
 * to line[stop] (the line's or the field's end). An ip6-mode address that
 * a ':' follows there (a port: "192.0.2.1:5678") is written in brackets,
 * "[fd..]:5678", as an IPv6 address with a port must be. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_span_emit(struct lsl_worker *w, const char *line,
                                 size_t stop, const struct lsl_plan_span *s,
                                 int64_t when, struct lsl_buf *out);

/*
 * Write one ip value in `mode` (enum lsl_ip_mode; for truncate the prefix
 * kept, bits[0] for IPv4 and bits[1] for IPv6, 0 the default).
 * `dashed`: the value is written with '-' for '.' inside a host name and
 * its rendering must be too. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_ip_emit(struct lsl_worker *w, const char *v, size_t len,
                               unsigned mode, const uint8_t bits[2],
                               bool dashed, int64_t when, struct lsl_buf *out);

/*
 * One line as a JSON object into b->out (with its newline): the rule's
 * named fields pseudonymized, or the scrubbed line for an unparsed one.
 * `piece`: a piece of an overlong line. 0 or -ENOMEM.
 */
LSL_MUST_CHECK int lsl_jsonl_line(struct lsl_worker *w, struct lsl_batch *b,
                                  const char *line, size_t len,
                                  const struct lsl_plan *plan, int64_t when,
                                  bool piece);

/* Length of the valid UTF-8 sequence at p[0..len) (len > 0), or 0. */
size_t lsl_utf8_seq(const unsigned char *p, size_t len);

/* True if p[0..len) holds a NUL byte or is not valid UTF-8 (lines counted
 * as binary). */
bool lsl_text_is_binary(const unsigned char *p, size_t len);

/* Compress `in` as one complete gzip member into `out`. */
LSL_MUST_CHECK int lsl_worker_deflate(struct lsl_worker *w,
                                      const struct lsl_buf *in,
                                      struct lsl_buf *out);

#endif
