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
    /* Bytes already read from fd (a sample for --rule auto), fed before
     * the first read; borrowed until lsl_fd_source_start returns. */
    const char *prefix;
    size_t prefix_len;
    void (*on_done)(struct lsl_fd_source *src, int err, void *ud);
    void *ud;
};

LSL_MUST_CHECK int lsl_fd_source_open(struct lsl_fd_source **out,
                                      struct lsl_pipeline *pl,
                                      const struct lsl_fd_source_opts *o);

/* Start reading. 0 or negative code. */
LSL_MUST_CHECK int lsl_fd_source_start(struct lsl_fd_source *src);

/*
 * Stop reading (daemon drain): a read in flight completes first, then the
 * bytes read so far, a last partial line included, are dispatched as at
 * end of input; on_done runs once they are committed.
 */
void lsl_fd_source_stop(struct lsl_fd_source *src);

/* Detach and free (after on_done, or once the loop has stopped). */
void lsl_fd_source_close(struct lsl_fd_source *src);

/* Committed counters of this source. */
const struct lsl_batch_stats *
lsl_fd_source_stats(const struct lsl_fd_source *src);

/* ---- tail: follow a file (or glob) across rotation ---- */

struct lsl_tail_source;

struct lsl_tail_opts {
    const char *name;                    /* source name: checkpoint file name */
    const char *path;                    /* path or glob */
    const char *state_dir;               /* checkpoints */
    const struct lsl_ckpt_key *ckpt_key; /* seals them; borrowed */
    bool start_at_end;                   /* first run without a checkpoint */
    const struct lsl_rule *rule;         /* borrowed */
    struct lsl_sink *sink;               /* borrowed; a segment sink */
    size_t read_size;
    /*
     * How long a rotated or deleted file must stay idle, read to its end,
     * before the source leaves it (writers that have not reopened yet);
     * 0: LSL_TAIL_ROTATE_WAIT_MS. The stat poll runs at least this often.
     */
    unsigned rotate_wait_ms;
};

#define LSL_TAIL_ROTATE_WAIT_MS 1000

/*
 * Follow `path`: inotify (uv_fs_event) on its directory plus a slow stat
 * poll as a safety net; rename-and-create and copytruncate rotation,
 * truncation, deletion while open; resumes from the checkpoint. Persists
 * {file id, offset, sink segment state} after every committed batch.
 */
LSL_MUST_CHECK int lsl_tail_source_open(struct lsl_tail_source **out,
                                        struct lsl_pipeline *pl,
                                        const struct lsl_tail_opts *o);
LSL_MUST_CHECK int lsl_tail_source_start(struct lsl_tail_source *t);
/* Stop watching; calls done(ud) on the loop once every handle is closed
 * and every batch is committed. */
void lsl_tail_source_stop(struct lsl_tail_source *t, void (*done)(void *),
                          void *ud);
void lsl_tail_source_free(struct lsl_tail_source *t); /* after done */
/* Bytes behind the end of the followed file (lag metric). */
uint64_t lsl_tail_source_lag(const struct lsl_tail_source *t);
struct lsl_source *lsl_tail_source_base(struct lsl_tail_source *t);

/* ---- syslog: RFC 3164 datagrams, as nginx sends them ---- */

struct lsl_syslog_source;

struct lsl_syslog_opts {
    const char *name;
    const char *listen;          /* unix:PATH or udp:127.0.0.1:PORT */
    const struct lsl_rule *rule; /* borrowed */
    struct lsl_sink *sink;       /* borrowed */
};

/*
 * Each datagram is one line: its syslog header is stripped
 * (lsl_syslog_strip) and the message fed with a newline. There is no
 * checkpoint: a datagram cannot be read twice (its segments are finished,
 * not removed, after a crash: lsl_segment_opts.input_replays). While the
 * pipeline is busy the socket is not read and datagrams wait in the
 * kernel's socket buffer; when that overflows they are lost: for UDP the
 * kernel drops them (counted in kernel_drops and base.lost.datagrams), for
 * unix:PATH the sender's send() fails (nginx logs "send() failed (11:
 * Resource temporarily unavailable)" in its error log). While the daemon
 * is down nothing is received: nginx's sends fail (unix) or vanish (UDP).
 *
 * unix:PATH binds a datagram socket at PATH (mode 0660: give the writer
 * access through the group, e.g. a setgid directory of the writer's group);
 * a stale socket left by a previous run is replaced, a live one (another
 * process receiving) or a non-socket file at PATH is refused. udp:ADDR:PORT
 * accepts only loopback addresses (127.0.0.0/8 or [::1]); anything else is
 * LSL_ECONFIG, logged.
 *
 * open: parse `listen`, allocate, attach (0, LSL_ECONFIG, -ENOMEM).
 * start: create, bind, start reading (0 or -errno, logged with the path or
 * address). stop: stop reading, unlink PATH, read the datagrams still
 * queued, close the socket, dispatch what was read; done(ud) runs on the
 * loop when all of it is committed.
 * free: after done (or if start was never called).
 */
LSL_MUST_CHECK int lsl_syslog_source_open(struct lsl_syslog_source **out,
                                          struct lsl_pipeline *pl,
                                          const struct lsl_syslog_opts *o);
LSL_MUST_CHECK int lsl_syslog_source_start(struct lsl_syslog_source *s);
void lsl_syslog_source_stop(struct lsl_syslog_source *s, void (*done)(void *),
                            void *ud);
void lsl_syslog_source_free(struct lsl_syslog_source *s);
struct lsl_source *lsl_syslog_source_base(struct lsl_syslog_source *s);

/* Receive counters of a syslog source (loop thread), for metrics. */
struct lsl_syslog_stats {
    uint64_t datagrams;    /* received and fed */
    uint64_t bytes;        /* datagram bytes received */
    uint64_t no_header;    /* no syslog header recognized: taken whole */
    uint64_t truncated;    /* larger than LSL_SYSLOG_MAX_DGRAM: cut */
    uint64_t kernel_drops; /* UDP: lost to a full socket buffer
                              (SO_RXQ_OVFL, SO_MEMINFO); 0 for unix */
    uint64_t unbuffered;   /* received but lost: no memory to buffer */
    uint64_t errors;       /* failed receives or buffering */
};

#define LSL_SYSLOG_MAX_DGRAM 65536

/* (Asks the kernel for its drop count first.) */
const struct lsl_syslog_stats *
lsl_syslog_source_counters(struct lsl_syslog_source *s);

/*
 * Strip an RFC 3164 header ("<PRI>Mmm dd hh:mm:ss HOST TAG: ") from a
 * datagram; also accepts RFC 5424 and headerless messages. Sets *msg to
 * the message (without trailing newline). Plain function, fuzzed.
 */
void lsl_syslog_strip(const char *p, size_t len, struct lsl_span *msg);

#endif
