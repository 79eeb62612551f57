/*
 * `logseal vault erase|repair`: removing a data subject from the vault,
 * and finishing vault files a crash cut short.
 *
 *   erase    the subject's tokens are erased in the signed audit log
 *            first (unseal then says "erased"); the subject goes on the
 *            stop list the writers read (VAULTDIR/stop.list, with
 *            KEYS/stop.key), so it never enters the vault again; then
 *            every vault file holding one of its mappings, and every file
 *            cut short by a crash, is rewritten without them under a new
 *            file key and the old file's bytes are overwritten. Tokens
 *            under a legal hold are kept. It says what it could not do:
 *            held tokens, files it could not rewrite (being written,
 *            damaged), and epochs whose hash key a daemon may still hold
 *            (whoever holds hash.key and the output can then test guesses
 *            of small-space values), and exits 5 when it did not fully
 *            erase.
 *   repair   rewrites every cut-short file up to its last whole chunk and
 *            issues the stop list again from the audit log.
 *
 * Every rewritten file keeps its place in its writer's chain and names the
 * audit record that rewrote it.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli_internal.h"
#include "logseal/array.h"
#include "logseal/file.h"
#include "logseal/log.h"
#include "officer_internal.h"
#include "subject_internal.h"
#include "vaultcmd_internal.h"

/* Headers only: the index answers for the files it covers. */
static const struct lsl_cli_want no_tokens;

/* A hash key may still be held for an epoch that ended less ago. */
#define KEY_GRACE 86400

struct target {
    char *path;
    struct lsl_vault_link link;
    bool cut; /* cut short: rewritten whatever the subject */
};

struct erase {
    struct lsl_subject subj; /* erase only */
    struct lsl_tokset victims;
    size_t held;
    struct target *t; /* files to rewrite */
    size_t nt, cap;
    size_t writing;  /* files holding the subject that a writer holds */
    size_t key_held; /* files of epochs whose key may still be held */
    size_t busy, failed, not_zeroed, rewritten;
    size_t cut_fixed; /* cut-short files now finished */
    uint64_t dropped;
    int err;
};

static int add_target(struct erase *e, const char *path,
                      const struct lsl_vault_link *link, bool cut)
{
    if (lsl_array_grow(&e->t, &e->cap, e->nt + 1, sizeof(*e->t), 16))
        return -ENOMEM;
    e->t[e->nt] =
        (struct target){.path = strdup(path), .link = *link, .cut = cut};
    if (!e->t[e->nt].path)
        return -ENOMEM;
    e->nt++;
    return 0;
}

static bool key_may_be_held(const struct lsl_vault_file_info *i)
{
    int64_t end;

    if (i->epoch_len == LSL_EPOCH_NEVER)
        return true;
    end = lsl_epoch_start((enum lsl_epoch_len)i->epoch_len, i->epoch + 1);
    return end + KEY_GRACE > (int64_t)time(NULL);
}

/* Which files to rewrite: the subject's, and every cut-short one. */
static void target_file(const char *path, const struct lsl_vault_file_info *i,
                        int rc, void *ud)
{
    struct erase *e = ud;
    bool mine = e->subj.in_file;

    e->subj.in_file = false;
    if (mine && key_may_be_held(i))
        e->key_held++;
    if (rc == LSL_ETRUNC && i->writing) {
        e->writing += mine;
        return;
    }
    if ((mine && (rc == 0 || rc == LSL_ETRUNC)) ||
        (rc == LSL_ETRUNC && i->have_keys))
        e->err =
            e->err ? e->err : add_target(e, path, &i->link, rc == LSL_ETRUNC);
}

static void free_erase(struct erase *e)
{
    lsl_subject_free(&e->subj);
    lsl_tokset_free(&e->victims);
    for (size_t i = 0; i < e->nt; i++)
        free(e->t[i].path);
    free(e->t);
}

static bool drop_victim(const struct lsl_vault_record *r, void *ud)
{
    return lsl_tokset_has(ud, &r->tok);
}

/* Rewrite the targets; count what could not be done. */
static void rewrite_all(struct lsl_cli_session *ss, struct erase *e,
                        bool (*drop)(const struct lsl_vault_record *, void *))
{
    struct lsl_vault_rewrite_opts o = {
        .drop = drop, .ud = &e->victims, .audit_seq = ss->head.seq};

    for (size_t i = 0; i < e->nt; i++) {
        struct lsl_vault_rewrite_result res;
        int rc = lsl_vault_rewrite(e->t[i].path, ss->key, &o, &res);

        e->rewritten += res.rewritten;
        e->cut_fixed += res.rewritten && res.was_cut;
        e->dropped += res.dropped;
        if (rc == -EBUSY) {
            e->busy++;
            lsl_log_warn("%s: being written: not rewritten; run the same "
                         "command again once its writer has finished it",
                         e->t[i].path);
        } else if (rc && res.rewritten) {
            e->not_zeroed++;
            lsl_log_error("%s: rewritten, but the old bytes could not be "
                          "overwritten: %s",
                          e->t[i].path, lsl_strerror(rc));
        } else if (rc) {
            e->failed++;
            lsl_log_error("%s: cannot rewrite: %s", e->t[i].path,
                          lsl_strerror(rc));
        }
    }
}

/* The signed stop list: every entry the log holds, as of this record. */
static int issue_stop_list(struct lsl_cli_session *ss)
{
    size_t n;
    const struct lsl_stop_entry *v = lsl_ledger_stops(ss->ledger, &n);
    int rc = lsl_stopfile_write(ss->vault, ss->key, ss->head.seq, v, n);

    if (rc)
        lsl_log_error("%s/%s: cannot write the stop list: %s; the writers do "
                      "not know of this erasure yet: run the command again",
                      ss->vault, LSL_STOP_LIST_NAME, lsl_strerror(rc));
    return rc;
}

/*
 * KEYS/stop.key for the writers: created from the officer key once; one
 * already there must be the same key, or the writers would not know the
 * subject (it belongs to another officer key).
 */
static int ensure_stop_key(struct lsl_cli_session *ss, const uint8_t *key)
{
    uint8_t *have = sodium_malloc(LSL_STOP_KEY_BYTES);
    char path[PATH_MAX];
    int rc = have ? 0 : -ENOMEM;

    if (rc || !ss->keys) {
        sodium_free(have);
        return rc;
    }
    rc = lsl_path_join(path, sizeof(path), ss->keys, "stop.key");
    if (rc == 0)
        rc = lsl_stop_key_write(path, key);
    if (rc == 0)
        lsl_log_info("%s written: copy it next to hash.key on every host "
                     "that runs pipe or the daemon (mode 0600)",
                     path);
    if (rc == -EEXIST) {
        rc = lsl_stop_key_load(path, have);
        if (rc == 0 && sodium_memcmp(have, key, LSL_STOP_KEY_BYTES) != 0)
            rc = LSL_EAUTH;
        if (rc)
            lsl_log_error("%s: %s; nothing was erased", path,
                          rc == LSL_EAUTH ? "another officer key's stop key"
                                          : lsl_strerror(rc));
    }
    sodium_free(have);
    return rc;
}

/* ---- erase ---- */

static void erase_help(void)
{
    printf("usage: logseal vault erase --keys KEYS --vault VAULTDIR "
           "--case REF\n"
           "                          --subject VALUE [--class CLASS]\n\n"
           "Remove the subject from the vault and from what is written\n"
           "next. Its tokens are erased in the signed audit log (unseal then\n"
           "says 'erased'); it goes on the stop list (VAULTDIR/stop.list,\n"
           "keyed with KEYS/stop.key, which pipe and the daemon need) so it\n"
           "is written as <class>_erased and never mapped again; every\n"
           "vault file holding one of its mappings, and every file cut\n"
           "short by a crash, is rewritten without them under a new file\n"
           "key, and the old file's bytes are overwritten. Without --class\n"
           "the value is stopped in every class. Tokens under a legal hold\n"
           "are kept. It reports what it could not do: held tokens, files\n"
           "being written or damaged, epochs whose hash key a daemon may\n"
           "still hold (a holder of hash.key and the output can test\n"
           "guesses of small-space values, such as numeric "
           "ids).\n\n" LSL_CLI_OFFICER_HELP "\n"
           "exit: 0 fully erased, 5 erased in part (see the report), 4 the\n"
           "subject is not in the vault (it is on the stop list), 3\n"
           "integrity failure, 1 error\n");
}

static int stop_item(struct lsl_cli_session *ss, const uint8_t *key,
                     enum lsl_class c, struct lsl_span v)
{
    char hex[2 * LSL_TOKEN_HASH_BYTES + 1], word[96];
    struct lsl_stop_entry st;
    int rc = lsl_stop_hash(key, c, v.p, v.len, &st);

    if (rc)
        return rc;
    snprintf(word, sizeof(word), "stop=%s:%s", lsl_class_name(c),
             sodium_bin2hex(hex, sizeof(hex), st.hash, sizeof(st.hash)));
    return lsl_cli_session_item(ss, word);
}

/* The subject's stop entries, one per class in scope, as items; a phone
 * number also as written, for writers of a version that hashed it so. */
static int stop_items(struct lsl_cli_session *ss, const struct erase *e)
{
    uint8_t *key = sodium_malloc(LSL_STOP_KEY_BYTES);
    int rc = key ? lsl_officer_stop_key(ss->key, key) : -ENOMEM;
    struct lsl_span w;

    for (unsigned c = 0; rc == 0 && c < LSL_CLASS_COUNT; c++)
        if (e->subj.want[c])
            rc = stop_item(ss, key, (enum lsl_class)c,
                           lsl_subject_value(&e->subj, (enum lsl_class)c));
    if (rc == 0 && lsl_subject_written(&e->subj, &w))
        rc = stop_item(ss, key, LSL_CLASS_PHONE, w);
    if (rc == 0)
        rc = ensure_stop_key(ss, key);
    sodium_free(key);
    return rc;
}

/* Victims, held tokens and files as items of the erase record. */
static int erase_items(struct lsl_cli_session *ss, struct erase *e)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < e->subj.toks.n; i++) {
        const struct lsl_token *t = &e->subj.toks.v[i];
        bool held = lsl_ledger_held_token(ss->ledger, t);

        e->held += held;
        rc = held ? 0 : lsl_tokset_add(&e->victims, t);
        if (rc == 0)
            rc = lsl_cli_session_item_token(ss, held ? "kept" : "tok", t);
    }
    /* Files with nothing to drop (all held) and whole are left alone. */
    size_t keep = 0;

    for (size_t i = 0; i < e->nt; i++) {
        if (!e->victims.n && !e->t[i].cut)
            free(e->t[i].path);
        else
            e->t[keep++] = e->t[i];
    }
    e->nt = keep;
    for (size_t i = 0; rc == 0 && i < e->nt; i++)
        rc = lsl_cli_vault_item_file(ss, "rewrote", &e->t[i].link);
    return rc == 0 ? stop_items(ss, e) : rc;
}

static void erase_report(const struct erase *e)
{
    printf("erased %zu tokens of the subject: %" PRIu64 " records removed "
           "from %zu rewritten vault files (old bytes overwritten); the "
           "subject is on the stop list\n",
           e->victims.n, e->dropped, e->rewritten);
    if (e->held)
        printf("not erased: %zu tokens kept under a legal hold\n", e->held);
    if (e->writing || e->busy)
        printf("not erased: %zu vault files being written still hold the "
               "subject: run the same command again once they are finished\n",
               e->writing + e->busy);
    if (e->failed || e->not_zeroed)
        printf("not erased: %zu vault files could not be rewritten or "
               "overwritten (see the errors above)\n",
               e->failed + e->not_zeroed);
    if (e->key_held)
        printf("not unlinkable yet: %zu vault files are of epochs whose hash "
               "key a daemon may still hold (a fixed key, or an epoch ended "
               "less than a day ago): whoever holds hash.key and the output "
               "can still test guesses of the subject's values\n",
               e->key_held);
    printf("not reachable: copies outside this vault (backups, snapshots), "
           "blocks a copy-on-write file system or an SSD kept\n");
}

static int erase_run(struct lsl_cli_session *ss, struct erase *e)
{
    char query[96];
    int rc = lsl_cli_session_open(ss);

    ss->on_file = target_file;
    ss->file_ud = e;
    if (rc == 0)
        rc = lsl_subject_find(&e->subj, ss);
    if (rc == 0)
        rc = e->err;
    if (rc == 0)
        rc = erase_items(ss, e);
    snprintf(query, sizeof(query), "subject: %zu tokens, %zu held",
             e->subj.toks.n, e->held);
    if (rc == 0)
        rc = lsl_cli_session_record(ss, "erase", query, e->victims.n);
    /* From here on the log says erased: the ledger must know it too. */
    if (rc == 0) {
        lsl_ledger_free(ss->ledger);
        rc = lsl_ledger_load(&ss->ledger, ss->vault, &ss->pub,
                             &(struct lsl_audit_verdict){0});
    }
    if (rc == 0)
        rc = issue_stop_list(ss);
    if (rc == 0)
        rewrite_all(ss, e, drop_victim);
    if (rc == 0 && e->rewritten)
        lsl_cli_session_index_refresh(ss);
    ss->cut -= e->cut_fixed < ss->cut ? e->cut_fixed : ss->cut;
    if (rc == 0)
        erase_report(e);
    return rc;
}

static int erase_exit(const struct lsl_cli_session *ss, const struct erase *e,
                      int rc)
{
    int done = LSL_EXIT_OK;

    if (rc == 0 && e->subj.toks.n == 0) {
        lsl_log_error("the subject has no mapping in %s; it is on the stop "
                      "list",
                      ss->vault);
        done = LSL_EXIT_NOTFOUND;
    } else if (e->held || e->writing || e->busy || e->failed || e->not_zeroed ||
               e->key_held) {
        done = LSL_EXIT_PARTIAL;
    }
    return lsl_cli_session_exit(ss, rc, done);
}

int lsl_cmd_vault_erase(int argc, char **argv)
{
    struct lsl_cli_session ss;
    struct lsl_vault_opts o;
    struct erase e = {0};
    int rc = lsl_cli_vault_parse("vault erase", argc, argv, &o, erase_help),
        code;

    if (rc != LSL_CLI_GO)
        return rc;
    if (!o.ref || !o.subject || !o.subject[0])
        return lsl_cli_usage_error("vault erase", "--case and --subject "
                                                  "are required");
    lsl_cli_vault_session(&ss, &o);
    rc = lsl_subject_init(&e.subj, o.subject, o.cls);
    if (rc == 0)
        rc = erase_run(&ss, &e);
    code = erase_exit(&ss, &e, rc);
    free_erase(&e);
    lsl_cli_session_close(&ss);
    return code;
}

/* ---- repair ---- */

static void repair_help(void)
{
    printf("usage: logseal vault repair --keys KEYS --vault VAULTDIR "
           "--case REF\n\n"
           "Finish the vault files a crash cut short: each (unless a writer\n"
           "still holds it) is rewritten up to its last whole chunk, keeps\n"
           "its place in its writer's chain and names this command's audit\n"
           "record; the old bytes are overwritten. Also writes the stop list\n"
           "again from the audit log, if it is missing or out of "
           "date.\n\n" LSL_CLI_OFFICER_HELP "\n"
           "exit: 0 done (or nothing to do), 5 some file could not be\n"
           "repaired, 3 integrity failure, 1 error\n");
}

static void cut_file(const char *path, const struct lsl_vault_file_info *i,
                     int rc, void *ud)
{
    struct erase *e = ud;

    if (rc == LSL_ETRUNC && !i->writing && i->have_keys)
        e->err = e->err ? e->err : add_target(e, path, &i->link, true);
}

static int repair_run(struct lsl_cli_session *ss, struct erase *e)
{
    bool stop_ok;
    int rc = lsl_cli_session_open(ss);

    ss->on_file = cut_file;
    ss->file_ud = e;
    if (rc == 0)
        rc = lsl_cli_session_find(ss, &no_tokens, NULL, NULL);
    if (rc == 0)
        rc = e->err;
    stop_ok = rc == 0 && lsl_cli_session_stop_list_current(ss, NULL);
    if (rc || (e->nt == 0 && stop_ok)) {
        if (rc == 0)
            printf("nothing to repair\n");
        return rc;
    }
    for (size_t i = 0; rc == 0 && i < e->nt; i++)
        rc = lsl_cli_vault_item_file(ss, "rewrote", &e->t[i].link);
    if (rc == 0)
        rc = lsl_cli_session_record(ss, "repair", "cut-short files", e->nt);
    if (rc == 0 && !stop_ok)
        rc = issue_stop_list(ss);
    if (rc == 0)
        rewrite_all(ss, e, NULL);
    if (rc == 0 && e->rewritten)
        lsl_cli_session_index_refresh(ss);
    if (rc == 0)
        printf("repaired %zu of %zu cut-short vault files%s\n", e->rewritten,
               e->nt, stop_ok ? "" : "; stop list written again");
    return rc;
}

int lsl_cmd_vault_repair(int argc, char **argv)
{
    struct lsl_cli_session ss;
    struct lsl_vault_opts o;
    struct erase e = {0};
    int rc = lsl_cli_vault_parse("vault repair", argc, argv, &o, repair_help),
        code;

    if (rc != LSL_CLI_GO)
        return rc;
    if (!o.ref)
        return lsl_cli_usage_error("vault repair", "--case is required");
    lsl_cli_vault_session(&ss, &o);
    rc = repair_run(&ss, &e);
    /* Files repaired are no longer cut short: judge by what remains. */
    ss.cut -= e.cut_fixed < ss.cut ? e.cut_fixed : ss.cut;
    code = lsl_cli_session_exit(
        &ss, rc,
        e.busy || e.failed || e.not_zeroed ? LSL_EXIT_PARTIAL : LSL_EXIT_OK);
    free_erase(&e);
    lsl_cli_session_close(&ss);
    return code;
}
