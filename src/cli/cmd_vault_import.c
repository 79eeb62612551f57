/*
 * `logseal vault import`: collect the vault files of a fleet's hosts
 * (their vault directories, copied by rsync or from an object store) into
 * one officer vault, each file checked before it is taken.
 *
 * Every *.lsv file under each --from directory is copied into the vault
 * under a hidden temporary name and that copy, which is what would be
 * taken, is read whole with the officer key. It is refused when it does
 * not verify (tampered, forged, cut in a chunk), is sealed to another
 * officer key, was written with another hash key than the vault's files
 * of its epoch (a foreign keyset), claims a writer's place without that
 * writer's secret, or holds a place another file holds (a fork, a copy
 * under another name). A file the vault has already is skipped; the
 * finished file replaces a copy taken while its host was still writing
 * it. A file taken unfinished (the daemon's current file) is finished at
 * its last whole chunk and the audit record says so (unfinished=), so a
 * later import replaces it by the finished file (replaced=). Mappings of
 * subjects an erase record erased are left out of what is taken, so a
 * host's older copy cannot bring them back.
 *
 * One import runs at a time per vault (a lock in the vault directory).
 * Order: copy and check everything; check the writers' chains of the
 * vault with the files to be taken (a gap, per writer, is reported: a file
 * not collected, or deleted at its host); append the audit record (the
 * writers' newest files as now); then rename the copies into place.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli_internal.h"
#include "logseal/array.h"
#include "logseal/file.h"
#include "logseal/log.h"
#include "officer_internal.h"
#include "session_internal.h"
#include "vaultcmd_internal.h"

#define FROM_MAX  64
#define DEPTH_MAX 16

enum act { REFUSE, SKIP, TAKE, REPLACE };

struct cand {
    char *src;
    const char *name; /* into src */
    char tmp[PATH_MAX];
    struct lsl_vault_file_info info;
    int rc;
    enum act act;
    bool erased; /* holds a mapping of an erased token */
};

/* A file of the vault, or one this import takes. */
struct have {
    char *name;
    struct lsl_vault_file_info info;
    int rc;
    bool accepted;
};

struct import {
    int lock_fd;
    const char *from[FROM_MAX];
    size_t nfrom;
    char real_vault[PATH_MAX];
    struct cand *c;
    size_t nc, capc;
    struct have *h;
    size_t nh, caph;
    struct lsl_cli_session *ss;
    size_t took, unfinished, replaced, skipped, refused, erased;
    int err;
};

static const struct lsl_cli_want no_tokens;

static void help(void)
{
    printf("usage: logseal vault import --keys KEYS --vault VAULTDIR "
           "--from DIR...\n"
           "                            [--case REF] [--share FILE]... "
           "[--passphrase-fd FD]\n\n"
           "Take the vault files (*.lsv, in any subdirectory) of each --from\n"
           "directory, such as the hosts' vault directories collected with\n"
           "rsync, into VAULTDIR. Each is copied, and the copy read whole\n"
           "and checked before it is taken: refused if it does not verify,\n"
           "is sealed to another officer key, was written with another\n"
           "hash key than the vault's files of its epoch (a foreign\n"
           "keyset), claims a writer's place without its secret, or holds\n"
           "a place another file holds. Files already here are skipped; a\n"
           "file its host had not finished (the daemon's current one) is\n"
           "taken up to its last whole chunk and replaced by the finished\n"
           "file at a later import. Mappings of erased subjects are left\n"
           "out. The writers' chains (per host) are then checked, the\n"
           "import recorded in the audit log (case REF, default\n"
           "'collection'), and an existing index brought up to date.\n\n"
           "  --from DIR   a directory to take vault files from (repeat)\n\n"
           "officer key: KEYS/officer.key, or --share FILE... "
           "[--passphrase-fd FD]\n\n"
           "exit: 0 every file taken or already here, 3 a file refused or\n"
           "a writer's chain not whole (see the messages), 1 error\n");
}

static int add_have(struct import *im, const char *name,
                    const struct lsl_vault_file_info *info, int rc,
                    bool accepted)
{
    struct have *h;

    if (lsl_array_grow(&im->h, &im->caph, im->nh + 1, sizeof(*im->h), 64))
        return -ENOMEM;
    h = &im->h[im->nh];
    h->name = strdup(name);
    if (!h->name)
        return -ENOMEM;
    h->info = *info;
    h->rc = rc;
    h->accepted = accepted;
    im->nh++;
    return 0;
}

/* The vault's own files, as the session read them. */
static void note_have(const char *path, const struct lsl_vault_file_info *info,
                      int rc, void *ud)
{
    struct import *im = ud;
    const char *name = strrchr(path, '/');

    if (!im->err)
        im->err = add_have(im, name ? name + 1 : path, info, rc, false);
}

/* ---- the candidates ---- */

static bool vault_name(const char *name)
{
    size_t n = strlen(name), sl = strlen(LSL_VAULT_SUFFIX);

    return name[0] != '.' && n > sl &&
           strcmp(name + n - sl, LSL_VAULT_SUFFIX) == 0;
}

static int add_cand(struct import *im, const char *path)
{
    struct cand *c;

    if (lsl_array_grow(&im->c, &im->capc, im->nc + 1, sizeof(*im->c), 64))
        return -ENOMEM;
    c = &im->c[im->nc];
    memset(c, 0, sizeof(*c));
    c->src = strdup(path);
    if (!c->src)
        return -ENOMEM;
    c->name = strrchr(c->src, '/') ? strrchr(c->src, '/') + 1 : c->src;
    im->nc++;
    return 0;
}

/* Every regular *.lsv under dir; symlinks are not followed, the vault
 * itself is not entered. */
static int collect(struct import *im, const char *dir, unsigned depth)
{
    char path[PATH_MAX], real[PATH_MAX];
    struct dirent *de;
    struct stat st;
    DIR *d;
    int rc = 0;

    if (realpath(dir, real) && strcmp(real, im->real_vault) == 0)
        return 0;
    d = opendir(dir);
    if (!d) {
        lsl_log_error("%s: cannot read: %s", dir, strerror(errno));
        return -errno;
    }
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            lsl_path_join(path, sizeof(path), dir, de->d_name) != 0 ||
            lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth < DEPTH_MAX)
            rc = collect(im, path, depth + 1);
        else if (S_ISREG(st.st_mode) && vault_name(de->d_name))
            rc = add_cand(im, path);
    }
    closedir(d);
    return rc;
}

static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    int c = strverscmp(x->name, y->name);

    return c ? c : strcmp(x->src, y->src);
}

/* ---- checking one ---- */

/* Copy src into a new hidden file of the vault, fsynced. */
static int copy_in(struct import *im, struct cand *c)
{
    int in = -1, out = -1, rc;
    char buf[65536];
    ssize_t n;

    rc = lsl_path_join(c->tmp, sizeof(c->tmp), im->ss->vault, ".import-XXXXXX");
    if (rc == 0 && (out = mkostemp(c->tmp, O_CLOEXEC)) < 0)
        rc = -errno;
    if (rc == 0 && (in = open(c->src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        rc = -errno;
    while (rc == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
        if (n < 0)
            rc = errno == EINTR ? 0 : -errno;
        else
            rc = lsl_write_all(out, buf, (size_t)n);
    }
    if (rc == 0 && fsync(out) != 0)
        rc = -errno;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (rc && out >= 0)
        unlink(c->tmp);
    if (rc)
        c->tmp[0] = '\0';
    return rc;
}

struct reading {
    struct lsl_ledger *ledger;
    struct cand *c;
};

static int note_erased(const struct lsl_vault_record *r, void *ud)
{
    struct reading *rd = ud;

    if (lsl_ledger_erased(rd->ledger, &r->tok))
        rd->c->erased = true;
    return 0;
}

static enum act refuse(struct cand *c, const char *fmt, const char *other)
{
    char why[512];

    snprintf(why, sizeof(why), fmt, other ? other : "");
    lsl_log_error("%s: %s; not imported", c->src, why);
    printf("%s\trefused: %s\n", c->src, why);
    return REFUSE;
}

static enum act skip(struct cand *c, const char *why, const char *other)
{
    printf("%s\tskipped: %s%s\n", c->src, why, other ? other : "");
    return SKIP;
}

/* Against one file of the vault (or taken now): refuse, skip, replace or
 * no opinion (TAKE). */
static enum act against(struct import *im, struct cand *c, const struct have *h)
{
    const struct lsl_vault_file_info *a = &c->info, *b = &h->info;
    bool same_writer =
        memcmp(a->link.writer, b->link.writer, LSL_VAULT_ID_BYTES) == 0 &&
        b->have_keys;

    if (b->have_keys && a->epoch == b->epoch &&
        memcmp(a->vkey_digest, b->vkey_digest, LSL_VAULT_DIGEST_BYTES))
        return refuse(c,
                      "its epoch's verification key differs from that of "
                      "%s: written with another hash key (a foreign keyset)",
                      h->name);
    if (same_writer &&
        memcmp(a->wsecret_digest, b->wsecret_digest, LSL_VAULT_DIGEST_BYTES))
        return refuse(c,
                      "claims the writer of %s without that writer's "
                      "secret: planted or foreign",
                      h->name);
    if (!same_writer || a->link.seq != b->link.seq)
        return strcmp(c->name, h->name) == 0
                   ? refuse(c,
                            "another file of this name is in the vault "
                            "(%s)",
                            h->name)
                   : TAKE;
    if (memcmp(a->link.id, b->link.id, LSL_VAULT_ID_BYTES))
        return refuse(c,
                      "its writer's place is held by %s, another file: a "
                      "fork or a copy",
                      h->name);
    if (h->accepted)
        return skip(c, "the same file is taken from elsewhere: ", h->name);
    if (!lsl_ledger_unfinished(im->ss->ledger, b->link.writer, b->link.seq))
        return skip(c, "already in the vault as ", h->name);
    if (a->complete || a->records > b->records)
        return REPLACE;
    return skip(c, "no newer than the unfinished copy ", h->name);
}

static enum act decide(struct import *im, struct cand *c)
{
    uint32_t name_epoch;
    enum act act = TAKE, one;

    if (c->rc == LSL_EAUTH && !c->info.have_keys)
        return refuse(c,
                      "sealed to another officer key (another vault's "
                      "file) or its header was altered%s",
                      NULL);
    if (c->rc && c->rc != LSL_ETRUNC) {
        char why[160];

        snprintf(why, sizeof(why), "integrity failure at byte %llu: %s",
                 (unsigned long long)c->info.error_offset, lsl_strerror(c->rc));
        return refuse(c, "%s", why);
    }
    if (!lsl_vault_name_epoch(c->name, &name_epoch) ||
        name_epoch != c->info.epoch)
        return refuse(c,
                      "its name disagrees with its header's epoch: renamed "
                      "or copied into another epoch%s",
                      NULL);
    for (size_t i = 0; i < im->nh && act != REFUSE; i++) {
        one = against(im, c, &im->h[i]);
        if (one == REPLACE)
            act = REPLACE;
        else if (one != TAKE)
            return one;
    }
    return act;
}

/* Copy, read the copy whole, decide; keep the copy of what is taken. */
static int examine(struct import *im, struct cand *c)
{
    struct reading rd = {.ledger = im->ss->ledger, .c = c};
    int rc = copy_in(im, c);

    if (rc) {
        lsl_log_error("%s: cannot copy into %s: %s", c->src, im->ss->vault,
                      lsl_strerror(rc));
        return rc;
    }
    c->rc =
        lsl_vault_read_file(c->tmp, im->ss->key, note_erased, &rd, &c->info);
    if (c->rc == -ENOMEM)
        return c->rc;
    c->info.writing = false;
    c->act = decide(im, c);
    if (c->act == TAKE || c->act == REPLACE)
        return add_have(im, c->name, &c->info, c->rc, true);
    unlink(c->tmp);
    c->tmp[0] = '\0';
    im->refused += c->act == REFUSE;
    im->skipped += c->act == SKIP;
    return 0;
}

/* ---- taking them ---- */

static int items(struct import *im)
{
    char path[PATH_MAX];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < im->nc; i++) {
        struct cand *c = &im->c[i];
        bool unfinished = c->rc == LSL_ETRUNC;

        if (c->act != TAKE && c->act != REPLACE)
            continue;
        if (c->act == TAKE &&
            lsl_path_join(path, sizeof(path), im->ss->vault, c->name) == 0 &&
            lsl_vault_chain_add(im->ss->chain, path, &c->info) != 0)
            rc = -ENOMEM;
        if (rc == 0 && (unfinished || c->act == REPLACE))
            rc = lsl_cli_vault_item_file(
                im->ss, unfinished ? "unfinished" : "replaced", &c->info.link);
        if (rc == 0 && c->erased)
            rc = lsl_cli_vault_item_file(im->ss, "rewrote", &c->info.link);
    }
    return rc;
}

static bool drop_erased(const struct lsl_vault_record *r, void *ud)
{
    return lsl_ledger_erased(ud, &r->tok);
}

/* Finish (unfinished) or clean (erased mappings) the copy, rename it. */
static int take(struct import *im, struct cand *c)
{
    struct lsl_vault_rewrite_opts o = {.drop = drop_erased,
                                       .ud = im->ss->ledger,
                                       .audit_seq = im->ss->head.seq};
    struct lsl_vault_rewrite_result res;
    char path[PATH_MAX];
    int rc = lsl_path_join(path, sizeof(path), im->ss->vault, c->name);

    if (rc == 0 && (c->rc == LSL_ETRUNC || c->erased))
        rc = lsl_vault_rewrite(c->tmp, im->ss->key, &o, &res);
    if (rc == 0 && c->act == TAKE &&
        renameat2(AT_FDCWD, c->tmp, AT_FDCWD, path, RENAME_NOREPLACE) != 0)
        rc = -errno;
    if (rc == 0 && c->act == REPLACE && rename(c->tmp, path) != 0)
        rc = -errno;
    if (rc) {
        lsl_log_error("%s: cannot take it into %s: %s (its copy %s is left "
                      "for inspection; run the import again)",
                      c->src, im->ss->vault, lsl_strerror(rc), c->tmp);
        return rc;
    }
    c->tmp[0] = '\0';
    im->took += c->act == TAKE;
    im->replaced += c->act == REPLACE;
    im->unfinished += c->rc == LSL_ETRUNC;
    im->erased += c->erased;
    printf("%s\t%s%s%s\n", c->src,
           c->act == REPLACE ? "replaced the unfinished copy" : "taken",
           c->rc == LSL_ETRUNC ? " (unfinished: finished at its last whole "
                                 "chunk; import it again once its host has "
                                 "finished it)"
                               : "",
           c->erased ? " (mappings of erased subjects left out)" : "");
    return 0;
}

/*
 * One import at a time per vault (VAULTDIR/.import.lock); copies an
 * interrupted import left behind (hidden, never read) are removed.
 */
static int lock_vault(struct import *im)
{
    char path[PATH_MAX];
    struct dirent *e;
    DIR *d;
    int rc = lsl_path_join(path, sizeof(path), im->ss->vault, ".import.lock");

    if (rc)
        return rc;
    im->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (im->lock_fd < 0 || flock(im->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
        lsl_log_error("%s: %s", im->ss->vault,
                      rc == -EBUSY ? "another import is running; run this "
                                     "one again when it has ended"
                                   : lsl_strerror(rc));
        return rc;
    }
    d = opendir(im->ss->vault);
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, ".import-", 8) == 0 &&
            lsl_path_join(path, sizeof(path), im->ss->vault, e->d_name) == 0)
            unlink(path);
    }
    if (d)
        closedir(d);
    return 0;
}

static int import_run(struct import *im)
{
    struct lsl_cli_session *ss = im->ss;
    char query[96];
    int rc = lsl_mkdir_p(ss->vault, 0700);

    if (rc == 0 && !realpath(ss->vault, im->real_vault))
        rc = -errno;
    rc = rc ? rc : lock_vault(im);
    rc = rc ? rc : lsl_cli_session_open(ss);
    ss->on_file = note_have;
    ss->file_ud = im;
    rc = rc ? rc : lsl_cli_session_scan(ss, &no_tokens, NULL, NULL);
    rc = rc ? rc : im->err;
    for (size_t i = 0; rc == 0 && i < im->nfrom; i++)
        rc = collect(im, im->from[i], 0);
    if (rc == 0 && im->nc)
        qsort(im->c, im->nc, sizeof(*im->c), cand_cmp);
    for (size_t i = 0; rc == 0 && i < im->nc; i++)
        rc = examine(im, &im->c[i]);
    rc = rc ? rc : items(im);
    rc = rc ? rc : lsl_cli_session_judge(ss);
    snprintf(query, sizeof(query), "%zu vault files from %zu directories",
             im->nc, im->nfrom);
    /* Nothing to take changes nothing: no record. */
    if (rc == 0 && im->nc > im->refused + im->skipped)
        rc = lsl_cli_session_record(ss, "import", query,
                                    im->nc - im->refused - im->skipped);
    for (size_t i = 0; rc == 0 && i < im->nc; i++) {
        if (im->c[i].act == TAKE || im->c[i].act == REPLACE)
            rc = take(im, &im->c[i]);
    }
    if (rc == 0 && (im->took || im->replaced) &&
        lsl_path_join(query, sizeof(query), ss->vault, "x") == 0)
        rc = lsl_fsync_parent(query);
    if (rc == 0 && (im->took || im->replaced))
        lsl_cli_session_index_refresh(ss);
    return rc;
}

static void free_import(struct import *im)
{
    if (im->lock_fd >= 0)
        close(im->lock_fd);
    for (size_t i = 0; i < im->nc; i++) {
        if (im->c[i].tmp[0])
            unlink(im->c[i].tmp);
        free(im->c[i].src);
    }
    free(im->c);
    for (size_t i = 0; i < im->nh; i++)
        free(im->h[i].name);
    free(im->h);
}

/* Options into ss and im; LSL_CLI_GO or the exit code to end with. */
static int parse(int argc, char **argv, struct lsl_cli_session *ss,
                 struct import *im)
{
    static const struct option opts[] = {
        {"keys", required_argument, NULL, 'k'},
        {"vault", required_argument, NULL, 'v'},
        {"from", required_argument, NULL, 'f'},
        {"case", required_argument, NULL, 'c'},
        LSL_CLI_OFFICER_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, rc;

    while ((c = getopt_long(argc, argv, "k:v:f:c:h", opts, NULL)) != -1) {
        if ((rc = lsl_cli_session_option(ss, c, optarg)) != 0) {
            if (rc < 0)
                return LSL_EXIT_USAGE;
        } else if (c == 'c') {
            ss->case_ref = optarg;
        } else if (c == 'f') {
            if (im->nfrom == FROM_MAX)
                return lsl_cli_usage_error("vault import", "at most %d --from",
                                           FROM_MAX);
            im->from[im->nfrom++] = optarg;
        } else if (c == 'h') {
            help();
            return LSL_EXIT_OK;
        } else {
            return lsl_cli_usage_error("vault import", "bad option");
        }
    }
    if (!ss->vault || !im->nfrom || optind != argc)
        return lsl_cli_usage_error("vault import", "--vault VAULTDIR and at "
                                                   "least one --from DIR are "
                                                   "required");
    if (!ss->case_ref || !ss->case_ref[0])
        ss->case_ref = "collection";
    return LSL_CLI_GO;
}

int lsl_cmd_vault_import(int argc, char **argv)
{
    struct lsl_cli_session ss = {0};
    struct import im = {.ss = &ss, .lock_fd = -1};
    int rc = parse(argc, argv, &ss, &im), code;

    if (rc != LSL_CLI_GO)
        return rc;
    rc = import_run(&im);
    if (rc == 0)
        printf("import: %zu taken (%zu unfinished), %zu unfinished copies "
               "replaced, %zu already here, %zu refused\n",
               im.took, im.unfinished, im.replaced, im.skipped, im.refused);
    if (rc == 0 && im.refused)
        lsl_cli_session_integrity(&ss, LSL_EAUTH);
    code = lsl_cli_session_exit(&ss, rc, LSL_EXIT_OK);
    free_import(&im);
    lsl_cli_session_close(&ss);
    return code;
}
