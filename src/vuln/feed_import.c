/* feed_import.c — `koban vuln sync --offline DIR`: the feeds' formats read
 * from files, for sites without a way out. Each file is recognised by its
 * content, never its name (people rename downloads):
 *   "PK\3\4"                         a zip of OSV records      -> osv
 *   '<' ... "VULDEF-Document"         MyJVN getVulnDetailInfo   -> jvn
 *   '['                               GitHub advisories page    -> ghsa
 *   '{' with "catalogVersion"/"cveID" the KEV catalog           -> kev
 *   '{' with "NVD_CVE"/"resultsPerPage" an NVD API page         -> nvd
 *   '{' otherwise                     one OSV record            -> osv
 *   "cve,epss,percentile" (after an optional '#' comment line), plain or
 *   gzip-compressed                   FIRST's EPSS scores       -> epss
 * (the keys are looked for in the first 4 KiB, where every one of these
 * formats puts them; of a gzip file, in its first 4 KiB decompressed). */
#include "vuln/feed_internal.h"

#include "lib/buf.h"
#include "lib/inflate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IMPORT_MAX_DEPTH 4
#define IMPORT_MAX_FILES 1000000
#define IMPORT_SNIFF 4096

struct import {
    struct feed_run run[FEED_COUNT];
    size_t files;
    kb_err first;
    struct kb_why first_why;
};

static bool has(const char *p, size_t n, const char *lit)
{
    return memmem(p, KB_MIN(n, (size_t)IMPORT_SNIFF), lit, strlen(lit)) != NULL;
}

/* Whether text starts as an EPSS file: the header, or a comment line and
 * then the header. */
static bool epss_text(const char *p, size_t n)
{
    static const char hdr[] = "cve,epss,percentile";
    size_t h = sizeof hdr - 1;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    if (n && p[0] == '#') {
        const char *nl = memchr(p, '\n', KB_MIN(n, (size_t)IMPORT_SNIFF));
        if (!nl)
            return false;
        n -= (size_t)(nl + 1 - p);
        p = nl + 1;
    }
    return n >= h && memcmp(p, hdr, h) == 0;
}

/* Whether a gzip file decompresses to an EPSS file (its first bytes only). */
static bool epss_gzip(const char *p, size_t n)
{
    struct buf head = BUF_INIT(IMPORT_SNIFF);
    (void)inflate_all(p, n, IMPORT_SNIFF, &head, NULL); /* cut short on purpose */
    bool yes = head.p && epss_text(head.p, head.len);
    buf_release(&head);
    return yes;
}

/* The feed a file's content belongs to; FEED_COUNT when none. */
static enum feed_id sniff(const char *p, size_t n)
{
    if (n >= 4 && memcmp(p, "PK\3\4", 4) == 0)
        return FEED_OSV;
    if (inflate_is_gzip(p, n))
        return epss_gzip(p, n) ? FEED_EPSS : FEED_COUNT;
    if (epss_text(p, n))
        return FEED_EPSS;
    size_t i = 0;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i >= n)
        return FEED_COUNT;
    if (p[i] == '<')
        return memmem(p, n, "VULDEF-Document", 15) ? FEED_JVN : FEED_COUNT;
    if (p[i] == '[')
        return FEED_GHSA;
    if (p[i] != '{')
        return FEED_COUNT;
    if (has(p, n, "\"catalogVersion\"") || has(p, n, "\"cveID\""))
        return FEED_KEV;
    if (has(p, n, "\"NVD_CVE\"") || has(p, n, "\"resultsPerPage\""))
        return FEED_NVD;
    return FEED_OSV;
}

/* Reads a whole file up to FEED_MAX_BODY; NULL with a warning otherwise. */
static char *read_file(struct import *im, const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || (size_t)st.st_size > FEED_MAX_BODY) {
        feed_warn(&im->run[FEED_OSV], "%s: %s", path,
                  fd < 0 ? strerror(errno) : "unreadable or over the size limit");
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    size_t want = (size_t)st.st_size, got = 0;
    char *p = kb_malloc(want + 1);
    while (got < want) {
        ssize_t k = read(fd, p + got, want - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    p[got] = '\0';
    *len = got;
    return p;
}

static void import_file(struct import *im, const char *path)
{
    size_t len = 0;
    char *p = read_file(im, path, &len);
    if (!p)
        return;
    enum feed_id f = sniff(p, len);
    if (f == FEED_COUNT) {
        feed_warn(&im->run[FEED_OSV], "%s: not a feed format koban knows, skipped", path);
        free(p);
        return;
    }
    struct feed_run *r = &im->run[f];
    r->res->ran = true;
    struct kb_why w = {{0}};
    struct feed_page_info info;
    kb_err e;
    r->cb_why.msg[0] = '\0';
    switch (f) {
    case FEED_OSV:
        e = len >= 4 && memcmp(p, "PK\3\4", 4) == 0 ? feed_osv_zip(r, p, len, NULL, &w)
                                                    : feed_osv_record(r, p, len, &w);
        break;
    case FEED_NVD:
        e = feed_nvd_page(p, len, feed_deliver_cb, feed_skip_cb, r, &info, &w);
        break;
    case FEED_GHSA:
        e = feed_ghsa_page(p, len, feed_deliver_cb, feed_skip_cb, r, &w);
        break;
    case FEED_JVN:
        e = feed_jvn_detail(p, len, feed_deliver_cb, feed_skip_cb, r, &w);
        break;
    case FEED_EPSS:
        e = feed_epss_body(r, p, len, &w);
        break;
    default:
        e = feed_kev_body(r, p, len, &w);
        break;
    }
    free(p);
    if (e != KB_OK) {
        if (r->cb_why.msg[0])
            w = r->cb_why;
        char msg[sizeof w.msg + 64];
        snprintf(msg, sizeof msg, "%s", w.msg);
        kb_fail(&w, e, "%s: %s", path, msg);
        feed_warn(r, "%s", w.msg);
        if (r->res->err == KB_OK) {
            r->res->err = e;
            snprintf(r->res->msg, sizeof r->res->msg, "%s", w.msg);
        }
        if (im->first == KB_OK) {
            im->first = e;
            im->first_why = w;
        }
    }
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static kb_err walk(struct import *im, const char *dir, int depth, struct kb_why *why)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (depth == 0)
            return kb_fail(why, KB_EIO, "%s: %s", dir, strerror(errno));
        feed_warn(&im->run[FEED_OSV], "%s: %s", dir, strerror(errno));
        return KB_OK;
    }
    char **names = NULL;
    size_t n = 0;
    kb_err e = KB_OK;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        if (++im->files > IMPORT_MAX_FILES) {
            e = kb_fail(why, KB_ETOOBIG, "%s: more than %d files", dir, IMPORT_MAX_FILES);
            break;
        }
        if (n % 64 == 0)
            names = kb_realloc(names, (n + 64) * sizeof *names);
        names[n++] = kb_strdup(de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n && e == KB_OK; i++) {
        size_t plen = strlen(dir) + strlen(names[i]) + 2;
        char *path = kb_malloc(plen);
        snprintf(path, plen, "%s/%s", dir, names[i]);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (depth + 1 <= IMPORT_MAX_DEPTH)
                e = walk(im, path, depth + 1, why);
            else
                feed_warn(&im->run[FEED_OSV], "%s: nested too deep, skipped", path);
        } else if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            import_file(im, path);
        }
        free(path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return e;
}

kb_err feed_import_dir(const char *dir, const struct feed_sink *sink,
                       struct feed_result res[FEED_COUNT], struct kb_why *why)
{
    struct import *im = kb_calloc(1, sizeof *im);
    for (int i = 0; i < FEED_COUNT; i++) {
        memset(&res[i], 0, sizeof res[i]);
        im->run[i] = (struct feed_run){.id = (enum feed_id)i,
                                       .name = feed_name((enum feed_id)i),
                                       .sink = sink,
                                       .res = &res[i],
                                       .deadline_ns = INT64_MAX};
        im->run[i].o.max_requests = INT64_MAX;
    }
    kb_err e = walk(im, dir, 0, why);
    if (e == KB_OK && im->first != KB_OK) {
        e = im->first;
        if (why)
            *why = im->first_why;
    }
    free(im);
    return e;
}
