/*
 * geoip.h — the GeoIP enricher: actor.ip → actor.country (ISO 3166-1
 * alpha-2), from a MaxMind DB file (GeoLite2/GeoIP2 Country or City, or any
 * .mmdb whose records hold country.iso_code). docs/POLICIES.md ("Enrichment
 * fields") says what policies see.
 *
 * The country is the record's `country.iso_code`, else its
 * `registered_country.iso_code` (anycast and satellite ranges have only the
 * latter). Only two ASCII letters are accepted, stored upper-case.
 *
 * Ownership: geoip_open returns an object freed by geoip_close; it owns the
 * mapped file. Country codes are copied into caller buffers, so an enriched
 * alert does not point into the file (which a reload may unmap).
 * Thread safety: lookups only read; one object may serve several threads.
 */
#ifndef KOBAN_GEOIP_H
#define KOBAN_GEOIP_H

#include "formats/alert.h"
#include "lib/kb.h"

#define GEOIP_CC_SIZE 3       /* two letters and a NUL */
#define GEOIP_MAX_IP_TEXT 63  /* longest address text looked up */
#define GEOIP_FIELD "actor.country"

struct geoip;

/* Opens a .mmdb file. KB_EIO / KB_ECORRUPT with why = "PATH: libmaxminddb's
 * reason"; KB_EINVAL for an empty path. */
kb_err geoip_open(const char *path, struct geoip **out, struct kb_why *why);
void geoip_close(struct geoip *g);

/* The database's type as its metadata says ("GeoLite2-Country"). */
const char *geoip_database_type(const struct geoip *g);

/* Looks up an address given as text (IPv4, IPv6, IPv4-mapped IPv6; not
 * NUL-terminated). On KB_OK cc holds two upper-case letters and a NUL.
 * KB_ENOTFOUND: the address is valid but no record (or no country) for it,
 * or an IPv6 address in an IPv4-only database. KB_EINVAL: not an address.
 * KB_ECORRUPT: the database failed a check during the lookup. */
kb_err geoip_country(const struct geoip *g, struct kb_str ip, char cc[GEOIP_CC_SIZE],
                     struct kb_why *why);

/* Adds actor.country to a when it has actor.ip, has no actor.country yet
 * and the address has a country. The value points into cc, which must
 * outlive every use of a. KB_OK also when nothing was added (*added, may
 * be NULL, tells); KB_ETOOBIG when a has no room for one more field. */
kb_err geoip_enrich(const struct geoip *g, struct alert *a, char cc[GEOIP_CC_SIZE],
                    bool *added);

#endif
