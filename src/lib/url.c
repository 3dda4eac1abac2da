/* url.c — base URLs (url.h). */
#include "lib/url.h"

#include <ctype.h>
#include <string.h>

bool kb_base_url_ok(const char *u)
{
    if (strlen(u) > KB_BASE_URL_MAX)
        return false;
    const char *h = strncmp(u, "https://", 8) == 0 ? u + 8
                    : strncmp(u, "http://", 7) == 0 ? u + 7
                                                     : NULL;
    if (!h)
        return false;
    const char *p = h;
    if (*p == '[') { /* an IPv6 literal */
        for (p++; isxdigit((unsigned char)*p) || *p == ':' || *p == '.'; p++)
            ;
        if (*p++ != ']' || p == h + 2)
            return false;
    } else {
        for (; isalnum((unsigned char)*p) || *p == '.' || *p == '-'; p++)
            ;
        if (p == h)
            return false;
    }
    if (*p == ':') {
        const char *d = ++p;
        long port = 0;
        for (; isdigit((unsigned char)*p) && port <= 65535; p++)
            port = port * 10 + (*p - '0');
        if (p == d || port > 65535)
            return false;
    }
    if (*p && *p != '/')
        return false;
    for (const unsigned char *c = (const unsigned char *)p; *c; c++)
        if (*c <= ' ' || *c >= 0x7f || strchr("?#@\\", *c))
            return false;
    return true;
}
