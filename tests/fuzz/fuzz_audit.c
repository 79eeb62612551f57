/*
 * Fuzz target: the signed audit trail's reader and verifier on damaged
 * logs. At start the target writes a genuine log of four records (a fresh
 * officer key in a temp dir). Each input edits a copy of it: byte 0 picks
 * the edit (raw: the rest is the whole file; flip a byte; cut; insert the
 * rest; duplicate, drop or swap lines), bytes 1-2 an offset, byte 3 a
 * value. Checks: verification returns 0, LSL_EAUTH or LSL_ETRUNC (a torn
 * last line, and only then) (never a crash or another code for content);
 * a clean result covers every record the reader sees and an untouched log
 * verifies; a refusal names a line after the records that verified; the
 * legal state loads or is refused; a log that verifies but for a torn
 * last line takes an append and then verifies whole.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz_util.h"
#include "logseal/auditlog.h"
#include "logseal/legal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lsl_audit_pub pub;
static struct lsl_officer_key *k;
static const char *dir;
static uint8_t *base;
static size_t base_len;
static char log_path[512];

static void init(void)
{
    char sec[512], pk[512];
    struct lsl_audit_entry e = {.time = 1764403200,
                                .operator_name = "ana",
                                .case_ref = "CASE-1",
                                .action = "unseal",
                                .count = 1};
    static const char *const queries[] = {"ip_aa1", "id_aa2\tx", "q\n3", ""};
    FILE *f;

    dir = fz_tmpdir();
    snprintf(sec, sizeof(sec), "%s/officer.key", dir);
    snprintf(pk, sizeof(pk), "%s/vault.pub", dir);
    snprintf(log_path, sizeof(log_path), "%s/%s", dir, LSL_AUDIT_LOG_NAME);
    FZ_CHECK(lsl_officer_keygen(sec, pk) == 0);
    FZ_CHECK(lsl_officer_key_open(&k, sec) == 0);
    FZ_CHECK(lsl_audit_pub_derive(k, &pub) == 0);
    for (int i = 0; i < 4; i++) {
        e.query = queries[i];
        e.items = i % 2 ? "tok=ip_aaaaaaaaaaaaaaaaaaaaaaaaaa shares=1,3" : NULL;
        FZ_CHECK(lsl_audit_log_append(dir, k, &e, NULL) == 0);
    }
    f = fopen(log_path, "rb");
    FZ_CHECK(f != NULL);
    base = malloc(1 << 16);
    FZ_CHECK(base != NULL);
    base_len = fread(base, 1, 1 << 16, f);
    fclose(f);
}

/* Offsets of line starts in p[0..len); returns their count. */
static size_t line_starts(const uint8_t *p, size_t len, size_t *at, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < len && n < max; i++) {
        if (i == 0 || p[i - 1] == '\n')
            at[n++] = i;
    }
    return n;
}

/* Apply the input's edit to a copy of the genuine log; returns its size. */
static size_t edit(const uint8_t *d, size_t size, uint8_t *out)
{
    size_t off = ((size_t)d[1] | (size_t)d[2] << 8) % (base_len + 1);
    size_t st[16], nl = line_starts(base, base_len, st, 16), a, b, la;
    const uint8_t *rest = d + 4;
    size_t nrest = size - 4, n = 0;

    switch (d[0] % 7) {
    case 0: /* raw */
        memcpy(out, rest, nrest);
        return nrest;
    case 1: /* flip */
        memcpy(out, base, base_len);
        if (off < base_len)
            out[off] ^= d[3] ? d[3] : 1;
        return base_len;
    case 2: /* cut */
        memcpy(out, base, off);
        return off;
    case 3: /* insert */
        memcpy(out, base, off);
        memcpy(out + off, rest, nrest);
        memcpy(out + off + nrest, base + off, base_len - off);
        return base_len + nrest;
    default: /* duplicate, drop or swap lines a and b */
        break;
    }
    a = nl ? d[3] % nl : 0;
    b = nl ? d[1] % nl : 0;
    la = (a + 1 < nl ? st[a + 1] : base_len) - st[a];
    for (size_t i = 0; i < nl; i++) {
        size_t from = i, li;

        if (d[0] % 7 == 5 && i == a)
            continue; /* drop */
        if (d[0] % 7 == 6)
            from = i == a ? b : i == b ? a : i; /* swap */
        li = (from + 1 < nl ? st[from + 1] : base_len) - st[from];
        memcpy(out + n, base + st[from], li);
        n += li;
        if (d[0] % 7 == 4 && i == a) { /* duplicate */
            memcpy(out + n, base + st[a], la);
            n += la;
        }
    }
    return n;
}

static int count_record(const struct lsl_audit_record *r, void *ud)
{
    (void)r;
    ++*(uint64_t *)ud;
    return 0;
}

/*
 * A log that verifies, or verifies but for a torn last line, takes an
 * append (which cuts the torn line) and then verifies with one more
 * record: a crash never bricks the log.
 */
static void append_after(int rc, const struct lsl_audit_verdict *v)
{
    struct lsl_audit_entry e = {.time = 1764403300,
                                .operator_name = "fz",
                                .case_ref = "F",
                                .action = "unseal",
                                .query = "",
                                .count = 0};
    struct lsl_audit_verdict after;
    struct lsl_ledger *l = NULL;
    int arc;

    arc = lsl_ledger_load(&l, dir, &pub, &after);
    FZ_CHECK(arc == 0 || arc == LSL_EAUTH);
    lsl_ledger_free(l);
    if (rc != 0 && rc != LSL_ETRUNC)
        return;
    arc = lsl_audit_log_append(dir, k, &e, NULL);
    if (arc == LSL_ECORRUPT)
        return; /* a verifying log cannot end in a malformed line */
    FZ_CHECK(arc == 0);
    FZ_CHECK(lsl_audit_verify(log_path, &pub, &after) == 0);
    FZ_CHECK(after.records == v->records + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lsl_audit_verdict v;
    uint64_t seen = 0, bad = 0;
    uint8_t *img;
    size_t len;
    int fd, rc, rrc;

    if (!base)
        init();
    if (size < 4)
        return 0;
    img = malloc(base_len * 2 + size);
    FZ_CHECK(img != NULL);
    len = edit(data, size, img);
    fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FZ_CHECK(fd >= 0);
    FZ_CHECK(len == 0 || write(fd, img, len) == (ssize_t)len);
    close(fd);
    rc = lsl_audit_verify(log_path, &pub, &v);
    FZ_CHECK(rc == 0 || rc == LSL_EAUTH || rc == LSL_ETRUNC);
    FZ_CHECK((rc == LSL_ETRUNC) == (v.fault == LSL_AUDIT_TORN));
    rrc = lsl_audit_read(log_path, count_record, &seen, &bad);
    FZ_CHECK(rrc == 0 || rrc == LSL_ECORRUPT);
    if (rc == 0)
        FZ_CHECK(v.bad_line == 0 && rrc == 0 && v.records == seen);
    else
        FZ_CHECK(v.bad_line > v.records && v.fault != LSL_AUDIT_OK);
    if (len == base_len && memcmp(img, base, len) == 0)
        FZ_CHECK(rc == 0 && v.records == 4);
    append_after(rc, &v);
    free(img);
    return 0;
}
