/*
 * The segment files an officer command reads (segscan_internal.h): the
 * files named, and the segments under the directories named, in either
 * output layout, skipping the partitions a time range rules out.
 *
 * Invariants: symbolic links are not followed (a planted link cannot send
 * the command elsewhere); only finished segments are read (.part files
 * and hidden files are not); a partition is skipped only when all of it,
 * widened by PARTITION_MARGIN on both sides, lies outside the range: a
 * segment is dated by its first batch's first line, and its lines may run
 * somewhat later (or, out of order, earlier) than that.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "logseal/array.h"
#include "logseal/file.h"
#include "logseal/log.h"
#include "segscan_internal.h"

#define PARTITION_MARGIN 3600
#define DEPTH_MAX        16
#define DAY              86400

struct tree {
    int64_t from, to;
    char **v;
    size_t n, cap;
    size_t pruned;
};

static int add(struct tree *t, const char *path)
{
    if (lsl_array_grow(&t->v, &t->cap, t->n + 1, sizeof(*t->v), 64))
        return -ENOMEM;
    t->v[t->n] = strdup(path);
    if (!t->v[t->n])
        return -ENOMEM;
    t->n++;
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool segment_name(const char *name)
{
    return name[0] != '.' && !ends_with(name, ".part") &&
           (ends_with(name, ".gz") || ends_with(name, ".log") ||
            ends_with(name, ".jsonl"));
}

/*
 * The time range [*start, *end) a directory name stands for, given its
 * parent's (a day for hour=): dt=YYYY-MM-DD, YYYY-MM-DD, hour=HH. False
 * if it is no partition.
 */
static bool partition(const char *name, int64_t pstart, int64_t pend,
                      int64_t *start, int64_t *end)
{
    const char *day = strncmp(name, "dt=", 3) == 0 ? name + 3 : name;
    char *stop;
    long h;

    if (strlen(day) == 10 && day[4] == '-' && day[7] == '-' &&
        lsl_cli_parse_time(day, 10, start)) {
        *end = *start + DAY;
        return true;
    }
    if (strncmp(name, "hour=", 5) != 0 || pend - pstart != DAY)
        return false;
    h = strtol(name + 5, &stop, 10);
    if (stop == name + 5 || *stop || h < 0 || h > 23)
        return false;
    *start = pstart + h * 3600;
    *end = *start + 3600;
    return true;
}

static bool outside(const struct tree *t, int64_t start, int64_t end)
{
    return (t->to != LSL_CLI_NO_TIME && start - PARTITION_MARGIN >= t->to) ||
           (t->from != LSL_CLI_NO_TIME && end + PARTITION_MARGIN <= t->from);
}

static int walk(struct tree *t, const char *dir, int64_t pstart, int64_t pend,
                unsigned depth)
{
    char path[PATH_MAX];
    struct dirent *de;
    struct stat st;
    DIR *d = opendir(dir);
    int rc = 0;

    if (!d) {
        lsl_log_error("%s: cannot read the directory: %s", dir,
                      strerror(errno));
        return -errno;
    }
    while (rc == 0 && (de = readdir(d)) != NULL) {
        int64_t start = pstart, end = pend;

        if (de->d_name[0] == '.' ||
            lsl_path_join(path, sizeof(path), dir, de->d_name) != 0 ||
            lstat(path, &st) != 0)
            continue;
        if (S_ISREG(st.st_mode) && segment_name(de->d_name)) {
            rc = add(t, path);
        } else if (S_ISDIR(st.st_mode) && depth < DEPTH_MAX) {
            if (partition(de->d_name, pstart, pend, &start, &end) &&
                outside(t, start, end)) {
                t->pruned++;
                continue;
            }
            rc = walk(t, path, start, end, depth + 1);
        }
    }
    closedir(d);
    return rc;
}

static int path_cmp(const void *a, const void *b)
{
    return strverscmp(*(char *const *)a, *(char *const *)b);
}

int lsl_cli_segment_tree(char *const *paths, size_t n, int64_t from, int64_t to,
                         struct lsl_cli_segments *out)
{
    struct tree t = {.from = from, .to = to};
    struct stat st;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        size_t before = t.n;

        if (stat(paths[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            rc = add(&t, paths[i]); /* a file: read as given, in order */
            continue;
        }
        rc = walk(&t, paths[i], 0, 0, 0);
        if (rc == 0 && t.n - before > 1)
            qsort(t.v + before, t.n - before, sizeof(*t.v), path_cmp);
    }
    if (rc) {
        lsl_cli_segments_free(&(struct lsl_cli_segments){t.v, t.n, 0});
        return rc;
    }
    *out = (struct lsl_cli_segments){t.v, t.n, t.pruned};
    return 0;
}

void lsl_cli_segments_free(struct lsl_cli_segments *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}
