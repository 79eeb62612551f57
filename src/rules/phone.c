/*
 * Japanese phone numbers in free text, for the scrubber's text mode only
 * (`scrub` fields, JSON free-text values, lines no rule matched): never in
 * request lines, byte counts or timestamps, which nginx fields hold.
 *
 * Taken, digits only, with the national number written with its leading 0:
 *  - three '-'-separated groups, the last of four digits, 10 digits in all
 *    with a non-zero area digit (03-1234-5678, 045-123-4567, 0466-12-3456),
 *    or 11 digits for mobile and IP phones 050/070/080/090-dddd-dddd and
 *    0800-ddd-dddd; toll-free 0120-ddd-ddd;
 *  - undashed mobile numbers 0[5789]0dddddddd (11 digits);
 *  - "+81" with the same number without its 0, the groups separated by
 *    '-' or ' ' or nothing (+81-90-1234-5678, +81 3 1234 5678,
 *    +819012345678).
 * Refused, so that dates, times, versions, ids, counts and URL paths stay:
 * anything glued to a letter or digit, anything after one of - _ . / = &
 * ? # % + (a path, file name or query: "seg-090-1234-5678.ts"), or before
 * one of them and a letter or digit (a fourth group, a decimal, ".ts"), a
 * number right after "digit:" or "digit,"; any other digit count or
 * grouping.
 */
#include <string.h>
#include "rules_internal.h"

#define MAX_GROUPS 3

struct groups {
    size_t n;
    size_t len[MAX_GROUPS];
    char d[16]; /* national number with its 0, NUL-terminated */
    size_t nd;
};

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool alnum(char c)
{
    return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_mobile(const char *d)
{
    return d[0] == '0' && d[2] == '0' &&
           (d[1] == '5' || d[1] == '7' || d[1] == '8' || d[1] == '9');
}

/* Digit groups from *pos separated by `sep` (0: the first of '-' or
 * `alt` seen). Returns false on more than MAX_GROUPS groups or 15 digits. */
static bool read_groups(const char *s, size_t hi, size_t *pos, char sep,
                        char alt, struct groups *g)
{
    size_t j = *pos;

    for (;;) {
        size_t st = j;

        while (j < hi && digit(s[j]) && g->nd < sizeof(g->d) - 1)
            g->d[g->nd++] = s[j++];
        if (j == st || g->n == MAX_GROUPS || (j < hi && digit(s[j])))
            return false;
        g->len[g->n++] = j - st;
        if (j + 1 >= hi || !digit(s[j + 1]))
            break;
        if (!sep && (s[j] == '-' || (alt && s[j] == alt)))
            sep = s[j];
        if (!sep || s[j] != sep)
            break;
        j++;
    }
    g->d[g->nd] = '\0';
    *pos = j;
    return true;
}

static bool valid(const struct groups *g)
{
    const char *d = g->d;

    if (g->n == 1)
        return g->nd == 11 && is_mobile(d);
    if (g->n != 3)
        return false;
    if (g->len[0] == 4 && g->len[1] == 3 && g->len[2] == 3)
        return memcmp(d, "0120", 4) == 0;
    if (g->len[2] != 4)
        return false;
    if (g->nd == 11)
        return (g->len[0] == 3 && g->len[1] == 4 && is_mobile(d)) ||
               (g->len[0] == 4 && memcmp(d, "0800", 4) == 0);
    return g->nd == 10 && d[1] != '0' && g->len[0] >= 2 && g->len[0] <= 5;
}

/* Bytes that glue a number to a path, a file name, a query or a list. */
static bool is_glue(char c)
{
    return c != '\0' && strchr("-_./:=&?#%+", c) != NULL;
}

/* Nothing name- or number-like may continue after `end`. */
static bool ends_clean(const char *s, size_t hi, size_t end)
{
    if (end >= hi)
        return true;
    if (alnum(s[end]))
        return false;
    if (end + 1 >= hi)
        return true;
    return !(is_glue(s[end]) && alnum(s[end + 1])) &&
           !(s[end] == ',' && digit(s[end + 1]));
}

static bool starts_clean(const char *s, size_t lo, size_t i)
{
    if (i == lo)
        return true;
    if (alnum(s[i - 1]) || (is_glue(s[i - 1]) && s[i - 1] != ':'))
        return false;
    return !(i - 1 > lo && digit(s[i - 2]) &&
             (s[i - 1] == ':' || s[i - 1] == ','));
}

bool lsl_phone_at(const char *s, size_t lo, size_t hi, size_t i, size_t *end)
{
    struct groups g = {.n = 0};
    size_t j = i;
    char sep = 0, alt = 0;

    if (!starts_clean(s, lo, i))
        return false;
    if (s[i] == '+') {
        if (hi - i < 4 || s[i + 1] != '8' || s[i + 2] != '1')
            return false;
        j = i + 3;
        if (j + 1 < hi && (s[j] == '-' || s[j] == ' ') && digit(s[j + 1]))
            sep = s[j++];
        if (j >= hi || !digit(s[j]) || s[j] == '0')
            return false;
        g.d[g.nd++] = '0';
        alt = ' ';
    } else if (s[i] != '0') {
        return false;
    }
    if (!read_groups(s, hi, &j, sep, alt, &g))
        return false;
    /* After +81 the first group lacks the 0 that g.d has. */
    g.len[0] += s[i] == '+';
    if (!valid(&g) || !ends_clean(s, hi, j))
        return false;
    *end = j;
    return true;
}
