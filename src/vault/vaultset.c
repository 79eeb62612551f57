/*
 * The daemon's vault files per key epoch (vaultset.h).
 *
 * Each file takes the next place in the writer's chain (wstate.c) and
 * carries the verification key of its epoch, which the keyring holds for
 * as long as the file can receive mappings.
 *
 * Invariants: at most one open writer per epoch; a writer is finished only
 * when its epoch is older than the keyring's oldest key, after the
 * keyring has ratcheted past it, so every mapping of that epoch already
 * went into it (late lines are tokenized with the oldest key held, so
 * they map to a newer epoch). Writers are few (one per epoch with lines
 * in flight): a plain array.
 */
#include "logseal/vaultset.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "logseal/array.h"
#include "logseal/file.h"
#include "logseal/log.h"
#include "vault_internal.h"

struct slot {
    uint32_t epoch;
    struct lsl_vault_writer *w;
};

struct lsl_vault_set {
    struct lsl_vault_set_opts o;
    char *source; /* "<host>:<source>", or the source without a host */
    struct slot *slots;
    size_t n, cap;
    size_t opened;
    char last[4096];
};

/* Create the file of `epoch` at the next place of the writer's chain. */
static int create_writer(struct lsl_vault_set *vs, uint32_t epoch,
                         const uint8_t *vkey, struct lsl_vault_writer **w)
{
    struct lsl_vault_writer_opts wo;
    struct lsl_vault_link link;
    char name[LSL_VAULT_NAME_MAX], path[4096];
    int rc, erc;

    lsl_vault_file_name(epoch, (int64_t)time(NULL), vs->o.host, name);
    rc = lsl_path_join(path, sizeof(path), vs->o.dir, name);
    if (rc == 0)
        rc = lsl_vault_wstate_begin(vs->o.wstate, path, &link);
    if (rc)
        return rc;
    lsl_vault_writer_opts_init(&wo);
    wo.dir = vs->o.dir;
    wo.path = path;
    wo.pubkey = vs->o.pubkey;
    wo.source = vs->source;
    wo.epoch = epoch;
    wo.epoch_len = (uint8_t)lsl_keyring_epoch_len(vs->o.keyring);
    wo.vkey = vkey;
    wo.wsecret = lsl_vault_wstate_secret(vs->o.wstate);
    wo.link = &link;
    if (vs->o.seen_cap)
        wo.seen_cap = vs->o.seen_cap;
    rc = lsl_vault_writer_open(w, &wo);
    erc = lsl_vault_wstate_end(vs->o.wstate, rc == 0);
    if (rc == 0 && erc) {
        /* The file exists; its place is settled by the next begin. */
        lsl_log_warn("%s: the writer state was not updated after creating "
                     "%s: %s",
                     vs->o.dir, name, lsl_strerror(erc));
    }
    return rc;
}

static int open_writer(struct lsl_vault_set *vs, uint32_t epoch,
                       struct lsl_vault_writer **w)
{
    uint8_t *vkey;
    int rc;

    rc = lsl_array_grow(&vs->slots, &vs->cap, vs->n + 1, sizeof(*vs->slots), 4);
    if (rc)
        return rc;
    vkey = sodium_malloc(LSL_VKEY_BYTES);
    if (!vkey)
        return -ENOMEM;
    rc = lsl_keyring_vkey(vs->o.keyring, epoch, vkey);
    if (rc == 0)
        rc = create_writer(vs, epoch, vkey, w);
    sodium_free(vkey);
    if (rc)
        return rc;
    vs->slots[vs->n++] = (struct slot){.epoch = epoch, .w = *w};
    vs->opened++;
    snprintf(vs->last, sizeof(vs->last), "%s", lsl_vault_writer_path(*w));
    return 0;
}

/* Records say which host wrote them: "<host>:<source>". */
static int make_source(struct lsl_vault_set *vs)
{
    const char *src = vs->o.source ? vs->o.source : "";
    const char *host = vs->o.host ? vs->o.host : "";
    size_t len = strlen(host) + 1 + strlen(src) + 1;

    vs->source = malloc(len);
    if (!vs->source)
        return -ENOMEM;
    snprintf(vs->source, len, "%s%s%s", host, host[0] ? ":" : "", src);
    return 0;
}

int lsl_vault_set_open(struct lsl_vault_set **out,
                       const struct lsl_vault_set_opts *o)
{
    struct lsl_vault_writer *w;
    struct lsl_vault_set *vs;
    int rc;

    if (!o->dir || !o->pubkey || !o->keyring || !o->wstate ||
        (o->host && o->host[0] && !lsl_host_valid(o->host)))
        return -EINVAL;
    vs = calloc(1, sizeof(*vs));
    if (!vs)
        return -ENOMEM;
    vs->o = *o;
    rc = make_source(vs);
    /* The current epoch's file now: a vault that cannot be written stops
     * the run before any output exists. */
    if (rc == 0)
        rc = open_writer(vs, lsl_keyring_epoch(o->keyring), &w);
    if (rc) {
        free(vs->source);
        free(vs->slots);
        free(vs);
        return rc;
    }
    *out = vs;
    return 0;
}

int lsl_vault_set_add(struct lsl_vault_set *vs, const struct lsl_mapping *m,
                      bool *is_new)
{
    uint32_t epoch = lsl_keyring_epoch_of_kid(vs->o.keyring, m->tok.kid);
    struct lsl_vault_writer *w = NULL;
    int rc;

    *is_new = false;
    for (size_t i = 0; i < vs->n && !w; i++) {
        if (vs->slots[i].epoch == epoch)
            w = vs->slots[i].w;
    }
    if (!w) {
        rc = open_writer(vs, epoch, &w);
        if (rc)
            return rc;
    }
    return lsl_vault_writer_add(w, m, is_new);
}

int lsl_vault_set_flush(struct lsl_vault_set *vs)
{
    for (size_t i = 0; i < vs->n; i++) {
        int rc = lsl_vault_writer_flush(vs->slots[i].w);

        if (rc)
            return rc;
    }
    return 0;
}

int lsl_vault_set_retire(struct lsl_vault_set *vs, uint32_t floor)
{
    size_t keep = 0;
    int first = 0;

    for (size_t i = 0; i < vs->n; i++) {
        int rc;

        if (vs->slots[i].epoch >= floor) {
            vs->slots[keep++] = vs->slots[i];
            continue;
        }
        rc = lsl_vault_writer_close(vs->slots[i].w);
        if (rc && !first)
            first = rc;
    }
    vs->n = keep;
    return first;
}

int lsl_vault_set_close(struct lsl_vault_set *vs)
{
    int first = 0;

    if (!vs)
        return 0;
    for (size_t i = 0; i < vs->n; i++) {
        int rc = lsl_vault_writer_close(vs->slots[i].w);

        if (rc && !first)
            first = rc;
    }
    free(vs->source);
    free(vs->slots);
    free(vs);
    return first;
}

const char *lsl_vault_set_last_path(const struct lsl_vault_set *vs)
{
    return vs->last;
}

size_t lsl_vault_set_files(const struct lsl_vault_set *vs)
{
    return vs->opened;
}
