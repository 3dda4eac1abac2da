/* issue_summary.c — encode and decode the intake's summary of an event. */
#include "issues/issue_summary.h"

#include "issues/issue.h"

#define SUM_HDR 4u
#define SUM_HDR2 12u
#define SUM_ALERT_FIXED (16u + 8u + 1u + 2u)

kb_err issue_summary_begin(struct buf *out, uint8_t format_id, size_t *start)
{
    *start = out->len;
    char h[SUM_HDR] = {ISSUE_SUMMARY_VERSION, (char)format_id, 0, 0};
    return buf_append(out, h, sizeof h);
}

kb_err issue_summary_begin_triaged(struct buf *out, uint8_t format_id, uint64_t gen,
                                   size_t *start)
{
    *start = out->len;
    unsigned char h[SUM_HDR2] = {ISSUE_SUMMARY_VERSION_TRIAGED, format_id, 0, 0};
    for (int i = 0; i < 8; i++)
        h[4 + i] = (unsigned char)(gen >> (8 * i));
    return buf_append(out, h, sizeof h);
}

/* The fixed fields and title of one alert; bumps the header's count. */
static kb_err add_alert(struct buf *out, size_t start, const uint8_t fp[16], int64_t time_ms,
                        int severity, struct kb_str title)
{
    if (start + SUM_HDR > out->len)
        return KB_EINVAL;
    unsigned char *h = (unsigned char *)out->p + start;
    unsigned count = h[2] | (unsigned)h[3] << 8;
    if (count >= ISSUE_SUMMARY_MAX_ALERTS)
        return KB_ETOOBIG;
    size_t tl = title.p ? KB_MIN(title.n, (size_t)ISSUE_SUMMARY_TITLE_MAX) : 0;
    unsigned char fixed[SUM_ALERT_FIXED];
    memcpy(fixed, fp, 16);
    uint64_t t = (uint64_t)time_ms;
    for (int i = 0; i < 8; i++)
        fixed[16 + i] = (unsigned char)(t >> (8 * i));
    fixed[24] = (unsigned char)severity;
    fixed[25] = (unsigned char)(tl & 0xff);
    fixed[26] = (unsigned char)(tl >> 8);
    kb_err e = buf_append(out, fixed, sizeof fixed);
    if (!e && tl)
        e = buf_append(out, title.p, tl);
    if (e)
        return e;
    h = (unsigned char *)out->p + start; /* the buffer may have moved */
    count++;
    h[2] = (unsigned char)(count & 0xff);
    h[3] = (unsigned char)(count >> 8);
    return KB_OK;
}

kb_err issue_summary_add(struct buf *out, size_t start, const struct alert *a)
{
    uint8_t fp[16];
    issue_identity(a, fp, NULL);
    return add_alert(out, start, fp, a->time_ms, a->severity, a->title);
}

static kb_err put_text(struct buf *out, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > ISSUE_SUMMARY_TRIAGE_MAX)
        return KB_ETOOBIG;
    size_t v = s ? n + 1 : 0;
    unsigned char l[2] = {(unsigned char)(v & 0xff), (unsigned char)(v >> 8)};
    kb_err e = buf_append(out, l, 2);
    return e || !n ? e : buf_append(out, s, n);
}

kb_err issue_summary_add_triaged(struct buf *out, size_t start, const uint8_t fp[16],
                                 int64_t time_ms, int severity, struct kb_str title,
                                 const struct issue_triage *t)
{
    if (start + SUM_HDR2 > out->len || (uint8_t)out->p[start] != ISSUE_SUMMARY_VERSION_TRIAGED)
        return KB_EINVAL;
    kb_err e = add_alert(out, start, fp, time_ms, severity, title);
    unsigned char flags = t ? 1 : 0;
    if (!e)
        e = buf_append(out, &flags, 1);
    if (!e && t && !(e = put_text(out, t->rules)) && !(e = put_text(out, t->policies)) &&
        !(e = put_text(out, t->labels)))
        e = put_text(out, t->annotations);
    return e;
}

static bool get_text(struct kb_str p, size_t *pos, struct kb_str *out)
{
    if (p.n - *pos < 2)
        return false;
    const unsigned char *s = (const unsigned char *)p.p + *pos;
    size_t v = s[0] | (size_t)s[1] << 8;
    *pos += 2;
    if (!v) {
        *out = KB_STR_NULL;
        return true;
    }
    if (v - 1 > ISSUE_SUMMARY_TRIAGE_MAX || p.n - *pos < v - 1)
        return false;
    *out = (struct kb_str){p.p + *pos, v - 1};
    *pos += v - 1;
    return true;
}

kb_err issue_summary_decode(struct kb_str p, struct issue_summary *out)
{
    const unsigned char *s = (const unsigned char *)p.p;
    if (!s || p.n < SUM_HDR ||
        (s[0] != ISSUE_SUMMARY_VERSION && s[0] != ISSUE_SUMMARY_VERSION_TRIAGED))
        return KB_EINVAL;
    out->version = s[0];
    out->format_id = s[1];
    out->n = s[2] | (size_t)s[3] << 8;
    out->triage_gen = 0;
    if (out->n > ISSUE_SUMMARY_MAX_ALERTS)
        return KB_EINVAL;
    size_t pos = SUM_HDR;
    bool v2 = s[0] == ISSUE_SUMMARY_VERSION_TRIAGED;
    if (v2) {
        if (p.n < SUM_HDR2)
            return KB_EINVAL;
        for (int k = 0; k < 8; k++)
            out->triage_gen |= (uint64_t)s[4 + k] << (8 * k);
        pos = SUM_HDR2;
    }
    for (size_t i = 0; i < out->n; i++) {
        if (p.n - pos < SUM_ALERT_FIXED)
            return KB_EINVAL;
        struct issue_summary_alert *a = &out->alerts[i];
        memcpy(a->fp, s + pos, 16);
        uint64_t t = 0;
        for (int k = 0; k < 8; k++)
            t |= (uint64_t)s[pos + 16 + k] << (8 * k);
        a->time_ms = (int64_t)t;
        a->severity = s[pos + 24];
        size_t tl = s[pos + 25] | (size_t)s[pos + 26] << 8;
        pos += SUM_ALERT_FIXED;
        if (a->severity > KB_SEV_CRITICAL || tl > ISSUE_SUMMARY_TITLE_MAX || p.n - pos < tl)
            return KB_EINVAL;
        a->title = (struct kb_str){tl ? p.p + pos : NULL, tl};
        pos += tl;
        a->has_triage = false;
        a->rules = a->policies = a->labels = a->annotations = KB_STR_NULL;
        if (!v2)
            continue;
        if (pos >= p.n || s[pos] > 1)
            return KB_EINVAL;
        a->has_triage = s[pos++] == 1;
        if (a->has_triage && !(get_text(p, &pos, &a->rules) && get_text(p, &pos, &a->policies) &&
                               get_text(p, &pos, &a->labels) &&
                               get_text(p, &pos, &a->annotations)))
            return KB_EINVAL;
    }
    return pos == p.n ? KB_OK : KB_EINVAL;
}
