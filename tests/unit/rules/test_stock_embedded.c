/* test_stock_embedded.c — the stock policies compiled into the binary are
 * the files of policies/stock, byte for byte, and load without errors. */
#include "lib/embedded.h"
#include "rules/policy.h"
#include "test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

static void test_same_as_files(void)
{
    size_t n = 0;
    for (const struct kb_embedded *e = kb_stock_policies; e->name; e++, n++) {
        char path[512];
        snprintf(path, sizeof path, "%s/policies/stock/%s", KOBAN_SOURCE_DIR, e->name);
        FILE *f = fopen(path, "rb");
        T_CHECKF(f != NULL, "%s", path);
        if (!f)
            continue;
        static char file[1 << 20];
        size_t got = fread(file, 1, sizeof file, f);
        fclose(f);
        T_EQ_INT(got, e->len);
        T_CHECKF(got == e->len && memcmp(file, e->data, got) == 0, "%s differs", e->name);
        T_CHECK(e->data[e->len] == '\0');
    }
    size_t files = 0;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/policies/stock", KOBAN_SOURCE_DIR);
    DIR *d = opendir(dir);
    T_CHECK(d != NULL);
    for (struct dirent *de; d && (de = readdir(d));) {
        size_t l = strlen(de->d_name);
        files += l > 4 && strcmp(de->d_name + l - 4, ".yml") == 0;
    }
    if (d)
        closedir(d);
    T_EQ_INT(n, files);
    T_CHECK(n >= 5);
}

static void test_embedded_load(void)
{
    struct policy_set *ps = NULL;
    struct kb_why why = {{0}};
    T_EQ_INT(policy_set_new(&ps, &why), KB_OK);
    if (!ps)
        return;
    for (const struct kb_embedded *e = kb_stock_policies; e->name; e++) {
        size_t loaded = 0;
        kb_err rc = policy_load_buffer(ps, e->data, e->len, e->name, &loaded, &why);
        T_CHECKF(rc == KB_OK && loaded > 0, "%s: %s", e->name, why.msg);
    }
    T_EQ_INT(policy_set_nerrors(ps), 0);
    T_CHECK(policy_set_count(ps) >= 8);
    policy_set_free(ps);
}

int main(void)
{
    T_RUN(test_same_as_files);
    T_RUN(test_embedded_load);
    return t_done();
}
