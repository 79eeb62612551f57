/*
 * The vault's legal state files, VAULTDIR/erased and VAULTDIR/holds
 * (formats in legal.h), and token sets.
 *
 * Invariants: the files are only ever replaced whole (lsl_file_replace),
 * so a reader sees the old or the new list, never a mix; they hold
 * tokens, epoch numbers, case references and times, never an original.
 */
#include "logseal/legal.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "logseal/buf.h"
#include "logseal/file.h"
#include "vault_internal.h"

#define ERASED_NAME "erased"
#define HOLDS_NAME  "holds"

static int tok_cmp(const void *a, const void *b)
{
    const struct lsl_token *x = a, *y = b;
    int c = memcmp(x->hash, y->hash, LSL_TOKEN_HASH_BYTES);

    if (c)
        return c;
    if (x->cls != y->cls)
        return x->cls < y->cls ? -1 : 1;
    return (int)x->kid - (int)y->kid;
}

int lsl_tokset_add(struct lsl_tokset *s, const struct lsl_token *t)
{
    if (lsl_tokset_has(s, t))
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct lsl_token *v = realloc(s->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = *t;
    s->sorted = s->n == 1;
    return 0;
}

bool lsl_tokset_has(struct lsl_tokset *s, const struct lsl_token *t)
{
    if (!s->sorted && s->n) {
        qsort(s->v, s->n, sizeof(*s->v), tok_cmp);
        s->sorted = true;
    }
    return s->n && bsearch(t, s->v, s->n, sizeof(*s->v), tok_cmp) != NULL;
}

void lsl_tokset_free(struct lsl_tokset *s)
{
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/*
 * Call fn for each line of dir/name (without its newline), split at tabs
 * into at most 3 fields. A missing file has no lines.
 */
static int each_line(const char *dir, const char *name,
                     int (*fn)(char **f, size_t nf, void *ud), void *ud)
{
    char path[4096], *line = NULL, *f[3];
    size_t cap = 0, nf;
    ssize_t n;
    FILE *fp;
    int rc = lsl_path_join(path, sizeof(path), dir, name);

    if (rc)
        return rc;
    fp = fopen(path, "re");
    if (!fp)
        return errno == ENOENT ? 0 : -errno;
    while (rc == 0 && (n = getline(&line, &cap, fp)) >= 0) {
        if (n && line[n - 1] == '\n')
            line[--n] = '\0';
        if (n == 0)
            continue;
        f[0] = line;
        for (nf = 1; nf < 3 && (f[nf] = strchr(f[nf - 1], '\t')); nf++)
            *f[nf]++ = '\0';
        rc = fn(f, nf, ud);
    }
    if (rc == 0 && ferror(fp))
        rc = -EIO;
    free(line);
    fclose(fp);
    return rc;
}

static int erased_line(char **f, size_t nf, void *ud)
{
    struct lsl_token t;

    (void)nf;
    if (lsl_token_parse(f[0], strlen(f[0]), &t) != 0)
        return LSL_ECORRUPT;
    return lsl_tokset_add(ud, &t);
}

int lsl_legal_erased_load(const char *dir, struct lsl_tokset *out)
{
    return each_line(dir, ERASED_NAME, erased_line, out);
}

static int copy_line(char **f, size_t nf, void *ud)
{
    struct lsl_buf *b = ud;
    int rc = 0;

    for (size_t i = 0; i < nf && rc == 0; i++)
        rc = lsl_buf_printf(b, "%s%s", i ? "\t" : "", f[i]);
    return rc ? rc : lsl_buf_putc(b, '\n');
}

static bool case_ok(const char *c)
{
    return c[0] && !strpbrk(c, "\t\n\r");
}

static int replace_in(const char *dir, const char *name,
                      const struct lsl_buf *b)
{
    char path[4096];
    int rc = lsl_path_join(path, sizeof(path), dir, name);

    return rc ? rc : lsl_file_replace(path, 0600, b->p, b->len);
}

int lsl_legal_erased_add(const char *dir, const char *case_ref,
                         const struct lsl_token *toks, size_t n)
{
    struct lsl_buf b = {0};
    char when[32], text[LSL_TOKEN_TEXT_MAX];
    time_t now = time(NULL);
    struct tm tm;
    int rc;

    if (!case_ok(case_ref))
        return -EINVAL;
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    rc = each_line(dir, ERASED_NAME, copy_line, &b);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        lsl_token_format(&toks[i], text);
        rc = lsl_buf_printf(&b, "%s\t%s\t%s\n", text, when, case_ref);
    }
    if (rc == 0)
        rc = replace_in(dir, ERASED_NAME, &b);
    lsl_buf_free(&b);
    return rc;
}

/* ---- holds ---- */

struct hold {
    char *case_ref;
    bool is_epoch;
    uint32_t epoch;
    struct lsl_token tok;
};

struct lsl_holds {
    char *dir;
    struct hold *v;
    size_t n, cap;
};

static int hold_push(struct lsl_holds *h, const char *case_ref,
                     const struct hold *x)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        struct hold *v = realloc(h->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n] = *x;
    h->v[h->n].case_ref = strdup(case_ref);
    if (!h->v[h->n].case_ref)
        return -ENOMEM;
    h->n++;
    return 0;
}

static int hold_line(char **f, size_t nf, void *ud)
{
    struct hold x = {0};
    char *end;

    if (nf != 3)
        return LSL_ECORRUPT;
    if (strcmp(f[1], "epoch") == 0) {
        unsigned long long e = strtoull(f[2], &end, 10);

        if (*end || end == f[2] || e > UINT32_MAX)
            return LSL_ECORRUPT;
        x.is_epoch = true;
        x.epoch = (uint32_t)e;
    } else if (strcmp(f[1], "subject") != 0 ||
               lsl_token_parse(f[2], strlen(f[2]), &x.tok) != 0) {
        return LSL_ECORRUPT;
    }
    return hold_push(ud, f[0], &x);
}

int lsl_holds_load(const char *dir, struct lsl_holds **out)
{
    struct lsl_holds *h = calloc(1, sizeof(*h));
    int rc;

    if (!h)
        return -ENOMEM;
    h->dir = strdup(dir);
    rc = h->dir ? each_line(dir, HOLDS_NAME, hold_line, h) : -ENOMEM;
    if (rc) {
        lsl_holds_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

void lsl_holds_free(struct lsl_holds *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i].case_ref);
    free(h->v);
    free(h->dir);
    free(h);
}

bool lsl_holds_token(const struct lsl_holds *h, const struct lsl_token *t)
{
    for (size_t i = 0; i < h->n; i++) {
        const struct hold *x = &h->v[i];

        if (x->is_epoch ? x->epoch % (LSL_VAULT_KID_MAX + 1) == t->kid
                        : lsl_vault_tok_eq(&x->tok, t))
            return true;
    }
    return false;
}

bool lsl_holds_epoch(const struct lsl_holds *h, uint32_t epoch)
{
    for (size_t i = 0; i < h->n; i++) {
        const struct hold *x = &h->v[i];

        if (x->is_epoch ? x->epoch == epoch
                        : x->tok.kid == epoch % (LSL_VAULT_KID_MAX + 1))
            return true;
    }
    return false;
}

int lsl_holds_add_tokens(struct lsl_holds *h, const char *case_ref,
                         const struct lsl_token *toks, size_t n)
{
    int rc = case_ok(case_ref) ? 0 : -EINVAL;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct hold x = {.tok = toks[i]};

        rc = hold_push(h, case_ref, &x);
    }
    return rc;
}

int lsl_holds_add_epoch(struct lsl_holds *h, const char *case_ref,
                        uint32_t epoch)
{
    struct hold x = {.is_epoch = true, .epoch = epoch};

    return case_ok(case_ref) ? hold_push(h, case_ref, &x) : -EINVAL;
}

void lsl_holds_release(struct lsl_holds *h, const char *case_ref,
                       size_t *removed)
{
    size_t keep = 0;

    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->v[i].case_ref, case_ref) == 0) {
            free(h->v[i].case_ref);
            continue;
        }
        h->v[keep++] = h->v[i];
    }
    *removed = h->n - keep;
    h->n = keep;
}

int lsl_holds_save(const struct lsl_holds *h)
{
    struct lsl_buf b = {0};
    char text[LSL_TOKEN_TEXT_MAX];
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < h->n; i++) {
        const struct hold *x = &h->v[i];

        if (x->is_epoch) {
            rc = lsl_buf_printf(&b, "%s\tepoch\t%lu\n", x->case_ref,
                                (unsigned long)x->epoch);
            continue;
        }
        lsl_token_format(&x->tok, text);
        rc = lsl_buf_printf(&b, "%s\tsubject\t%s\n", x->case_ref, text);
    }
    if (rc == 0)
        rc = replace_in(h->dir, HOLDS_NAME, &b);
    lsl_buf_free(&b);
    return rc;
}
