/*
 * `logseal pipe`: the pipeline with a descriptor source and a single sink,
 * on a loop of the pipeline's own, and one vault file per key epoch its
 * lines fall in (the key's current epoch opened first). Order of teardown
 * matters:
 * the vault files are finished before
 * the output is renamed into place, so no finished output ever refers to a
 * token whose mapping is not durable.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli_internal.h"
#include "gunzip_internal.h"
#include "logseal/file.h"
#include "logseal/kafka.h"
#include "logseal/legal.h"
#include "logseal/log.h"
#include "logseal/sink.h"
#include "logseal/source.h"
#include "pipe_internal.h"

struct pipe_run {
    const struct lsl_pipe_opts *o;
    struct lsl_rule *rule;
    struct lsl_keyring *kr;
    struct lsl_vault_wstate *ws; /* KEYS/writer-HEX.state */
    struct lsl_stoplist *stop;   /* NULL: no subject erased */
    struct lsl_vault_set *vs;
    struct lsl_sink *sink;
    struct lsl_pipeline *pl;
    struct lsl_fd_source *src;
    char *sample; /* read ahead (magic bytes, --rule auto); fed first */
    size_t sample_len;
    struct lsl_gunzip *gz; /* gzip input: the thread inflating it */
    struct lsl_progress prog;
    int err;
};

/* SIGUSR1 asks for the counters, as of the daemon; the tick prints them. */
static volatile sig_atomic_t usr1_seen;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_seen = 1;
}

void lsl_pipe_opts_init(struct lsl_pipe_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->level = 6;
    o->source = "stdin";
    o->progress = -1;
}

static void on_done(struct lsl_fd_source *src, int err, void *ud)
{
    struct pipe_run *r = ud;

    (void)src;
    if (err && !r->err)
        r->err = err;
}

static void on_fatal(struct lsl_pipeline *pl, int err, void *ud)
{
    struct pipe_run *r = ud;

    (void)pl;
    if (!r->err)
        r->err = err;
}

static void on_tick(struct lsl_pipeline *pl, void *ud)
{
    struct pipe_run *r = ud;
    struct lsl_batch_stats st;
    uint64_t vault_new;

    lsl_pipeline_totals(pl, &st, &vault_new);
    if (usr1_seen) {
        usr1_seen = 0;
        lsl_batch_stats_log(r->o->source, &st, 0);
    }
    lsl_progress_draw(&r->prog, &st);
}

/* One read(2) into the sample, which holds at most `cap` bytes: the
 * byte count (0 at the end of input) or -errno. Blocking: the loop is not
 * running yet. */
static ssize_t read_some(struct pipe_run *r, int fd, size_t cap)
{
    ssize_t n;

    do
        n = read(fd, r->sample + r->sample_len, cap - r->sample_len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    r->sample_len += (size_t)n;
    return n;
}

/*
 * Look at the input's first bytes: gzip (rotated logs) is inflated by a
 * thread into a pipe, which *fd then names; anything else is read as it
 * is, the bytes looked at fed first.
 */
static int sniff_input(struct pipe_run *r, const char *name, int *fd)
{
    ssize_t n = 1;
    int rc = 0, pfd;

    r->sample = malloc(LSL_DETECT_BYTES);
    if (!r->sample)
        return -ENOMEM;
    while (r->sample_len < 2 && n > 0)
        n = read_some(r, *fd, 2);
    rc = n < 0 ? (int)n : 0;
    if (rc) {
        lsl_log_error("%s: cannot read the input: %s", name, lsl_strerror(rc));
        return rc;
    }
    if (!lsl_gunzip_magic(r->sample, r->sample_len))
        return 0;
    rc = lsl_gunzip_start(&r->gz, *fd, r->sample, r->sample_len, &pfd);
    if (rc) {
        lsl_log_error("%s: cannot start decompressing: %s", name,
                      lsl_strerror(rc));
        return rc;
    }
    r->sample_len = 0;
    *fd = pfd;
    return 0;
}

/* Read the first lines of fd (blocking: the loop is not running yet). */
static int read_sample(struct pipe_run *r, int fd, bool *at_eof)
{
    size_t lines = 0;

    *at_eof = false;
    for (size_t i = 0; i < r->sample_len; i++)
        lines += r->sample[i] == '\n';
    while (r->sample_len < LSL_DETECT_BYTES && lines < LSL_DETECT_LINES) {
        size_t at = r->sample_len;
        ssize_t n = read_some(r, fd, LSL_DETECT_BYTES);

        if (n < 0)
            return (int)n;
        if (n == 0) {
            *at_eof = true;
            break;
        }
        for (size_t i = at; i < r->sample_len; i++)
            lines += r->sample[i] == '\n';
    }
    return 0;
}

static int detect_rule(struct pipe_run *r, int fd)
{
    struct lsl_rule_detect d;
    bool at_eof;
    int rc = read_sample(r, fd, &at_eof);

    if (rc) {
        lsl_log_error("cannot read the input: %s", lsl_strerror(rc));
        return rc;
    }
    rc = lsl_rule_detect(&r->rule, NULL, r->sample, r->sample_len, at_eof, &d);
    lsl_cli_log_detect(rc, &d);
    return rc;
}

static int load_rule(struct pipe_run *r, const struct lsl_pipe_opts *o, int fd)
{
    char path[PATH_MAX];
    struct lsl_rule_error e = {0};
    int rc;

    if (strcmp(o->rule, "auto") == 0)
        return detect_rule(r, fd);
    rc = lsl_rule_resolve(o->rule, NULL, path, sizeof(path));
    if (rc) {
        char dirs[1024];

        lsl_rule_dirs_text(NULL, dirs, sizeof(dirs));
        lsl_log_error("rule '%s' not found (looked in %s); give a NAME or "
                      "a path to a .rules file",
                      o->rule, dirs);
        return rc;
    }
    rc = lsl_rule_load(&r->rule, path, &e);
    if (rc)
        lsl_log_error("%s:%u: %s", e.path[0] ? e.path : path, e.line,
                      e.msg[0] ? e.msg : lsl_strerror(rc));
    return rc;
}

static int load_keys(struct pipe_run *r, const struct lsl_pipe_opts *o,
                     uint8_t pk[LSL_VAULT_PUBKEY_BYTES])
{
    char path[PATH_MAX];
    int rc;

    rc = lsl_path_join(path, sizeof(path), o->keys_dir, "hash.key");
    if (rc == 0)
        rc = lsl_keyring_open(&r->kr, path);
    if (rc) {
        lsl_log_error("%s: cannot use the hash key: %s%s", path,
                      lsl_strerror(rc),
                      rc == LSL_EKEYPERM    ? " (chmod 600 it)"
                      : rc == LSL_EKEYOWNER ? " (chown it to the user running "
                                              "logseal)"
                      : rc == -ENOENT ? " (create keys with 'logseal keygen')"
                                      : "");
        return rc;
    }
    rc = lsl_path_join(path, sizeof(path), o->keys_dir, "vault.pub");
    if (rc == 0)
        rc = lsl_vault_pubkey_load(path, pk);
    if (rc)
        lsl_log_error("%s: cannot use the vault public key: %s", path,
                      lsl_strerror(rc));
    return rc;
}

/* The writer's chain state and the stop list of erased subjects. */
static int open_writer_state(struct pipe_run *r, const struct lsl_pipe_opts *o)
{
    char path[PATH_MAX];
    int rc;

    /* Private: the state holds the writer's secret. */
    rc = o->state_dir ? lsl_mkdir_p(o->state_dir, 0700) : 0;
    if (rc) {
        lsl_log_error("%s: cannot create the state directory: %s", o->state_dir,
                      lsl_strerror(rc));
        return rc;
    }
    rc = lsl_vault_wstate_path(path, sizeof(path),
                               o->state_dir ? o->state_dir : o->keys_dir,
                               o->vault_dir);
    if (rc == 0)
        rc = lsl_vault_wstate_open(&r->ws, path);
    if (rc) {
        lsl_log_error("%s: cannot use the vault writer state: %s (mode "
                      "0600, %s: its directory must be writable)",
                      path, lsl_strerror(rc),
                      o->state_dir ? "in --state"
                                   : "next to hash.key unless --state DIR "
                                     "is given");
        return rc;
    }
    return lsl_stoplist_load(&r->stop, o->vault_dir, o->keys_dir, r->ws);
}

/* Why --out cannot be written, and what to give instead. */
static void out_error(const char *path, int rc)
{
    if (rc == -ELOOP)
        lsl_log_error("%s: a symbolic link: refused (it could point "
                      "anywhere); give the file it points to, or - for "
                      "stdout",
                      path);
    else if (rc == -EISDIR || rc == -EINVAL)
        lsl_log_error("%s: %s: --out takes a file, a FIFO, a character "
                      "device or -",
                      path, rc == -EISDIR ? "a directory" : "not a file");
    else
        lsl_log_error("%s: cannot create the output: %s", path,
                      lsl_strerror(rc));
}

/*
 * A backfill to Kafka: one transaction per batch as in the daemon, under a
 * transactional id of its own ("logseal-pipe.HOST.SOURCE"), so it never
 * fences a daemon writing the same source. No checkpoint: a backfill that
 * failed half way has committed whole batches, and run again it sends
 * them again; split big backfills into files run one by one.
 */
static int open_kafka(struct pipe_run *r, const struct lsl_pipe_opts *o)
{
    char brokers[1024], topic[256];
    struct lsl_kafka_opts ko;
    int rc = lsl_kafka_url_parse(o->out_path, brokers, sizeof(brokers), topic,
                                 sizeof(topic));

    if (rc) {
        lsl_log_error("%s: expected kafka://HOST:PORT[,HOST:PORT...]/TOPIC",
                      o->out_path);
        return LSL_EUSAGE;
    }
    lsl_kafka_opts_init(&ko);
    ko.brokers = brokers;
    ko.topic = topic;
    ko.source = o->source;
    ko.host = o->host[0] ? o->host : NULL;
    ko.rule = o->rule;
    ko.txn_scope = "logseal-pipe";
    rc = lsl_kafka_sink_open(&r->sink, &ko);
    if (rc)
        lsl_log_error("%s: cannot open the Kafka output: %s", o->out_path,
                      lsl_strerror(rc));
    return rc;
}

/* The output first: a run that cannot write it leaves no vault file. */
static int open_outputs(struct pipe_run *r, const struct lsl_pipe_opts *o,
                        const uint8_t *pk)
{
    struct lsl_vault_set_opts vo = {
        .dir = o->vault_dir,
        .pubkey = pk,
        .source = o->source,
        .host = o->host,
        .keyring = r->kr,
    };
    int rc;

    if (o->out_path && strncmp(o->out_path, "kafka://", 8) == 0)
        rc = open_kafka(r, o);
    else if ((rc = lsl_file_sink_open(&r->sink, o->out_path)) != 0)
        out_error(o->out_path, rc);
    if (rc)
        return rc;
    rc = lsl_mkdir_p(o->vault_dir, 0700);
    if (rc == 0)
        rc = open_writer_state(r, o);
    vo.wstate = r->ws;
    if (rc == 0)
        rc = lsl_vault_set_open(&r->vs, &vo);
    if (rc && rc != LSL_EAUTH && rc != LSL_ENOKEY)
        lsl_log_error("%s: cannot create a vault file: %s", o->vault_dir,
                      lsl_strerror(rc));
    return rc;
}

static int open_input(const struct lsl_pipe_opts *o, int *fd)
{
    if (!o->in_path || strcmp(o->in_path, "-") == 0) {
        *fd = STDIN_FILENO;
        return 0;
    }
    *fd = open(o->in_path, O_RDONLY | O_CLOEXEC);
    if (*fd >= 0)
        return 0;
    lsl_log_error("%s: cannot open the input: %s", o->in_path, strerror(errno));
    return -errno;
}

static int run_loop(struct pipe_run *r, const struct lsl_pipe_opts *o, int fd)
{
    struct lsl_pipeline_opts po;
    struct lsl_fd_source_opts so = {
        .fd = fd,
        .name = o->source,
        .rule = r->rule,
        .sink = r->sink,
        .prefix = r->sample,
        .prefix_len = r->sample_len,
        .on_done = on_done,
        .ud = r,
    };
    int rc;

    lsl_pipeline_opts_init(&po);
    po.keyring = r->kr;
    po.vaults = r->vs;
    po.gzip_level = r->sink->gzip ? o->level : 0;
    po.on_fatal = on_fatal;
    po.on_tick = on_tick;
    po.ud = r;
    if (o->max_line)
        po.max_line = o->max_line;
    po.ip = o->ip;
    po.unparsed = o->unparsed;
    po.columns = o->columns;
    po.zone = o->zone;
    po.format = o->format;
    po.stop = r->stop;
    rc = lsl_pipeline_open(&r->pl, &po);
    if (rc)
        return rc;
    rc = lsl_fd_source_open(&r->src, r->pl, &so);
    if (rc) {
        if (fd > 0)
            close(fd);
        return rc;
    }
    rc = lsl_fd_source_start(r->src);
    if (rc == 0)
        lsl_pipeline_run(r->pl);
    return rc ? rc : r->err;
}

static void teardown(struct pipe_run *r, struct lsl_pipe_result *res, int *rc)
{
    int crc;

    if (r->pl)
        lsl_pipeline_totals(r->pl, &res->st, &res->vault_new);
    /* The source's handle closes on the pipeline's loop, which
     * lsl_pipeline_close runs to the end. */
    lsl_fd_source_close(r->src);
    lsl_pipeline_close(r->pl);
    lsl_progress_clear(&r->prog);
    /* Damaged gzip input fails the run before the output is renamed:
     * what was read stays as .part. */
    crc = lsl_gunzip_finish(r->gz, r->o->in_path ? r->o->in_path : "stdin");
    if (crc && *rc == 0)
        *rc = crc;
    if (r->vs)
        snprintf(res->vault_path, sizeof(res->vault_path), "%s",
                 lsl_vault_set_last_path(r->vs));
    crc = lsl_vault_set_close(r->vs);
    if (crc && *rc == 0) {
        lsl_log_error("%s: cannot finish the vault file: %s", res->vault_path,
                      lsl_strerror(crc));
        *rc = crc;
    }
    /* Output is renamed into place only after a clean run whose vault
     * file is complete; otherwise it stays behind as .part. */
    if (r->sink) {
        char desc[sizeof(r->sink->desc)];

        memcpy(desc, r->sink->desc, sizeof(desc));
        crc = r->sink->ops->close(r->sink, *rc == 0);
        if (crc && *rc == 0) {
            lsl_log_error("%s: cannot finish the output: %s", desc,
                          lsl_strerror(crc));
            *rc = crc;
        }
    }
    lsl_keyring_close(r->kr);
    lsl_vault_wstate_close(r->ws);
    lsl_stoplist_close(r->stop);
    lsl_rule_free(r->rule);
    if (r->sample)
        sodium_memzero(r->sample, r->sample_len);
    free(r->sample);
}

/* Say once, at start, what a disclosure could not be answered with. */
static void warn_gaps(const struct lsl_rule *rule)
{
    char msg[256];

    if (lsl_rule_disclosure_warning(rule, msg, sizeof(msg)))
        lsl_log_warn("%s", msg);
}

static bool progress_wanted(const struct lsl_pipe_opts *o)
{
    return o->progress > 0 || (o->progress < 0 && isatty(STDERR_FILENO));
}

int lsl_pipe_run(const struct lsl_pipe_opts *o, struct lsl_pipe_result *res)
{
    struct pipe_run r = {.o = o};
    struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
    struct sigaction old_usr1;
    uint8_t pk[LSL_VAULT_PUBKEY_BYTES];
    int fd = -1, rc;

    memset(res, 0, sizeof(*res));
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, &old_usr1);
    rc = open_input(o, &fd);
    if (rc == 0) /* sizes the input before a gzip thread may own it */
        lsl_progress_init(&r.prog, progress_wanted(o), fd, NULL);
    if (rc == 0)
        rc = sniff_input(&r, o->in_path ? o->in_path : "stdin", &fd);
    r.prog.gz = r.gz;
    if (rc == 0)
        rc = load_rule(&r, o, fd);
    if (rc == 0) {
        snprintf(res->rule_name, sizeof(res->rule_name), "%s",
                 lsl_rule_name(r.rule));
        warn_gaps(r.rule);
    }
    if (rc == 0)
        rc = load_keys(&r, o, pk);
    if (rc == 0)
        rc = open_outputs(&r, o, pk);
    if (rc == 0)
        rc = run_loop(&r, o, fd);
    else if (fd > 0)
        close(fd);
    teardown(&r, res, &rc);
    if (usr1_seen) { /* asked for after the last tick */
        usr1_seen = 0;
        lsl_batch_stats_log(o->source, &res->st, 0);
    }
    sigaction(SIGUSR1, &old_usr1, NULL);
    return rc;
}
