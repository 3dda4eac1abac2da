/* feed_fetch_nvd.c — the NVD CVE API 2.0 feed.
 *
 *   from the cursor (or since_ms) to now, in windows of at most window_ms
 *   (the API allows 120 days):
 *     GET {base}/rest/json/cves/2.0?lastModStartDate=S&lastModEndDate=E
 *         &startIndex=I&resultsPerPage=P        (header apiKey when set)
 *     I = 0, then + the page's count, until totalResults
 *     cursor := E once the whole window is delivered
 * NVD's range includes both ends, so a CVE changed exactly at E comes again
 * in the next window: delivered twice, never missed. The rate limit (5
 * requests per 30 s, 50 with a key) is feed.c's. */
#include "vuln/feed_internal.h"

#include "lib/buf.h"
#include "lib/timeutil.h"

#include <stdio.h>
#include <string.h>

#define NVD_MAX_WINDOWS 1000 /* 1999 to 2300 in 120-day windows */

/* ms as the API's extended ISO 8601 with an explicit offset, escaped for a
 * query ("2024-01-02T03:04:05.000%2B00:00"). */
static void nvd_time(int64_t ms, char out[48])
{
    char t[32];
    kb_time_format(ms, t);
    size_t n = strlen(t);
    if (n && t[n - 1] == 'Z')
        t[n - 1] = '\0';
    snprintf(out, 48, "%s%%2B00:00", t);
}

/* One window [start, end]: every page, delivered. */
static kb_err nvd_window(struct feed_run *r, int64_t start, int64_t end, const char *const *hdr,
                         size_t nh, struct kb_why *why)
{
    char s[48], en[48];
    nvd_time(start, s);
    nvd_time(end, en);
    struct buf u = BUF_INIT(RECV_URL_MAX);
    kb_err e = KB_OK;
    int64_t index = 0;
    for (;;) {
        buf_reset(&u);
        e = buf_printf(&u,
                       "%s/rest/json/cves/2.0?lastModStartDate=%s&lastModEndDate=%s"
                       "&startIndex=%lld&resultsPerPage=%d",
                       r->o.base_url, s, en, (long long)index, r->o.page_size);
        struct recv_response resp;
        if (e == KB_OK)
            e = feed_get(r, u.p, hdr, nh, NULL, &resp, why);
        if (e != KB_OK)
            break;
        struct feed_page_info info = {0};
        r->cb_why.msg[0] = '\0';
        e = feed_nvd_page(resp.body.p, resp.body.n, feed_deliver_cb, feed_skip_cb, r, &info, why);
        if (e != KB_OK) {
            if (r->cb_why.msg[0])
                *why = r->cb_why;
            else {
                char inner[sizeof why->msg];
                snprintf(inner, sizeof inner, "%s", why->msg);
                kb_fail(why, e, "%s: page at startIndex %lld: %s", r->name, (long long)index,
                        inner);
            }
            break;
        }
        feed_progress(r, index + info.count, info.total);
        if (info.count <= 0)
            break;
        index += info.count;
        if (index >= info.total)
            break;
        if (feed_over_budget(r, why)) {
            e = KB_ETIMEOUT;
            break;
        }
    }
    buf_release(&u);
    return e;
}

kb_err feed_nvd_sync(struct feed_run *r, struct kb_why *why)
{
    char cur[FEED_STATE_MAX], hbuf[FEED_STATE_MAX + 16];
    int64_t from = r->o.since_ms;
    if (feed_state_get(r, "last_modified", cur, sizeof cur) &&
        kb_time_parse_rfc3339(kb_str_c(cur), &from) != KB_OK) {
        feed_warn(r, "state last_modified is not a time (%s): starting from since", cur);
        from = r->o.since_ms;
    }
    const char *hdr[1];
    size_t nh = 0;
    if (r->o.api_key && r->o.api_key[0]) {
        snprintf(hbuf, sizeof hbuf, "apiKey: %s", r->o.api_key);
        hdr[nh++] = hbuf;
    }
    int64_t now = kb_now_ms();
    for (int w = 0; from < now; w++) {
        if (w >= NVD_MAX_WINDOWS)
            return kb_fail(why, KB_ETOOBIG, "%s: more than %d windows", r->name, NVD_MAX_WINDOWS);
        int64_t end = KB_MIN(from + r->o.window_ms, now);
        kb_err e = nvd_window(r, from, end, hdr, nh, why);
        if (e != KB_OK)
            return e;
        char t[32];
        kb_time_format(end, t);
        if ((e = feed_state_set(r, "last_modified", t, why)) != KB_OK)
            return e;
        from = end;
    }
    return KB_OK;
}
