/*
 * Where segments go (src/sink/segname.c): both layouts' paths, names read
 * back, what a sink owns (never another host's files, never outside its
 * tree), crafted line times that cannot scatter segments, and the
 * directories a sink sweeps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "logseal/file.h"
#include "src/sink/segment_internal.h"

/* 2025-11-29T08:05:09Z */
#define T0 1764403509

static const struct lsl_segname dflt = {"/out", "web", "edge-1",
                                        LSL_LAYOUT_DEFAULT};
static const struct lsl_segname hive = {"/out", "web", "edge-1",
                                        LSL_LAYOUT_HIVE};

static void paths(void **state)
{
    char p[4096];

    (void)state;
    assert_int_equal(lsl_segname_file(&dflt, T0, 7, p, sizeof(p)), 0);
    assert_string_equal(p, "/out/web/2025-11-29/"
                           "web-edge-1-20251129T080509Z-007.log.gz");
    assert_int_equal(lsl_segname_file(&hive, T0, 0, p, sizeof(p)), 0);
    assert_string_equal(p,
                        "/out/source=web/dt=2025-11-29/hour=08/"
                        "host=edge-1/web-edge-1-20251129T080509Z-000.log.gz");
    assert_int_equal(lsl_segname_root(&hive, p, sizeof(p)), 0);
    assert_string_equal(p, "/out/source=web");
    assert_int_equal(lsl_segname_file(&hive, T0, 0, p, 40), -ENAMETOOLONG);
}

static void partitions(void **state)
{
    (void)state;
    assert_int_equal(lsl_segname_partition(LSL_LAYOUT_DEFAULT, T0),
                     1764374400); /* 2025-11-29T00:00:00Z */
    assert_int_equal(lsl_segname_partition(LSL_LAYOUT_HIVE, T0),
                     1764403200); /* 08:00:00Z */
    assert_int_equal(lsl_segname_partition(LSL_LAYOUT_HIVE, -1), -3600);
    /* A line's own time dates the segment, unless implausible. */
    assert_int_equal(lsl_segname_date(T0 - 7 * 86400, T0), T0 - 7 * 86400);
    assert_int_equal(lsl_segname_date(T0 + 3600, T0), T0 + 3600);
    assert_int_equal(lsl_segname_date(T0 + 2 * 86400, T0), T0);
    assert_int_equal(lsl_segname_date(0, T0), T0);
    assert_int_equal(lsl_segname_date(T0 - 20LL * 365 * 86400, T0), T0);
}

static void parse_and_own(void **state)
{
    static const struct lsl_segname other = {"/out", "web", "edge-2",
                                             LSL_LAYOUT_HIVE};
    char p[4096], part[4200];
    int64_t when;
    unsigned seq;

    (void)state;
    assert_int_equal(lsl_segname_file(&hive, T0, 12, p, sizeof(p)), 0);
    snprintf(part, sizeof(part), "%s.part", p);
    assert_true(lsl_segname_parse(&hive, part, &when, &seq));
    assert_int_equal(when, T0);
    assert_int_equal(seq, 12);
    assert_true(lsl_segname_owns(&hive, p));
    assert_true(lsl_segname_owns(&hive, part));
    /* Another host's file, even in a shared OUT: not ours. */
    assert_false(lsl_segname_owns(&other, p));
    assert_false(lsl_segname_parse(&other, p, &when, &seq));
    /* Ours by name, but not where we would have put it. */
    assert_false(lsl_segname_owns(
        &hive, "/out/source=web/dt=2025-11-28/hour=08/host=edge-1/"
               "web-edge-1-20251129T080509Z-000.log.gz.part"));
    assert_false(lsl_segname_owns(
        &hive, "/out/source=web/../source=web/dt=2025-11-29/hour=08/"
               "host=edge-1/web-edge-1-20251129T080509Z-000.log.gz"));
    assert_false(lsl_segname_owns(&dflt, p));
    assert_false(lsl_segname_owns(&hive, "/etc/passwd"));
    assert_false(
        lsl_segname_parse(&hive, "web-edge-1-garbage-1.log.gz", &when, &seq));
    /* A .part of a release before host ids: still resumed (default). */
    assert_true(lsl_segname_owns(
        &dflt, "/out/web/2025-11-29/web-20251129T080509Z-003.log.gz.part"));
    assert_false(lsl_segname_owns(
        &hive, "/out/source=web/dt=2025-11-29/hour=08/host=edge-1/"
               "web-20251129T080509Z-003.log.gz.part"));
}

/*
 * Host ids may hold '-' and digits: host "edge" must not take host
 * "edge-20251129T080509Z"'s files in the default layout (one directory
 * for all hosts), where it would sweep (finish or remove) its .part.
 */
static void host_prefix_not_owned(void **state)
{
    static const struct lsl_segname edge = {"/out", "web", "edge",
                                            LSL_LAYOUT_DEFAULT};
    static const struct lsl_segname longer = {
        "/out", "web", "edge-20251129T080509Z", LSL_LAYOUT_DEFAULT};
    char p[4096], part[4200];
    int64_t when;
    unsigned seq;

    (void)state;
    assert_int_equal(lsl_segname_file(&longer, T0, 7, p, sizeof(p)), 0);
    snprintf(part, sizeof(part), "%s.part", p);
    assert_true(lsl_segname_owns(&longer, part));
    assert_false(lsl_segname_parse(&edge, part, &when, &seq));
    assert_false(lsl_segname_owns(&edge, part));
    assert_false(lsl_segname_owns(&edge, p));
    /* Only the suffixes segments have. */
    assert_false(lsl_segname_parse(
        &edge, "/out/web/2025-11-29/web-edge-20251129T080509Z-003.log.gzx",
        &when, &seq));
    assert_false(lsl_segname_parse(
        &edge, "/out/web/2025-11-29/web-edge-20251129T080509Z-.log.gz", &when,
        &seq));
}

static int count_dir(const char *dir, void *ud)
{
    assert_non_null(strstr(dir, "host=edge-1"));
    ++*(int *)ud;
    return 0;
}

static void sweep_dirs(void **state)
{
    char tmpl[] = "/tmp/lslsegname.XXXXXX", p[4096];
    const char *base = mkdtemp(tmpl);
    struct lsl_segname n = hive, o = hive;
    int found = 0;

    (void)state;
    assert_non_null(base);
    n.out_dir = o.out_dir = base;
    o.host = "edge-2";
    for (int i = 0; i < 3; i++) {
        assert_int_equal(lsl_segname_dir(&n, T0 + i * 3600, p, sizeof(p)), 0);
        assert_int_equal(lsl_mkdir_p(p, 0755), 0);
        assert_int_equal(lsl_segname_dir(&o, T0 + i * 3600, p, sizeof(p)), 0);
        assert_int_equal(lsl_mkdir_p(p, 0755), 0);
    }
    assert_int_equal(lsl_segname_each_dir(&n, count_dir, &found), 0);
    assert_int_equal(found, 3);
    snprintf(p, sizeof(p), "rm -rf '%s'", base);
    assert_int_equal(system(p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths),
        cmocka_unit_test(partitions),
        cmocka_unit_test(parse_and_own),
        cmocka_unit_test(host_prefix_not_owned),
        cmocka_unit_test(sweep_dirs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
