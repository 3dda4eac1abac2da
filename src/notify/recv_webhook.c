/*
 * recv_webhook.c — the generic webhook receiver: one signed JSON POST per
 * job, for anything koban has no receiver type for (chat tools, SOAR).
 *
 *   step 0: POST url   body = the job payload + "receiver" + "job_id"
 *           X-Koban-Signature: sha256=HEX(HMAC-SHA256(token, body))
 *           X-Koban-Event: EVENT
 *           X-Koban-Delivery: JOB ID (the same on every retry: the
 *                             receiving end deduplicates on it)
 *   2xx → done; 0, 408, 429, 5xx → retry; any other status → fail.
 *
 * It keeps no per-issue state. This file is the one that talks to
 * libcrypto.
 */
#include "notify/recv_internal.h"

#include <limits.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

kb_err recv_webhook_sign(const void *key, size_t keylen, const void *msg, size_t n, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    hex[0] = '\0';
    if (keylen > INT_MAX || !key)
        return KB_EINVAL;
    if (!HMAC(EVP_sha256(), key, (int)keylen, msg, n, md, &mdlen) || mdlen != 32)
        return KB_EINVAL;
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
    return KB_OK;
}

static kb_err wh_init(const struct recv_config *c, void **data, struct kb_why *why)
{
    *data = NULL;
    if (!c->url || !*c->url)
        return kb_fail(why, KB_EINVAL, "receiver %s: url is required", c->name);
    if (strncasecmp(c->url, "http://", 7) != 0 && strncasecmp(c->url, "https://", 8) != 0)
        return kb_fail(why, KB_EINVAL, "receiver %s: url: not an http(s) URL", c->name);
    if (strlen(c->url) >= RECV_URL_MAX)
        return kb_fail(why, KB_EINVAL, "receiver %s: url: longer than %d bytes", c->name,
                       RECV_URL_MAX - 1);
    if (!c->token || !*c->token)
        return kb_fail(why, KB_EINVAL, "receiver %s: token is required (the HMAC secret)", c->name);
    return KB_OK;
}

/* The event name as a header value: only [A-Za-z0-9_.-], so a payload can
 * never add a header line. */
static void event_token(const struct recv_job *job, char *out, size_t n)
{
    struct kb_str ev = recv_event(job);
    size_t k = 0;
    for (size_t i = 0; ev.p && i < ev.n && k + 1 < n; i++) {
        char c = ev.p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok) {
            k = 0;
            break;
        }
        out[k++] = c;
    }
    if (k == 0)
        snprintf(out, n, "unknown");
    else
        out[k] = '\0';
}

static kb_err wh_build(const struct receiver *r, const struct recv_job *job, int step,
                       struct recv_request *req, struct kb_why *why)
{
    if (step > 0)
        return KB_ENOTFOUND;
    const struct recv_config *c = receiver_config(r);
    if (!job->payload || job->payload->type != JSON_OBJECT || !job->payload_text)
        return kb_fail(why, KB_EINVAL, "webhook: payload is not a JSON object");
    if (recv_req_start(req, "POST", c->url, c->url, "%s", ""))
        return kb_fail(why, KB_ETOOBIG, "webhook: url too long");
    struct jw w;
    jw_init(&w, &req->body);
    jw_obj_begin(&w);
    jw_kv_str(&w, "receiver", receiver_name(r));
    jw_kv_int(&w, "job_id", job->id);
    /* The payload's members, copied as they were stored. */
    for (const struct json_value *m = job->payload->u.child; m; m = m->next) {
        struct kb_str k = {m->key, m->key_len};
        if (kb_str_eq(k, "receiver") || kb_str_eq(k, "job_id"))
            continue;
        char key[256];
        if (k.n >= sizeof key)
            continue;
        memcpy(key, k.p, k.n);
        key[k.n] = '\0';
        jw_key(&w, key);
        jw_raw_compact(&w, job->payload_text + m->src_off, m->src_len);
    }
    jw_obj_end(&w);
    if (jw_finish(&w))
        return kb_fail(why, KB_ETOOBIG, "webhook: body larger than %zu bytes", req->body.max);
    char sig[65], ev[72];
    if (recv_webhook_sign(c->token, strlen(c->token), req->body.p, req->body.len, sig))
        return kb_fail(why, KB_EINVAL, "webhook: cannot sign the body");
    event_token(job, ev, sizeof ev);
    kb_err e = recv_request_header(req, "Content-Type: application/json");
    if (!e)
        e = recv_request_header(req, "X-Koban-Signature: sha256=%s", sig);
    if (!e)
        e = recv_request_header(req, "X-Koban-Event: %s", ev);
    if (!e)
        e = recv_request_header(req, "X-Koban-Delivery: %lld", (long long)job->id);
    if (e)
        return kb_fail(why, e, "webhook: too many headers");
    return KB_OK;
}

static void wh_result(const struct receiver *r, const struct recv_job *job, int step,
                      const struct recv_response *resp, struct recv_result *out)
{
    recv_result_start(out);
    if (recv_http_common(resp, out, "webhook"))
        recv_set(out, RECV_DONE, -1, "webhook: HTTP %ld", resp->status);
}

const struct recv_ops recv_webhook_ops = {
    .type = "webhook",
    .init = wh_init,
    .fini = NULL,
    .build = wh_build,
    .result = wh_result,
};
