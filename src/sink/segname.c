/*
 * Where a segment goes (segment_internal.h): its directory and name in
 * either output layout, read back from a name, and what a sink owns.
 *
 *   default  OUT/<source>/<YYYY-MM-DD>/<source>-<host>-<time>-<seq>.log.gz
 *   hive     OUT/source=<source>/dt=<YYYY-MM-DD>/hour=<HH>/host=<host>/
 *                <source>-<host>-<time>-<seq>.log.gz
 *
 * <time> is YYYYmmddTHHMMSSZ of the segment's first batch's first line
 * (the rule's time, else the arrival time), UTC. A partition (a day, or a
 * day and an hour) holds the segments whose first line falls in it; the
 * sink starts a new segment when a batch's first line falls in another.
 *
 * Invariants: source and host are each one path component (the config
 * and lsl_host_valid see to it), so a name never leaves OUT; a sink owns
 * exactly the .part files of its source and host, in its layout, so two
 * hosts writing one OUT (shared storage) never touch each other's files.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "logseal/file.h"
#include "segment_internal.h"

#define DAY  86400
#define HOUR 3600
/* Times a line may claim for dating its segment: not more than a day
 * ahead of its arrival, nor more than ten years before it. */
#define AHEAD  DAY
#define BEHIND (3660LL * DAY)

int64_t lsl_segname_date(int64_t line_time, int64_t arrival)
{
    if (line_time <= 0 || line_time > arrival + AHEAD ||
        line_time < arrival - BEHIND)
        return arrival;
    return line_time;
}

int64_t lsl_segname_partition(enum lsl_layout layout, int64_t when)
{
    int64_t unit = layout == LSL_LAYOUT_HIVE ? HOUR : DAY;

    return when - ((when % unit) + unit) % unit;
}

int lsl_segname_root(const struct lsl_segname *n, char *out, size_t cap)
{
    int len =
        snprintf(out, cap, "%s/%s%s", n->out_dir,
                 n->layout == LSL_LAYOUT_HIVE ? "source=" : "", n->source);

    return len < 0 || (size_t)len >= cap ? -ENAMETOOLONG : 0;
}

int lsl_segname_dir(const struct lsl_segname *n, int64_t when, char *out,
                    size_t cap)
{
    time_t t = (time_t)when;
    struct tm tm;
    char root[4096];
    int len, rc = lsl_segname_root(n, root, sizeof(root));

    if (rc)
        return rc;
    if (!gmtime_r(&t, &tm))
        return -EINVAL;
    if (n->layout == LSL_LAYOUT_HIVE)
        len = snprintf(out, cap, "%s/dt=%04d-%02d-%02d/hour=%02d/host=%s", root,
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       n->host);
    else
        len = snprintf(out, cap, "%s/%04d-%02d-%02d", root, tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday);
    return len < 0 || (size_t)len >= cap ? -ENAMETOOLONG : 0;
}

int lsl_segname_file(const struct lsl_segname *n, int64_t when, unsigned seq,
                     char *out, size_t cap)
{
    time_t t = (time_t)when;
    char dir[4096];
    struct tm tm;
    int len, rc = lsl_segname_dir(n, when, dir, sizeof(dir));

    if (rc)
        return rc;
    if (!gmtime_r(&t, &tm))
        return -EINVAL;
    len = snprintf(out, cap, "%s/%s-%s-%04d%02d%02dT%02d%02d%02dZ-%03u.log.gz",
                   dir, n->source, n->host, tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, seq);
    return len < 0 || (size_t)len >= cap ? -ENAMETOOLONG : 0;
}

/* "<time>-<seq>.log.gz[.part]" at p. */
static bool parse_tail(const char *p, int64_t *when, unsigned *seq)
{
    const char *end;
    struct tm tm;
    int k = 0;

    memset(&tm, 0, sizeof(tm));
    end = strptime(p, "%Y%m%dT%H%M%SZ", &tm);
    /* Nothing after the seq but the suffix: "web-a-<time>-<seq>..." of
     * host "a" is no name of a host "a-<time>". */
    if (!end || sscanf(end, "-%u%n", seq, &k) != 1 || k < 2 ||
        (strcmp(end + k, ".log.gz") != 0 &&
         strcmp(end + k, ".log.gz.part") != 0))
        return false;
    *when = (int64_t)timegm(&tm);
    return true;
}

bool lsl_segname_parse(const struct lsl_segname *n, const char *path,
                       int64_t *when, unsigned *seq)
{
    const char *base = strrchr(path, '/');
    size_t sn = strlen(n->source), hn = strlen(n->host);

    base = base ? base + 1 : path;
    if (strncmp(base, n->source, sn) != 0 || base[sn] != '-')
        return false;
    if (strncmp(base + sn + 1, n->host, hn) == 0 && base[sn + 1 + hn] == '-' &&
        parse_tail(base + sn + hn + 2, when, seq))
        return true;
    /* Names of releases before host ids: the default layout only. */
    return n->layout == LSL_LAYOUT_DEFAULT &&
           parse_tail(base + sn + 1, when, seq);
}

bool lsl_segname_owns(const struct lsl_segname *n, const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    int64_t when;
    unsigned seq;

    /* Exactly where this sink would have put a segment of that name. */
    return slash && lsl_segname_parse(n, path, &when, &seq) &&
           lsl_segname_dir(n, when, dir, sizeof(dir)) == 0 &&
           strlen(dir) == (size_t)(slash - path) &&
           strncmp(dir, path, (size_t)(slash - path)) == 0;
}

/* Call fn on the directories under dir (depth levels down) whose names
 * match `want` at the last level ("": any). */
static int each_dir(const char *dir, unsigned depth, const char *want,
                    int (*fn)(const char *dir, void *ud), void *ud)
{
    char path[4096];
    struct dirent *e;
    struct stat st;
    DIR *d = opendir(dir);
    int rc = 0;

    if (!d)
        return 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' ||
            lsl_path_join(path, sizeof(path), dir, e->d_name) != 0 ||
            lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        if (depth > 1)
            rc = each_dir(path, depth - 1, want, fn, ud);
        else if (!want[0] || strcmp(e->d_name, want) == 0)
            rc = fn(path, ud);
    }
    closedir(d);
    return rc;
}

int lsl_segname_each_dir(const struct lsl_segname *n,
                         int (*fn)(const char *dir, void *ud), void *ud)
{
    char root[4096], host[LSL_HOST_MAX + 8];
    int rc = lsl_segname_root(n, root, sizeof(root));

    if (rc)
        return rc;
    if (n->layout != LSL_LAYOUT_HIVE)
        return each_dir(root, 1, "", fn, ud);
    snprintf(host, sizeof(host), "host=%s", n->host);
    return each_dir(root, 3, host, fn, ud);
}
