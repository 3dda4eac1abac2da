/* test_inventory_detect.c — formats found by file name (including the
 * usual requirements file names) and, without a telling name, by content. */
#include "test.h"
#include "vuln/inventory.h"

static enum inventory_format detect(const char *name, const char *text)
{
    enum inventory_format f = INV_FORMAT_COUNT;
    T_EQ_INT(inventory_detect(name, text, strlen(text), &f), KB_OK);
    return f;
}

static void test_names(void)
{
    T_EQ_INT(detect("requirements.txt", ""), INV_REQUIREMENTS);
    T_EQ_INT(detect("requirements-dev.txt", ""), INV_REQUIREMENTS);
    T_EQ_INT(detect("dev-requirements.txt", ""), INV_REQUIREMENTS);
    T_EQ_INT(detect("app/requirements/prod.txt", ""), INV_REQUIREMENTS);
    T_EQ_INT(detect("sub/go.sum", ""), INV_GO_SUM);
    enum inventory_format f;
    T_EQ_INT(inventory_detect("notes.txt", "hello\n", 6, &f), KB_ENOTFOUND);
}

static void test_content(void)
{
    T_EQ_INT(detect("x", "module example.com/m\n\ngo 1.21\n\nrequire golang.org/x/text v0.3.7\n"),
             INV_GO_MOD);
    T_EQ_INT(detect("x", "golang.org/x/text v0.3.7 h1:abc=\ngolang.org/x/text v0.3.7/go.mod "
                         "h1:def=\n"),
             INV_GO_SUM);
    T_EQ_INT(detect("x", "# generated\nversion = 3\n\n[[package]]\nname = \"a\"\nversion = "
                         "\"1.0.0\"\nsource = \"registry+x\"\nchecksum = \"00\"\n"),
             INV_CARGO_LOCK);
    T_EQ_INT(detect("x", "[[package]]\nname = \"a\"\nversion = \"1.0\"\npython-versions = "
                         "\"*\"\n"),
             INV_POETRY_LOCK);
    T_EQ_INT(detect("x", "GEM\n  remote: https://rubygems.org/\n  specs:\n    rake (13.0.6)\n"),
             INV_GEMFILE_LOCK);
    T_EQ_INT(detect("x", "{\"content-hash\": \"x\", \"packages\": [], \"packages-dev\": []}"),
             INV_COMPOSER_LOCK);
}

int main(void)
{
    T_RUN(test_names);
    T_RUN(test_content);
    return t_done();
}
