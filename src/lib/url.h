/*
 * url.h — checking the base URLs koban sends requests under.
 */
#ifndef KOBAN_URL_H
#define KOBAN_URL_H

#include <stdbool.h>

#define KB_BASE_URL_MAX 512 /* bytes of a base URL */

/* True when u is "http(s)://HOST[:PORT]" and an optional path, with no
 * user, query, fragment, backslash, space or control byte, at most
 * KB_BASE_URL_MAX bytes. HOST is a name or a bracketed IPv6 literal. So a
 * URL that starts with u (less any trailing '/') followed by '/' has u's
 * scheme, host and port. */
bool kb_base_url_ok(const char *u);

#endif
