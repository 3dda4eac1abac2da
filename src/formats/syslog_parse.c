/*
 * syslog_parse.c — one syslog line into header fields (see syslog_parse.h).
 *
 * The parser is a cursor over the line that never reads past its end and
 * never allocates: every field is a slice of the input. Each shape parser
 * either succeeds completely or leaves *out for the caller to reset to RAW,
 * so a half-recognised header never produces half-filled fields.
 */
#include "formats/syslog_parse.h"

#include "lib/timeutil.h"

#include <time.h>

static const char *const sev_names[8] = {"emerg",  "alert", "crit", "err",
                                         "warning", "notice", "info", "debug"};
static const char *const fac_names[24] = {
    "kern",   "user",   "mail",   "daemon", "auth",   "syslog",   "lpr",
    "news",   "uucp",   "cron",   "authpriv", "ftp",  "ntp",      "security",
    "console", "solaris-cron", "local0", "local1", "local2", "local3",
    "local4", "local5", "local6", "local7"};

const char *syslog_severity_name(int severity)
{
    return severity >= 0 && severity < 8 ? sev_names[severity] : NULL;
}

const char *syslog_facility_name(int facility)
{
    return facility >= 0 && facility < 24 ? fac_names[facility] : NULL;
}

/* A read cursor: s[i..n). */
struct cur {
    const char *s;
    size_t i, n;
};

static bool at_end(const struct cur *c)
{
    return c->i >= c->n;
}

static int peek(const struct cur *c, size_t off)
{
    return c->i + off < c->n ? (unsigned char)c->s[c->i + off] : -1;
}

static bool is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_blank(int ch)
{
    return ch == ' ' || ch == '\t';
}

static void skip_blanks(struct cur *c)
{
    while (!at_end(c) && is_blank(peek(c, 0)))
        c->i++;
}

/* Reads exactly `count` digits into *v. */
static bool read_digits(struct cur *c, int count, int *v)
{
    int x = 0;
    for (int k = 0; k < count; k++) {
        int ch = peek(c, (size_t)k);
        if (!is_digit(ch))
            return false;
        x = x * 10 + (ch - '0');
    }
    c->i += (size_t)count;
    *v = x;
    return true;
}

static bool expect(struct cur *c, char ch)
{
    if (peek(c, 0) != (unsigned char)ch)
        return false;
    c->i++;
    return true;
}

/* The word at the cursor: bytes up to a blank or the end, at most max. */
static bool read_word(struct cur *c, size_t max, struct kb_str *w)
{
    size_t start = c->i;
    while (!at_end(c) && !is_blank(peek(c, 0))) {
        if (c->i - start >= max)
            return false;
        c->i++;
    }
    *w = (struct kb_str){c->s + start, c->i - start};
    return true;
}

static bool utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char b = p[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (b >= 0xC2 && b <= 0xDF) {
            len = 2;
            cp = b & 0x1F;
        } else if (b >= 0xE0 && b <= 0xEF) {
            len = 3;
            cp = b & 0x0F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            len = 4;
            cp = b & 0x07;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        /* overlong, surrogates, beyond U+10FFFF */
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        i += len;
    }
    return true;
}

/* ---- time ---- */

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : dm[m - 1];
}

/* ms since the epoch of a UTC civil date (already range-checked) plus the
 * time of day in ms. */
static int64_t civil_ms(int64_t y, int mon, int day, int64_t tod_ms)
{
    return kb_days_from_civil(y, (unsigned)mon, (unsigned)day) * 86400000LL + tod_ms;
}

/* "hh:mm:ss[.fraction]" into ms of the day. */
static bool read_clock(struct cur *c, int64_t *tod_ms)
{
    int h, m, s;
    if (!read_digits(c, 2, &h) || !expect(c, ':') || !read_digits(c, 2, &m) ||
        !expect(c, ':') || !read_digits(c, 2, &s))
        return false;
    if (h > 23 || m > 59 || s > 60)
        return false;
    int64_t ms = 0;
    if ((peek(c, 0) == '.' || peek(c, 0) == ',') && is_digit(peek(c, 1))) {
        c->i++;
        int k = 0;
        while (is_digit(peek(c, 0))) { /* any number of digits, kept to ms */
            if (k < 3)
                ms = ms * 10 + (peek(c, 0) - '0');
            k++;
            c->i++;
            if (k > 12)
                return false;
        }
        for (; k < 3; k++)
            ms *= 10;
    }
    *tod_ms = ((int64_t)h * 3600 + m * 60 + s) * 1000 + ms;
    return true;
}

/* "Z", "+hh:mm", "-hhmm" or "+hh" into the zone's offset from UTC in ms
 * (UTC = local - offset). No zone: offset 0 and true. */
static bool read_zone(struct cur *c, int64_t *off_ms)
{
    *off_ms = 0;
    int ch = peek(c, 0);
    if (ch == 'Z' || ch == 'z') {
        c->i++;
        return true;
    }
    if (ch != '+' && ch != '-')
        return true;
    if (!is_digit(peek(c, 1)))
        return true; /* "-" after the time is not a zone */
    c->i++;
    int hh, mm = 0;
    if (!read_digits(c, 2, &hh))
        return false;
    if (peek(c, 0) == ':')
        c->i++;
    if (is_digit(peek(c, 0)) && !read_digits(c, 2, &mm))
        return false;
    if (hh > 23 || mm > 59)
        return false;
    *off_ms = (ch == '-' ? -1 : 1) * ((int64_t)hh * 3600 + mm * 60) * 1000;
    return true;
}

/* "yyyy-mm-dd[T ]hh:mm:ss[.f][zone]" (no zone: UTC). */
static bool read_iso(struct cur *c, int64_t *ms)
{
    int y, mon, d;
    if (!read_digits(c, 4, &y) || !expect(c, '-') || !read_digits(c, 2, &mon) ||
        !expect(c, '-') || !read_digits(c, 2, &d))
        return false;
    if (mon < 1 || mon > 12 || d < 1 || d > days_in_month(y, mon))
        return false;
    int sep = peek(c, 0);
    if (sep != 'T' && sep != 't' && sep != ' ')
        return false;
    c->i++;
    int64_t tod, off;
    if (!read_clock(c, &tod) || !read_zone(c, &off))
        return false;
    *ms = civil_ms(y, mon, d, tod) - off;
    return true;
}

static int month_of(struct cur *c)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (c->n - c->i < 3)
        return 0;
    for (int m = 0; m < 12; m++)
        if (memcmp(c->s + c->i, months + 3 * m, 3) == 0) {
            c->i += 3;
            return m + 1;
        }
    return 0;
}

/* See "Year inference" in syslog_parse.h. */
static bool infer_year(int mon, int day, int64_t tod_ms, int64_t ref_ms, int64_t *out)
{
    time_t rt = (time_t)(ref_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&rt, &tm))
        return false;
    int64_t ry = (int64_t)tm.tm_year + 1900;
    /* eight years back so that a Feb 29 always finds a leap year */
    for (int64_t y = ry + 1; y >= ry - 8; y--) {
        if (day > days_in_month(y, mon))
            continue;
        int64_t t = civil_ms(y, mon, day, tod_ms);
        if (t <= ref_ms + SYSLOG_FUTURE_SLACK_MS) {
            *out = t;
            return true;
        }
    }
    return false;
}

/* "Mmm dd [yyyy ]hh:mm:ss[.f]" */
static bool read_bsd_time(struct cur *c, int64_t ref_ms, struct syslog_msg *m)
{
    int mon = month_of(c);
    if (!mon || !is_blank(peek(c, 0)))
        return false;
    skip_blanks(c);
    int day = 0, nd = 0;
    while (is_digit(peek(c, 0)) && nd < 2) {
        day = day * 10 + (peek(c, 0) - '0');
        c->i++;
        nd++;
    }
    if (nd == 0 || day < 1 || day > 31 || !is_blank(peek(c, 0)))
        return false;
    c->i++;
    int year = -1;
    if (is_digit(peek(c, 0)) && is_digit(peek(c, 3)) && is_blank(peek(c, 4))) {
        if (!read_digits(c, 4, &year))
            return false;
        c->i++;
    }
    int64_t tod;
    if (!read_clock(c, &tod))
        return false;
    if (peek(c, 0) == ':' && (at_end(c) || is_blank(peek(c, 1))))
        c->i++; /* Cisco IOS: "Apr 30 15:10:58: %DOT1X-5-FAIL: ..." */
    if (year >= 0) {
        if (day > days_in_month(year, mon))
            return false;
        m->time_ms = civil_ms(year, mon, day, tod);
        return true;
    }
    m->year_inferred = true;
    if (!infer_year(mon, day, tod, ref_ms, &m->time_ms))
        return false;
    return true;
}

/* "<PRI>"; returns false when the line starts with '<' but is no PRI. */
static bool read_pri(struct cur *c, struct syslog_msg *m)
{
    if (peek(c, 0) != '<')
        return true;
    size_t k = 1;
    int v = 0;
    while (k <= 3 && is_digit(peek(c, k))) {
        v = v * 10 + (peek(c, k) - '0');
        k++;
    }
    if (k == 1 || peek(c, k) != '>' || v > 191)
        return false;
    m->facility = v / 8;
    m->severity = v % 8;
    c->i += k + 1;
    return true;
}

static struct kb_str nil_to_null(struct kb_str w)
{
    return w.n == 1 && w.p[0] == '-' ? KB_STR_NULL : w;
}

/* One SD-ELEMENT or more: '[' ... ']' with quoted values whose \" \\ \]
 * escapes must not end the element. */
static bool read_sd(struct cur *c, struct kb_str *sd)
{
    size_t start = c->i;
    if (peek(c, 0) == '-') {
        c->i++;
        *sd = KB_STR_NULL;
        return at_end(c) || is_blank(peek(c, 0));
    }
    if (peek(c, 0) != '[')
        return false;
    while (peek(c, 0) == '[') {
        c->i++;
        bool quoted = false;
        for (;;) {
            int ch = peek(c, 0);
            if (ch < 0)
                return false;
            c->i++;
            if (quoted && ch == '\\') {
                if (at_end(c))
                    return false;
                c->i++;
            } else if (ch == '"') {
                quoted = !quoted;
            } else if (ch == ']' && !quoted) {
                break;
            }
        }
    }
    *sd = (struct kb_str){c->s + start, c->i - start};
    return at_end(c) || is_blank(peek(c, 0));
}

static bool parse_5424(struct cur *c, struct syslog_msg *m)
{
    struct kb_str ts, host, app, pid, msgid;
    if (!read_word(c, 64, &ts) || !expect(c, ' '))
        return false;
    if (!(ts.n == 1 && ts.p[0] == '-')) {
        struct cur t = {ts.p, 0, ts.n};
        if (!read_iso(&t, &m->time_ms) || !at_end(&t))
            return false;
        m->timestamp = ts;
    }
    if (!read_word(c, SYSLOG_MAX_HOST, &host) || !expect(c, ' ') ||
        !read_word(c, SYSLOG_MAX_TAG, &app) || !expect(c, ' ') ||
        !read_word(c, SYSLOG_MAX_PID, &pid) || !expect(c, ' ') ||
        !read_word(c, SYSLOG_MAX_MSGID, &msgid) || !expect(c, ' '))
        return false;
    if (host.n == 0 || app.n == 0 || pid.n == 0 || msgid.n == 0)
        return false;
    if (!read_sd(c, &m->sd))
        return false;
    m->host = nil_to_null(host);
    m->app = nil_to_null(app);
    m->pid = nil_to_null(pid);
    m->msgid = nil_to_null(msgid);
    if (!at_end(c))
        c->i++; /* the SP before MSG */
    if (c->n - c->i >= 3 && memcmp(c->s + c->i, "\xEF\xBB\xBF", 3) == 0)
        c->i += 3;
    m->shape = SYSLOG_RFC5424;
    return true;
}

/* The tag at the cursor ("app:", "app[pid]:", or the two-word forms named
 * in the header). On success the cursor is after the ':' (or after "]"). */
static bool read_tag(struct cur *c, struct syslog_msg *m)
{
    size_t start = c->i, k = 0;
    int ch;
    while ((ch = peek(c, k)) >= 0 && ch != ':' && ch != '[' && !is_blank(ch)) {
        if (++k > SYSLOG_MAX_TAG)
            return false;
    }
    if (k == 0)
        return false;
    if (is_blank(ch)) { /* "syslogd 1.4.1:" or "-- root[2421]:" */
        bool dashes = k == 2 && c->s[start] == '-' && c->s[start + 1] == '-';
        if (!dashes && !is_digit(peek(c, k + 1)))
            return false;
        k++;
        while ((ch = peek(c, k)) >= 0 && ch != ':' && ch != '[' && !is_blank(ch))
            if (++k > SYSLOG_MAX_TAG)
                return false;
        if (ch != ':' && ch != '[')
            return false;
    }
    struct kb_str app = {c->s + start, k};
    struct kb_str pid = KB_STR_NULL;
    if (ch == '[') {
        size_t p0 = k + 1, e = p0;
        while ((ch = peek(c, e)) >= 0 && ch != ']')
            if (++e - p0 > SYSLOG_MAX_PID)
                return false;
        if (ch != ']')
            return false;
        pid = (struct kb_str){c->s + start + p0, e - p0};
        k = e + 1;
        ch = peek(c, k);
        /* "app[pid]: msg" or "app[pid] msg" */
        if (ch != ':' && ch >= 0 && !is_blank(ch))
            return false;
    }
    if (ch == ':') {
        k++;
        /* "fe80::1" is an address, not the tag "fe80" */
        if (peek(c, k) >= 0 && !is_blank(peek(c, k)))
            return false;
    }
    m->app = app;
    m->pid = pid.n ? pid : KB_STR_NULL;
    c->i = start + k;
    return true;
}

/* "last message repeated N times" */
static uint32_t repeated_count(struct kb_str msg)
{
    static const char pre[] = "last message repeated ";
    size_t np = sizeof pre - 1;
    if (msg.n < np || memcmp(msg.p, pre, np) != 0)
        return 0;
    uint32_t v = 0;
    size_t i = np;
    while (i < msg.n && is_digit((unsigned char)msg.p[i]) && v < 100000000)
        v = v * 10 + (uint32_t)(msg.p[i++] - '0');
    return i < msg.n && msg.p[i] == ' ' ? v : 0;
}

static bool starts_with(const struct cur *c, const char *lit)
{
    size_t n = strlen(lit);
    return c->n - c->i >= n && memcmp(c->s + c->i, lit, n) == 0;
}

/* Does the word at the cursor look like a tag rather than a host name? */
static bool looks_like_tag(const struct cur *c)
{
    struct cur t = *c;
    struct syslog_msg scratch;
    memset(&scratch, 0, sizeof scratch);
    if (!read_tag(&t, &scratch))
        return false;
    /* a tag ends with ':' or "]"; a host name is followed by a blank */
    return t.i > c->i && (t.s[t.i - 1] == ':' || t.s[t.i - 1] == ']');
}

static bool parse_3164(struct cur *c, int64_t ref_ms, struct syslog_msg *m)
{
    size_t ts0 = c->i;
    if (is_digit(peek(c, 0))) {
        if (!read_iso(c, &m->time_ms))
            return false;
    } else if (!read_bsd_time(c, ref_ms, m)) {
        return false;
    }
    m->timestamp = (struct kb_str){c->s + ts0, c->i - ts0};
    if (!at_end(c) && !is_blank(peek(c, 0)))
        return false;
    skip_blanks(c);
    m->shape = SYSLOG_RFC3164;
    if (at_end(c))
        return true;
    if (!starts_with(c, "last message repeated ") && !looks_like_tag(c)) {
        struct cur save = *c;
        if (!read_word(c, SYSLOG_MAX_HOST, &m->host))
            *c = save; /* an overlong first word is message, not host */
        else
            skip_blanks(c);
    }
    struct cur save = *c;
    if (!read_tag(c, m)) {
        *c = save;
        m->app = m->pid = KB_STR_NULL;
    }
    return true;
}

kb_err syslog_parse(struct kb_str line, int64_t ref_ms, struct syslog_msg *out)
{
    memset(out, 0, sizeof *out);
    out->facility = out->severity = -1;
    if (line.n > SYSLOG_MAX_LINE)
        return KB_ETOOBIG;
    if (!line.p)
        return KB_EINVAL;
    size_t n = line.n;
    while (n > 0 && (line.p[n - 1] == '\n' || line.p[n - 1] == '\r'))
        n--;
    struct cur c = {line.p, 0, n};
    skip_blanks(&c);
    if (at_end(&c))
        return KB_EINVAL;
    out->utf8_ok = utf8_valid((const unsigned char *)line.p, n);

    struct syslog_msg pri = *out;
    if (!read_pri(&c, &pri)) { /* a bad PRI: the whole line is the message */
        pri = *out;
        c.i = 0;
    }
    size_t body = c.i;
    *out = pri;
    /* "1 " after a PRI, or "1 2019-..." from a relay that stripped it */
    if (peek(&c, 0) == '1' && peek(&c, 1) == ' ' &&
        (pri.facility >= 0 || is_digit(peek(&c, 2)))) {
        c.i += 2;
        if (parse_5424(&c, out))
            goto message;
    }
    /* each attempt starts again from the PRI alone */
    *out = pri;
    c.i = body;
    if (parse_3164(&c, ref_ms, out))
        goto message;
    *out = pri;
    c.i = body;

message:;
    size_t b = c.i, e = n;
    while (b < e && (is_blank((unsigned char)line.p[b]) || line.p[b] == '\r' ||
                     line.p[b] == '\n'))
        b++;
    while (e > b && (is_blank((unsigned char)line.p[e - 1]) || line.p[e - 1] == '\r' ||
                     line.p[e - 1] == '\n'))
        e--;
    out->msg = (struct kb_str){line.p + b, e - b};
    if (out->shape == SYSLOG_RFC3164 && !out->app.p)
        out->repeated = repeated_count(out->msg);
    return KB_OK;
}
