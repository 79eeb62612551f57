/* Private to batch processing: the worker and the line transform. */
#ifndef LSL_BATCH_INTERNAL_H
#define LSL_BATCH_INTERNAL_H

#include <zlib.h>
#include "logseal/batch.h"

struct lsl_worker {
    struct lsl_matcher *m;
    struct lsl_tokenizer *tz;
    const struct lsl_keyring *kr; /* borrowed */
    struct lsl_buf scratch; /* dashed-address rewrite */
    z_stream zs;
    bool zs_ready;
    int gzip_level;
};

/* Pseudonymize one line into b->out and count it in b->st. */
LSL_MUST_CHECK int lsl_line_transform(struct lsl_worker *w,
                                      struct lsl_batch *b,
                                      const struct lsl_line *ln);

/* Compress `in` as one complete gzip member into `out`. */
LSL_MUST_CHECK int lsl_worker_deflate(struct lsl_worker *w,
                                      const struct lsl_buf *in,
                                      struct lsl_buf *out);

#endif
