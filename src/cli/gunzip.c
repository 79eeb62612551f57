/*
 * gzip input for `pipe`: a thread inflates the compressed descriptor into
 * a pipe. Members follow one another (multi-member files: rotated logs
 * concatenated, or logseal's own output); after a member's end the next
 * bytes must start another member, so trailing junk is an error rather
 * than silently dropped input. The thread blocks every signal, so signal
 * handlers run on the main thread.
 *
 * Invariants: the thread owns in_fd (unless it is standard input) and the
 * pipe's write end and closes them when it ends (the reader then sees end
 * of input); `err` and
 * `err_at` are written by the thread only, read after the join.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "gunzip_internal.h"
#include "logseal/file.h"
#include "logseal/log.h"

#define IN_BYTES  (64u << 10)
#define OUT_BYTES (256u << 10)

struct lsl_gunzip {
    pthread_t thread;
    int in_fd;
    int out_fd;
    unsigned char head[2];
    size_t head_len;
    atomic_uint_least64_t consumed;
    int err;
    uint64_t err_at; /* compressed offset of the damage */
    char detail[128];
};

bool lsl_gunzip_magic(const void *head, size_t len)
{
    const unsigned char *h = head;

    return len >= 2 && h[0] == 0x1f && h[1] == 0x8b;
}

/* Inflate what z holds; write the text out. */
static int inflate_some(struct lsl_gunzip *g, z_stream *z, unsigned char *out,
                        bool *member_end)
{
    int zr, rc = 0;

    do {
        z->next_out = out;
        z->avail_out = OUT_BYTES;
        zr = inflate(z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
            snprintf(g->detail, sizeof(g->detail), "%s",
                     z->msg ? z->msg : "not gzip data");
            return LSL_ECORRUPT;
        }
        rc = lsl_write_all(g->out_fd, out, OUT_BYTES - z->avail_out);
        if (zr == Z_STREAM_END) {
            *member_end = true;
            return rc;
        }
    } while (rc == 0 && z->avail_out == 0);
    return rc;
}

/* The next member must start where the last ended (input in z). */
static int next_member(struct lsl_gunzip *g, z_stream *z)
{
    if (z->avail_in >= 1 && z->next_in[0] != 0x1f) {
        snprintf(g->detail, sizeof(g->detail),
                 "bytes after a gzip member are not another member");
        return LSL_ECORRUPT;
    }
    return inflateReset(z) == Z_OK ? 0 : -ENOMEM;
}

static int run(struct lsl_gunzip *g, z_stream *z, unsigned char *in,
               unsigned char *out)
{
    bool member_end = false, in_member = true;
    uint64_t at = 0;
    ssize_t n;
    int rc = 0;

    memcpy(in, g->head, g->head_len);
    n = (ssize_t)g->head_len;
    for (;;) {
        if (n < 0 && errno == EINTR) {
            n = read(g->in_fd, in, IN_BYTES);
            continue;
        }
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        at += (uint64_t)n;
        atomic_store(&g->consumed, at);
        z->next_in = in;
        z->avail_in = (uInt)n;
        while (rc == 0 && z->avail_in > 0) {
            if (member_end) {
                rc = next_member(g, z);
                member_end = false;
                in_member = true;
            }
            if (rc == 0)
                rc = inflate_some(g, z, out, &member_end);
            in_member = in_member && !member_end;
            g->err_at = at - z->avail_in;
        }
        if (rc)
            return rc;
        n = read(g->in_fd, in, IN_BYTES);
    }
    if (in_member) {
        g->err_at = at;
        snprintf(g->detail, sizeof(g->detail), "the last member ends early");
        return LSL_ETRUNC;
    }
    return 0;
}

static void *thread_main(void *arg)
{
    struct lsl_gunzip *g = arg;
    unsigned char *in = malloc(IN_BYTES), *out = malloc(OUT_BYTES);
    z_stream z;

    memset(&z, 0, sizeof(z));
    if (!in || !out || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        g->err = -ENOMEM;
    else
        g->err = run(g, &z, in, out);
    inflateEnd(&z);
    free(in);
    free(out);
    close(g->out_fd);
    /* Standard input stays open: fd 0 must not be handed out again. */
    if (g->in_fd != STDIN_FILENO)
        close(g->in_fd);
    return NULL;
}

int lsl_gunzip_start(struct lsl_gunzip **out, int in_fd, const void *head,
                     size_t len, int *read_fd)
{
    struct lsl_gunzip *g = calloc(1, sizeof(*g));
    sigset_t all, old;
    int p[2], rc;

    if (!g)
        return -ENOMEM;
    if (len > sizeof(g->head) || pipe2(p, O_CLOEXEC) < 0) {
        free(g);
        return len > sizeof(g->head) ? -EINVAL : -errno;
    }
    memcpy(g->head, head, len);
    g->head_len = len;
    g->in_fd = in_fd;
    g->out_fd = p[1];
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = -pthread_create(&g->thread, NULL, thread_main, g);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        close(p[0]);
        close(p[1]);
        free(g);
        return rc;
    }
    *read_fd = p[0];
    *out = g;
    return 0;
}

uint64_t lsl_gunzip_consumed(const struct lsl_gunzip *g)
{
    return atomic_load(&g->consumed);
}

int lsl_gunzip_finish(struct lsl_gunzip *g, const char *name)
{
    int rc;

    if (!g)
        return 0;
    pthread_join(g->thread, NULL);
    rc = g->err;
    if (rc == LSL_ECORRUPT || rc == LSL_ETRUNC)
        lsl_log_error("%s: gzip input %s at compressed byte %llu: %s; the "
                      "lines before it were written",
                      name, rc == LSL_ETRUNC ? "cut short" : "damaged",
                      (unsigned long long)g->err_at, g->detail);
    else if (rc && rc != -EPIPE)
        lsl_log_error("%s: cannot decompress the input: %s", name,
                      lsl_strerror(rc));
    free(g);
    return rc == -EPIPE ? 0 : rc;
}
