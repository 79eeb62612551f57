/*
 * logseal — cuts a byte stream into lines for batches.
 *
 * Bytes after the last newline are carried until more arrive. A line longer
 * than max_line is cut into pieces (LSL_LINE_PIECE ... LSL_LINE_TAIL) so
 * memory stays bounded; cuts fall on a byte that cannot be inside an
 * identifier where one is near, so an address is not split in two. Pieces
 * are scrubbed, not rule-matched, and rejoined in the output: one input
 * line is still one output line.
 */
#ifndef LOGSEAL_SPLITTER_H
#define LOGSEAL_SPLITTER_H

#include "logseal/batch.h"

#define LSL_MAX_LINE_DEFAULT (64 * 1024)

struct lsl_splitter {
    struct lsl_buf carry; /* bytes of an unfinished line */
    size_t max_line;
    bool in_piece; /* carry continues an overlong line */
};

void lsl_splitter_init(struct lsl_splitter *sp, size_t max_line);

/* Wipe and free the carry. */
void lsl_splitter_free(struct lsl_splitter *sp);

/*
 * Add the complete lines of carry + data[0..len) to batch `b`; keep the
 * rest. 0 or -ENOMEM (lines added before the failure stay in `b`).
 */
LSL_MUST_CHECK int lsl_splitter_feed(struct lsl_splitter *sp,
                                     struct lsl_batch *b, const char *data,
                                     size_t len);

/* End of input: a carried partial line goes out with LSL_LINE_NOEOL. */
LSL_MUST_CHECK int lsl_splitter_finish(struct lsl_splitter *sp,
                                       struct lsl_batch *b);

/* Bytes carried (not yet in any batch). */
static inline size_t lsl_splitter_pending(const struct lsl_splitter *sp)
{
    return sp->carry.len;
}

#endif
