/* timeutil.c — RFC 3339 parsing and formatting by calendar arithmetic
 * (no timegm, no locale, no time zone database). */
#include "lib/timeutil.h"

#include <stdio.h>

int64_t kb_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's days_from_civil, proleptic Gregorian. */
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool digits(const char *p, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return true;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

kb_err kb_time_parse_rfc3339(struct kb_str s, int64_t *ms)
{
    const char *p = s.p;
    size_t n = s.n;
    unsigned Y, M, D, h, mi, sec, frac_ms = 0;
    if (!p || n < 19 || p[4] != '-' || p[7] != '-' ||
        (p[10] != 'T' && p[10] != 't' && p[10] != ' ') || p[13] != ':' || p[16] != ':')
        return KB_EINVAL;
    if (!digits(p, 4, &Y) || !digits(p + 5, 2, &M) || !digits(p + 8, 2, &D) ||
        !digits(p + 11, 2, &h) || !digits(p + 14, 2, &mi) || !digits(p + 17, 2, &sec))
        return KB_EINVAL;
    if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || mi > 59 || sec > 60)
        return KB_EINVAL;
    size_t i = 19;
    if (i < n && (p[i] == '.' || p[i] == ',')) {
        i++;
        size_t start = i;
        unsigned scale = 100;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            frac_ms += (unsigned)(p[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start)
            return KB_EINVAL;
    }
    int64_t offset_min = 0;
    if (i < n) {
        if ((p[i] == 'Z' || p[i] == 'z') && i + 1 == n) {
            i++;
        } else if (p[i] == '+' || p[i] == '-') {
            int sign = p[i] == '-' ? -1 : 1;
            unsigned oh, om;
            const char *o = p + i + 1;
            size_t rest = n - i - 1;
            if (rest == 5 && o[2] == ':' && digits(o, 2, &oh) && digits(o + 3, 2, &om))
                ;
            else if (rest == 4 && digits(o, 2, &oh) && digits(o + 2, 2, &om))
                ;
            else if (rest == 2 && digits(o, 2, &oh))
                om = 0;
            else
                return KB_EINVAL;
            if (oh > 23 || om > 59)
                return KB_EINVAL;
            offset_min = sign * (int64_t)(oh * 60 + om);
            i = n;
        } else {
            return KB_EINVAL;
        }
    }
    if (i != n)
        return KB_EINVAL;
    int64_t days = kb_days_from_civil(Y, M, D);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + (sec == 60 ? 59 : sec) - offset_min * 60;
    *ms = secs * 1000 + frac_ms;
    return KB_OK;
}

/* 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: RFC 3339's range. */
#define KB_TIME_MIN_MS (-62167219200000LL)
#define KB_TIME_MAX_MS 253402300799999LL

void kb_time_format(int64_t ms, char out[32])
{
    /* Outside RFC 3339's four-digit years the output is clamped to the
     * nearest end, so it is always 24 characters that parse back. */
    if (ms < KB_TIME_MIN_MS)
        ms = KB_TIME_MIN_MS;
    if (ms > KB_TIME_MAX_MS)
        ms = KB_TIME_MAX_MS;
    int64_t secs = ms / 1000, rem = ms % 1000; /* floor division */
    if (rem < 0) {
        rem += 1000;
        secs--;
    }
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    /* The % bounds let the compiler prove the output fits in 32 bytes. */
    snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)y % 10000u, m % 100u,
             d % 100u, (unsigned)(sod / 3600) % 100u, (unsigned)(sod / 60 % 60),
             (unsigned)(sod % 60), (unsigned)rem % 1000u);
}
