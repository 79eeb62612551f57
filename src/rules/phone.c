/*
 * Japanese phone numbers in free text, for the scrubber's text mode only
 * (`scrub` fields, JSON free-text values, lines no rule matched): never in
 * request lines, byte counts or timestamps, which nginx fields hold.
 *
 * Taken, digits only, with the national number written with its leading 0:
 *  - three groups, the last of four digits, 10 digits in all with a
 *    non-zero area digit (03-1234-5678, 045-123-4567, 0466-12-3456), or 11
 *    digits for mobile and IP phones 050/070/080/090-dddd-dddd and
 *    0800-ddd-dddd; toll-free 0120-ddd-ddd. The groups are separated by
 *    '-', ' ' or '.', the same each time (090 1234 5678, 090.1234.5678),
 *    or written as Japanese cards do, 03(1234)5678; the first group may
 *    stand in parentheses, (03) 1234-5678, (090)1234-5678;
 *  - undashed mobile numbers 0[5789]0dddddddd (11 digits);
 *  - "+81" with the same number without its 0, the groups separated by
 *    '-' or ' ' or nothing, "(0)" allowed before it, the separator after
 *    "+81" one of its own (+81-90-1234-5678, +81 3 1234 5678,
 *    +819012345678, +81 (0)90-1234-5678, +81 90-1234-5678).
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

/* One group of digits at *pos, appended to g. */
static bool read_group(const char *s, size_t hi, size_t *pos, struct groups *g)
{
    size_t j = *pos, st = j;

    while (j < hi && digit(s[j]) && g->nd < sizeof(g->d) - 1)
        g->d[g->nd++] = s[j++];
    if (j == st || g->n == MAX_GROUPS || (j < hi && digit(s[j])))
        return false;
    g->len[g->n++] = j - st;
    *pos = j;
    return true;
}

/*
 * c separates group n from the next: the first separator is one of
 * `seps` and sets *sep, each later one is the same, but "(" after the
 * first group is closed by ")" after the second (03(1234)5678).
 */
static bool next_sep(char *sep, char c, size_t n, const char *seps)
{
    if (!*sep) {
        if (c == '\0' || !strchr(seps, c))
            return false;
        *sep = c;
        return true;
    }
    if (*sep == '(')
        return n == 2 && c == ')';
    return c == *sep;
}

/* Digit groups from *pos, separated as next_sep says (`sep`: set
 * already, or 0). Returns false on more than MAX_GROUPS groups or 15
 * digits. */
static bool read_groups(const char *s, size_t hi, size_t *pos, char sep,
                        const char *seps, struct groups *g)
{
    size_t j = *pos;

    for (;;) {
        if (!read_group(s, hi, &j, g))
            return false;
        if (j + 1 >= hi || !digit(s[j + 1]) ||
            !next_sep(&sep, s[j], g->n, seps))
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

/* "(03) 1234-5678", "(090)1234-5678": the first group in parentheses,
 * s[i] == '('; *pos where the next group starts. */
static bool paren_first(const char *s, size_t hi, size_t i, size_t *pos,
                        struct groups *g)
{
    size_t j = i + 1;

    if (j >= hi || s[j] != '0' || !read_group(s, hi, &j, g) || j >= hi ||
        s[j] != ')')
        return false;
    j++;
    j += j < hi && s[j] == ' ';
    *pos = j;
    return j < hi && digit(s[j]);
}

/* "+81", a separator, "(0)" (the trunk 0 some write), the number without
 * its 0. The separator after "+81" need not be the groups' own: people
 * write "+81 90-1234-5678" as often as "+81-90-1234-5678". */
static bool plus81(const char *s, size_t hi, size_t i, size_t *pos,
                   struct groups *g)
{
    size_t j = i + 3;

    if (hi - i < 4 || s[i + 1] != '8' || s[i + 2] != '1')
        return false;
    if (j + 1 < hi && (s[j] == '-' || s[j] == ' ') &&
        (digit(s[j + 1]) || s[j + 1] == '('))
        j++;
    if (hi - j > 3 && memcmp(s + j, "(0)", 3) == 0)
        j += 3;
    if (j >= hi || !digit(s[j]) || s[j] == '0')
        return false;
    g->d[g->nd++] = '0';
    *pos = j;
    return true;
}

/* The number from its first group on: s[i] is '+', '(' or '0'. */
static bool number_at(const char *s, size_t hi, size_t i, size_t *end)
{
    struct groups g = {.n = 0};
    size_t j = i;
    char sep = 0;
    const char *seps = "- .(";

    if (s[i] == '+') {
        if (!plus81(s, hi, i, &j, &g))
            return false;
        seps = "- ";
    } else if (s[i] == '(') {
        if (!paren_first(s, hi, i, &j, &g))
            return false;
        seps = "- ";
    } else if (s[i] != '0') {
        return false;
    }
    if (!read_groups(s, hi, &j, sep, seps, &g))
        return false;
    /* After +81 the first group lacks the 0 that g.d has. */
    g.len[0] += s[i] == '+';
    if (!valid(&g) || !ends_clean(s, hi, j))
        return false;
    *end = j;
    return true;
}

bool lsl_phone_at(const char *s, size_t lo, size_t hi, size_t i, size_t *start,
                  size_t *end)
{
    /* The scanner starts at the 0 of "(03) ...": the '(' is the
     * number's. */
    if (s[i] == '0' && i > lo && s[i - 1] == '(' &&
        starts_clean(s, lo, i - 1) && number_at(s, hi, i - 1, end)) {
        *start = i - 1;
        return true;
    }
    *start = i;
    return starts_clean(s, lo, i) && number_at(s, hi, i, end);
}
