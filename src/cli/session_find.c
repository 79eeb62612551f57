/*
 * An officer command's reading of the vault (session_internal.h): every
 * vault file accounted for (its outcome reported, its place in its
 * writer's chain checked), and the records the command looks for
 * delivered, through the sealed index (sidx.h) where it covers a file as
 * it is now, else by reading the file whole.
 *
 * Invariants: the files are visited in the reader's order and each is
 * reported once with what a whole reading of it gives (the index recorded
 * exactly that; whether a writer holds a file cut short is asked of the
 * lock now), so the outcome, the exit code and the audit record are those
 * of a full reading; records come in file order, and for a wanted token
 * the same ones. An index that does not open, or whose chunk does not,
 * is never believed: the files concerned are read whole, and the index is
 * rebuilt when the command ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "logseal/array.h"
#include "logseal/file.h"
#include "logseal/log.h"
#include "logseal/sidx.h"
#include "officer_internal.h"
#include "session_internal.h"

/* Per-file outcome: report, note for the chain and the exit code. */
static void on_file(struct lsl_cli_session *s, const char *path,
                    const struct lsl_vault_file_info *info, int rc)
{
    s->files++;
    s->opened += info->have_keys;
    if (info->flags & LSL_VAULT_F_REWRITTEN && info->audit_seq > s->rewrite_seq)
        s->rewrite_seq = info->audit_seq;
    if (lsl_vault_chain_add(s->chain, path, info))
        lsl_cli_session_integrity(s, -ENOMEM);
    if (s->on_file)
        s->on_file(path, info, rc, s->file_ud);
    if (rc == 0)
        return;
    if (rc == LSL_ETRUNC && info->writing) {
        s->writing++;
        lsl_log_info("%s: being written (%llu chunks so far): its intact "
                     "records were used",
                     path, (unsigned long long)info->chunks);
        return;
    }
    if (rc == LSL_ETRUNC) {
        s->cut++;
        lsl_log_error("%s: cut short after %llu intact chunks (a crash, or "
                      "truncated): its intact records were used, the rest is "
                      "lost; 'logseal vault repair' finishes it",
                      path, (unsigned long long)info->chunks);
        return;
    }
    if (rc == LSL_EVERSION) {
        lsl_log_error("%s: vault format version %u: %s; its records were not "
                      "used",
                      path, info->version,
                      info->version < 3 ? "written before records could be "
                                          "verified (read it with the "
                                          "logseal release that wrote it)"
                                        : "newer than this logseal");
    } else {
        lsl_log_error("%s: integrity failure at byte %llu: %s; records after "
                      "it were not used",
                      path, (unsigned long long)info->error_offset,
                      lsl_strerror(rc));
    }
    lsl_cli_session_integrity(s, rc);
}

/* "1a2b3c4d5e6f" or "1a2b3c4d5e6f (host edge-1)", as the file names say. */
static void writer_text(const struct lsl_cli_session *s, const uint8_t *id,
                        char out[96])
{
    const char *path = lsl_vault_chain_path(s->chain, id);
    char host[LSL_HOST_MAX + 1];

    sodium_bin2hex(out, 13, id, 6);
    if (path && lsl_vault_name_host(path, host, sizeof(host)))
        snprintf(out + 12, 96 - 12, " (host %s)", host);
}

static void on_problem(const struct lsl_vault_chain_problem *p, void *ud)
{
    struct lsl_cli_session *s = ud;
    char w[96];

    writer_text(s, p->writer, w);
    lsl_cli_session_integrity(s, LSL_EAUTH);
    switch (p->fault) {
    case LSL_CHAIN_MISSING:
    case LSL_CHAIN_TAIL:
        lsl_log_error("%s: writer %s: vault files %llu..%llu are missing%s: "
                      "deleted, or not collected here; answers may lack their "
                      "records",
                      s->vault, w, (unsigned long long)p->seq,
                      (unsigned long long)p->seq_to,
                      p->fault == LSL_CHAIN_TAIL ? " (the audit log saw them)"
                                                 : "");
        break;
    case LSL_CHAIN_DUPLICATE:
        lsl_log_error("%s: writer %s file %llu is also %s: a copy or a fork",
                      p->path, w, (unsigned long long)p->seq, p->other);
        break;
    case LSL_CHAIN_LINK:
        lsl_log_error("%s: writer %s file %llu does not follow %s: a file "
                      "was replaced",
                      p->path, w, (unsigned long long)p->seq, p->other);
        break;
    case LSL_CHAIN_FOREIGN:
        lsl_log_error("%s: claims to be file %llu of writer %s but lacks its "
                      "secret: planted or foreign",
                      p->path, (unsigned long long)p->seq, w);
        break;
    case LSL_CHAIN_KEY:
        lsl_log_error("%s: its epoch %lu verification key differs from that "
                      "of %s: one of them is foreign",
                      p->path, (unsigned long)p->epoch, p->other);
        break;
    }
}

static bool removed(const uint8_t *writer, uint64_t seq, void *ud)
{
    return lsl_ledger_removed(ud, writer, seq);
}

/* ---- walking the files ---- */

struct walk {
    struct lsl_cli_session *s;
    bool account; /* report every file (the first reading of a command) */
    lsl_vault_record_fn fn;
    void *ud;
    int stop; /* fn's own non-zero value */
    /* with the index */
    struct lsl_sidx *ix;
    struct lsl_token *keys;
    size_t nkeys;
    struct lsl_sidx_loc *locs;
    size_t nlocs;
    size_t covered, whole, chunks; /* for the report */
};

static int each_record(const struct lsl_vault_record *r, void *ud)
{
    struct walk *w = ud;

    w->stop = w->fn ? w->fn(r, w->ud) : 0;
    return w->stop;
}

static bool held_by_writer(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool held =
        fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;

    if (fd >= 0)
        close(fd);
    return held;
}

static void index_damaged(struct lsl_cli_session *s, const char *what, int rc)
{
    if (!s->rebuild_index)
        lsl_log_warn("%s/%s: %s: %s; the vault files were read instead, and "
                     "the index is rebuilt when this command ends",
                     s->vault, LSL_SIDX_DIR, what, lsl_strerror(rc));
    s->rebuild_index = true;
}

/* The records of the wanted tokens in f, through its chunks. 1: the index
 * failed (read the file whole). */
static int from_index(struct walk *w, const char *path,
                      const struct lsl_sidx_file *f)
{
    size_t lo = 0, hi = w->nlocs;
    int rc = 0;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (w->locs[mid].file < f->no)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; rc == 0 && lo < w->nlocs && w->locs[lo].file == f->no; lo++) {
        rc = lsl_sidx_read_chunk(w->ix, path, f, &w->locs[lo], w->keys,
                                 w->nkeys, each_record, w);
        w->chunks++;
    }
    if (rc == 0 || w->stop)
        return rc;
    index_damaged(w->s, path, rc);
    return 1;
}

/* One vault file: through the index if it covers the file as it is. */
static int visit(struct walk *w, const char *path, const char *name,
                 const struct stat *st)
{
    const struct lsl_sidx_file *f =
        w->ix ? lsl_sidx_file(w->ix, name, st) : NULL;
    struct lsl_vault_file_info info;
    int rc = f ? from_index(w, path, f) : 1;

    if (rc < 0)
        return rc; /* fn's own value, or -ENOMEM */
    w->covered += rc == 0;
    w->whole += rc != 0;
    if (rc == 0) {
        info = f->info;
        info.writing = f->rc == LSL_ETRUNC && held_by_writer(path);
        rc = f->rc;
    } else {
        rc = lsl_vault_read_file(path, w->s->key, each_record, w, &info);
        if (w->stop)
            return w->stop;
    }
    if (w->account)
        on_file(w->s, path, &info, rc);
    return rc == -ENOMEM ? rc : 0;
}

static int walk(struct walk *w)
{
    char **names = NULL, path[PATH_MAX];
    size_t n = 0;
    struct stat st;
    int rc = lsl_vault_list(w->s->vault, &names, &n);

    for (size_t i = 0; rc == 0 && i < n; i++) {
        /* As lsl_vault_read_dir: what is no regular file is skipped. */
        if (lsl_path_join(path, sizeof(path), w->s->vault, names[i]) != 0 ||
            stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        rc = visit(w, path, names[i], &st);
    }
    lsl_vault_list_free(names, n);
    if (rc && !w->stop)
        lsl_log_error("%s: cannot read the vault: %s", w->s->vault,
                      lsl_strerror(rc));
    return rc;
}

int lsl_cli_session_judge(struct lsl_cli_session *s)
{
    struct lsl_vault_chain_expect x = {.removed = removed, .ud = s->ledger};

    if (s->files && !s->opened) {
        lsl_log_error("%s: this officer key opens none of the %zu vault "
                      "files: it is another vault's key; nothing was "
                      "revealed or recorded",
                      s->vault, s->files);
        return LSL_EAUTH;
    }
    x.anchors = lsl_ledger_writers(s->ledger, &x.nanchors);
    lsl_vault_chain_check(s->chain, &x, on_problem, s);
    return 0;
}

int lsl_cli_session_read(struct lsl_cli_session *s, lsl_vault_record_fn fn,
                         void *ud)
{
    struct walk w = {.s = s, .account = true, .fn = fn, .ud = ud};
    int rc = walk(&w);

    return rc ? rc : lsl_cli_session_judge(s);
}

/* ---- through the index ---- */

static int add_key(struct walk *w, const struct lsl_token *t, size_t *cap)
{
    if (lsl_array_grow(&w->keys, cap, w->nkeys + 1, sizeof(*w->keys), 64))
        return -ENOMEM;
    w->keys[w->nkeys++] = *t;
    return 0;
}

/* The wanted tokens, and those each verification key makes of the
 * wanted value. */
static int want_keys(struct walk *w, const struct lsl_cli_want *want)
{
    struct lsl_tokset derived = {0};
    size_t cap = 0;
    uint16_t kid;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < want->n; i++)
        rc = add_key(w, &want->toks[i], &cap);
    for (size_t i = 0;
         rc == 0 && want->derive && i < lsl_sidx_vkey_count(w->ix); i++) {
        const uint8_t *vk = lsl_sidx_vkey(w->ix, i, &kid);

        rc = want->derive(vk, kid, &derived, want->ud);
    }
    for (size_t i = 0; rc == 0 && i < derived.n; i++)
        rc = add_key(w, &derived.v[i], &cap);
    lsl_tokset_free(&derived);
    return rc;
}

/* Open the index and find the chunks; NULL ix: read every file whole. */
static int open_index(struct walk *w, const struct lsl_cli_want *want)
{
    struct lsl_cli_session *s = w->s;
    int rc;

    if (s->no_index || lsl_cli_officer_no_index())
        return 0;
    rc = lsl_sidx_open(&w->ix, s->vault, s->key);
    if (rc == -ENOENT) {
        lsl_log_info("%s: no index: every vault file is read ('logseal "
                     "vault index' builds one)",
                     s->vault);
        return 0;
    }
    if (rc == -ENOMEM)
        return rc;
    if (rc == 0)
        rc = want_keys(w, want);
    if (rc == 0)
        rc = lsl_sidx_find(w->ix, w->keys, w->nkeys, &w->locs, &w->nlocs);
    if (rc && rc != -ENOMEM) {
        index_damaged(s, "the index does not open", rc);
        lsl_sidx_close(w->ix);
        w->ix = NULL;
        rc = 0;
    }
    return rc;
}

static int find(struct lsl_cli_session *s, const struct lsl_cli_want *want,
                lsl_vault_record_fn fn, void *ud, bool account)
{
    struct walk w = {.s = s, .account = account, .fn = fn, .ud = ud};
    int rc = open_index(&w, want);

    rc = rc ? rc : walk(&w);
    if (rc == 0 && w.ix)
        lsl_log_info("%s: %zu vault files answered through the index (%zu "
                     "chunks read), %zu read whole",
                     s->vault, w.covered, w.chunks, w.whole);
    lsl_sidx_close(w.ix);
    free(w.keys);
    free(w.locs);
    return rc;
}

int lsl_cli_session_find(struct lsl_cli_session *s,
                         const struct lsl_cli_want *want,
                         lsl_vault_record_fn fn, void *ud)
{
    int rc = find(s, want, fn, ud, true);

    return rc ? rc : lsl_cli_session_judge(s);
}

int lsl_cli_session_scan(struct lsl_cli_session *s,
                         const struct lsl_cli_want *want,
                         lsl_vault_record_fn fn, void *ud)
{
    return find(s, want, fn, ud, true);
}

int lsl_cli_session_fetch(struct lsl_cli_session *s,
                          const struct lsl_cli_want *want,
                          lsl_vault_record_fn fn, void *ud)
{
    return find(s, want, fn, ud, false);
}

void lsl_cli_session_index_refresh(struct lsl_cli_session *s)
{
    struct lsl_sidx_update_result res;
    char path[PATH_MAX];
    struct stat st;
    int rc;

    if (lsl_path_join(path, sizeof(path), s->vault, LSL_SIDX_DIR) != 0 ||
        stat(path, &st) != 0 || s->rebuild_index)
        return; /* no index to keep up (or it is rebuilt at close) */
    rc = lsl_sidx_update(s->vault, s->key, NULL, &res);
    if (rc)
        lsl_log_warn("%s: cannot bring the index up to date: %s; run "
                     "'logseal vault index' (until then the files changed "
                     "now are read whole)",
                     path, lsl_strerror(rc));
}

void lsl_cli_session_index_end(struct lsl_cli_session *s)
{
    struct lsl_sidx_update_opts o = {.rebuild = true};
    struct lsl_sidx_update_result res;
    int rc;

    if (!s->rebuild_index || !s->key)
        return;
    s->rebuild_index = false;
    rc = lsl_sidx_update(s->vault, s->key, &o, &res);
    if (rc)
        lsl_log_warn("%s/%s: cannot rebuild the index: %s; officer commands "
                     "read every vault file until 'logseal vault index "
                     "--rebuild' succeeds",
                     s->vault, LSL_SIDX_DIR, lsl_strerror(rc));
    else
        lsl_log_info("%s/%s: rebuilt: %zu vault files, %llu entries", s->vault,
                     LSL_SIDX_DIR, res.files, (unsigned long long)res.entries);
}
