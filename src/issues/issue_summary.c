/* issue_summary.c — encode and decode the intake's summary of an event. */
#include "issues/issue_summary.h"

#include "issues/issue.h"

#define SUM_HDR 4u
#define SUM_ALERT_FIXED (16u + 8u + 1u + 2u)

kb_err issue_summary_begin(struct buf *out, uint8_t format_id, size_t *start)
{
    *start = out->len;
    char h[SUM_HDR] = {ISSUE_SUMMARY_VERSION, (char)format_id, 0, 0};
    return buf_append(out, h, sizeof h);
}

kb_err issue_summary_add(struct buf *out, size_t start, const struct alert *a)
{
    if (start + SUM_HDR > out->len)
        return KB_EINVAL;
    unsigned char *h = (unsigned char *)out->p + start;
    unsigned count = h[2] | (unsigned)h[3] << 8;
    if (count >= ISSUE_SUMMARY_MAX_ALERTS)
        return KB_ETOOBIG;
    size_t tl = a->title.p ? KB_MIN(a->title.n, (size_t)ISSUE_SUMMARY_TITLE_MAX) : 0;
    unsigned char fixed[SUM_ALERT_FIXED];
    issue_identity(a, fixed, NULL);
    uint64_t t = (uint64_t)a->time_ms;
    for (int i = 0; i < 8; i++)
        fixed[16 + i] = (unsigned char)(t >> (8 * i));
    fixed[24] = (unsigned char)a->severity;
    fixed[25] = (unsigned char)(tl & 0xff);
    fixed[26] = (unsigned char)(tl >> 8);
    kb_err e = buf_append(out, fixed, sizeof fixed);
    if (!e && tl)
        e = buf_append(out, a->title.p, tl);
    if (e)
        return e;
    h = (unsigned char *)out->p + start; /* the buffer may have moved */
    count++;
    h[2] = (unsigned char)(count & 0xff);
    h[3] = (unsigned char)(count >> 8);
    return KB_OK;
}

kb_err issue_summary_decode(struct kb_str p, struct issue_summary *out)
{
    const unsigned char *s = (const unsigned char *)p.p;
    if (!s || p.n < SUM_HDR || s[0] != ISSUE_SUMMARY_VERSION)
        return KB_EINVAL;
    out->format_id = s[1];
    out->n = s[2] | (size_t)s[3] << 8;
    if (out->n > ISSUE_SUMMARY_MAX_ALERTS)
        return KB_EINVAL;
    size_t pos = SUM_HDR;
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
    }
    return pos == p.n ? KB_OK : KB_EINVAL;
}
