/*
 * The syslog source: a datagram socket (unix or loopback UDP) watched
 * with uv_poll, each datagram fed to the pipeline as one line.
 *
 * libuv has no unix-datagram handle, so both kinds are plain non-blocking
 * sockets read with recvmsg(): one code path, and the UDP drop counter
 * (SO_RXQ_OVFL) arrives as a control message with each datagram.
 *
 * Invariants: the poll handle is active only while started, not paused
 * and not stopping; one poll callback reads at most READ_BURST datagrams,
 * so a flood cannot starve the loop; a datagram is fed whole (message plus
 * "\n") or, on -ENOMEM, counted as lost — never half. The socket file is
 * unlinked only if it is still the inode this source bound. A stop first
 * unlinks the socket file (new datagrams fail at the sender), then reads
 * every datagram still queued, then closes: nothing the kernel accepted
 * is dropped by a clean stop.
 *
 * Losses are counted in base.lost.datagrams: the kernel's drops of a full
 * UDP buffer (SO_MEMINFO, read whenever counters are asked for and at
 * each resume, so a loss shows without new traffic) and datagrams that
 * could not be buffered. A unix socket never drops: its sender's send()
 * fails instead (nginx logs it in its error log).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/sock_diag.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>
#include "logseal/log.h"
#include "logseal/source.h"

#define READ_BURST   256
#define RCVBUF_BYTES (4u << 20)
#define LOG_EVERY_MS 10000
#define DRAIN_MAX    65536 /* datagrams read at a stop, at most */

struct lsl_syslog_source {
    struct lsl_source base; /* first: the pipeline hands it back */
    uv_poll_t poll;
    int fd;
    bool is_unix;
    union {
        struct sockaddr_un un;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } addr;
    socklen_t addr_len;
    char listen[PATH_MAX];
    ino_t ino; /* of the bound socket file */
    dev_t dev;

    bool poll_init, polling, paused, stopping;
    char *buf; /* LSL_SYSLOG_MAX_DGRAM + 1: room for the newline */
    uint64_t fed;
    uint64_t log_trunc_ms, log_drop_ms, log_err_ms;
    struct lsl_syslog_stats st;
    void (*done)(void *);
    void *done_ud;
};

/* ---- listen address ---- */

static int parse_port(const char *s, uint16_t *port)
{
    char *end;
    unsigned long v;

    if (*s < '0' || *s > '9')
        return LSL_ECONFIG;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v == 0 || v > 65535)
        return LSL_ECONFIG;
    *port = (uint16_t)v;
    return 0;
}

/* "udp:127.x.y.z:PORT" or "udp:[::1]:PORT". */
static int parse_udp(struct lsl_syslog_source *s, const char *hp)
{
    char host[64];
    const char *colon = strrchr(hp, ':');
    size_t hlen = colon ? (size_t)(colon - hp) : 0;
    uint16_t port;

    if (!colon || hlen == 0 || hlen >= sizeof(host) ||
        parse_port(colon + 1, &port))
        return LSL_ECONFIG;
    memcpy(host, hp, hlen);
    host[hlen] = '\0';
    if (strcmp(host, "[::1]") == 0) {
        s->addr.in6.sin6_family = AF_INET6;
        s->addr.in6.sin6_addr = in6addr_loopback;
        s->addr.in6.sin6_port = htons(port);
        s->addr_len = sizeof(s->addr.in6);
        return 0;
    }
    if (inet_pton(AF_INET, host, &s->addr.in4.sin_addr) != 1 ||
        (ntohl(s->addr.in4.sin_addr.s_addr) >> 24) != 127)
        return LSL_ECONFIG;
    s->addr.in4.sin_family = AF_INET;
    s->addr.in4.sin_port = htons(port);
    s->addr_len = sizeof(s->addr.in4);
    return 0;
}

static int parse_listen(struct lsl_syslog_source *s, const char *listen)
{
    const char *path;

    if (strncmp(listen, "udp:", 4) == 0)
        return parse_udp(s, listen + 4);
    if (strncmp(listen, "unix:", 5) != 0)
        return LSL_ECONFIG;
    path = listen + 5;
    if (!*path || strlen(path) >= sizeof(s->addr.un.sun_path))
        return LSL_ECONFIG;
    s->is_unix = true;
    s->addr.un.sun_family = AF_UNIX;
    memcpy(s->addr.un.sun_path, path, strlen(path) + 1);
    s->addr_len = sizeof(s->addr.un);
    return 0;
}

/* ---- receiving ---- */

static bool log_due(struct lsl_syslog_source *s, uint64_t *last)
{
    uint64_t now = uv_now(lsl_pipeline_loop(s->base.pl));

    if (*last && now - *last < LOG_EVERY_MS)
        return false;
    *last = now ? now : 1;
    return true;
}

static void lost_update(struct lsl_syslog_source *s)
{
    s->base.lost.datagrams = s->st.kernel_drops + s->st.unbuffered;
}

/* The kernel's drop count of the socket went up to `total`. */
static void set_drops(struct lsl_syslog_source *s, uint64_t total)
{
    if (total <= s->st.kernel_drops)
        return;
    if (log_due(s, &s->log_drop_ms))
        lsl_log_warn("%s: %s: the kernel dropped %llu datagrams so far "
                     "(socket buffer full: logseal is behind; raise "
                     "net.core.rmem_max or the output speed)",
                     s->base.name, s->listen, (unsigned long long)total);
    s->st.kernel_drops = total;
    lost_update(s);
}

static void note_drops(struct lsl_syslog_source *s, struct msghdr *mh)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        uint32_t total;

        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL)
            continue;
        memcpy(&total, CMSG_DATA(c), sizeof(total));
        set_drops(s, total);
    }
}

/* Ask the kernel for its drop count: no datagram needs to arrive. */
static void poll_drops(struct lsl_syslog_source *s)
{
    uint32_t mem[SK_MEMINFO_VARS];
    socklen_t len = sizeof(mem);

    if (s->fd < 0 || s->is_unix ||
        getsockopt(s->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 ||
        len <= SK_MEMINFO_DROPS * sizeof(mem[0]))
        return;
    set_drops(s, mem[SK_MEMINFO_DROPS]);
}

static void feed_datagram(struct lsl_syslog_source *s, size_t n)
{
    struct lsl_span m;
    struct lsl_pos after;
    size_t off;
    int rc;

    lsl_syslog_strip(s->buf, n, &m);
    if (m.p == s->buf && n > 0)
        s->st.no_header++;
    off = (size_t)(m.p - s->buf);
    s->buf[off + m.len] = '\n'; /* inside the buffer: see its size */
    s->fed += n;
    after = (struct lsl_pos){0, s->fed};
    rc = lsl_source_feed(&s->base, s->buf + off, m.len + 1, &after);
    if (rc) {
        s->st.errors++;
        s->st.unbuffered++;
        lost_update(s);
        if (log_due(s, &s->log_err_ms))
            lsl_log_error("%s: cannot buffer a datagram: %s (%llu lost "
                          "so far)",
                          s->base.name, lsl_strerror(rc),
                          (unsigned long long)s->st.unbuffered);
        return;
    }
    s->st.datagrams++;
    s->st.bytes += n;
}

/* One datagram: 1 if fed, 0 if none waiting, or a negative code. */
static int recv_one(struct lsl_syslog_source *s)
{
    char ctl[CMSG_SPACE(sizeof(uint32_t))];
    struct iovec iov = {s->buf, LSL_SYSLOG_MAX_DGRAM};
    struct msghdr mh = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = ctl,
        .msg_controllen = sizeof(ctl),
    };
    ssize_t n = recvmsg(s->fd, &mh, MSG_DONTWAIT);

    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
                   ? 0
                   : -errno;
    note_drops(s, &mh);
    if (mh.msg_flags & MSG_TRUNC) {
        s->st.truncated++;
        if (log_due(s, &s->log_trunc_ms))
            lsl_log_warn("%s: %s: a datagram longer than %u bytes was cut "
                         "(%llu so far); the rest of it is lost",
                         s->base.name, s->listen, LSL_SYSLOG_MAX_DGRAM,
                         (unsigned long long)s->st.truncated);
    }
    feed_datagram(s, (size_t)n);
    return 1;
}

static void read_burst(struct lsl_syslog_source *s)
{
    for (int i = 0; i < READ_BURST && !s->paused && !s->stopping; i++) {
        int rc = recv_one(s);

        if (rc == 0)
            return;
        if (rc < 0) {
            s->st.errors++;
            if (log_due(s, &s->log_err_ms))
                lsl_log_error("%s: %s: receive failed: %s", s->base.name,
                              s->listen, lsl_strerror(rc));
            return;
        }
    }
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
    struct lsl_syslog_source *s = h->data;

    (void)events;
    if (status < 0) {
        s->st.errors++;
        if (log_due(s, &s->log_err_ms))
            lsl_log_error("%s: %s: cannot watch the socket: %s", s->base.name,
                          s->listen, uv_strerror(status));
        return;
    }
    read_burst(s);
}

/* Poll exactly when started, not paused, not stopping. */
static void update_polling(struct lsl_syslog_source *s)
{
    bool want = s->poll_init && !s->paused && !s->stopping;
    int rc;

    if (want == s->polling)
        return;
    if (!want) {
        uv_poll_stop(&s->poll);
        s->polling = false;
        return;
    }
    rc = uv_poll_start(&s->poll, UV_READABLE, poll_cb);
    if (rc)
        lsl_log_error("%s: %s: cannot watch the socket: %s", s->base.name,
                      s->listen, uv_strerror(rc));
    s->polling = rc == 0;
}

/* ---- pipeline callbacks ---- */

static void sys_pause(struct lsl_source *b)
{
    struct lsl_syslog_source *s = (struct lsl_syslog_source *)b;

    s->paused = true;
    update_polling(s);
}

static void sys_resume(struct lsl_source *b)
{
    struct lsl_syslog_source *s = (struct lsl_syslog_source *)b;

    s->paused = false;
    poll_drops(s);
    update_polling(s);
}

static void sys_drained(struct lsl_source *b)
{
    struct lsl_syslog_source *s = (struct lsl_syslog_source *)b;
    void (*done)(void *) = s->done;

    s->done = NULL;
    if (done)
        done(s->done_ud);
}

static const struct lsl_source_ops syslog_ops = {
    .pause = sys_pause,
    .resume = sys_resume,
    .drained = sys_drained,
};

/* ---- socket setup ---- */

/*
 * A socket file left by a run that did not stop cleanly is replaced; one
 * that another process still receives on (connect succeeds) or a file of
 * another kind is not touched.
 */
static int clear_stale(struct lsl_syslog_source *s)
{
    const char *path = s->addr.un.sun_path;
    struct stat st;
    int probe, rc;

    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode)) {
        lsl_log_error("%s: %s exists and is not a socket; remove it or "
                      "choose another listen path",
                      s->base.name, path);
        return -EEXIST;
    }
    probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return -errno;
    rc = connect(probe, (const struct sockaddr *)&s->addr.un, s->addr_len);
    rc = rc == 0 ? -EADDRINUSE : errno == ECONNREFUSED ? 0 : -errno;
    close(probe);
    if (rc == -EADDRINUSE)
        lsl_log_error("%s: another process receives on %s (a second "
                      "logseal?); stop it or choose another listen path",
                      s->base.name, path);
    if (rc == 0 && unlink(path) != 0 && errno != ENOENT)
        rc = -errno;
    return rc;
}

static int bind_socket(struct lsl_syslog_source *s)
{
    const struct sockaddr *sa = (const struct sockaddr *)&s->addr;
    int one = 1, rcvbuf = (int)RCVBUF_BYTES;
    struct stat st;

    s->fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        return -errno;
    /* Best effort: a bigger buffer rides out longer pauses; the kernel
     * caps it at net.core.rmem_max. */
    (void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (!s->is_unix &&
        setsockopt(s->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) != 0)
        return -errno;
    if (bind(s->fd, sa, s->addr_len) != 0)
        return -errno;
    if (!s->is_unix)
        return 0;
    /* The socket exists with umask permissions until chmod: the
     * directory, not this call, keeps strangers out. */
    if (chmod(s->addr.un.sun_path, 0660) != 0 ||
        stat(s->addr.un.sun_path, &st) != 0)
        return -errno;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    return 0;
}

static void unlink_ours(struct lsl_syslog_source *s)
{
    struct stat st;

    if (!s->is_unix || s->ino == 0)
        return;
    if (lstat(s->addr.un.sun_path, &st) == 0 && st.st_ino == s->ino &&
        st.st_dev == s->dev && unlink(s->addr.un.sun_path) != 0)
        lsl_log_warn("%s: cannot remove %s: %s", s->base.name,
                     s->addr.un.sun_path, strerror(errno));
    s->ino = 0;
}

static void close_socket(struct lsl_syslog_source *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    unlink_ours(s);
}

/* ---- lifecycle ---- */

int lsl_syslog_source_open(struct lsl_syslog_source **out,
                           struct lsl_pipeline *pl,
                           const struct lsl_syslog_opts *o)
{
    struct lsl_syslog_source *s = calloc(1, sizeof(*s));
    int rc;

    if (!s)
        return -ENOMEM;
    s->fd = -1;
    snprintf(s->base.name, sizeof(s->base.name), "%s", o->name);
    snprintf(s->listen, sizeof(s->listen), "%s", o->listen);
    rc = parse_listen(s, o->listen);
    if (rc) {
        lsl_log_error("%s: listen = %s: expected unix:PATH (shorter than "
                      "%zu bytes) or udp:127.0.0.1:PORT (loopback only: "
                      "127.0.0.0/8 or [::1], port 1-65535)",
                      s->base.name, o->listen, sizeof(s->addr.un.sun_path));
        goto fail;
    }
    rc = -ENOMEM;
    s->buf = malloc(LSL_SYSLOG_MAX_DGRAM + 1);
    if (!s->buf)
        goto fail;
    s->base.ops = &syslog_ops;
    s->base.rule = o->rule;
    s->base.sink = o->sink;
    rc = lsl_source_attach(pl, &s->base);
    if (rc)
        goto fail;
    *out = s;
    return 0;
fail:
    free(s->buf);
    free(s);
    return rc;
}

int lsl_syslog_source_start(struct lsl_syslog_source *s)
{
    uv_loop_t *loop = lsl_pipeline_loop(s->base.pl);
    int rc = 0;

    if (s->is_unix)
        rc = clear_stale(s);
    if (rc == 0)
        rc = bind_socket(s);
    if (rc == 0)
        rc = uv_poll_init(loop, &s->poll, s->fd);
    s->poll.data = s;
    if (rc) {
        lsl_log_error("%s: cannot listen on %s: %s", s->base.name, s->listen,
                      lsl_strerror(rc));
        close_socket(s);
        return rc;
    }
    s->poll_init = true;
    s->paused = lsl_pipeline_busy(s->base.pl);
    update_polling(s);
    return 0;
}

/* Read what the kernel still holds for us (stop: nothing is read later). */
static void drain_queue(struct lsl_syslog_source *s)
{
    uint64_t before = s->st.datagrams;
    int rc = 0;

    if (s->fd < 0)
        return;
    poll_drops(s);
    /* Bounded: a UDP sender that keeps sending cannot hold the stop. */
    for (unsigned n = 0; n < DRAIN_MAX && (rc = recv_one(s)) > 0; n++)
        ;
    if (rc < 0) {
        s->st.errors++;
        lsl_log_error("%s: %s: receive failed while stopping: %s; datagrams "
                      "still queued are lost",
                      s->base.name, s->listen, lsl_strerror(rc));
    }
    if (s->st.datagrams > before)
        lsl_log_info("%s: read the %llu datagrams still queued at the stop",
                     s->base.name,
                     (unsigned long long)(s->st.datagrams - before));
}

static void finish_stop(struct lsl_syslog_source *s)
{
    int rc;

    /* Senders fail from now on; then take what was already sent. */
    unlink_ours(s);
    drain_queue(s);
    close_socket(s);
    rc = lsl_source_stop(&s->base);
    if (rc) {
        /* The last partial batch could not be queued: say how much. */
        lsl_log_error("%s: %zu received lines could not be queued at "
                      "shutdown: %s",
                      s->base.name, s->base.cur ? s->base.cur->nlines : 0,
                      lsl_strerror(rc));
        sys_drained(&s->base);
    }
}

static void poll_closed(uv_handle_t *h)
{
    finish_stop(h->data);
}

void lsl_syslog_source_stop(struct lsl_syslog_source *s, void (*done)(void *),
                            void *ud)
{
    if (s->stopping)
        return;
    s->stopping = true;
    s->done = done;
    s->done_ud = ud;
    update_polling(s);
    if (s->poll_init) {
        uv_close((uv_handle_t *)&s->poll, poll_closed);
        return;
    }
    finish_stop(s);
}

void lsl_syslog_source_free(struct lsl_syslog_source *s)
{
    if (!s)
        return;
    lsl_source_detach(&s->base);
    close_socket(s);
    if (s->buf)
        sodium_memzero(s->buf, LSL_SYSLOG_MAX_DGRAM + 1);
    free(s->buf);
    free(s);
}

struct lsl_source *lsl_syslog_source_base(struct lsl_syslog_source *s)
{
    return &s->base;
}

const struct lsl_syslog_stats *
lsl_syslog_source_counters(struct lsl_syslog_source *s)
{
    poll_drops(s);
    return &s->st;
}
