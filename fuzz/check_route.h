/*
 * check_route.h — one fuzz input as the notification routing file
 * (route_load_buffer, notify/route.h), shared by fuzz/fuzz_route.c and the
 * unit-test smoke run. The whole input is the file; the load must return
 * KB_OK with a route set, or an error with a message and no set.
 */
#ifndef KOBAN_FUZZ_CHECK_ROUTE_H
#define KOBAN_FUZZ_CHECK_ROUTE_H

#include "check.h"
#include "notify/route.h"

/* NULL when route_load_buffer behaved on this input. */
static inline const char *fz_route_one(const char *in, size_t size, void *stats)
{
    struct route_set *rs = NULL;
    struct kb_why why = {{0}};
    kb_err e = route_load_buffer(in, size, "routes.yaml", &rs, &why);
    fz_count(stats, e);
    if (e != KB_OK) {
        const char *bad = !fz_err_ok(e, why.msg) ? "error without a message"
                          : rs                   ? "a route set given back with an error"
                                                 : NULL;
        route_set_free(rs);
        return bad;
    }
    if (!rs)
        return "KB_OK without a route set";
    unsigned sum = 0;
    size_t n = route_nreceivers(rs);
    const char *bad = n > ROUTE_MAX_RECEIVERS ? "too many receivers" : NULL;
    for (size_t i = 0; i < n && i < ROUTE_MAX_RECEIVERS; i++)
        fz_touch(&sum, route_receiver(rs, i)->name);
    route_set_free(rs);
    return bad;
}

#endif
