/* test_timeutil.c — RFC 3339 parsing, formatting and civil-day arithmetic. */
#include "test.h"

#include "lib/timeutil.h"

static int64_t parse_ok(const char *s)
{
    int64_t ms = -123456789;
    kb_err e = kb_time_parse_rfc3339(kb_str_c(s), &ms);
    T_CHECKF(e == KB_OK, "%s rejected", s);
    return ms;
}

#define T_TIME(s, want) T_EQ_INT(parse_ok(s), (int64_t)(want))

static void test_variants(void)
{
    const int64_t base = 1614128523000; /* 2021-02-24T01:02:03Z */
    T_TIME("2021-02-24T01:02:03Z", base);
    T_TIME("2021-02-24t01:02:03z", base);
    T_TIME("2021-02-24 01:02:03Z", base);
    T_TIME("2021-02-24T01:02:03", base); /* no zone: taken as UTC */
    T_TIME("2021-02-24T01:02:03.4Z", base + 400);
    T_TIME("2021-02-24T01:02:03.45Z", base + 450);
    T_TIME("2021-02-24T01:02:03.456Z", base + 456);
    T_TIME("2021-02-24T01:02:03.4567Z", base + 456);
    T_TIME("2021-02-24T01:02:03.45678Z", base + 456);
    T_TIME("2021-02-24T01:02:03.456789Z", base + 456);
    T_TIME("2021-02-24T01:02:03.4567891Z", base + 456);
    T_TIME("2021-02-24T01:02:03.45678912Z", base + 456);
    T_TIME("2021-02-24T01:02:03.999999999Z", base + 999);
    T_TIME("2021-02-24T01:02:03,5Z", base + 500);
    T_TIME("2021-02-24T10:02:03+09:00", base);
    T_TIME("2021-02-23T20:02:03-0500", base);
    T_TIME("2021-02-24T06:02:03+05", base);
    T_TIME("2021-02-24T06:32:03.250+05:30", base + 250);
    T_TIME("2021-02-24T01:02:03+00:00", base);
    T_TIME("2021-02-24T01:02:03-00:00", base);
    T_TIME("2021-02-24T01:02:60Z", base + 56000); /* a leap second counts as :59 */
    T_TIME("1970-01-01T00:00:00Z", 0);
    T_TIME("1969-12-31T23:59:59.999Z", -1);
    T_TIME("1970-01-01T00:00:00+01:00", -3600000);
    T_TIME("0000-01-01T00:00:00Z", -62167219200000);
    T_TIME("9999-12-31T23:59:59.999Z", 253402300799999);
}

static void test_leap_years(void)
{
    T_TIME("2024-02-29T00:00:00Z", 1709164800000);
    T_TIME("2000-02-29T12:00:00Z", 951825600000);
    T_TIME("2024-12-31T00:00:00Z", 1735603200000);
    int64_t ms;
    T_EQ_INT(kb_time_parse_rfc3339(kb_str_c("2023-02-29T00:00:00Z"), &ms), KB_EINVAL);
    T_EQ_INT(kb_time_parse_rfc3339(kb_str_c("1900-02-29T00:00:00Z"), &ms), KB_EINVAL);
    T_EQ_INT(kb_time_parse_rfc3339(kb_str_c("2024-02-30T00:00:00Z"), &ms), KB_EINVAL);
    T_EQ_INT(kb_days_from_civil(1970, 1, 1), 0);
    T_EQ_INT(kb_days_from_civil(2000, 3, 1), 11017);
    T_EQ_INT(kb_days_from_civil(1969, 12, 31), -1);
    T_EQ_INT(kb_days_from_civil(1600, 2, 29), -135081);
}

static void test_rejects(void)
{
    static const char *bad[] = {
        "",
        "2021",
        "2021-02-24",
        "2021-02-24T01:02",
        "2021-02-24T01:02:03Zjunk",
        "2021-02-24T01:02:03ZZ",
        "2021-02-24T01:02:03 Z",
        "2021-02-24X01:02:03Z",
        "2021/02/24T01:02:03Z",
        "21-02-24T01:02:03Z",
        "2021-2-24T01:02:03Z",
        "2021-02-24T1:02:03Z",
        "2021-13-01T00:00:00Z",
        "2021-00-01T00:00:00Z",
        "2021-01-00T00:00:00Z",
        "2021-01-32T00:00:00Z",
        "2021-04-31T00:00:00Z",
        "2021-01-01T24:00:00Z",
        "2021-01-01T23:60:00Z",
        "2021-01-01T23:59:61Z",
        "2021-02-24T01:02:03.Z",
        "2021-02-24T01:02:03.",
        "2021-02-24T01:02:03.12a",
        "2021-02-24T01:02:03+",
        "2021-02-24T01:02:03+9",
        "2021-02-24T01:02:03+090",
        "2021-02-24T01:02:03+09:0",
        "2021-02-24T01:02:03+09:000",
        "2021-02-24T01:02:03+24:00",
        "2021-02-24T01:02:03+09:60",
        "2021-02-24T01:02:03+0a:00",
        "2021-02-24T01:02:03+09-00",
        "2021-02-24T01:02:03Z+09:00",
        "+021-02-24T01:02:03Z",
        "2021-02-24T01:02:03\n",
        "2021-02-2401:02:03Z",
        "20a1-02-24T01:02:03Z",
        " 2021-02-24T01:02:03Z",
    };
    for (size_t i = 0; i < KB_ARRAY_LEN(bad); i++) {
        int64_t ms = 77;
        kb_err e = kb_time_parse_rfc3339(kb_str_c(bad[i]), &ms);
        T_CHECKF(e == KB_EINVAL && ms == 77, "\"%s\" gave %s", bad[i], kb_strerror(e));
    }
    int64_t ms;
    T_EQ_INT(kb_time_parse_rfc3339(KB_STR_NULL, &ms), KB_EINVAL);
    /* Length is honoured: the slice ends before the 'Z' junk. */
    const char *s = "2021-02-24T01:02:03Zjunk";
    T_EQ_INT(kb_time_parse_rfc3339((struct kb_str){s, 20}, &ms), KB_OK);
    T_EQ_INT(ms, 1614128523000);
}

static void test_format(void)
{
    char out[32];
    kb_time_format(0, out);
    T_EQ_STR(out, "1970-01-01T00:00:00.000Z");
    kb_time_format(1614128523456, out);
    T_EQ_STR(out, "2021-02-24T01:02:03.456Z");
    kb_time_format(-1, out);
    T_EQ_STR(out, "1969-12-31T23:59:59.999Z");
    kb_time_format(-1000, out);
    T_EQ_STR(out, "1969-12-31T23:59:59.000Z");
    kb_time_format(-86400000, out);
    T_EQ_STR(out, "1969-12-31T00:00:00.000Z");
    kb_time_format(-86400001, out);
    T_EQ_STR(out, "1969-12-30T23:59:59.999Z");
    kb_time_format(253402300799999, out);
    T_EQ_STR(out, "9999-12-31T23:59:59.999Z");
    kb_time_format(-62167219200000, out);
    T_EQ_STR(out, "0000-01-01T00:00:00.000Z");
    kb_time_format(1709164800000, out);
    T_EQ_STR(out, "2024-02-29T00:00:00.000Z");
    /* Outside years 0000..9999 the output is clamped to the nearest end. */
    kb_time_format(INT64_MIN, out);
    T_EQ_STR(out, "0000-01-01T00:00:00.000Z");
    kb_time_format(-62167219200001, out);
    T_EQ_STR(out, "0000-01-01T00:00:00.000Z");
    kb_time_format(INT64_MAX, out);
    T_EQ_STR(out, "9999-12-31T23:59:59.999Z");
    kb_time_format(253402300800000, out);
    T_EQ_STR(out, "9999-12-31T23:59:59.999Z");
}

static void test_roundtrip(void)
{
    /* Deterministic sweep from year 0 to 9999, including negative times. */
    const int64_t lo = -62167219200000, hi = 253402300799999;
    uint64_t x = 88172645463325252ull;
    int bad = 0;
    char out[32];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t ms = lo + (int64_t)(x % (uint64_t)(hi - lo + 1));
        if (i < 4)
            ms = (int64_t[]){lo, hi, -1, 0}[i];
        kb_time_format(ms, out);
        int64_t back = 0;
        if (strlen(out) != 24 || kb_time_parse_rfc3339(kb_str_c(out), &back) != KB_OK ||
            back != ms) {
            if (bad++ < 5)
                fprintf(stderr, "    %lld -> %s -> %lld\n", (long long)ms, out, (long long)back);
        }
    }
    T_EQ_INT(bad, 0);
}

int main(void)
{
    T_RUN(test_variants);
    T_RUN(test_leap_years);
    T_RUN(test_rejects);
    T_RUN(test_format);
    T_RUN(test_roundtrip);
    return t_done();
}
