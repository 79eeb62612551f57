/*
 * `logseal run`: the event loop, its signals and the run it drives.
 *
 * SIGTERM/SIGINT drain the current run and exit (a second one exits at
 * once: checkpoints make that safe for tailed files, whose uncommitted
 * rest is read again on restart; syslog datagrams and stdin lines not yet
 * committed are lost then). A drain waits for blocked output (a full
 * disk) as long as it takes, or up to `stop_timeout`: the log says so,
 * and that a second signal forces the exit.
 * SIGHUP loads and checks the new configuration, rules and keys first; if
 * anything is wrong the old run keeps going; else the old run drains and
 * the new one starts in this process. SIGUSR1 prints counters.
 *
 * Invariants: at most one run is active and at most one prepared run
 * waits for it to stop; the loop is closed only after every handle's close
 * callback ran.
 */
#include "logseal/daemon.h"
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>
#include "daemon_internal.h"
#include "logseal/log.h"

enum { SIG_TERM, SIG_INT, SIG_HUP, SIG_USR1, NSIG_HANDLED };

static const int signums[NSIG_HANDLED] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};

struct daemon {
    uv_loop_t loop;
    const char *config_path;
    uv_signal_t sig[NSIG_HANDLED];
    uv_timer_t stop_timer; /* stop_timeout: ends a drain that takes longer */
    struct lsl_metrics *metrics;
    char metrics_addr[128];
    struct lsl_run *run;  /* active */
    struct lsl_run *next; /* starts when `run` has stopped */
    bool exiting;
    int err;
};

static void run_event(struct lsl_run *r, enum lsl_run_event ev, int err,
                      void *ud);

static int render(struct lsl_buf *out, void *ud)
{
    struct daemon *d = ud;
    int rc = lsl_buf_printf(out, "# HELP logseal_up The daemon is running."
                                 "\n# TYPE logseal_up gauge\nlogseal_up 1\n");

    if (rc == 0 && d->run)
        rc = lsl_run_metrics(d->run, out);
    return rc;
}

/* Keep the endpoint when the address did not change. */
static void metrics_update(struct daemon *d, const struct lsl_config *c)
{
    struct lsl_metrics_opts mo = {
        .loop = &d->loop,
        .listen = c->metrics,
        .render = render,
        .ud = d,
    };

    if (d->metrics && strcmp(d->metrics_addr, c->metrics) == 0)
        return;
    lsl_metrics_close(d->metrics);
    d->metrics = NULL;
    d->metrics_addr[0] = '\0';
    if (!c->metrics[0])
        return;
    if (lsl_metrics_open(&d->metrics, &mo) == 0)
        snprintf(d->metrics_addr, sizeof(d->metrics_addr), "%s", c->metrics);
}

static void close_handles(struct daemon *d)
{
    for (int i = 0; i < NSIG_HANDLED; i++) {
        if (!uv_is_closing((uv_handle_t *)&d->sig[i]))
            uv_close((uv_handle_t *)&d->sig[i], NULL);
    }
    if (!uv_is_closing((uv_handle_t *)&d->stop_timer))
        uv_close((uv_handle_t *)&d->stop_timer, NULL);
    lsl_metrics_close(d->metrics);
    d->metrics = NULL;
}

static void log_started(const struct lsl_config *c)
{
    char names[512] = "";
    size_t n = 0;

    for (size_t i = 0; i < c->nsources && n < sizeof(names); i++)
        n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
                              i ? ", " : "", c->sources[i].name);
    lsl_log_info("started: config %s, %zu source%s: %s", c->path, c->nsources,
                 c->nsources == 1 ? "" : "s", names);
}

static int start(struct daemon *d, struct lsl_run *r)
{
    const struct lsl_config *c = lsl_run_config(r);
    struct lsl_run_opts o = {.loop = &d->loop, .event = run_event, .ud = d};
    int rc;

    d->run = r;
    lsl_log_set_level((enum lsl_log_level)c->log_level);
    metrics_update(d, c);
    rc = lsl_run_start(r, &o);
    if (rc) {
        d->err = rc;
        d->exiting = true;
        lsl_run_stop(r);
        return rc;
    }
    log_started(c);
    /* Sources listen now (syslog sockets exist): units ordered after this
     * one, such as nginx, may start. */
    (void)lsl_daemon_notify("READY=1\nSTATUS=running");
    return 0;
}

static void run_stopped(struct daemon *d, int err)
{
    struct lsl_run *next = d->next;

    if (next)
        lsl_run_carry(next, d->run);
    lsl_run_free(d->run);
    d->run = NULL;
    d->next = NULL;
    if (err && !d->err)
        d->err = err;
    if (d->exiting || !next) {
        lsl_run_free(next);
        lsl_log_info("stopped%s", d->err ? " after an error" : "");
        close_handles(d);
        return;
    }
    if (start(d, next) == 0)
        lsl_log_info("reloaded: config %s", d->config_path);
}

static void run_event(struct lsl_run *r, enum lsl_run_event ev, int err,
                      void *ud)
{
    struct daemon *d = ud;

    switch (ev) {
    case LSL_RUN_IDLE:
        lsl_log_info("every source has ended; stopping");
        d->exiting = true;
        lsl_run_stop(r);
        break;
    case LSL_RUN_FATAL:
        lsl_log_error("fatal: output cannot be written (%s); exiting, a "
                      "restart resumes from the checkpoints",
                      lsl_strerror(err));
        _exit(1);
    case LSL_RUN_STOPPED:
        run_stopped(d, err);
        break;
    }
}

/* Every error of a configuration file, one line each. */
static void log_config_errors(const struct lsl_config_error *e, int rc)
{
    if (e->kept == 0)
        lsl_log_error("%s", e->msg[0] ? e->msg : lsl_strerror(rc));
    for (unsigned i = 0; i < e->kept; i++)
        lsl_log_error("%s", e->list[i].msg);
    if (e->count > e->kept)
        lsl_log_error("... and %u more errors in the configuration",
                      e->count - e->kept);
}

static void reload(struct daemon *d)
{
    struct lsl_config_error e;
    struct lsl_config *c = NULL;
    struct lsl_run *r = NULL;
    int rc;

    if (d->exiting || d->next) {
        lsl_log_warn("reload ignored: a stop or reload is in progress");
        return;
    }
    lsl_log_info("reloading %s", d->config_path);
    (void)lsl_daemon_notify("RELOADING=1");
    rc = lsl_config_load(&c, d->config_path, &e);
    if (rc) {
        log_config_errors(&e, rc);
    } else {
        rc = lsl_run_prepare(&r, c);
        if (rc)
            lsl_config_free(c);
    }
    if (rc) {
        lsl_log_error("reload failed; the running configuration stays in "
                      "effect");
        (void)lsl_daemon_notify("READY=1\nSTATUS=running (the last reload "
                                "failed: see the log)");
        return;
    }
    d->next = r;
    lsl_run_stop(d->run);
}

/* What a second signal does, and why the log should say it. */
static void exit_undrained(const char *why)
{
    lsl_log_warn("%s: exiting without draining (what is not committed is "
                 "read again at the next start from tailed files, lost "
                 "from syslog and stdin)",
                 why);
    _exit(1);
}

static void stop_timer_cb(uv_timer_t *t)
{
    (void)t;
    exit_undrained("the drain took longer than stop_timeout");
}

/* Bound the drain by the configuration's stop_timeout, if it has one. */
static void stop_timer_start(struct daemon *d)
{
    uint64_t s = d->run ? lsl_run_config(d->run)->stop_timeout : 0;

    if (s > 0 && uv_timer_start(&d->stop_timer, stop_timer_cb, s * 1000, 0))
        lsl_log_warn("stop_timeout cannot be kept: the drain is unbounded");
}

static void signal_cb(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;

    if (signum == SIGUSR1) {
        if (d->run)
            lsl_run_dump(d->run);
    } else if (signum == SIGHUP) {
        reload(d);
    } else if (d->exiting) {
        exit_undrained("second stop signal");
    } else {
        lsl_log_info("signal %d: draining (a second signal exits at once; "
                     "what is not committed then is read again at the next "
                     "start from tailed files, lost from syslog and stdin)",
                     signum);
        if (d->run && lsl_run_blocked(d->run))
            lsl_log_warn("the output is blocked (see the errors above): the "
                         "drain waits until it can be written again");
        (void)lsl_daemon_notify("STOPPING=1");
        d->exiting = true;
        stop_timer_start(d);
        if (d->run)
            lsl_run_stop(d->run);
    }
}

static int load(const char *path, struct lsl_run **out)
{
    struct lsl_config_error e;
    struct lsl_config *c = NULL;
    int rc = lsl_config_load(&c, path, &e);

    if (rc) {
        log_config_errors(&e, rc);
        return rc;
    }
    rc = lsl_run_prepare(out, c);
    if (rc)
        lsl_config_free(c);
    return rc;
}

int lsl_daemon_check(const char *config_path, FILE *out)
{
    struct lsl_run *r = NULL;
    int rc = load(config_path, &r);

    if (rc == 0)
        rc = lsl_run_describe(r, out);
    lsl_run_free(r);
    return rc;
}

int lsl_daemon_run(const char *config_path)
{
    struct daemon d = {.config_path = config_path};
    struct lsl_run *r = NULL;
    int rc;

    lsl_log_set_timestamps(true);
    /* A peer that goes away must not kill the daemon mid-write. */
    signal(SIGPIPE, SIG_IGN);
    rc = load(config_path, &r);
    if (rc)
        return rc;
    rc = uv_loop_init(&d.loop);
    if (rc) {
        lsl_run_free(r);
        return rc;
    }
    for (int i = 0; i < NSIG_HANDLED; i++) {
        uv_signal_init(&d.loop, &d.sig[i]);
        d.sig[i].data = &d;
        uv_signal_start(&d.sig[i], signal_cb, signums[i]);
    }
    uv_timer_init(&d.loop, &d.stop_timer);
    (void)start(&d, r);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&d.loop) != 0)
        lsl_log_warn("event loop closed with handles still open");
    return d.err;
}
