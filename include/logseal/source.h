/*
 * logseal — sources. Each embeds struct lsl_source (pipeline.h) and reads
 * on the libuv loop; reading pauses while the pipeline is busy.
 */
#ifndef LOGSEAL_SOURCE_H
#define LOGSEAL_SOURCE_H

#include "logseal/pipeline.h"

struct lsl_fd_source;

/*
 * Read `fd` (stdin, a pipe, a file) to its end with uv_fs_read, which
 * works for every kind of descriptor. on_done(src, err, ud) runs on the
 * loop thread once every line is committed (err 0) or reading failed
 * (err < 0, logged). The source takes `fd` and closes it unless it is 0.
 */
struct lsl_fd_source_opts {
    int fd;
    const char *name;            /* for messages and vault records */
    const struct lsl_rule *rule; /* borrowed */
    struct lsl_sink *sink;       /* borrowed */
    size_t read_size;
    void (*on_done)(struct lsl_fd_source *src, int err, void *ud);
    void *ud;
};

LSL_MUST_CHECK int lsl_fd_source_open(struct lsl_fd_source **out,
                                      struct lsl_pipeline *pl,
                                      const struct lsl_fd_source_opts *o);

/* Start reading. 0 or negative code. */
LSL_MUST_CHECK int lsl_fd_source_start(struct lsl_fd_source *src);

/* Detach and free (after on_done, or once the loop has stopped). */
void lsl_fd_source_close(struct lsl_fd_source *src);

/* Committed counters of this source. */
const struct lsl_batch_stats *
lsl_fd_source_stats(const struct lsl_fd_source *src);

#endif
