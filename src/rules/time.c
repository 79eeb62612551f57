/*
 * Time fields: a small strptime for log timestamps. It is independent of
 * the locale (English month abbreviations, ASCII digits) and of the time
 * zone database: the date becomes a day number by the days-from-civil
 * arithmetic of the proleptic Gregorian calendar, so parsing touches no
 * global state and is safe and fast on any thread. The whole input must
 * be consumed; fractions of seconds are kept apart (lsl_time_parse_at)
 * for output that writes them, and do not move the second.
 */
#include <errno.h>
#include <string.h>
#include "rules_internal.h"

struct tparts {
    int64_t year;
    int mon, day, hour, min, sec;
    int64_t off;   /* seconds east of UTC */
    int64_t epoch; /* from %s */
    bool have_epoch;
    bool have_zone; /* %z read */
    uint32_t nsec;
    uint8_t digits;
};

struct tin {
    const char *s;
    size_t pos, len;
};

static const char months[12][4] = {"jan", "feb", "mar", "apr", "may", "jun",
                                   "jul", "aug", "sep", "oct", "nov", "dec"};

static bool known_directive(char c)
{
    return c != '\0' && strchr("dmbYHMSzsfT%", c) != NULL;
}

bool lsl_time_format_ok(const char *fmt, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (fmt[i] != '%')
            continue;
        if (++i == len || !known_directive(fmt[i]))
            return false;
    }
    return true;
}

static bool peek_digit(const struct tin *in)
{
    return in->pos < in->len && in->s[in->pos] >= '0' && in->s[in->pos] <= '9';
}

/* min..max digits into *out, value in [lo, hi]. */
static bool num(struct tin *in, int min, int max, int64_t lo, int64_t hi,
                int64_t *out)
{
    int64_t v = 0;
    int n = 0;

    while (n < max && peek_digit(in)) {
        v = v * 10 + (in->s[in->pos++] - '0');
        n++;
    }
    if (n < min || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool num_int(struct tin *in, int min, int max, int lo, int hi, int *out)
{
    int64_t v;

    if (!num(in, min, max, lo, hi, &v))
        return false;
    *out = (int)v;
    return true;
}

static bool lit(struct tin *in, char c)
{
    if (in->pos >= in->len || in->s[in->pos] != c)
        return false;
    in->pos++;
    return true;
}

static bool month_name(struct tin *in, int *mon)
{
    char m[3];

    if (in->len - in->pos < 3)
        return false;
    for (int k = 0; k < 3; k++)
        m[k] = (char)(in->s[in->pos + (size_t)k] | 0x20);
    for (int i = 0; i < 12; i++) {
        if (m[0] == months[i][0] && m[1] == months[i][1] &&
            m[2] == months[i][2]) {
            *mon = i + 1;
            in->pos += 3;
            return true;
        }
    }
    return false;
}

/* Optional '.' or ',' and digits; a lone '.' is left for the format. The
 * first nine digits are kept as nanoseconds. */
static void fraction(struct tin *in, struct tparts *t)
{
    if (in->pos + 1 < in->len &&
        (in->s[in->pos] == '.' || in->s[in->pos] == ',') &&
        in->s[in->pos + 1] >= '0' && in->s[in->pos + 1] <= '9') {
        in->pos++;
        t->nsec = 0;
        t->digits = 0;
        while (peek_digit(in)) {
            if (t->digits < 9) {
                t->nsec = t->nsec * 10 + (uint32_t)(in->s[in->pos] - '0');
                t->digits++;
            }
            in->pos++;
        }
        for (unsigned k = t->digits; k < 9; k++)
            t->nsec *= 10;
    }
}

/* Z, +hh, +hhmm or +hh:mm. */
static bool zone(struct tin *in, int64_t *off)
{
    int64_t h, m = 0;
    int sign;

    if (lit(in, 'Z') || lit(in, 'z')) {
        *off = 0;
        return true;
    }
    if (lit(in, '+'))
        sign = 1;
    else if (lit(in, '-'))
        sign = -1;
    else
        return false;
    if (!num(in, 2, 2, 0, 23, &h))
        return false;
    if (in->pos < in->len && (in->s[in->pos] == ':' || peek_digit(in))) {
        (void)lit(in, ':');
        if (!num(in, 2, 2, 0, 59, &m))
            return false;
    }
    *off = sign * (h * 3600 + m * 60);
    return true;
}

static bool hms(struct tin *in, struct tparts *t)
{
    return num_int(in, 1, 2, 0, 23, &t->hour) && lit(in, ':') &&
           num_int(in, 1, 2, 0, 59, &t->min) && lit(in, ':') &&
           num_int(in, 1, 2, 0, 60, &t->sec);
}

static bool directive(struct tin *in, char d, struct tparts *t)
{
    switch (d) {
    case 'd':
        return num_int(in, 1, 2, 1, 31, &t->day);
    case 'm':
        return num_int(in, 1, 2, 1, 12, &t->mon);
    case 'b':
        return month_name(in, &t->mon);
    case 'Y':
        return num(in, 4, 4, 0, 9999, &t->year);
    case 'H':
        return num_int(in, 1, 2, 0, 23, &t->hour);
    case 'M':
        return num_int(in, 1, 2, 0, 59, &t->min);
    case 'S':
        return num_int(in, 1, 2, 0, 60, &t->sec);
    case 'T':
        return hms(in, t);
    case 'z':
        t->have_zone = true;
        return zone(in, &t->off);
    case 'f':
        fraction(in, t);
        return true;
    case 's':
        t->have_epoch = true;
        if (!num(in, 1, 18, 0, INT64_MAX, &t->epoch))
            return false;
        fraction(in, t);
        return true;
    case '%':
        return lit(in, '%');
    default:
        return false;
    }
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};

    return days[m - 1] + (m == 2 && leap(y));
}

/* Days since 1970-01-01 of a proleptic Gregorian date (y >= 0). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t yoe, doy, doe;

    /* Count years from March so the leap day ends the year. */
    if (m <= 2)
        y--;
    yoe = (y + 400) % 400; /* year of a 400-year era, y >= -1 */
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return ((y + 400) / 400 - 1) * 146097 + doe - 719468;
}

int lsl_time_parse(const char *fmt, const char *s, size_t len, int64_t *out)
{
    struct lsl_time t;
    int rc = lsl_time_parse_at(fmt, s, len, 0, &t);

    if (rc == 0)
        *out = t.sec;
    return rc;
}

int lsl_tz_parse(const char *s, int64_t *off)
{
    struct tin in = {s, 0, strlen(s)};

    if (strcmp(s, "UTC") == 0 || strcmp(s, "Z") == 0) {
        *off = 0;
        return 0;
    }
    if (!zone(&in, off) || in.pos != in.len || *off > 14 * 3600 ||
        *off < -14 * 3600)
        return -EINVAL;
    return 0;
}

int lsl_time_parse_at(const char *fmt, const char *s, size_t len,
                      int64_t zone_off, struct lsl_time *out)
{
    struct tparts t = {.year = 1970, .mon = 1, .day = 1};
    struct tin in = {s, 0, len};

    for (const char *f = fmt; *f; f++) {
        /* A blank matches a tab too: W3C date and time columns. */
        bool ok = *f == '%' ? (f[1] != '\0' && directive(&in, *++f, &t))
                            : lit(&in, *f) || (*f == ' ' && lit(&in, '\t'));

        if (!ok)
            return -EINVAL;
    }
    if (in.pos != len)
        return -EINVAL;
    out->nsec = t.nsec;
    out->digits = t.digits;
    if (t.have_epoch) {
        out->sec = t.epoch;
        return 0;
    }
    if (t.day > month_days(t.year, t.mon))
        return -EINVAL;
    if (!t.have_zone)
        t.off = zone_off;
    out->sec = days_from_civil(t.year, t.mon, t.day) * 86400 + t.hour * 3600 +
               t.min * 60 + t.sec - t.off;
    return 0;
}
