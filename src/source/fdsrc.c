/*
 * A source reading one descriptor to its end. One read is in flight at a
 * time; the next is issued when the previous is fed and the pipeline is
 * not busy, so memory stays bounded by batch size times max_inflight.
 *
 * A pipe or socket is read as a libuv stream (non-blocking, stopped at
 * once by lsl_fd_source_stop), so a drain never waits for a writer that
 * has gone quiet; a file or terminal by uv_fs_read on the thread pool,
 * where a read always returns. The stream reads a copy of the descriptor
 * (stdin stays open for the source that replaces this one on a reload)
 * and its handle closes asynchronously: lsl_fd_source_close then frees
 * the source from the close callback, so its owner must run the loop
 * once more (both owners do).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>
#include "logseal/log.h"
#include "logseal/source.h"

struct lsl_fd_source {
    struct lsl_source base;
    struct lsl_fd_source_opts o;
    uv_fs_t req;
    uv_pipe_t pipe;
    bool stream;    /* reads come from `pipe` (a pipe or socket) */
    bool pipe_open; /* `pipe` was initialized: close it, free later */
    char *buf;
    uint64_t offset;
    bool reading;
    bool stopping; /* lsl_fd_source_stop: end input after this read */
    bool done;
    int err; /* first read failure, reported once drained */
};

static void read_next(struct lsl_fd_source *src);

static void finish(struct lsl_fd_source *src, int err)
{
    if (src->done)
        return;
    src->done = true;
    if (src->o.on_done)
        src->o.on_done(src, err, src->o.ud);
}

static void stop_stream(struct lsl_fd_source *src)
{
    if (src->stream && src->reading) {
        uv_read_stop((uv_stream_t *)&src->pipe);
        src->reading = false;
    }
}

/*
 * End input here: batches already read are committed first, then on_done
 * reports `err`. Calling finish() directly would let the owner free the
 * source while its batches are still in the pipeline.
 */
static void end_input(struct lsl_fd_source *src, int err)
{
    int rc;

    stop_stream(src);
    if (err && !src->err)
        src->err = err;
    if (src->base.eof)
        return;
    rc = err ? lsl_source_stop(&src->base) : lsl_source_eof(&src->base);
    if (rc)
        finish(src, rc);
}

/* n bytes arrived in src->buf (0: end of input, < 0: an error). */
static void got(struct lsl_fd_source *src, ssize_t n)
{
    struct lsl_pos after;
    int rc;

    if (n < 0) {
        lsl_log_error("%s: read failed at byte %llu: %s", src->base.name,
                      (unsigned long long)src->offset, uv_strerror((int)n));
        end_input(src, (int)n);
        return;
    }
    if (n == 0) {
        end_input(src, 0);
        return;
    }
    src->offset += (uint64_t)n;
    after = (struct lsl_pos){0, src->offset};
    rc = lsl_source_feed(&src->base, src->buf, (size_t)n, &after);
    if (rc) {
        lsl_log_error("%s: cannot buffer input at byte %llu: %s",
                      src->base.name, (unsigned long long)src->offset,
                      lsl_strerror(rc));
        end_input(src, rc);
        return;
    }
    read_next(src);
}

static void read_cb(uv_fs_t *req)
{
    struct lsl_fd_source *src = req->data;
    ssize_t n = req->result;

    uv_fs_req_cleanup(req);
    src->reading = false;
    got(src, n);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct lsl_fd_source *src = h->data;

    (void)hint;
    *b = uv_buf_init(src->buf, (unsigned)src->o.read_size);
}

static void stream_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    if (n != 0) /* 0: nothing to read right now */
        got(s->data, n == UV_EOF ? 0 : n);
}

static int start_read(struct lsl_fd_source *src)
{
    uv_buf_t b = uv_buf_init(src->buf, (unsigned)src->o.read_size);

    if (src->stream)
        return uv_read_start((uv_stream_t *)&src->pipe, alloc_cb, stream_cb);
    return uv_fs_read(lsl_pipeline_loop(src->base.pl), &src->req, src->o.fd, &b,
                      1, -1, read_cb);
}

static void read_next(struct lsl_fd_source *src)
{
    int rc;

    if (src->done || src->base.eof)
        return;
    if (src->stopping) {
        stop_stream(src);
        if (!src->reading)
            end_input(src, 0);
        return;
    }
    if (lsl_pipeline_busy(src->base.pl)) {
        stop_stream(src);
        return;
    }
    if (src->reading)
        return;
    src->reading = true;
    rc = start_read(src);
    if (rc) {
        src->reading = false;
        lsl_log_error("%s: cannot read: %s", src->base.name, uv_strerror(rc));
        end_input(src, rc);
    }
}

static void fd_pause(struct lsl_source *s)
{
    stop_stream((struct lsl_fd_source *)s);
}

static void fd_resume(struct lsl_source *s)
{
    read_next((struct lsl_fd_source *)s);
}

static void fd_drained(struct lsl_source *s)
{
    struct lsl_fd_source *src = (struct lsl_fd_source *)s;

    finish(src, src->err);
}

static const struct lsl_source_ops fd_ops = {
    .pause = fd_pause,
    .resume = fd_resume,
    .drained = fd_drained,
};

int lsl_fd_source_open(struct lsl_fd_source **out, struct lsl_pipeline *pl,
                       const struct lsl_fd_source_opts *o)
{
    struct lsl_fd_source *src = calloc(1, sizeof(*src));
    int rc;

    if (!src)
        return -ENOMEM;
    src->o = *o;
    if (!src->o.read_size)
        src->o.read_size = 1u << 20;
    src->buf = malloc(src->o.read_size);
    if (!src->buf) {
        free(src);
        return -ENOMEM;
    }
    src->req.data = src;
    src->base.ops = &fd_ops;
    snprintf(src->base.name, sizeof(src->base.name), "%s", o->name);
    src->base.rule = o->rule;
    src->base.sink = o->sink;
    rc = lsl_source_attach(pl, &src->base);
    if (rc) {
        free(src->buf);
        free(src);
        return rc;
    }
    *out = src;
    return 0;
}

int lsl_fd_source_start(struct lsl_fd_source *src)
{
    struct lsl_pos after;
    int rc;

    if (uv_guess_handle(src->o.fd) == UV_NAMED_PIPE) {
        /* On a copy: closing the handle must leave stdin open for the
         * source that replaces this one on a reload. */
        int fd = dup(src->o.fd);

        if (fd < 0)
            return -errno;
        rc = uv_pipe_init(lsl_pipeline_loop(src->base.pl), &src->pipe, 0);
        if (rc) {
            close(fd);
            return rc;
        }
        src->pipe.data = src;
        src->pipe_open = true;
        rc = uv_pipe_open(&src->pipe, fd);
        if (rc) {
            close(fd);
            return rc;
        }
        src->stream = true;
    }
    /* Bytes read ahead (an input sample) come first, so none is lost. */
    if (src->o.prefix_len > 0) {
        src->offset = src->o.prefix_len;
        after = (struct lsl_pos){0, src->offset};
        rc = lsl_source_feed(&src->base, src->o.prefix, src->o.prefix_len,
                             &after);
        if (rc)
            return rc;
    }
    read_next(src);
    return 0;
}

void lsl_fd_source_stop(struct lsl_fd_source *src)
{
    src->stopping = true;
    read_next(src);
}

static void free_source(struct lsl_fd_source *src)
{
    free(src->buf);
    free(src);
}

static void pipe_closed(uv_handle_t *h)
{
    free_source(h->data);
}

void lsl_fd_source_close(struct lsl_fd_source *src)
{
    if (!src)
        return;
    lsl_source_detach(&src->base);
    if (src->o.fd > 0)
        close(src->o.fd);
    if (src->pipe_open) {
        /* The handle owns its copy of the descriptor once opened. */
        uv_close((uv_handle_t *)&src->pipe, pipe_closed);
        return;
    }
    free_source(src);
}

const struct lsl_batch_stats *
lsl_fd_source_stats(const struct lsl_fd_source *src)
{
    return &src->base.st;
}
