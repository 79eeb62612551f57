/*
 * An officer command's session (see session.c): the officer key, the
 * verified audit log and the legal state it holds, one checked reading of
 * the vault, and the one audit record the command appends before it
 * reveals or changes anything.
 *
 * Every officer-side command (unseal, disclose, identify, vault ...) runs
 *
 *     lsl_cli_session_open      key, audit log, legal state
 *     lsl_cli_session_read      every vault file, verified; chain checked
 *     ... decide what to reveal or change ...
 *     lsl_cli_session_record    the audit record (with the items)
 *     ... reveal or change ...
 *     lsl_cli_session_close
 *
 * and maps the outcome to its exit code with lsl_cli_session_exit. Every
 * problem is logged as it is found, naming the file and what to do.
 */
#ifndef LSL_CLI_SESSION_INTERNAL_H
#define LSL_CLI_SESSION_INTERNAL_H

#include <stdio.h>
#include "logseal/buf.h"
#include "logseal/legal.h"
#include "logseal/token.h"
#include "logseal/vault.h"

struct lsl_cli_session {
    /* set by the caller before open */
    const char *keys;     /* KEYS, may be NULL with --share */
    const char *vault;    /* VAULTDIR */
    const char *case_ref; /* --case */
    bool new_log;         /* --new-audit-log */
    bool tolerate_log;    /* vault verify: report a bad log, go on */
    bool no_index;        /* read every file whole (also --no-index) */

    /* after open */
    struct lsl_officer_key *key;
    struct lsl_audit_pub pub;
    struct lsl_ledger *ledger;
    char shares[4 * LSL_SHARES_MAX]; /* "1,3" or "" (officer.key) */

    /* after read */
    struct lsl_vault_chain *chain;
    size_t files;         /* vault files read */
    size_t opened;        /* whose sealed box this key opened */
    size_t cut;           /* cut short, not being written */
    size_t writing;       /* being written by a writer */
    uint64_t rewrite_seq; /* highest audit_seq of a rewritten file */
    int integrity;        /* first integrity failure: exit 3 */
    bool rebuild_index;   /* the index did not open: rebuilt at close */
    /* optional, called after each file with the read's outcome */
    void (*on_file)(const char *path, const struct lsl_vault_file_info *i,
                    int rc, void *ud);
    void *file_ud;

    /* for the record */
    struct lsl_buf items;       /* KEY=VALUE words added by the command */
    struct lsl_audit_head head; /* of the record appended */
};

/*
 * The options every officer command shares: -k/--keys, -v/--vault and
 * LSL_CLI_OFFICER_OPTIONS. 1 if c was one of them and is recorded, 0 if c
 * is not one of them, LSL_EUSAGE (logged) if its argument is bad.
 */
int lsl_cli_session_option(struct lsl_cli_session *s, int c, const char *arg);

/*
 * Open the officer key (checked against KEYS/vault.pub and the vault's
 * audit.pub: a wrong key is refused before it can claim the vault), load
 * and verify the audit log and the legal state, importing legacy legal
 * files once. 0 or a negative code, logged.
 */
int lsl_cli_session_open(struct lsl_cli_session *s);

/*
 * Read every vault file, calling fn for each verified record; report each
 * damaged, cut-short or foreign file, then check the writers' chains
 * against the audit log. A key that opens none of the vault's files is
 * refused (LSL_EAUTH). Integrity problems set s->integrity and do not
 * stop the reading. 0 or a code that stopped it (logged).
 * (session_find.c, as the rest of the reading)
 */
int lsl_cli_session_read(struct lsl_cli_session *s, lsl_vault_record_fn fn,
                         void *ud);

/* What a command looks for in the vault. */
struct lsl_cli_want {
    const struct lsl_token *toks; /* tokens (class and hash compared) */
    size_t n;
    /*
     * Optional: add to out the tokens verification key vk (key id kid)
     * makes of what the command looks for by value (a subject). 0 or a
     * negative code.
     */
    int (*derive)(const uint8_t *vk, uint16_t kid, struct lsl_tokset *out,
                  void *ud);
    void *ud;
};

/*
 * lsl_cli_session_read for a command that wants only some tokens' records:
 * the same files reported and checked, and for every wanted token the
 * same records in the same order, but read through the sealed index
 * (VAULTDIR/index) where it covers a file as it is now. fn may also see
 * other records (of files read whole) and must pick its own; a record may
 * come twice when a chunk of the index does not open (the file is then
 * read whole). Without an index, with --no-index or s->no_index, it is
 * lsl_cli_session_read. An index that does not open is reported and
 * rebuilt at lsl_cli_session_close.
 */
int lsl_cli_session_find(struct lsl_cli_session *s,
                         const struct lsl_cli_want *want,
                         lsl_vault_record_fn fn, void *ud);

/*
 * Deliver the wanted tokens' records again, without reporting or checking
 * the files (a second look after lsl_cli_session_find). 0 or a code.
 */
int lsl_cli_session_fetch(struct lsl_cli_session *s,
                          const struct lsl_cli_want *want,
                          lsl_vault_record_fn fn, void *ud);

/*
 * lsl_cli_session_find without the chain check at the end: for a command
 * that adds files first (import), then calls lsl_cli_session_judge.
 */
int lsl_cli_session_scan(struct lsl_cli_session *s,
                         const struct lsl_cli_want *want,
                         lsl_vault_record_fn fn, void *ud);

/*
 * After the reading: refuse a key that opened none of the files
 * (LSL_EAUTH), check the writers' chains (each problem reported, noted as
 * an integrity failure). 0 or LSL_EAUTH.
 */
int lsl_cli_session_judge(struct lsl_cli_session *s);

/* Bring an existing index up to date after files changed (warns only). */
void lsl_cli_session_index_refresh(struct lsl_cli_session *s);

/* Rebuild the index if the reading found it damaged (close calls it). */
void lsl_cli_session_index_end(struct lsl_cli_session *s);

/* Note an integrity failure (the first one decides the message). */
void lsl_cli_session_integrity(struct lsl_cli_session *s, int rc);

/* Add items to the record: one word, or "KEY=TOKEN". 0 or -ENOMEM. */
int lsl_cli_session_item(struct lsl_cli_session *s, const char *word);
int lsl_cli_session_item_token(struct lsl_cli_session *s, const char *key,
                               const struct lsl_token *t);

/*
 * Append the command's audit record (action, query, count, the items
 * added, the share numbers used and the writers' newest files), after
 * checking that the log is not younger than the vault says it should be.
 * Nothing may be revealed or changed before it returns 0.
 */
int lsl_cli_session_record(struct lsl_cli_session *s, const char *action,
                           const char *query, uint64_t count);

void lsl_cli_session_close(struct lsl_cli_session *s);

/*
 * True if VAULTDIR/stop.list is what the audit log says it should be
 * (absent when no erase wrote one; else verifying and holding at least
 * the log's entries). *why (optional) gets 0, -ENOENT (missing), a read
 * or verification error, or LSL_ETRUNC (older than the log).
 */
bool lsl_cli_session_stop_list_current(struct lsl_cli_session *s, int *why);

/*
 * The exit code of a command that ended with code rc (0 when it did its
 * work): usage 2, integrity 3 (rc, or problems found while reading),
 * `otherwise` when all went well (0, 4 or 5 as the command decides),
 * error 1.
 */
int lsl_cli_session_exit(const struct lsl_cli_session *s, int rc,
                         int otherwise);

/* Write s[0..len) as a JSON string literal (quotes included). */
void lsl_cli_json_str(FILE *f, const char *s, size_t len);

/*
 * An epoch for people: "20417 (day 2025-11-25)", "2923 (week of
 * 2025-11-24)", "671 (month 2025-12)", "0 (fixed key)". out[64].
 */
void lsl_cli_epoch_text(uint32_t epoch, uint8_t epoch_len, char out[64]);

#endif
