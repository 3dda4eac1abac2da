/* web_body.c — bounded request body with on-the-fly gunzip. */
#include "web/web_body.h"

void web_body_init(struct web_body *b, size_t max, bool gzip)
{
    memset(b, 0, sizeof *b);
    buf_init(&b->out, max);
    b->gzip = gzip;
}

void web_body_release(struct web_body *b)
{
    inflate_end(b->z);
    b->z = NULL;
    buf_release(&b->out);
}

kb_err web_body_feed(struct web_body *b, const char *data, size_t n, struct kb_why *why)
{
    if (n > b->out.max - b->received)
        return kb_fail(why, KB_ETOOBIG, "body is larger than %zu bytes", b->out.max);
    b->received += n;
    if (!b->gzip) {
        if (buf_append(&b->out, data, n) != KB_OK)
            return kb_fail(why, KB_ETOOBIG, "body is larger than %zu bytes", b->out.max);
        return KB_OK;
    }
    if (!b->z) {
        kb_err e = inflate_init(&b->z, b->out.max, why);
        if (e)
            return e;
    }
    return inflate_feed(b->z, data, n, &b->out, why);
}

kb_err web_body_finish(struct web_body *b, struct kb_why *why)
{
    /* An empty gzip body (no byte received) is an empty body, as before. */
    if (b->gzip && b->z)
        return inflate_finish(b->z, why);
    return KB_OK;
}
