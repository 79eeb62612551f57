/* The tail test harness: see tail_harness.h. */
#include "tail_harness.h"
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>
#include "logseal/checkpoint.h"
#include "logseal/file.h"
#include "tests/unit/token/testkey.h"

static void path_in(const struct harness *h, char *out, size_t cap,
                    const char *name)
{
    assert_int_equal(lsl_path_join(out, cap, h->dir, name), 0);
}

void h_setup(struct harness *h, const char *name)
{
    char key[PATH_MAX];

    memset(h, 0, sizeof(*h));
    snprintf(h->root, sizeof(h->root), "/tmp/lsl-test-tail-XXXXXX");
    assert_non_null(mkdtemp(h->root));
    snprintf(h->dir, sizeof(h->dir), "%s/logs", h->root);
    snprintf(h->state, sizeof(h->state), "%s/state", h->root);
    assert_int_equal(mkdir(h->dir, 0755), 0);
    assert_int_equal(mkdir(h->state, 0700), 0);
    path_in(h, h->path, sizeof(h->path), name);
    mem_sink_init(&h->sink);
    h->rotate_wait_ms = 50;
    h->kr = testkey_open(1);
    assert_int_equal(
        lsl_path_join(key, sizeof(key), h->root, LSL_CKPT_KEY_FILE), 0);
    assert_int_equal(lsl_ckpt_key_open(key, true, &h->ckey, NULL), 0);
    h->stopped = true;
}

void h_teardown(struct harness *h)
{
    char cmd[128];

    if (!h->stopped)
        h_stop(h);
    lsl_keyring_close(h->kr);
    lsl_ckpt_key_free(h->ckey);
    mem_sink_free(&h->sink);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->root);
    assert_int_equal(system(cmd), 0);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
}

void h_start(struct harness *h)
{
    struct lsl_pipeline_opts po;
    struct lsl_tail_opts to = {
        .name = "web",
        .path = h->path,
        .state_dir = h->state,
        .ckpt_key = h->ckey,
        .start_at_end = h->start_at_end,
        .sink = &h->sink.base,
        .read_size = 64, /* many small reads: offsets get exercised */
        .rotate_wait_ms = h->rotate_wait_ms,
    };

    assert_int_equal(uv_loop_init(&h->loop), 0);
    uv_timer_init(&h->loop, &h->tick);
    uv_timer_start(&h->tick, on_tick, 10, 10);
    lsl_pipeline_opts_init(&po);
    po.loop = &h->loop;
    po.keyring = h->kr;
    po.gzip_level = 0;
    po.flush_ms = h->flush_ms ? h->flush_ms : 20;
    po.batch_bytes = 256;
    if (h->max_inflight)
        po.max_inflight = h->max_inflight;
    assert_int_equal(lsl_pipeline_open(&h->pl, &po), 0);
    assert_int_equal(lsl_tail_source_open(&h->t, h->pl, &to), 0);
    assert_int_equal(lsl_tail_source_start(h->t), 0);
    h->stopped = false;
}

static void on_stopped(void *ud)
{
    *(bool *)ud = true;
}

void h_stop(struct harness *h)
{
    bool done = false;

    lsl_tail_source_stop(h->t, on_stopped, &done);
    for (int i = 0; i < 1000 && !done; i++)
        uv_run(&h->loop, UV_RUN_ONCE);
    assert_true(done);
    lsl_tail_source_free(h->t);
    h->t = NULL;
    lsl_pipeline_close(h->pl);
    h->pl = NULL;
    uv_close((uv_handle_t *)&h->tick, NULL);
    assert_int_equal(uv_run(&h->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&h->loop), 0);
    h->stopped = true;
}

size_t h_lines(struct harness *h)
{
    return mem_sink_lines(&h->sink);
}

void h_run_lines(struct harness *h, size_t n, unsigned ms)
{
    /* A wait for lines ends as soon as they are there: give a loaded CI
     * machine (sanitizers, parallel tests) generous room. */
    uint64_t end = uv_now(&h->loop) + 5ull * ms;

    while (h_lines(h) < n && uv_now(&h->loop) < end)
        uv_run(&h->loop, UV_RUN_ONCE);
}

bool h_run_lag(struct harness *h, uint64_t lag, unsigned ms)
{
    uint64_t end = uv_now(&h->loop) + 5ull * ms;

    while (lsl_tail_source_lag(h->t) != lag && uv_now(&h->loop) < end)
        uv_run(&h->loop, UV_RUN_ONCE);
    return lsl_tail_source_lag(h->t) == lag;
}

void h_run(struct harness *h, unsigned ms)
{
    uint64_t end = uv_now(&h->loop) + ms;

    while (uv_now(&h->loop) < end)
        uv_run(&h->loop, UV_RUN_ONCE);
}

const char *h_output(struct harness *h)
{
    static char text[16384];
    size_t n;

    uv_mutex_lock(&h->sink.lock);
    n = h->sink.out.len < sizeof(text) - 1 ? h->sink.out.len : sizeof(text) - 1;
    memcpy(text, h->sink.out.p, n);
    uv_mutex_unlock(&h->sink.lock);
    if (n > 0 && text[n - 1] == '\n')
        n--;
    text[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (text[i] == '\n')
            text[i] = '|';
    return text;
}

void h_append(struct harness *h, const char *name, const char *text)
{
    char path[256];
    int fd;

    path_in(h, path, sizeof(path), name);
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    assert_true(fd >= 0);
    assert_int_equal(lsl_write_all(fd, text, strlen(text)), 0);
    close(fd);
}

void h_rename(struct harness *h, const char *from, const char *to)
{
    char a[256], b[256];

    path_in(h, a, sizeof(a), from);
    path_in(h, b, sizeof(b), to);
    assert_int_equal(rename(a, b), 0);
}

void h_truncate(struct harness *h, const char *name)
{
    char path[256];

    path_in(h, path, sizeof(path), name);
    assert_int_equal(truncate(path, 0), 0);
}

void h_unlink(struct harness *h, const char *name)
{
    char path[256];

    path_in(h, path, sizeof(path), name);
    assert_int_equal(unlink(path), 0);
}

void h_same_mtime(struct harness *h, const char *name, const char *as)
{
    char a[256], b[256];
    struct stat st;
    struct timespec ts[2];

    path_in(h, a, sizeof(a), name);
    path_in(h, b, sizeof(b), as);
    assert_int_equal(stat(b, &st), 0);
    ts[0] = st.st_atim;
    ts[1] = st.st_mtim;
    assert_int_equal(utimensat(AT_FDCWD, a, ts, 0), 0);
}

void h_copy(struct harness *h, const char *from, const char *to)
{
    char a[256], b[256], buf[4096];
    int in, out;
    ssize_t n;

    path_in(h, a, sizeof(a), from);
    path_in(h, b, sizeof(b), to);
    in = open(a, O_RDONLY);
    out = open(b, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(in >= 0 && out >= 0);
    while ((n = read(in, buf, sizeof(buf))) > 0)
        assert_int_equal(lsl_write_all(out, buf, (size_t)n), 0);
    close(in);
    close(out);
}

void h_gzip(struct harness *h, const char *from, const char *to)
{
    char a[256], b[256], buf[4096];
    gzFile out;
    int in;
    ssize_t n;

    path_in(h, a, sizeof(a), from);
    path_in(h, b, sizeof(b), to);
    in = open(a, O_RDONLY);
    out = gzopen(b, "wb");
    assert_true(in >= 0 && out != NULL);
    while ((n = read(in, buf, sizeof(buf))) > 0)
        assert_int_equal(gzwrite(out, buf, (unsigned)n), (int)n);
    close(in);
    assert_int_equal(gzclose(out), Z_OK);
    assert_int_equal(unlink(a), 0);
}

void h_rewrite(struct harness *h, const char *name, const char *text)
{
    char path[256];
    int fd;

    path_in(h, path, sizeof(path), name);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(lsl_write_all(fd, text, strlen(text)), 0);
    close(fd);
}

void h_snapshot(struct harness *h)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s.snap' && cp -a '%s' '%s.snap'",
             h->state, h->state, h->state);
    assert_int_equal(system(cmd), 0);
    uv_mutex_lock(&h->sink.lock);
    h->snap_out = h->sink.out.len;
    uv_mutex_unlock(&h->sink.lock);
}

void h_crash(struct harness *h)
{
    char cmd[512];

    assert_true(h->stopped);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mv '%s.snap' '%s'", h->state,
             h->state, h->state);
    assert_int_equal(system(cmd), 0);
    h->sink.out.len = h->snap_out;
}

void h_sink_clear(struct harness *h)
{
    uv_mutex_lock(&h->sink.lock);
    h->sink.out.len = 0;
    uv_mutex_unlock(&h->sink.lock);
}
