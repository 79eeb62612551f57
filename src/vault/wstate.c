/*
 * Writer state (vault.h): a writer's id and secret, the place of its last
 * vault file in its chain, and the stop-list generation it last applied.
 * One file per writer and vault directory, private to the daemon host
 * (KEYS/writer-HEX.state for `pipe`, STATE/writer-HEX.state for the
 * daemon, HEX naming the vault directory), never in the vault directory:
 * whoever can read the secret can plant files under the writer's name.
 *
 *   0    "LSLWST01"
 *   8    writer id [16]
 *   24   secret [32]
 *   56   u64 seq       last file's number (0: none yet)
 *   64   id [16]       last file's id
 *   80   prev [16]     id of the file before it (to give a place back)
 *   96   u64 stop_seq  stop list generation last applied
 *   104  u8 pending    1: `name` was reserved as seq, maybe not created
 *   105  reserved [7]
 *   112  name [128]    path of the pending file, NUL-terminated
 *
 * Invariants: the file is only replaced whole (write, fsync, rename), under
 * an flock on PATH.lock held from begin to end, and re-read after the
 * lock is taken, so pipes and a daemon sharing a writer number their files
 * one after the other. A place is reserved (pending) before its file is
 * created, so a crash in between never hands one number to two files: the
 * next begin keeps the place if the file exists and gives it back if not.
 * The image is secret (it holds the writer secret): sodium_malloc memory.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "logseal/file.h"
#include "vault_internal.h"

#define WS_MAGIC    "LSLWST01"
#define OFF_WRITER  8
#define OFF_SECRET  24
#define OFF_SEQ     56
#define OFF_ID      64
#define OFF_PREV    80
#define OFF_STOP    96
#define OFF_PENDING 104
#define OFF_NAME    112
#define NAME_MAX_   128
#define WS_BYTES    (OFF_NAME + NAME_MAX_)

struct lsl_vault_wstate {
    char *path;
    char *lock_path;
    int lock_fd;  /* -1 unless between begin and end */
    uint8_t *img; /* sodium_malloc, WS_BYTES */
};

static int load(struct lsl_vault_wstate *ws)
{
    int rc = lsl_secret_file_read(ws->path, ws->img, WS_BYTES);

    if (rc == 0 &&
        (memcmp(ws->img, WS_MAGIC, 8) != 0 || ws->img[OFF_PENDING] > 1 ||
         ws->img[OFF_NAME + NAME_MAX_ - 1] != 0))
        rc = LSL_EFORMAT;
    return rc;
}

static int save(struct lsl_vault_wstate *ws)
{
    return lsl_file_replace(ws->path, 0600, ws->img, WS_BYTES);
}

static int lock(struct lsl_vault_wstate *ws)
{
    ws->lock_fd =
        open(ws->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (ws->lock_fd < 0)
        return -errno;
    while (flock(ws->lock_fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            int rc = -errno;

            close(ws->lock_fd);
            ws->lock_fd = -1;
            return rc;
        }
    }
    return 0;
}

static void unlock(struct lsl_vault_wstate *ws)
{
    if (ws->lock_fd >= 0)
        close(ws->lock_fd);
    ws->lock_fd = -1;
}

/* Load the state, or create a new writer if there is none. */
static int load_or_create(struct lsl_vault_wstate *ws)
{
    int rc = load(ws);

    if (rc != -ENOENT)
        return rc;
    memset(ws->img, 0, WS_BYTES);
    memcpy(ws->img, WS_MAGIC, 8);
    randombytes_buf(ws->img + OFF_WRITER, LSL_VAULT_ID_BYTES);
    randombytes_buf(ws->img + OFF_SECRET, LSL_VAULT_WSECRET_BYTES);
    return save(ws);
}

int lsl_vault_wstate_path(char *out, size_t cap, const char *dir,
                          const char *vault_dir)
{
    char real[PATH_MAX], hex[17], name[64];
    uint8_t d[8];

    if (!realpath(vault_dir, real))
        return -errno;
    crypto_generichash(d, sizeof(d), (const uint8_t *)real, strlen(real), NULL,
                       0);
    snprintf(name, sizeof(name), "writer-%s.state",
             sodium_bin2hex(hex, sizeof(hex), d, sizeof(d)));
    return lsl_path_join(out, cap, dir, name);
}

void lsl_vault_wstate_close(struct lsl_vault_wstate *ws)
{
    if (!ws)
        return;
    unlock(ws);
    sodium_free(ws->img);
    free(ws->path);
    free(ws->lock_path);
    free(ws);
}

int lsl_vault_wstate_open(struct lsl_vault_wstate **out, const char *path)
{
    struct lsl_vault_wstate *ws = calloc(1, sizeof(*ws));
    size_t n = strlen(path);
    int rc;

    if (!ws)
        return -ENOMEM;
    ws->lock_fd = -1;
    ws->path = strdup(path);
    ws->lock_path = malloc(n + sizeof(".lock"));
    ws->img = sodium_malloc(WS_BYTES);
    rc = ws->path && ws->lock_path && ws->img ? lsl_vault_sodium_init()
                                              : -ENOMEM;
    if (rc == 0) {
        memcpy(ws->lock_path, path, n);
        memcpy(ws->lock_path + n, ".lock", sizeof(".lock"));
        rc = lock(ws);
    }
    if (rc == 0)
        rc = load_or_create(ws);
    unlock(ws);
    if (rc) {
        lsl_vault_wstate_close(ws);
        return rc;
    }
    *out = ws;
    return 0;
}

const uint8_t *lsl_vault_wstate_secret(const struct lsl_vault_wstate *ws)
{
    return ws->img + OFF_SECRET;
}

void lsl_vault_wstate_writer(const struct lsl_vault_wstate *ws,
                             uint8_t writer[LSL_VAULT_ID_BYTES])
{
    memcpy(writer, ws->img + OFF_WRITER, LSL_VAULT_ID_BYTES);
}

/* Give the pending place back: the file before it is the last again. */
static void give_back(uint8_t *img)
{
    lsl_put_le(img + OFF_SEQ, lsl_get_le(img + OFF_SEQ, 8) - 1, 8);
    memcpy(img + OFF_ID, img + OFF_PREV, LSL_VAULT_ID_BYTES);
    memset(img + OFF_PREV, 0, LSL_VAULT_ID_BYTES);
}

/* A reservation a crash left open: kept if its file exists. */
static void settle(uint8_t *img)
{
    struct stat st;

    if (!img[OFF_PENDING])
        return;
    if (lstat((const char *)img + OFF_NAME, &st) != 0)
        give_back(img);
    img[OFF_PENDING] = 0;
    memset(img + OFF_NAME, 0, NAME_MAX_);
}

int lsl_vault_wstate_begin(struct lsl_vault_wstate *ws, const char *file_path,
                           struct lsl_vault_link *link)
{
    uint8_t *img = ws->img;
    size_t n = strlen(file_path);
    int rc;

    if (n >= NAME_MAX_)
        return -ENAMETOOLONG;
    rc = lock(ws);
    if (rc == 0)
        rc = load(ws);
    if (rc == 0) {
        settle(img);
        memcpy(link->writer, img + OFF_WRITER, LSL_VAULT_ID_BYTES);
        link->seq = lsl_get_le(img + OFF_SEQ, 8) + 1;
        memcpy(link->prev, img + OFF_ID, LSL_VAULT_ID_BYTES);
        randombytes_buf(link->id, LSL_VAULT_ID_BYTES);
        lsl_put_le(img + OFF_SEQ, link->seq, 8);
        memcpy(img + OFF_PREV, img + OFF_ID, LSL_VAULT_ID_BYTES);
        memcpy(img + OFF_ID, link->id, LSL_VAULT_ID_BYTES);
        img[OFF_PENDING] = 1;
        memcpy(img + OFF_NAME, file_path, n + 1);
        rc = save(ws);
    }
    if (rc)
        unlock(ws);
    return rc;
}

int lsl_vault_wstate_end(struct lsl_vault_wstate *ws, bool created)
{
    int rc;

    if (ws->lock_fd < 0)
        return -EINVAL;
    if (!created)
        give_back(ws->img);
    ws->img[OFF_PENDING] = 0;
    memset(ws->img + OFF_NAME, 0, NAME_MAX_);
    /* If this fails, the next begin settles the reservation from disk. */
    rc = save(ws);
    unlock(ws);
    return rc;
}

uint64_t lsl_vault_wstate_stop_seq(const struct lsl_vault_wstate *ws)
{
    return lsl_get_le(ws->img + OFF_STOP, 8);
}

int lsl_vault_wstate_set_stop_seq(struct lsl_vault_wstate *ws, uint64_t seq)
{
    int rc = lock(ws);

    if (rc == 0)
        rc = load(ws);
    if (rc == 0 && seq > lsl_get_le(ws->img + OFF_STOP, 8)) {
        lsl_put_le(ws->img + OFF_STOP, seq, 8);
        rc = save(ws);
    }
    unlock(ws);
    return rc;
}
