/*
 * Source checkpoints and file identity.
 *
 * A checkpoint is a small `key value` text file, one key per line, every
 * key of its version exactly once, replaced atomically (lsl_file_replace:
 * tmp, fsync, rename, fsync dir) with mode 0600. Anything else -- a missing
 * or repeated key, a bad number, trailing junk -- is LSL_ECORRUPT: a
 * checkpoint is trusted to cut output files back, so a damaged one is never
 * guessed at. Version 2 added btime, mtime, end_len, end_fp and in_line,
 * version 3 `deleted`, version 4 `heads`; version 5 moved the keys that
 * hold fingerprints (fp, end_fp, done, heads) into a last line `sealed`
 * and added `key`, the id of the key that sealed them (ckptkey.c). Older
 * files are still read. What the fingerprints are: fingerprint.c.
 */
#include "logseal/checkpoint.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ckpt_internal.h"
#include "logseal/file.h"

#define CKPT_VERSION  5
#define CKPT_MAX_SIZE LSL_CKPT_TEXT_MAX
#define ID_TEXT       (5 * 21 + LSL_FP_BYTES * 2 + 1) /* dev.ino.btime.n.fp */
#define MARK_TEXT     (11 + LSL_FP_BYTES * 2 + 1)     /* len.fp, */
/* What is sealed: "fp X\nend_fp X\ndone LIST\nheads LIST\n". */
#define INNER_MAX                                                              \
    (2 * (8 + LSL_FP_BYTES * 2) + 16 + LSL_CKPT_DONE * ID_TEXT +               \
     LSL_CKPT_HEADS * MARK_TEXT)
#define SEALED_KEY "sealed "

enum {
    K_VERSION,
    K_DEV,
    K_INO,
    K_FP_LEN,
    K_FP,
    K_OFFSET,
    K_SEGMENT,
    K_SEGMENT_LEN,
    K_LINES,
    K_V1_COUNT, /* keys of version 1 end here */
    K_MTIME = K_V1_COUNT,
    K_END_LEN,
    K_END_FP,
    K_IN_LINE,
    K_BTIME,
    K_DONE,
    K_V2_COUNT, /* keys of version 2 end here */
    K_DELETED = K_V2_COUNT,
    K_V3_COUNT, /* keys of version 3 end here */
    K_HEADS = K_V3_COUNT,
    K_V4_COUNT, /* keys of version 4 end here */
    K_KEY = K_V4_COUNT,
    K_COUNT
};

/* The keys a version 5 text holds inside its sealed line. */
#define SEALED_KEYS                                                            \
    ((1u << K_FP) | (1u << K_END_FP) | (1u << K_DONE) | (1u << K_HEADS))

static const char *const key_names[] = {
    "version", "dev",         "ino",   "fp_len",  "fp",      "offset",
    "segment", "segment_len", "lines", "mtime",   "end_len", "end_fp",
    "in_line", "btime",       "done",  "deleted", "heads",   "key",
};
_Static_assert(sizeof(key_names) / sizeof(key_names[0]) == K_COUNT,
               "one name per key");

static int ckpt_path(char *out, size_t cap, const char *state_dir,
                     const char *source)
{
    int n = snprintf(out, cap, "%s/%s.ckpt", state_dir, source);

    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* "dev.ino.btime.fp_len.fp" for each done file, comma-separated. */
static void done_text(const struct lsl_checkpoint *cp, char *out, size_t cap)
{
    size_t n = 0;

    out[0] = '\0';
    for (unsigned i = 0; i < cp->ndone && i < LSL_CKPT_DONE; i++) {
        const struct lsl_file_id *id = &cp->done[i];
        char fp[LSL_FP_BYTES * 2 + 1];

        sodium_bin2hex(fp, sizeof(fp), id->fp, LSL_FP_BYTES);
        n += (size_t)snprintf(
            out + n, cap - n,
            "%s%" PRIu64 ".%" PRIu64 ".%" PRIu64 ".%" PRIu32 ".%s",
            i ? "," : "", id->dev, id->ino,
            (uint64_t)(id->btime_ns > 0 ? id->btime_ns : 0), id->fp_len, fp);
    }
}

/* "len.fp" for each head mark, comma-separated. */
static void heads_text(const struct lsl_head_marks *m, char *out, size_t cap)
{
    size_t n = 0;

    out[0] = '\0';
    for (unsigned i = 0; i < m->n && i < LSL_CKPT_HEADS; i++) {
        char fp[LSL_FP_BYTES * 2 + 1];

        sodium_bin2hex(fp, sizeof(fp), m->v[i].fp, LSL_FP_BYTES);
        n += (size_t)snprintf(out + n, cap - n, "%s%" PRIu32 ".%s",
                              i ? "," : "", m->v[i].len, fp);
    }
}

/* The sealed keys' lines into inner (INNER_MAX bytes); their length. */
static size_t inner_text(const struct lsl_checkpoint *cp, char *inner)
{
    char done[LSL_CKPT_DONE * ID_TEXT + 1];
    char heads[LSL_CKPT_HEADS * MARK_TEXT + 1];
    char fp[LSL_FP_BYTES * 2 + 1], end[LSL_FP_BYTES * 2 + 1];
    int n;

    sodium_bin2hex(fp, sizeof(fp), cp->file.fp, LSL_FP_BYTES);
    sodium_bin2hex(end, sizeof(end), cp->end_fp, LSL_FP_BYTES);
    done_text(cp, done, sizeof(done));
    heads_text(&cp->heads, heads, sizeof(heads));
    n = snprintf(inner, INNER_MAX, "fp %s\nend_fp %s\ndone %s\nheads %s\n", fp,
                 end, done, heads);
    sodium_memzero(done, sizeof(done));
    sodium_memzero(heads, sizeof(heads));
    return (size_t)n;
}

int lsl_checkpoint_format(const struct lsl_checkpoint *cp, const char *source,
                          const struct lsl_ckpt_key *key, char *text,
                          size_t cap, size_t *len)
{
    char inner[INNER_MAX];
    size_t inner_len;
    int n, rc;

    if (!key || strchr(cp->segment, '\n'))
        return -EINVAL;
    n = snprintf(text, cap,
                 "version %d\ndev %" PRIu64 "\nino %" PRIu64 "\nfp_len %" PRIu32
                 "\nbtime %" PRIu64 "\nmtime %" PRIu64 "\nend_len %" PRIu32
                 "\noffset %" PRIu64
                 "\nin_line %d\nsegment %s\nsegment_len %" PRIu64
                 "\nlines %" PRIu64 "\ndeleted %d\nkey %s\n" SEALED_KEY,
                 CKPT_VERSION, cp->file.dev, cp->file.ino, cp->file.fp_len,
                 (uint64_t)(cp->file.btime_ns > 0 ? cp->file.btime_ns : 0),
                 (uint64_t)(cp->mtime_ns > 0 ? cp->mtime_ns : 0), cp->end_len,
                 cp->offset, cp->in_line ? 1 : 0, cp->segment, cp->segment_len,
                 cp->lines, cp->deleted ? 1 : 0, lsl_ckpt_key_id(key));
    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    inner_len = inner_text(cp, inner);
    /* The associated data ends before "sealed ". */
    rc = lsl_ckpt_seal(key, source, text, (size_t)n - strlen(SEALED_KEY), inner,
                       inner_len, text + n, cap - (size_t)n - 1);
    sodium_memzero(inner, sizeof(inner));
    if (rc)
        return rc;
    *len = (size_t)n + strlen(text + n);
    text[(*len)++] = '\n';
    text[*len] = '\0';
    return 0;
}

int lsl_checkpoint_save(const char *state_dir, const char *source,
                        const struct lsl_ckpt_key *key,
                        const struct lsl_checkpoint *cp)
{
    char path[PATH_MAX];
    char *text = malloc(CKPT_MAX_SIZE);
    size_t n = 0;
    int rc;

    if (!text)
        return -ENOMEM;
    rc = ckpt_path(path, sizeof(path), state_dir, source);
    if (rc == 0)
        rc = lsl_checkpoint_format(cp, source, key, text, CKPT_MAX_SIZE, &n);
    if (rc == 0)
        rc = lsl_file_replace(path, 0600, text, n);
    free(text);
    return rc;
}

/* A decimal number filling all of `v`. */
static bool parse_u64(const char *v, uint64_t *out)
{
    char *end;

    if (*v < '0' || *v > '9')
        return false;
    errno = 0;
    *out = strtoull(v, &end, 10);
    return errno == 0 && *end == '\0';
}

/* A fingerprint in hex, exactly LSL_FP_BYTES of it. */
static int parse_fp(const char *v, uint8_t out[LSL_FP_BYTES])
{
    size_t bin_len;

    if (strlen(v) != LSL_FP_BYTES * 2 ||
        sodium_hex2bin(out, LSL_FP_BYTES, v, strlen(v), NULL, &bin_len, NULL) !=
            0 ||
        bin_len != LSL_FP_BYTES)
        return LSL_ECORRUPT;
    return 0;
}

/* One "dev.ino.btime.fp_len.fp" entry of the done list. */
static int parse_id(char *v, struct lsl_file_id *id)
{
    uint64_t n[4];
    char *dot;

    for (int i = 0; i < 4; i++) {
        dot = strchr(v, '.');
        if (!dot)
            return LSL_ECORRUPT;
        *dot = '\0';
        if (!parse_u64(v, &n[i]))
            return LSL_ECORRUPT;
        v = dot + 1;
    }
    if (n[2] > INT64_MAX || n[3] > LSL_FP_SPAN)
        return LSL_ECORRUPT;
    id->dev = n[0];
    id->ino = n[1];
    id->btime_ns = (int64_t)n[2];
    id->fp_len = (uint32_t)n[3];
    return parse_fp(v, id->fp);
}

static int parse_done(struct lsl_checkpoint *cp, char *v)
{
    char *save = NULL;

    cp->ndone = 0;
    for (char *e = strtok_r(v, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
        int rc;

        if (cp->ndone == LSL_CKPT_DONE)
            return LSL_ECORRUPT;
        rc = parse_id(e, &cp->done[cp->ndone]);
        if (rc)
            return rc;
        cp->ndone++;
    }
    return 0;
}

/* The "len.fp" list of head marks: each length a line end inside the
 * fingerprinted head, increasing. */
static int parse_heads(struct lsl_checkpoint *cp, char *v)
{
    struct lsl_head_marks *m = &cp->heads;
    char *save = NULL;

    m->n = 0;
    for (char *e = strtok_r(v, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
        char *dot = strchr(e, '.');
        uint64_t len;

        if (m->n == LSL_CKPT_HEADS || !dot)
            return LSL_ECORRUPT;
        *dot = '\0';
        if (!parse_u64(e, &len) || len == 0 || len >= LSL_FP_SPAN ||
            (m->n > 0 && len <= m->v[m->n - 1].len) ||
            parse_fp(dot + 1, m->v[m->n].fp) != 0)
            return LSL_ECORRUPT;
        m->v[m->n++].len = (uint32_t)len;
    }
    return 0;
}

/* What a parse has found so far. */
struct parse {
    struct lsl_checkpoint *cp;
    unsigned version;
    unsigned seen;   /* 1 << key for each key read */
    unsigned sealed; /* ... of them read inside the sealed line */
    char kid[LSL_CKPT_KID_LEN + 1];
};

/* A numeric key's value, each within its range. */
static int set_number(struct parse *ps, int key, uint64_t n)
{
    struct lsl_checkpoint *cp = ps->cp;
    uint64_t *plain[K_COUNT] = {
        [K_DEV] = &cp->file.dev,  [K_INO] = &cp->file.ino,
        [K_OFFSET] = &cp->offset, [K_SEGMENT_LEN] = &cp->segment_len,
        [K_LINES] = &cp->lines,
    };

    switch (key) {
    case K_VERSION:
        ps->version = (unsigned)n;
        return n >= 1 && n <= CKPT_VERSION ? 0 : LSL_EVERSION;
    case K_MTIME:
    case K_BTIME:
        if (n > INT64_MAX)
            return LSL_ECORRUPT;
        *(key == K_MTIME ? &cp->mtime_ns : &cp->file.btime_ns) = (int64_t)n;
        return 0;
    case K_END_LEN:
    case K_FP_LEN:
        if (n > LSL_FP_SPAN)
            return LSL_ECORRUPT;
        *(key == K_END_LEN ? &cp->end_len : &cp->file.fp_len) = (uint32_t)n;
        return 0;
    case K_IN_LINE:
    case K_DELETED:
        if (n > 1)
            return LSL_ECORRUPT;
        *(key == K_IN_LINE ? &cp->in_line : &cp->deleted) = n == 1;
        return 0;
    default:
        if (!plain[key])
            return LSL_ECORRUPT;
        *plain[key] = n;
        return 0;
    }
}

static int parse_value(struct parse *ps, int key, char *v)
{
    struct lsl_checkpoint *cp = ps->cp;
    uint64_t n = 0;

    switch (key) {
    case K_DONE:
        return parse_done(cp, v);
    case K_HEADS:
        return parse_heads(cp, v);
    case K_SEGMENT:
        if (strlen(v) >= sizeof(cp->segment))
            return LSL_ECORRUPT;
        strcpy(cp->segment, v);
        return 0;
    case K_FP:
        return parse_fp(v, cp->file.fp);
    case K_END_FP:
        return parse_fp(v, cp->end_fp);
    case K_KEY:
        if (strlen(v) != LSL_CKPT_KID_LEN)
            return LSL_ECORRUPT;
        strcpy(ps->kid, v);
        return 0;
    default:
        return parse_u64(v, &n) ? set_number(ps, key, n) : LSL_ECORRUPT;
    }
}

/* The "key value" lines of NUL-terminated `text` (modified in place). */
static int parse_lines(struct parse *ps, char *line, bool sealed)
{
    while (*line) {
        char *nl = strchr(line, '\n');
        char *sp = strchr(line, ' ');
        int key, rc;

        if (!nl || !sp || sp > nl)
            return LSL_ECORRUPT;
        *nl = '\0';
        *sp = '\0';
        for (key = 0; key < K_COUNT; key++)
            if (strcmp(line, key_names[key]) == 0)
                break;
        if (key == K_COUNT || (ps->seen & (1u << key)))
            return LSL_ECORRUPT;
        ps->seen |= 1u << key;
        if (sealed)
            ps->sealed |= 1u << key;
        rc = parse_value(ps, key, sp + 1);
        if (rc)
            return rc;
        line = nl + 1;
    }
    return 0;
}

/* The last line of text[0..len) if it is the sealed one, else NULL. */
static char *sealed_line(char *text, size_t len)
{
    size_t i;

    if (len == 0 || text[len - 1] != '\n')
        return NULL;
    for (i = len - 1; i > 0 && text[i - 1] != '\n'; i--)
        ;
    return strncmp(text + i, SEALED_KEY, strlen(SEALED_KEY)) == 0 ? text + i
                                                                  : NULL;
}

/* The key id the plain lines name (a "key" line), or NULL. */
static const char *named_kid(const char *outer)
{
    const char *k = strstr(outer, "\nkey ");

    if (!k || strnlen(k + 5, LSL_CKPT_KID_LEN + 1) <= LSL_CKPT_KID_LEN ||
        k[5 + LSL_CKPT_KID_LEN] != '\n')
        return NULL;
    return k + 5;
}

/* Open the sealed line `at` of text (its end at text + len) into inner
 * (INNER_MAX + 1 bytes), NUL-terminated, with the key the text names. */
static int unseal(char *text, char *at, size_t len, const char *source,
                  const struct lsl_ckpt_key *key, char *inner, bool *old_key)
{
    const char *b64 = at + strlen(SEALED_KEY);
    size_t n = 0;
    int which, rc;

    if (!key)
        return LSL_ENOKEY;
    *at = '\0'; /* the plain lines end here */
    which = lsl_ckpt_key_which(key, named_kid(text));
    if (which < 0)
        return which;
    *old_key = which == LSL_CKPT_KEY_PREV;
    rc = lsl_ckpt_unseal(key, which, source, text, (size_t)(at - text), b64,
                         (size_t)(text + len - 1 - b64), inner, INNER_MAX, &n);
    if (rc == -ENAMETOOLONG)
        rc = LSL_ECORRUPT;
    inner[rc == 0 ? n : 0] = '\0';
    return rc == 0 && memchr(inner, '\0', n) ? LSL_ECORRUPT : rc;
}

/* Every key of the version, each once, each where the version has it. */
static int parse_check(const struct parse *ps, const struct lsl_ckpt_key *key)
{
    /* The keys each version has (none given: all, which cannot be). */
    static const unsigned keys_of[CKPT_VERSION + 1] = {
        K_COUNT, K_V1_COUNT, K_V2_COUNT, K_V3_COUNT, K_V4_COUNT, K_COUNT};
    const struct lsl_checkpoint *cp = ps->cp;

    if (ps->seen != (1u << keys_of[ps->version]) - 1 ||
        ps->sealed != (ps->version == CKPT_VERSION ? SEALED_KEYS : 0u))
        return LSL_ECORRUPT;
    /* The key named is the key that opened it. */
    if (ps->version == CKPT_VERSION &&
        strcmp(ps->kid, cp->old_key ? lsl_ckpt_key_prev_id(key)
                                    : lsl_ckpt_key_id(key)) != 0)
        return LSL_ECORRUPT;
    if (cp->offset < cp->end_len ||
        (cp->heads.n > 0 &&
         cp->heads.v[cp->heads.n - 1].len >= cp->file.fp_len))
        return LSL_ECORRUPT;
    return 0;
}

/* Parse NUL-terminated `text` of `len` bytes (modified in place). */
static int parse_text(char *text, size_t len, const char *source,
                      const struct lsl_ckpt_key *key, struct lsl_checkpoint *cp)
{
    struct parse ps = {.cp = cp};
    char *at = sealed_line(text, len);
    char inner[INNER_MAX + 1];
    int rc = 0;

    memset(cp, 0, sizeof(*cp));
    if (at)
        rc = unseal(text, at, len, source, key, inner, &cp->old_key);
    if (rc == 0)
        rc = parse_lines(&ps, text, false);
    if (rc == 0 && at)
        rc = parse_lines(&ps, inner, true);
    if (rc == 0)
        rc = parse_check(&ps, key);
    if (at)
        sodium_memzero(inner, sizeof(inner));
    cp->sealed = rc == 0 && at;
    cp->old_key = cp->sealed && cp->old_key;
    return rc;
}

static bool id_same(const struct lsl_file_id *a, const struct lsl_file_id *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->btime_ns == b->btime_ns &&
           a->fp_len == b->fp_len && memcmp(a->fp, b->fp, LSL_FP_BYTES) == 0;
}

bool lsl_checkpoint_same(const struct lsl_checkpoint *a,
                         const struct lsl_checkpoint *b)
{
    bool same = id_same(&a->file, &b->file) && a->mtime_ns == b->mtime_ns &&
                a->end_len == b->end_len &&
                memcmp(a->end_fp, b->end_fp, LSL_FP_BYTES) == 0 &&
                a->offset == b->offset && a->in_line == b->in_line &&
                a->deleted == b->deleted && a->heads.n == b->heads.n &&
                a->ndone == b->ndone && a->segment_len == b->segment_len &&
                a->lines == b->lines && strcmp(a->segment, b->segment) == 0;

    for (unsigned i = 0; same && i < a->heads.n && i < LSL_CKPT_HEADS; i++)
        same = a->heads.v[i].len == b->heads.v[i].len &&
               memcmp(a->heads.v[i].fp, b->heads.v[i].fp, LSL_FP_BYTES) == 0;
    for (unsigned i = 0; same && i < a->ndone && i < LSL_CKPT_DONE; i++)
        same = id_same(&a->done[i], &b->done[i]);
    return same;
}

int lsl_checkpoint_parse(const char *text, size_t len, const char *source,
                         const struct lsl_ckpt_key *key,
                         struct lsl_checkpoint *cp)
{
    char *copy;
    int rc;

    if (len > CKPT_MAX_SIZE || memchr(text, '\0', len))
        return LSL_ECORRUPT;
    copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, text, len);
    copy[len] = '\0';
    rc = parse_text(copy, len, source, key, cp);
    free(copy);
    return rc;
}

int lsl_checkpoint_load(const char *state_dir, const char *source,
                        const struct lsl_ckpt_key *key,
                        struct lsl_checkpoint *cp)
{
    char path[PATH_MAX];
    char *text = NULL;
    FILE *f = NULL;
    struct stat st;
    size_t n;
    int rc = ckpt_path(path, sizeof(path), state_dir, source);

    if (rc)
        return rc;
    text = malloc(CKPT_MAX_SIZE + 1);
    if (!text)
        return -ENOMEM;
    f = fopen(path, "re");
    if (!f) {
        rc = -errno;
        goto out;
    }
    n = fread(text, 1, CKPT_MAX_SIZE + 1, f);
    if (ferror(f)) {
        rc = -EIO;
        goto out;
    }
    if (n > CKPT_MAX_SIZE || memchr(text, '\0', n)) {
        rc = LSL_ECORRUPT;
        goto out;
    }
    text[n] = '\0';
    rc = parse_text(text, n, source, key, cp);
    if (rc == 0 && cp->mtime_ns == 0 && fstat(fileno(f), &st) == 0)
        cp->mtime_ns =
            (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
out:
    if (f)
        fclose(f);
    free(text);
    return rc;
}
