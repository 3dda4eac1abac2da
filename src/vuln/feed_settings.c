/* feed_settings.c — vuln.* keys as the feeds' configuration
 * (feed_settings.h). */
#include "vuln/feed_settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *set(const char *s)
{
    return s && *s ? s : NULL;
}

kb_err feed_settings(const struct kb_config *cfg, struct feed_config *out, char **mem,
                     struct kb_why *why)
{
    *mem = NULL;
    feed_config_defaults(out);
    for (int i = 0; i < FEED_COUNT; i++)
        out->feed[i].enabled = false;
    const char *list = cfg->vuln.feeds ? cfg->vuln.feeds : "";
    char name[16];
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ", ");
        if (n) {
            enum feed_id id;
            snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), p);
            if (n >= sizeof name || feed_parse_name(name, &id) != KB_OK)
                return kb_fail(why, KB_EINVAL,
                               "vuln.feeds: unknown feed '%.*s' (osv, ghsa, nvd, jvn, kev, epss)",
                               (int)n, p);
            out->feed[id].enabled = true;
        }
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    const char *urls[FEED_COUNT] = {[FEED_OSV] = cfg->vuln.osv_url, [FEED_NVD] = cfg->vuln.nvd_url,
                                    [FEED_GHSA] = cfg->vuln.ghsa_url,
                                    [FEED_JVN] = cfg->vuln.jvn_url, [FEED_KEV] = cfg->vuln.kev_url,
                                    [FEED_EPSS] = cfg->vuln.epss_url};
    for (int i = 0; i < FEED_COUNT; i++)
        if (set(urls[i]))
            out->feed[i].base_url = urls[i];
    out->feed[FEED_NVD].api_key = set(cfg->vuln.nvd_api_key);
    out->feed[FEED_GHSA].api_key = set(cfg->vuln.github_token);
    if (set(cfg->vuln.osv_ecosystems)) {
        char *m = kb_strdup(cfg->vuln.osv_ecosystems);
        struct feed_opts *o = &out->feed[FEED_OSV];
        for (char *save = NULL, *t = strtok_r(m, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            while (*t == ' ')
                t++;
            size_t n = strlen(t);
            while (n && t[n - 1] == ' ')
                t[--n] = 0;
            if (!n)
                continue;
            if (o->n_ecosystems == FEED_MAX_ECOSYSTEMS) {
                free(m);
                return kb_fail(why, KB_EINVAL, "vuln.osv_ecosystems: more than %d",
                               FEED_MAX_ECOSYSTEMS);
            }
            o->ecosystems[o->n_ecosystems++] = t;
        }
        *mem = m;
    }
    return KB_OK;
}
