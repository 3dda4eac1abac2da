/*
 * bench_json.c — koban's JSON parser against json-c on CloudTrail events.
 *
 *   bench_json [--data DIR] [--events N]
 *
 * Events come from DIR (default $KOBAN_BENCH_DATA, else ../shared/data/
 * cloudtrail): stratus/ files hold a JSON array or {"Records":[...]}, otrf/
 * files hold JSON lines. Each record is compacted onto one line as it would
 * arrive over HTTP. Without data, a built-in ~1.1 KB CloudTrail record is
 * used. Per event, each parser does: parse, look up eventName and
 * userIdentity.arn, free/reset. Five repetitions of about N events (default
 * 200,000); the medians are printed on one line that bench/run.sh reads:
 *
 *   bench_json json_parse_koban_ns_median=... json_parse_jsonc_ns_median=...
 *              json_speedup_median=... koban_mb_s=... jsonc_mb_s=... ...
 *
 * json-c is compiled in when CMake found it (HAVE_JSONC); otherwise only
 * koban's numbers are printed.
 */
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/json.h"
#include "lib/jsonw.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#ifdef HAVE_JSONC
/* json-c also names an enum json_type; rename its tag in this file. */
#define json_type jsonc_json_type
#include <json-c/json.h>
#undef json_type
#endif

#define REPS 5
#define MAX_EVENTS 100000

static const char synthetic[] =
    "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"AssumedRole\",\"principalId\":"
    "\"AROAEXAMPLEID:alice\",\"arn\":\"arn:aws:sts::123456789012:assumed-role/Admin/alice\","
    "\"accountId\":\"123456789012\",\"accessKeyId\":\"ASIAEXAMPLEKEY\",\"sessionContext\":{"
    "\"sessionIssuer\":{\"type\":\"Role\",\"principalId\":\"AROAEXAMPLEID\",\"arn\":"
    "\"arn:aws:iam::123456789012:role/Admin\",\"accountId\":\"123456789012\",\"userName\":"
    "\"Admin\"},\"webIdFederationData\":{},\"attributes\":{\"creationDate\":"
    "\"2024-08-02T08:51:07Z\",\"mfaAuthenticated\":\"false\"}}},\"eventTime\":"
    "\"2024-08-02T09:08:27Z\",\"eventSource\":\"ssm.amazonaws.com\",\"eventName\":"
    "\"DescribeInstanceInformation\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":"
    "\"203.0.113.17\",\"userAgent\":\"aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 "
    "exe/x86_64.ubuntu.22 prompt/off command/ssm.describe-instance-information\","
    "\"requestParameters\":{\"maxResults\":50,\"filters\":[{\"key\":\"PingStatus\",\"values\":"
    "[\"Online\"]}]},\"responseElements\":null,\"requestID\":"
    "\"5a3c1f42-7f1e-4b8e-9d0b-2f6a3e1c9b11\",\"eventID\":"
    "\"4723aee9-d1e5-4e32-b48c-0ec39a6d84ea\",\"readOnly\":true,\"eventType\":"
    "\"AwsApiCall\",\"managementEvent\":true,\"recipientAccountId\":\"123456789012\","
    "\"eventCategory\":\"Management\",\"tlsDetails\":{\"tlsVersion\":\"TLSv1.3\","
    "\"cipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":"
    "\"ssm.us-east-1.amazonaws.com\"}}";

struct events {
    char *p[MAX_EVENTS];
    size_t n[MAX_EVENTS];
    size_t count;
    size_t bytes;
};

static void add_event(struct events *ev, const char *s, size_t n)
{
    if (ev->count >= MAX_EVENTS)
        return;
    /* One line, as a sender would post it. */
    struct buf b = BUF_INIT(n + 16);
    struct jw w;
    jw_init(&w, &b);
    jw_raw_compact(&w, s, n);
    if (jw_finish(&w) != KB_OK || b.len < 2) {
        buf_release(&b);
        return;
    }
    ev->n[ev->count] = b.len;
    ev->bytes += b.len;
    ev->p[ev->count++] = buf_take(&b, NULL);
}

/* Adds the records of one file: an array, {"Records":[...]}, one object, or
 * JSON lines. */
static void add_file(struct events *ev, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    struct buf b = BUF_INIT(256u << 20);
    char chunk[65536];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&b, chunk, r) != KB_OK)
            break;
    fclose(f);
    struct arena a = ARENA_INIT(1u << 30);
    size_t off = 0;
    while (off < b.len) {
        struct json_value *v = NULL;
        size_t used = 0;
        arena_reset(&a);
        if (json_parse_prefix(b.p + off, b.len - off, NULL, &a, &v, &used, NULL) != KB_OK)
            break;
        const struct json_value *list = v;
        if (v->type == JSON_OBJECT && json_get(v, "Records"))
            list = json_get(v, "Records");
        if (list->type == JSON_ARRAY) {
            for (const struct json_value *c = list->u.child; c; c = c->next)
                if (c->type == JSON_OBJECT)
                    add_event(ev, b.p + off + c->src_off, c->src_len);
        } else if (list->type == JSON_OBJECT) {
            add_event(ev, b.p + off + v->src_off, v->src_len);
        }
        off += used;
    }
    arena_release(&a);
    buf_release(&b);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_dir(struct events *ev, const char *dir, int levels)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char *names[1024];
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nn < 1024)
        if (de->d_name[0] != '.')
            names[nn++] = kb_strdup(de->d_name);
    closedir(d);
    qsort(names, nn, sizeof *names, cmp_name);
    for (size_t i = 0; i < nn; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode) && levels > 0)
                add_dir(ev, path, levels - 1);
            else if (S_ISREG(st.st_mode) && strstr(names[i], ".json"))
                add_file(ev, path);
        }
        free(names[i]);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static volatile size_t sink;

/* One repetition with koban's parser: ns per event. */
static double run_koban(const struct events *ev, size_t passes, struct arena *a)
{
    int64_t t0 = kb_mono_ns();
    size_t found = 0;
    for (size_t p = 0; p < passes; p++)
        for (size_t i = 0; i < ev->count; i++) {
            struct json_value *v;
            arena_reset(a);
            if (json_parse(ev->p[i], ev->n[i], NULL, a, &v, NULL) != KB_OK) {
                fprintf(stderr, "bench_json: koban rejected event %zu\n", i);
                exit(1);
            }
            found += json_get(v, "eventName") != NULL;
            found += json_path(v, "userIdentity.arn") != NULL;
        }
    sink += found;
    return (double)(kb_mono_ns() - t0) / (double)(passes * ev->count);
}

#ifdef HAVE_JSONC
static double run_jsonc(const struct events *ev, size_t passes, json_tokener *tok)
{
    int64_t t0 = kb_mono_ns();
    size_t found = 0;
    for (size_t p = 0; p < passes; p++)
        for (size_t i = 0; i < ev->count; i++) {
            json_tokener_reset(tok);
            json_object *o = json_tokener_parse_ex(tok, ev->p[i], (int)ev->n[i]);
            if (!o) {
                fprintf(stderr, "bench_json: json-c rejected event %zu\n", i);
                exit(1);
            }
            json_object *x, *ui;
            found += json_object_object_get_ex(o, "eventName", &x);
            if (json_object_object_get_ex(o, "userIdentity", &ui))
                found += json_object_object_get_ex(ui, "arn", &x);
            json_object_put(o);
        }
    sink += found;
    return (double)(kb_mono_ns() - t0) / (double)(passes * ev->count);
}
#endif

int main(int argc, char **argv)
{
    const char *data = getenv("KOBAN_BENCH_DATA");
    size_t target = 200000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (strcmp(argv[i], "--events") == 0 && i + 1 < argc) {
            char *end;
            unsigned long long x = strtoull(argv[++i], &end, 10);
            if (*end || x == 0 || x > 100000000) {
                fprintf(stderr, "bench_json: bad --events\n");
                return 2;
            }
            target = (size_t)x;
        } else {
            fprintf(stderr, "usage: bench_json [--data DIR] [--events N]\n");
            return 2;
        }
    }
    static struct events ev;
    const char *source = "built-in synthetic record";
    char dir[4096];
    if (!data || !*data) {
        snprintf(dir, sizeof dir, "%s/../shared/data/cloudtrail", KOBAN_SOURCE_DIR);
        data = dir;
    }
    add_dir(&ev, data, 2);
    if (ev.count)
        source = data;
    else
        add_event(&ev, synthetic, sizeof synthetic - 1);
    size_t passes = (target + ev.count - 1) / ev.count;
    double avg = (double)ev.bytes / (double)ev.count;
    fprintf(stderr, "bench_json: %zu events from %s, %.0f bytes on average; %zu passes x %d reps\n",
            ev.count, source, avg, passes, REPS);

    struct arena a = ARENA_INIT(64u << 20);
    double k[REPS];
    run_koban(&ev, passes / 10 + 1, &a); /* warm-up */
    for (int r = 0; r < REPS; r++)
        k[r] = run_koban(&ev, passes, &a);
    double km = median(k, REPS);
    printf("bench_json events=%zu avg_event_bytes=%.0f json_parse_koban_ns_median=%.0f "
           "koban_mb_s=%.1f", ev.count, avg, km, avg / km * 1e3);
#ifdef HAVE_JSONC
    json_tokener *tok = json_tokener_new();
    double c[REPS];
    run_jsonc(&ev, passes / 10 + 1, tok);
    for (int r = 0; r < REPS; r++)
        c[r] = run_jsonc(&ev, passes, tok);
    double cm = median(c, REPS);
    json_tokener_free(tok);
    printf(" json_parse_jsonc_ns_median=%.0f jsonc_mb_s=%.1f json_speedup_median=%.2f", cm,
           avg / cm * 1e3, cm / km);
#endif
    printf("\n");
    arena_release(&a);
    for (size_t i = 0; i < ev.count; i++)
        free(ev.p[i]);
    return 0;
}
