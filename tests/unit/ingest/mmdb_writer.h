/*
 * mmdb_writer.h — a tiny MaxMind DB (format 2.0) writer, for tests only: an
 * IPv4 search tree with 24-bit records, the 16-byte separator, a data
 * section of maps and strings, then the metadata marker and map. Enough
 * for libmaxminddb to open the file and answer lookups, so tests need no
 * downloaded database.
 *
 * Each network maps to {KEY: {iso_code: CODE}} (KEY is "country" unless
 * given), or to {continent: {code: "EU"}} when code is NULL.
 */
#ifndef KOBAN_TEST_MMDB_WRITER_H
#define KOBAN_TEST_MMDB_WRITER_H

#include "lib/buf.h"

#include <stdio.h>
#include <stdlib.h>

struct mmdb_net {
    uint32_t addr;   /* host order */
    unsigned prefix; /* 1..32 */
    const char *key; /* NULL = "country" */
    const char *code;
};

#define MMDB_T_PTR 1
#define MMDB_T_STR 2
#define MMDB_T_U16 5
#define MMDB_T_U32 6
#define MMDB_T_MAP 7
#define MMDB_T_U64 9
#define MMDB_T_ARR 11

/* Control byte(s): type in the top 3 bits (or 0 and an extended-type byte
 * holding type - 7), size in the low 5 bits with 1-3 extra bytes past 28. */
static void mmdb_ctrl(struct buf *b, unsigned type, size_t size)
{
    unsigned char c[6];
    size_t n = 1;
    unsigned sz5;
    unsigned char ext[3] = {0, 0, 0};
    size_t next = 0;
    if (size < 29) {
        sz5 = (unsigned)size;
    } else if (size < 285) {
        sz5 = 29;
        ext[next++] = (unsigned char)(size - 29);
    } else {
        size_t v = size - 285;
        sz5 = 30;
        ext[next++] = (unsigned char)(v >> 8);
        ext[next++] = (unsigned char)v;
    }
    c[0] = (unsigned char)(((type <= 7 ? type : 0) << 5) | sz5);
    if (type > 7)
        c[n++] = (unsigned char)(type - 7);
    for (size_t i = 0; i < next; i++)
        c[n++] = ext[i];
    buf_append(b, c, n);
}

static void mmdb_str(struct buf *b, const char *s)
{
    mmdb_ctrl(b, MMDB_T_STR, strlen(s));
    buf_append(b, s, strlen(s));
}

static void mmdb_uint(struct buf *b, unsigned type, uint64_t v)
{
    unsigned char be[8];
    size_t n = 0;
    for (int sh = 56; sh >= 0; sh -= 8)
        if (n || (v >> sh) & 0xff)
            be[n++] = (unsigned char)(v >> sh);
    mmdb_ctrl(b, type, n);
    buf_append(b, be, n);
}

/* Writes path; 0 on success. */
static int mmdb_write_v4(const char *path, const struct mmdb_net *nets, size_t nnets)
{
    enum { MAXN = 8 * 33 + 1 };
    static const uint32_t EMPTY = 0xffffffffu;
    uint32_t rec[MAXN][2];   /* child node, EMPTY, or data offset | 1u << 31 */
    size_t nn = 1;
    if (nnets > 8)
        return -1;
    rec[0][0] = rec[0][1] = EMPTY;
    struct buf data = BUF_INIT(1 << 20);
    for (size_t i = 0; i < nnets; i++) {
        uint32_t off = (uint32_t)data.len;
        mmdb_ctrl(&data, MMDB_T_MAP, 1);
        if (nets[i].code) {
            mmdb_str(&data, nets[i].key ? nets[i].key : "country");
            mmdb_ctrl(&data, MMDB_T_MAP, 1);
            mmdb_str(&data, "iso_code");
            mmdb_str(&data, nets[i].code);
        } else {
            mmdb_str(&data, "continent");
            mmdb_ctrl(&data, MMDB_T_MAP, 1);
            mmdb_str(&data, "code");
            mmdb_str(&data, "EU");
        }
        size_t node = 0;
        for (unsigned bit = 0; bit < nets[i].prefix; bit++) {
            unsigned side = (nets[i].addr >> (31 - bit)) & 1;
            if (bit + 1 == nets[i].prefix) {
                rec[node][side] = off | 1u << 31;
                break;
            }
            if (rec[node][side] == EMPTY) {
                rec[nn][0] = rec[nn][1] = EMPTY;
                rec[node][side] = (uint32_t)nn++;
            }
            node = rec[node][side];
        }
    }
    struct buf out = BUF_INIT(1 << 22);
    uint32_t count = (uint32_t)nn;
    for (size_t i = 0; i < nn; i++)
        for (int s = 0; s < 2; s++) {
            uint32_t r = rec[i][s];
            uint32_t v = r == EMPTY ? count : (r & 1u << 31) ? count + 16 + (r & ~(1u << 31)) : r;
            unsigned char be[3] = {(unsigned char)(v >> 16), (unsigned char)(v >> 8),
                                   (unsigned char)v};
            buf_append(&out, be, 3);
        }
    static const unsigned char zeros[16];
    buf_append(&out, zeros, 16);
    buf_append(&out, data.p, data.len);
    buf_append(&out, "\xAB\xCD\xEFMaxMind.com", 14);
    mmdb_ctrl(&out, MMDB_T_MAP, 9);
    mmdb_str(&out, "node_count");
    mmdb_uint(&out, MMDB_T_U32, count);
    mmdb_str(&out, "record_size");
    mmdb_uint(&out, MMDB_T_U16, 24);
    mmdb_str(&out, "ip_version");
    mmdb_uint(&out, MMDB_T_U16, 4);
    mmdb_str(&out, "database_type");
    mmdb_str(&out, "Koban-Test-Country");
    mmdb_str(&out, "languages");
    mmdb_ctrl(&out, MMDB_T_ARR, 1);
    mmdb_str(&out, "en");
    mmdb_str(&out, "binary_format_major_version");
    mmdb_uint(&out, MMDB_T_U16, 2);
    mmdb_str(&out, "binary_format_minor_version");
    mmdb_uint(&out, MMDB_T_U16, 0);
    mmdb_str(&out, "build_epoch");
    mmdb_uint(&out, MMDB_T_U64, 1790000000);
    mmdb_str(&out, "description");
    mmdb_ctrl(&out, MMDB_T_MAP, 1);
    mmdb_str(&out, "en");
    mmdb_str(&out, "koban test database");
    int rc = -1;
    FILE *f = fopen(path, "wb");
    if (f) {
        rc = fwrite(out.p, 1, out.len, f) == out.len ? 0 : -1;
        if (fclose(f) != 0)
            rc = -1;
    }
    buf_release(&data);
    buf_release(&out);
    return rc;
}

#endif
