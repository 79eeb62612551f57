/*
 * The syslog source on a real loop and pipeline (scrubber only, no vault)
 * with a sink that keeps the output in memory: unix and UDP datagrams in,
 * every one out exactly once without its header and without the client
 * address; stale/live/foreign socket files; refused listen addresses;
 * oversized datagrams; backpressure (no reads while the sink is stuck).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>
#include <cmocka.h>
#include "../token/testkey.h"
#include "logseal/source.h"
#include "mem_sink.h"

#define NMSG 300

struct fx {
    uv_loop_t loop;
    struct lsl_keyring *kr;
    struct lsl_pipeline *pl;
    struct mem_sink sink;
    struct lsl_syslog_source *src;
    char dir[64];
    char listen[160];
    bool done;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct lsl_pipeline_opts po;

    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->kr = testkey_open(1);
    mem_sink_init(&f->sink);
    f->sink.base.sync_each = false;
    lsl_pipeline_opts_init(&po);
    po.loop = &f->loop;
    po.keyring = f->kr;
    po.gzip_level = 0;
    po.flush_ms = 20;
    assert_int_equal(lsl_pipeline_open(&f->pl, &po), 0);
    snprintf(f->dir, sizeof(f->dir), "/tmp/lsl-syslog-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char path[128];

    lsl_pipeline_close(f->pl);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    lsl_keyring_close(f->kr);
    mem_sink_free(&f->sink);
    snprintf(path, sizeof(path), "%s/s.sock", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/file", f->dir);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static int open_src(struct fx *f, const char *listen)
{
    struct lsl_syslog_opts o = {
        .name = "nginx",
        .listen = listen,
        .sink = &f->sink.base,
    };

    f->done = false;
    return lsl_syslog_source_open(&f->src, f->pl, &o);
}

static void on_done(void *ud)
{
    ((struct fx *)ud)->done = true;
}

static void stop_src(struct fx *f)
{
    lsl_syslog_source_stop(f->src, on_done, f);
    while (!f->done)
        uv_run(&f->loop, UV_RUN_ONCE);
    lsl_syslog_source_free(f->src);
    f->src = NULL;
}

/* Run the loop until `want` datagrams were received or `ms` passed. */
static void run_until(struct fx *f, uint64_t want, uint64_t ms)
{
    const struct lsl_syslog_stats *st = lsl_syslog_source_counters(f->src);
    uint64_t start = uv_now(&f->loop);

    while (st->datagrams < want && uv_now(&f->loop) - start < ms) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        usleep(1000);
        uv_update_time(&f->loop);
    }
}

static int frame(char *buf, size_t cap, unsigned n)
{
    return snprintf(buf, cap,
                    "<190>Nov 29 17:00:00 edge-01 nginx: 192.0.2.%u - - "
                    "[29/Nov/2024:17:00:00 +0000] \"GET /live/ch1/"
                    "seg_%u.ts?n=%u HTTP/1.1\" 200 5 \"-\" \"curl\"",
                    n % 250 + 1, n, n);
}

/* Send frames n = from..to-1; while the receive queue is full (unix
 * sockets hold few datagrams), let the loop read. */
static void send_all(struct fx *f, int fd, const struct sockaddr *sa,
                     socklen_t len, unsigned from, unsigned to)
{
    char buf[512];

    for (unsigned n = from; n < to; n++) {
        int k = frame(buf, sizeof(buf), n);
        ssize_t sent;

        while ((sent = sendto(fd, buf, (size_t)k, MSG_DONTWAIT, sa, len)) < 0 &&
               errno == EAGAIN) {
            uv_run(&f->loop, UV_RUN_NOWAIT);
            usleep(200);
        }
        assert_int_equal(sent, k);
    }
}

/* Each n= once, no header, no client address in clear. */
static void check_output(struct fx *f, unsigned count)
{
    char *text, *line, *save = NULL;
    unsigned char *seen = calloc(count, 1);

    assert_non_null(seen);
    text = mem_sink_text(&f->sink);
    assert_null(strstr(text, "192.0.2."));
    assert_null(strstr(text, "<190>"));
    assert_null(strstr(text, "edge-01"));
    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        const char *q = strstr(line, "?n=");
        unsigned n;

        assert_non_null(q);
        assert_int_equal(sscanf(q, "?n=%u", &n), 1);
        assert_true(n < count);
        assert_int_equal(seen[n], 0);
        seen[n] = 1;
    }
    for (unsigned n = 0; n < count; n++)
        assert_int_equal(seen[n], 1);
    free(text);
    free(seen);
}

static void unix_addr(struct fx *f, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/s.sock", f->dir);
    snprintf(f->listen, sizeof(f->listen), "unix:%s", sa->sun_path);
}

static void test_unix(void **state)
{
    struct fx *f = *state;
    struct sockaddr_un sa;
    struct stat st;
    int old, cl;

    unix_addr(f, &sa);
    /* A stale socket file from a crashed run is replaced. */
    old = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_int_equal(bind(old, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(old);
    assert_int_equal(open_src(f, f->listen), 0);
    assert_int_equal(lsl_syslog_source_start(f->src), 0);
    assert_int_equal(stat(sa.sun_path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0660);

    cl = socket(AF_UNIX, SOCK_DGRAM, 0);
    send_all(f, cl, (struct sockaddr *)&sa, sizeof(sa), 0, NMSG);
    run_until(f, NMSG, 5000);
    close(cl);
    stop_src(f);
    assert_int_equal(stat(sa.sun_path, &st), -1);
    check_output(f, NMSG);
}

static void test_unix_refuses(void **state)
{
    struct fx *f = *state;
    struct sockaddr_un sa;
    char path[128];
    int live, fd;

    /* Another process receiving on the path: refused, left alone. */
    unix_addr(f, &sa);
    live = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_int_equal(bind(live, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(open_src(f, f->listen), 0);
    assert_int_equal(lsl_syslog_source_start(f->src), -EADDRINUSE);
    assert_int_equal(access(sa.sun_path, F_OK), 0);
    stop_src(f);
    assert_int_equal(access(sa.sun_path, F_OK), 0);
    close(live);

    /* A regular file at the path: refused, not deleted. */
    snprintf(path, sizeof(path), "unix:%s/file", f->dir);
    fd = open(path + 5, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(open_src(f, path), 0);
    assert_int_equal(lsl_syslog_source_start(f->src), -EEXIST);
    stop_src(f);
    assert_int_equal(access(path + 5, F_OK), 0);
}

static uint16_t free_udp_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void test_udp(void **state)
{
    struct fx *f = *state;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int cl;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(free_udp_port());
    snprintf(f->listen, sizeof(f->listen), "udp:127.0.0.1:%u",
             ntohs(sa.sin_port));
    assert_int_equal(open_src(f, f->listen), 0);
    assert_int_equal(lsl_syslog_source_start(f->src), 0);
    cl = socket(AF_INET, SOCK_DGRAM, 0);
    send_all(f, cl, (struct sockaddr *)&sa, sizeof(sa), 0, NMSG);
    run_until(f, NMSG, 5000);
    close(cl);
    assert_int_equal(lsl_syslog_source_counters(f->src)->kernel_drops, 0);
    stop_src(f);
    check_output(f, NMSG);
}

static void test_listen_refused(void **state)
{
    static const char *bad[] = {
        "udp:0.0.0.0:514",
        "udp:192.168.1.1:514",
        "udp:[::]:514",
        "udp:127.0.0.1:0",
        "udp:127.0.0.1:65536",
        "udp:127.0.0.1:",
        "udp:127.0.0.1:5x",
        "udp:localhost:514",
        "udp:127.0.0.1",
        "tcp:127.0.0.1:514",
        "unix:",
        "/run/x.sock",
        "",
    };
    struct fx *f = *state;
    char longpath[160] = "unix:/tmp/";

    /* longer than sockaddr_un.sun_path */
    memset(longpath + 10, 'a', sizeof(longpath) - 11);
    assert_int_equal(open_src(f, longpath), LSL_ECONFIG);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        f->src = NULL;
        assert_int_equal(open_src(f, bad[i]), LSL_ECONFIG);
        assert_null(f->src);
    }
    assert_int_equal(open_src(f, "udp:127.0.0.2:5514"), 0);
    lsl_syslog_source_free(f->src);
    assert_int_equal(open_src(f, "udp:[::1]:5514"), 0);
    lsl_syslog_source_free(f->src);
}

static void test_oversized(void **state)
{
    struct fx *f = *state;
    struct sockaddr_un sa;
    size_t big = LSL_SYSLOG_MAX_DGRAM + 5000;
    char *buf = malloc(big);
    int cl, sndbuf = 1 << 20;
    const struct lsl_syslog_stats *st;

    assert_non_null(buf);
    unix_addr(f, &sa);
    assert_int_equal(open_src(f, f->listen), 0);
    assert_int_equal(lsl_syslog_source_start(f->src), 0);
    cl = socket(AF_UNIX, SOCK_DGRAM, 0);
    setsockopt(cl, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    memset(buf, 'a', big);
    assert_int_equal(
        sendto(cl, buf, big, 0, (struct sockaddr *)&sa, sizeof(sa)),
        (ssize_t)big);
    send_all(f, cl, (struct sockaddr *)&sa, sizeof(sa), 0, 1);
    run_until(f, 2, 5000);
    st = lsl_syslog_source_counters(f->src);
    assert_int_equal(st->datagrams, 2);
    assert_int_equal(st->truncated, 1);
    assert_int_equal(st->no_header, 1);
    close(cl);
    stop_src(f);
    free(buf);
    /* the cut datagram is still a line (scrubbed like any other) */
    assert_true(f->sink.out.len > LSL_SYSLOG_MAX_DGRAM / 2);
}

/*
 * A UDP source on a pipeline that holds one batch, with the sink stuck:
 * 50 datagrams sent, the first one read; it fills the pipeline, so reading
 * stops right there and the rest wait in the kernel.
 */
static void stuck_udp(struct fx *f)
{
    struct lsl_pipeline_opts po;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int cl;

    lsl_pipeline_close(f->pl);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    lsl_pipeline_opts_init(&po);
    po.loop = &f->loop;
    po.keyring = f->kr;
    po.gzip_level = 0;
    po.batch_bytes = 1; /* every datagram is a batch */
    po.max_inflight = 1;
    assert_int_equal(lsl_pipeline_open(&f->pl, &po), 0);
    mem_sink_gate(&f->sink, true);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(free_udp_port());
    snprintf(f->listen, sizeof(f->listen), "udp:127.0.0.1:%u",
             ntohs(sa.sin_port));
    assert_int_equal(open_src(f, f->listen), 0);
    assert_int_equal(lsl_syslog_source_start(f->src), 0);
    cl = socket(AF_INET, SOCK_DGRAM, 0);
    send_all(f, cl, (struct sockaddr *)&sa, sizeof(sa), 0, 50);
    close(cl);
    run_until(f, 1, 5000);
    for (int i = 0; i < 20; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
}

/*
 * While the sink is stuck the pipeline is busy and the socket unread:
 * datagrams wait in the kernel (UDP here: a unix socket queue holds only
 * net.unix.max_dgram_qlen of them before the sender has to drop).
 */
static void test_backpressure(void **state)
{
    struct fx *f = *state;
    const struct lsl_syslog_stats *st;

    stuck_udp(f);
    st = lsl_syslog_source_counters(f->src);
    assert_int_equal(st->datagrams, 1);
    mem_sink_gate(&f->sink, false);
    run_until(f, 50, 5000);
    assert_int_equal(st->datagrams, 50);
    assert_int_equal(st->kernel_drops, 0);
    stop_src(f);
    check_output(f, 50);
}

/*
 * A stop while datagrams wait in the socket (the pipeline was busy): they
 * were accepted by the kernel, so they are read and written, not dropped.
 */
static void test_stop_drains_queue(void **state)
{
    struct fx *f = *state;

    stuck_udp(f);
    lsl_syslog_source_stop(f->src, on_done, f);
    for (int i = 0; i < 20; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    mem_sink_gate(&f->sink, false);
    while (!f->done)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(lsl_syslog_source_counters(f->src)->datagrams, 50);
    assert_int_equal(lsl_syslog_source_base(f->src)->lost.datagrams, 0);
    lsl_syslog_source_free(f->src);
    f->src = NULL;
    check_output(f, 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unix_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_udp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listen_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_drains_queue, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
