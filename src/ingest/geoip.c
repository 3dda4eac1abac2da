/* geoip.c — actor.country from a MaxMind DB file, with libmaxminddb. */
#include "ingest/geoip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

struct geoip {
    MMDB_s db;
};

kb_err geoip_open(const char *path, struct geoip **out, struct kb_why *why)
{
    if (!path || !*path)
        return kb_fail(why, KB_EINVAL, "geoip: no database path");
    struct geoip *g = kb_calloc(1, sizeof *g);
    errno = 0;
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &g->db);
    if (rc != MMDB_SUCCESS) {
        int en = errno;
        kb_err e = rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR ? KB_EIO : KB_ECORRUPT;
        if ((rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR) && en)
            kb_fail(why, e, "%s: %s (%s)", path, MMDB_strerror(rc), strerror(en));
        else
            kb_fail(why, e, "%s: %s", path, MMDB_strerror(rc));
        free(g); /* MMDB_open releases what it took when it fails */
        return e;
    }
    *out = g;
    return KB_OK;
}

void geoip_close(struct geoip *g)
{
    if (!g)
        return;
    MMDB_close(&g->db);
    free(g);
}

const char *geoip_database_type(const struct geoip *g)
{
    return g->db.metadata.database_type ? g->db.metadata.database_type : "";
}

/* The text as a socket address; false when it is not an address. */
static bool parse_ip(struct kb_str ip, struct sockaddr_storage *ss)
{
    char text[GEOIP_MAX_IP_TEXT + 1];
    if (kb_str_empty(ip) || ip.n > GEOIP_MAX_IP_TEXT || memchr(ip.p, '\0', ip.n))
        return false;
    memcpy(text, ip.p, ip.n);
    text[ip.n] = '\0';
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, text, &v6->sin6_addr) != 1)
        return false;
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
        /* ::ffff:a.b.c.d is an IPv4 peer: look it up as one, so it is
         * found in IPv4-only databases too. */
        struct in_addr a4;
        memcpy(&a4, &v6->sin6_addr.s6_addr[12], sizeof a4);
        memset(ss, 0, sizeof *ss);
        v4->sin_family = AF_INET;
        v4->sin_addr = a4;
        return true;
    }
    v6->sin6_family = AF_INET6;
    return true;
}

/* The iso_code under key, when it is two ASCII letters. */
static bool iso_code(MMDB_entry_s *entry, const char *key, char cc[GEOIP_CC_SIZE])
{
    MMDB_entry_data_s d;
    if (MMDB_get_value(entry, &d, key, "iso_code", NULL) != MMDB_SUCCESS || !d.has_data ||
        d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2)
        return false;
    for (int i = 0; i < 2; i++) {
        char c = d.utf8_string[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c < 'A' || c > 'Z')
            return false;
        cc[i] = c;
    }
    cc[2] = '\0';
    return true;
}

kb_err geoip_country(const struct geoip *g, struct kb_str ip, char cc[GEOIP_CC_SIZE],
                     struct kb_why *why)
{
    struct sockaddr_storage ss;
    if (!parse_ip(ip, &ss))
        return kb_fail(why, KB_EINVAL, "geoip: '%.*s' is not an IP address",
                       (int)KB_MIN(ip.n, (size_t)GEOIP_MAX_IP_TEXT), ip.p ? ip.p : "");
    int merr = MMDB_SUCCESS;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&g->db, (const struct sockaddr *)&ss, &merr);
    if (merr == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR)
        return kb_fail(why, KB_ENOTFOUND, "geoip: IPv6 address in an IPv4 database");
    if (merr != MMDB_SUCCESS)
        return kb_fail(why, KB_ECORRUPT, "geoip: %s", MMDB_strerror(merr));
    if (!r.found_entry)
        return kb_fail(why, KB_ENOTFOUND, "geoip: no record for the address");
    if (iso_code(&r.entry, "country", cc) || iso_code(&r.entry, "registered_country", cc))
        return KB_OK;
    return kb_fail(why, KB_ENOTFOUND, "geoip: the record has no country");
}

kb_err geoip_enrich(const struct geoip *g, struct alert *a, char cc[GEOIP_CC_SIZE], bool *added)
{
    if (added)
        *added = false;
    if (!g || kb_str_empty(a->actor_ip) || !kb_str_empty(alert_get(a, GEOIP_FIELD)))
        return KB_OK;
    if (geoip_country(g, a->actor_ip, cc, NULL) != KB_OK)
        return KB_OK; /* no country is the normal case for many addresses */
    kb_err e = alert_add_field(a, GEOIP_FIELD, (struct kb_str){cc, 2});
    if (!e && added)
        *added = true;
    return e;
}
