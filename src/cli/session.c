/*
 * An officer command's session (session_internal.h).
 *
 * Order of trust: the officer key must belong to KEYS/vault.pub (and to
 * the vault's audit.pub, if the vault has one) and must open the vault's
 * files before it may sign anything there, so a wrong key never claims a
 * vault. The audit log must verify before the legal state it holds is
 * used, and must not be younger than the vault's own evidence (rewritten
 * files and the stop list name the records that made them): a deleted,
 * cut or replayed log is refused, unless the officer says
 * --new-audit-log, which the new record then says. Every record names
 * the share holders who opened the key and the newest file of each
 * writer seen, so later deletions show against it.
 */
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "audit_record_internal.h"
#include "cli_internal.h"
#include "logseal/file.h"
#include "logseal/log.h"
#include "officer_internal.h"
#include "session_internal.h"

void lsl_cli_session_integrity(struct lsl_cli_session *s, int rc)
{
    if (!s->integrity)
        s->integrity = rc;
}

static bool exists(const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;

    return lsl_path_join(path, sizeof(path), dir, name) == 0 &&
           lstat(path, &st) == 0;
}

/* The vault's audit.pub, if any, must be this key's. */
static int check_vault_pub(struct lsl_cli_session *s)
{
    struct lsl_audit_pub theirs;
    char path[PATH_MAX];
    int rc = lsl_path_join(path, sizeof(path), s->vault, LSL_AUDIT_PUB_NAME);

    if (rc == 0)
        rc = lsl_audit_pub_load(path, &theirs);
    if (rc == -ENOENT)
        return 0;
    if (rc == 0 && sodium_memcmp(&theirs, &s->pub, sizeof(theirs)) != 0)
        rc = LSL_EAUTH;
    if (rc)
        lsl_log_error("%s: %s; nothing was read or recorded", path,
                      rc == LSL_EAUTH ? "this vault's audit log is signed by "
                                        "another officer key (wrong key, or "
                                        "a replaced audit.pub)"
                                      : lsl_strerror(rc));
    return rc;
}

static void log_verdict(const struct lsl_cli_session *s,
                        const struct lsl_audit_verdict *v)
{
    lsl_log_error("%s/%s: line %llu: %s: %s (the %llu records before it are "
                  "intact); the legal state cannot be trusted, nothing was "
                  "revealed; see 'logseal audit verify', or give "
                  "--new-audit-log to set this log aside and start a new "
                  "one (recorded)",
                  s->vault, LSL_AUDIT_LOG_NAME, (unsigned long long)v->bad_line,
                  lsl_audit_fault_name(v->fault), v->detail,
                  (unsigned long long)v->records);
}

/* Move a log that does not verify aside: --new-audit-log. */
static int set_log_aside(struct lsl_cli_session *s)
{
    char from[PATH_MAX], to[PATH_MAX + 64], when[32];

    lsl_cli_iso_time((int64_t)time(NULL), when);
    if (lsl_path_join(from, sizeof(from), s->vault, LSL_AUDIT_LOG_NAME))
        return -ENAMETOOLONG;
    snprintf(to, sizeof(to), "%s.set-aside-%s", from, when);
    if (rename(from, to) != 0)
        return -errno;
    lsl_log_warn("%s: did not verify; set aside as %s (--new-audit-log); a "
                 "new log starts",
                 from, to);
    return 0;
}

static int load_ledger(struct lsl_cli_session *s)
{
    struct lsl_audit_verdict v;
    int rc = lsl_ledger_load(&s->ledger, s->vault, &s->pub, &v);

    if (rc == LSL_EAUTH && s->new_log) {
        rc = set_log_aside(s);
        if (rc == 0)
            rc = lsl_ledger_load(&s->ledger, s->vault, &s->pub, &v);
    } else if (rc == LSL_EAUTH && s->tolerate_log) {
        log_verdict(s, &v);
        lsl_cli_session_integrity(s, rc);
        rc = lsl_ledger_load(&s->ledger, NULL, &s->pub, &v);
    } else if (rc == LSL_EAUTH) {
        log_verdict(s, &v);
    } else if (rc) {
        lsl_log_error("%s/%s: cannot read the audit log: %s", s->vault,
                      LSL_AUDIT_LOG_NAME, lsl_strerror(rc));
    }
    if (rc == 0 && v.fault == LSL_AUDIT_TORN)
        lsl_log_warn("%s/%s: the last record is torn (%llu bytes: a crash or "
                     "a full disk during an append); this command's record "
                     "cuts it and says so",
                     s->vault, LSL_AUDIT_LOG_NAME,
                     (unsigned long long)v.torn_bytes);
    return rc;
}

static int append(struct lsl_cli_session *s, const char *action,
                  const char *query, const char *items)
{
    return lsl_cli_audit_append(s->vault, s->key, s->case_ref, action, query, 0,
                                items, &s->head);
}

/*
 * Record the content of VAULTDIR/holds and /erased once, set them aside.
 * Once the log keeps the legal state, such files were written by nobody
 * who signs: they are set aside unread.
 */
static int import_legacy(struct lsl_cli_session *s)
{
    struct lsl_buf erased = {0}, holds = {0};
    bool found = false;
    int rc;

    if (lsl_ledger_current(s->ledger)) {
        lsl_log_warn("%s: plain holds/erased files appeared beside a signed "
                     "audit log: nobody signed them, so they lift or hide "
                     "nothing; renamed *.ignored",
                     s->vault);
        return lsl_legal_legacy_retire(s->vault, ".ignored");
    }
    rc = lsl_legal_legacy_load(s->vault, &erased, &holds, &found);

    if (rc == 0 && found && erased.len && lsl_buf_putc(&erased, '\0') == 0)
        rc = append(s, "import-erased", "legacy erased list", erased.p);
    for (char *line = holds.p, *end;
         rc == 0 && found && line && line < holds.p + holds.len;
         line = end + 1) {
        char *tab = strchr(line, '\t');

        end = strchr(line, '\n');
        if (!tab || !end)
            break;
        *tab = *end = '\0';
        rc = lsl_cli_audit_append(s->vault, s->key, line, "import-hold",
                                  "legacy holds", 0, tab + 1, &s->head);
    }
    if (rc == 0 && found)
        rc = lsl_legal_legacy_retire(s->vault, ".imported");
    if (rc == 0 && found) {
        lsl_log_warn("%s: the legacy files holds/erased were recorded in the "
                     "signed audit log and renamed *.imported",
                     s->vault);
        lsl_ledger_free(s->ledger);
        s->ledger = NULL;
        rc = load_ledger(s);
    } else if (rc) {
        lsl_log_error("%s: cannot import the legacy legal files: %s", s->vault,
                      lsl_strerror(rc));
    }
    lsl_buf_free(&erased);
    lsl_buf_free(&holds);
    return rc;
}

int lsl_cli_session_option(struct lsl_cli_session *s, int c, const char *arg)
{
    if (c == 'k')
        s->keys = arg;
    else if (c == 'v')
        s->vault = arg;
    else if (!LSL_CLI_IS_OFFICER_OPT(c))
        return 0;
    else if (lsl_cli_officer_option(c, arg) != 0)
        return LSL_EUSAGE;
    return 1;
}

int lsl_cli_session_open(struct lsl_cli_session *s)
{
    int rc = lsl_cli_officer_open(s->keys, &s->key);

    s->new_log = s->new_log || lsl_cli_officer_new_log();
    if (rc == 0)
        rc = lsl_audit_pub_derive(s->key, &s->pub);
    if (rc == 0)
        rc = check_vault_pub(s);
    if (rc == 0)
        rc = load_ledger(s);
    if (rc == 0)
        rc = lsl_vault_chain_open(&s->chain);
    if (rc == 0)
        lsl_cli_officer_shares_used(s->shares, sizeof(s->shares));
    if (rc == 0 && (exists(s->vault, "holds") || exists(s->vault, "erased")))
        rc = import_legacy(s);
    return rc;
}

int lsl_cli_session_item(struct lsl_cli_session *s, const char *word)
{
    return lsl_buf_printf(&s->items, "%s%s", s->items.len ? " " : "", word);
}

int lsl_cli_session_item_token(struct lsl_cli_session *s, const char *key,
                               const struct lsl_token *t)
{
    char text[LSL_TOKEN_TEXT_MAX];

    lsl_token_format(t, text);
    return lsl_buf_printf(&s->items, "%s%s=%s", s->items.len ? " " : "", key,
                          text);
}

/* shares= and writer= items. */
static int standard_items(struct lsl_cli_session *s)
{
    struct lsl_vault_anchor *a = NULL;
    size_t n = lsl_vault_chain_anchors(s->chain, &a);
    char w[2 * LSL_VAULT_ID_BYTES + 1], d[2 * LSL_VAULT_DIGEST_BYTES + 1];
    int rc = a ? 0 : -ENOMEM;

    if (rc == 0 && s->shares[0])
        rc = lsl_buf_printf(&s->items, "%sshares=%s", s->items.len ? " " : "",
                            s->shares);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = lsl_buf_printf(
            &s->items, "%swriter=%s:%llu:%s", s->items.len ? " " : "",
            sodium_bin2hex(w, sizeof(w), a[i].writer, LSL_VAULT_ID_BYTES),
            (unsigned long long)a[i].seq,
            sodium_bin2hex(d, sizeof(d), a[i].digest, LSL_VAULT_DIGEST_BYTES));
    free(a);
    return rc;
}

/* The newest record the vault's own evidence names. */
static uint64_t evidence_seq(const struct lsl_cli_session *s, bool *used)
{
    struct lsl_stop_entry *v = NULL;
    uint64_t seq = s->rewrite_seq, stop_seq = 0;
    size_t n;

    *used = seq > 0 || exists(s->vault, LSL_AUDIT_PUB_NAME) ||
            exists(s->vault, LSL_STOP_LIST_NAME);
    if (lsl_stopfile_read(s->vault, &s->pub, &stop_seq, &v, &n) == 0 &&
        stop_seq > seq)
        seq = stop_seq;
    free(v);
    return seq;
}

/* The log must be at least as long as the vault says it was. */
static int check_log_age(struct lsl_cli_session *s)
{
    struct lsl_audit_head h;
    bool used;
    uint64_t want = evidence_seq(s, &used);
    char item[64];

    lsl_ledger_head(s->ledger, &h);
    if ((h.seq > 0 || !used) && h.seq >= want)
        return 0;
    if (!s->new_log) {
        lsl_log_error(
            "%s/%s: %s, but the vault shows officer actions up to record "
            "%llu (rewritten files, the stop list, audit.pub): the log was "
            "deleted, cut or replaced by an older copy; nothing was "
            "revealed. Compare with the head kept outside the vault "
            "('logseal audit verify --head'); give --new-audit-log to go on "
            "with this log (recorded)",
            s->vault, LSL_AUDIT_LOG_NAME,
            h.seq ? "it ends at an older record" : "it is missing or empty",
            (unsigned long long)want);
        return LSL_EAUTH;
    }
    snprintf(item, sizeof(item), "restart=%llu:%llu", (unsigned long long)h.seq,
             (unsigned long long)want);
    lsl_log_warn("%s/%s: going on from record %llu although the vault shows "
                 "records up to %llu (--new-audit-log, recorded)",
                 s->vault, LSL_AUDIT_LOG_NAME, (unsigned long long)h.seq,
                 (unsigned long long)want);
    return lsl_cli_session_item(s, item);
}

int lsl_cli_session_record(struct lsl_cli_session *s, const char *action,
                           const char *query, uint64_t count)
{
    int rc = check_log_age(s);

    if (rc == 0)
        rc = standard_items(s);
    if (rc == 0 && lsl_buf_putc(&s->items, '\0') == 0)
        s->items.len--;
    else if (rc == 0)
        rc = -ENOMEM;
    if (rc == 0)
        rc =
            lsl_cli_audit_append(s->vault, s->key, s->case_ref, action, query,
                                 count, s->items.p ? s->items.p : "", &s->head);
    return rc;
}

bool lsl_cli_session_stop_list_current(struct lsl_cli_session *s, int *why)
{
    struct lsl_stop_entry *v = NULL;
    uint64_t seq = 0;
    size_t n = 0, want;
    int rc = lsl_stopfile_read(s->vault, &s->pub, &seq, &v, &n);

    lsl_ledger_stops(s->ledger, &want);
    free(v);
    if (rc == 0 && n < want)
        rc = LSL_ETRUNC;
    if (why)
        *why = rc;
    return rc == 0 || (rc == -ENOENT && want == 0);
}

void lsl_cli_session_close(struct lsl_cli_session *s)
{
    lsl_cli_session_index_end(s);
    lsl_officer_key_close(s->key);
    lsl_ledger_free(s->ledger);
    lsl_vault_chain_free(s->chain);
    lsl_buf_free(&s->items);
    s->key = NULL;
    s->ledger = NULL;
    s->chain = NULL;
}

int lsl_cli_session_exit(const struct lsl_cli_session *s, int rc, int otherwise)
{
    if (rc == LSL_EUSAGE || rc == LSL_EXIT_USAGE)
        return LSL_EXIT_USAGE;
    if (rc == LSL_EAUTH || rc == LSL_ECORRUPT || rc == LSL_EFORGED)
        return LSL_EXIT_INTEGRITY;
    if (rc == LSL_ENOTFOUND)
        return LSL_EXIT_NOTFOUND;
    if (rc)
        return LSL_EXIT_ERROR;
    if (s->integrity || s->cut)
        return LSL_EXIT_INTEGRITY;
    return otherwise;
}

void lsl_cli_json_str(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void lsl_cli_epoch_text(uint32_t epoch, uint8_t epoch_len, char out[64])
{
    static const char *const kinds[] = {"fixed key", "day", "week of", "month"};
    int64_t start = lsl_epoch_start((enum lsl_epoch_len)epoch_len, epoch);
    char when[32];

    if (epoch_len == LSL_EPOCH_NEVER || epoch_len > LSL_EPOCH_MONTH) {
        snprintf(out, 64, "%lu (fixed key)", (unsigned long)epoch);
        return;
    }
    lsl_cli_iso_time(start, when);
    when[epoch_len == LSL_EPOCH_MONTH ? 7 : 10] = '\0';
    snprintf(out, 64, "%lu (%s %s)", (unsigned long)epoch, kinds[epoch_len],
             when);
}
