/*
 * Payment card numbers in free text, for the scrubber (class secret: PCI
 * DSS asks that a card number never be stored readable, and a chat
 * message or a checkout page's query is where users paste one).
 *
 * Taken: a number an issuer gives out, by its prefix and length (Visa 4,
 * Mastercard 51-55 and 2221-2720, American Express 34 and 37, JCB
 * 3528-3589, Diners 300-305, 36, 38 and 39 with 14 or 16 digits, Discover
 * 6011, 644-649 and 65, UnionPay 62), with a valid Luhn check digit,
 * written plain (14 to 16 digits) or in the groups cards print (4-4-4-4,
 * 4-4-4-4-3, Amex's 4-6-5, Diners' 4-6-4) joined by one ' ' or '-'
 * throughout.
 * Tried before the IMEI matcher: a 15-digit number with a valid check digit
 * that starts with 34 or 37 is an Amex card (no IMEI's reporting body has
 * those digits).
 * Refused: any other length or grouping, a number glued to a letter or
 * digit or part of a decimal, so that ids and counts of that length are
 * left to the other matchers unless they pass all three checks (about 5%
 * of random 16-digit numbers do, as 10% of IMEI-length ones pass the IMEI
 * matcher's one).
 */
#include <string.h>
#include "rules_internal.h"

#define CARD_DIGITS_MAX 19
#define CARD_GROUPS_MAX 5

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool alnum(char c)
{
    return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool lsl_number_alone(const char *s, size_t lo, size_t hi, size_t i, size_t end)
{
    if (end < hi && (alnum(s[end]) || ((s[end] == '.' || s[end] == ',') &&
                                       end + 1 < hi && digit(s[end + 1]))))
        return false;
    return !(i >= lo + 2 && (s[i - 1] == '.' || s[i - 1] == ',') &&
             digit(s[i - 2]));
}

#define LENS(lo, hi) ((((1u << ((hi) - (lo) + 1)) - 1)) << (lo))

/* The lengths an issuer gives out to numbers that start with the four
 * digits d, as a set of bits; 0 for no issuer. Asked first: most digit
 * runs (dates, times, addresses, counts) stop here. */
static unsigned issued(const char *d)
{
    unsigned p4 = (unsigned)((d[0] - '0') * 1000 + (d[1] - '0') * 100 +
                             (d[2] - '0') * 10 + (d[3] - '0'));
    unsigned p2 = p4 / 100, p3 = p4 / 10;

    if (d[0] == '4')
        return 1u << 13 | 1u << 16 | 1u << 19;
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
        return 1u << 16;
    if (p2 == 34 || p2 == 37)
        return 1u << 15;
    if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39)
        return 1u << 14 | 1u << 16;
    if ((p4 >= 3528 && p4 <= 3589) || p4 == 6011 || (p3 >= 644 && p3 <= 649) ||
        p2 == 65 || p2 == 62)
        return LENS(16, 19);
    return 0;
}

/* The group lengths cards are printed with. */
static bool printed_groups(const size_t *len, size_t n)
{
    static const size_t shapes[][CARD_GROUPS_MAX + 1] = {
        {4, 4, 4, 4, 4}, {5, 4, 4, 4, 4, 3}, {3, 4, 6, 5}, {3, 4, 6, 4}};

    for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++)
        if (shapes[k][0] == n &&
            memcmp(shapes[k] + 1, len, n * sizeof(*len)) == 0)
            return true;
    return false;
}

/* Digits from i into d, plain or in groups joined by one ' ' or '-';
 * the end, or i when they are neither. */
static size_t card_digits(const char *s, size_t hi, size_t i, char *d,
                          size_t *nd)
{
    size_t len[CARD_GROUPS_MAX], groups = 0, n = 0, j = i;
    char sep = 0;

    for (;;) {
        size_t st = j;

        while (j < hi && digit(s[j]) && n < CARD_DIGITS_MAX)
            d[n++] = s[j++];
        if (j < hi && digit(s[j]))
            return i;
        len[groups++] = j - st;
        /* Printed groups start with four digits; more is a plain number. */
        if (len[0] != 4 || groups == CARD_GROUPS_MAX || j + 1 >= hi ||
            !digit(s[j + 1]) || (s[j] != ' ' && s[j] != '-') ||
            (sep && s[j] != sep))
            break;
        sep = s[j++];
    }
    /* A sixth group: no card is printed so. */
    if (groups == CARD_GROUPS_MAX && j + 1 < hi && s[j] == sep &&
        digit(s[j + 1]))
        return i;
    *nd = n;
    if (groups == 1)
        return n >= 14 && n <= 16 ? j : i;
    return printed_groups(len, groups) ? j : i;
}

bool lsl_card_at(const char *s, size_t lo, size_t hi, size_t i,
                 struct lsl_hit *h)
{
    char d[CARD_DIGITS_MAX];
    unsigned lens;
    size_t n = 0, end;

    if (hi - i < 4 || !digit(s[i]) || !digit(s[i + 1]) || !digit(s[i + 2]) ||
        !digit(s[i + 3]) || !(lens = issued(s + i)))
        return false;
    end = card_digits(s, hi, i, d, &n);
    if (end == i || !(lens >> n & 1) || !lsl_luhn_ok(d, n) ||
        !lsl_number_alone(s, lo, hi, i, end))
        return false;
    lsl_hit_set(h, i, end, LSL_CLASS_SECRET, 0);
    return true;
}
