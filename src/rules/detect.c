/*
 * `--rule auto`: which rule of the rules directory reads a sample of the
 * input. Rules are tried in file-name order (a fixed, documented order
 * that does not depend on the directory's listing order), each on the
 * whole sample with one matcher whose W3C header is cleared in between;
 * of those that match at least 80% of the lines that count, the one that
 * matches most wins, a tie going to the higher `priority` (a rule whose
 * lines are a superset of another's, such as apache-combined's of
 * nginx-combined's, has a lower one), then to the first by file name.
 * Lines that are empty or start with '#' are planned (a W3C rule needs
 * its "#Fields:" line) but not counted. A `format text` rule matches
 * every line, so it is never chosen by the sample: when no other rule
 * wins, text.rules of the same directory is the fallback (res->fallback),
 * and the callers warn. Only rule names and counts leave this file, never
 * sample text.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "logseal/file.h"
#include "rules_internal.h"

#define RULES_MAX 256

struct sample {
    const char *p[LSL_DETECT_LINES];
    size_t len[LSL_DETECT_LINES];
    size_t n;
};

static void split_sample(struct sample *s, const char *p, size_t len,
                         bool at_eof)
{
    const char *end = p + len;

    s->n = 0;
    while (p < end && s->n < LSL_DETECT_LINES) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);

        if (!nl && !at_eof)
            break;
        if (n > 0 && p[n - 1] == '\r')
            n--;
        s->p[s->n] = p;
        s->len[s->n++] = n;
        p = nl ? nl + 1 : end;
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int lsl_rule_dir_list(const char *dir, char ***out, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    int rc = 0;

    *n = 0;
    *out = NULL;
    if (!d)
        return -errno;
    names = calloc(RULES_MAX, sizeof(*names));
    while (names && *n < RULES_MAX && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);

        if (len <= 6 || e->d_name[0] == '.' ||
            strcmp(e->d_name + len - 6, ".rules") != 0)
            continue;
        names[*n] = strdup(e->d_name);
        if (!names[*n]) {
            rc = -ENOMEM;
            break;
        }
        (*n)++;
    }
    closedir(d);
    if (!names)
        return -ENOMEM;
    qsort(names, *n, sizeof(*names), by_name);
    *out = names;
    return rc;
}

void lsl_rule_names_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

static const char *rules_dir(const char *dir)
{
    const char *dirs[LSL_RULE_DIRS_MAX];
    size_t n = lsl_rule_dirs(dir, dirs);

    for (size_t i = 0; i < n; i++) {
        DIR *d;

        if (!(d = opendir(dirs[i])))
            continue;
        closedir(d);
        return dirs[i];
    }
    return NULL;
}

/* Lines of s that r matches, and lines that count. */
static int score(const struct lsl_rule *r, struct lsl_matcher *m,
                 const struct sample *s, unsigned *matched, unsigned *counted)
{
    const struct lsl_plan *plan;
    int rc = lsl_matcher_set_header(m, NULL, 0);

    *matched = *counted = 0;
    for (size_t i = 0; rc == 0 && i < s->n; i++) {
        rc = lsl_rule_plan(r, m, s->p[i], s->len[i], &plan);
        if (rc || s->len[i] == 0 || s->p[i][0] == '#')
            continue;
        (*counted)++;
        *matched += plan->matched;
    }
    return rc;
}

static void note_tried(struct lsl_rule_detect *res, const char *file,
                       bool invalid)
{
    size_t at = strlen(res->tried);

    snprintf(res->tried + at, sizeof(res->tried) - at, "%s%.*s%s",
             at ? ", " : "", (int)(strlen(file) - 6), file,
             invalid ? " (invalid)" : "");
}

/* True if r (matched of counted) beats the rule held in *out. */
static bool beats(const struct lsl_rule *r, unsigned matched,
                  const struct lsl_rule *best,
                  const struct lsl_rule_detect *res)
{
    return !best || matched > res->matched ||
           (matched == res->matched && r->priority > best->priority);
}

/* Try file `name` of dir; *out replaced if it fits and beats it. */
static int try_rule(const char *dir, const char *name, struct lsl_matcher *m,
                    const struct sample *s, struct lsl_rule_detect *res,
                    struct lsl_rule **out)
{
    char path[4096];
    struct lsl_rule *r = NULL;
    unsigned matched, counted;
    int rc = lsl_path_join(path, sizeof(path), dir, name);

    if (rc == 0 && lsl_rule_load(&r, path, NULL) != 0) {
        note_tried(res, name, true);
        return 0;
    }
    if (rc == 0 && r->format == RULE_FMT_TEXT) {
        lsl_rule_free(r);
        return 0;
    }
    if (rc == 0)
        rc = score(r, m, s, &matched, &counted);
    if (rc == 0)
        note_tried(res, name, false);
    if (rc == 0 && counted > 0 && (uint64_t)matched * 5 >= counted * 4ull &&
        beats(r, matched, *out, res)) {
        snprintf(res->chosen, sizeof(res->chosen), "%s", lsl_rule_name(r));
        res->matched = matched;
        res->counted = counted;
        lsl_rule_free(*out);
        *out = r;
        return 0;
    }
    lsl_rule_free(r);
    return rc;
}

/* No rule read the sample: the text rule of dir, if it is there. */
static int fallback(const char *dir, struct lsl_rule_detect *res,
                    struct lsl_rule **out)
{
    char path[4096];

    if (lsl_path_join(path, sizeof(path), dir, LSL_DETECT_FALLBACK ".rules") ||
        lsl_rule_load(out, path, NULL) != 0 ||
        (*out)->format != RULE_FMT_TEXT) {
        lsl_rule_free(*out);
        *out = NULL;
        return LSL_ENOTFOUND;
    }
    snprintf(res->chosen, sizeof(res->chosen), "%s", lsl_rule_name(*out));
    res->fallback = true;
    return 0;
}

int lsl_rule_detect(struct lsl_rule **out, const char *dir, const char *sample,
                    size_t len, bool at_eof, struct lsl_rule_detect *res)
{
    struct lsl_matcher *m = NULL;
    struct sample s;
    char **names = NULL;
    size_t n = 0;
    int rc;

    *out = NULL;
    memset(res, 0, sizeof(*res));
    dir = rules_dir(dir);
    if (!dir)
        return -ENOENT;
    split_sample(&s, sample, len, at_eof);
    rc = lsl_rule_dir_list(dir, &names, &n);
    if (rc == 0)
        rc = lsl_matcher_open(&m);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = try_rule(dir, names[i], m, &s, res, out);
    if (rc) {
        lsl_rule_free(*out);
        *out = NULL;
    }
    if (rc == 0 && !*out)
        rc = fallback(dir, res, out);
    lsl_rule_names_free(names, n);
    lsl_matcher_free(m);
    return rc;
}
