/*
 * Key epochs on the UTC calendar: which epoch a unix time falls in and when
 * an epoch starts. Epoch numbers are absolute (days, weeks or months since
 * 1970), so the same time gives the same epoch on every host and in every
 * run; a key file records the number of the epoch its key belongs to.
 *
 *   day    epoch n covers [n * 86400, (n + 1) * 86400)
 *   week   weeks start on Monday 00:00 UTC; epoch 0 is the week of
 *          Monday 1970-01-05 (the days before it fall in epoch -1 -> 0,
 *          see clamp below)
 *   month  epoch n is month n % 12 of year 1970 + n / 12
 *
 * Times before 1970-01-05 are taken as epoch 0: no log line is that old,
 * and a negative epoch would have no key-file encoding.
 */
#include "logseal/token.h"

#define DAY_SECONDS 86400
#define MONDAY_DAY  4 /* 1970-01-05 is day 4 of the unix era */

/* Floor division for possibly negative numerators. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Day number of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Year and month (1..12) of day number z (the inverse of the above). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m)
{
    int64_t era, yy;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = floor_div(z, 146097);
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    yy = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

uint32_t lsl_epoch_index(enum lsl_epoch_len len, int64_t when)
{
    int64_t day = floor_div(when, DAY_SECONDS), n, y;
    unsigned m;

    switch (len) {
    case LSL_EPOCH_DAY:
        n = day;
        break;
    case LSL_EPOCH_WEEK:
        n = floor_div(day - MONDAY_DAY, 7);
        break;
    case LSL_EPOCH_MONTH:
        civil_from_days(day, &y, &m);
        n = (y - 1970) * 12 + (int64_t)m - 1;
        break;
    default:
        return 0;
    }
    if (n < 0)
        return 0;
    return n > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

int64_t lsl_epoch_start(enum lsl_epoch_len len, uint32_t epoch)
{
    switch (len) {
    case LSL_EPOCH_DAY:
        return (int64_t)epoch * DAY_SECONDS;
    case LSL_EPOCH_WEEK:
        return ((int64_t)epoch * 7 + MONDAY_DAY) * DAY_SECONDS;
    case LSL_EPOCH_MONTH:
        return days_from_civil(1970 + epoch / 12, epoch % 12 + 1, 1) *
               DAY_SECONDS;
    default:
        return 0;
    }
}
