/*
 * journal_recover.c — the journal at open: list the segment files, check
 * every unit of every segment (check and numbering), and cut the newest
 * segment's torn tail back to the end of its last complete append.
 */
#include "store/journal_impl.h"

#include "lib/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static bool seg_name_parse(const char *s, uint64_t *first)
{
    if (strlen(s) != JR_NAME_LEN || memcmp(s + 20, ".kj", 3) != 0)
        return false;
    for (int i = 0; i < 20; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno != 0 || v == 0)
        return false;
    *first = v;
    return true;
}

/* ---- open and recovery ------------------------------------------------- */

static int seg_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct seg *)a)->first, y = ((const struct seg *)b)->first;
    return x < y ? -1 : x > y;
}

void jr_segs_push(struct journal *j, uint64_t first, uint64_t size)
{
    if (j->nsegs == j->segs_cap) {
        j->segs_cap = j->segs_cap ? j->segs_cap * 2 : 16;
        j->segs = kb_realloc(j->segs, j->segs_cap * sizeof *j->segs);
    }
    j->segs[j->nsegs++] = (struct seg){first, size};
}

static kb_err segs_list(struct journal *j, struct kb_why *why)
{
    int fd = dup(j->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return kb_fail(why, KB_EIO, "journal %s: cannot list: %s", j->dir, strerror(errno));
    }
    kb_err rc = KB_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t first;
        if (!seg_name_parse(de->d_name, &first))
            continue;
        if (j->nsegs >= JR_MAX_SEGMENTS) {
            rc = kb_fail(why, KB_ETOOBIG, "journal %s: more than %zu segments", j->dir,
                         JR_MAX_SEGMENTS);
            break;
        }
        jr_segs_push(j, first, 0);
    }
    closedir(d);
    if (j->nsegs > 1)
        qsort(j->segs, j->nsegs, sizeof *j->segs, seg_cmp);
    return rc;
}

struct scan_result {
    uint64_t size;      /* bytes in the file */
    uint64_t good_end;  /* end of the last complete append */
    uint64_t next_seq;  /* seq after that append */
    uint64_t bad_off;   /* where the first problem starts */
    const char *problem; /* NULL when the file is whole */
    bool misnumbered;   /* a record with a good check but an unexpected seq */
};

static kb_err seg_scan(struct journal *j, struct rbuf *b, const struct seg *s,
                       struct scan_result *out, struct kb_why *why)
{
    char name[JR_NAME_LEN + 1];
    jr_seg_name(s->first, name);
    int fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return kb_fail(why, KB_EIO, "journal %s: segment %s: %s", j->dir, name, strerror(e));
    }
    jr_rbuf_reset(b, fd);
    *out = (struct scan_result){.size = (uint64_t)st.st_size, .next_seq = s->first};
    uint64_t seq = s->first;
    for (;;) {
        uint64_t at = jr_rbuf_tell(b);
        struct rec r;
        const char *bad = NULL;
        enum scan sc = jr_rec_next(b, out->size, &r, &bad);
        if (sc == SCAN_IOERR)
            return kb_fail(why, KB_EIO, "journal %s: segment %s: read: %s", j->dir, name,
                           strerror(errno));
        if (sc == SCAN_OK && r.seq != seq) {
            out->misnumbered = true;
            bad = "unexpected sequence number";
            sc = SCAN_BAD;
        }
        if (sc != SCAN_OK) {
            if (sc == SCAN_SHORT)
                bad = "record cut short";
            else if (sc == SCAN_END && out->good_end != out->size)
                bad = "ends inside an append";
            out->problem = bad;
            out->bad_off = sc == SCAN_END ? out->good_end : at;
            return KB_OK;
        }
        seq += r.count;
        if (!(r.flags & JR_MORE)) {
            out->good_end = jr_rbuf_tell(b);
            out->next_seq = seq;
        }
    }
}

static kb_err recover_tail(struct journal *j, struct seg *s, const struct scan_result *sr,
                           struct kb_why *why)
{
    char name[JR_NAME_LEN + 1], q[256];
    jr_seg_name(s->first, name);
    if (ftruncate(j->wfd, (off_t)sr->good_end) != 0 || fsync(j->wfd) != 0)
        return kb_fail(why, KB_EIO, "journal %s: segment %s: cannot cut torn tail: %s", j->dir,
                       name, strerror(errno));
    j->torn_bytes = sr->size - sr->good_end;
    log_warn("journal: torn tail cut", "dir=%s segment=%s offset=%" PRIu64
             " dropped_bytes=%" PRIu64 " reason=\"%s\"",
             kb_logq(q, sizeof q, j->dir), name, sr->good_end, j->torn_bytes, sr->problem);
    return KB_OK;
}

/* Lists, checks and recovers the segments; leaves wfd open on the last one. */
kb_err jr_segs_load(struct journal *j, struct kb_why *why)
{
    kb_err rc = segs_list(j, why);
    if (rc != KB_OK)
        return rc;
    char name[JR_NAME_LEN + 1];
    if (j->nsegs == 0) {
        jr_seg_name(1, name);
        j->wfd = openat(j->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
        if (j->wfd < 0 || (!j->no_sync && fsync(j->dirfd) != 0))
            return kb_fail(why, KB_EIO, "journal %s: cannot create %s: %s", j->dir, name,
                           strerror(errno));
        jr_segs_push(j, 1, 0);
        j->next_seq = 1;
        return KB_OK;
    }
    struct rbuf b = {.fd = -1, .p = kb_malloc(JR_CHUNK), .cap = JR_CHUNK};
    uint64_t expect = j->segs[0].first;
    for (size_t i = 0; i < j->nsegs && rc == KB_OK; i++) {
        struct seg *s = &j->segs[i];
        bool last = i + 1 == j->nsegs;
        struct scan_result sr = {0};
        jr_seg_name(s->first, name);
        if (s->first != expect) {
            rc = kb_fail(why, KB_ECORRUPT,
                         "journal %s: segment %s: expected it to start at seq %" PRIu64,
                         j->dir, name, expect);
            break;
        }
        rc = seg_scan(j, &b, s, &sr, why);
        if (rc != KB_OK)
            break;
        if (sr.problem && (!last || sr.misnumbered)) {
            rc = kb_fail(why, KB_ECORRUPT, "journal %s: segment %s: offset %" PRIu64 ": %s",
                         j->dir, name, sr.bad_off, sr.problem);
            break;
        }
        s->size = sr.good_end;
        expect = sr.next_seq;
        if (last) {
            j->wfd = openat(j->dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC);
            if (j->wfd < 0)
                rc = kb_fail(why, KB_EIO, "journal %s: segment %s: %s", j->dir, name,
                             strerror(errno));
            else if (sr.problem)
                rc = recover_tail(j, s, &sr, why);
        }
    }
    jr_rbuf_reset(&b, -1);
    free(b.p);
    j->next_seq = expect;
    j->w_first = j->segs[j->nsegs - 1].first;
    j->w_size = j->segs[j->nsegs - 1].size;
    return rc;
}
