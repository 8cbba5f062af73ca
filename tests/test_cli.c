/* tests/test_cli.c — option parsing (seed-style -src and --src/--src= forms), usage errors, the one range
 * of each numeric flag whichever verb takes it, and the util helpers (JSON strings for non-UTF-8 names,
 * reversible; atomic never-overwrite writes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "src/cli.h"
#include "src/util.h"

static const char *src, *dest;
static int itr, flag;
static double t;
static const sbf_opt opts[] = {
    {"src", NULL, SBF_OPT_STRING, &src, "DIR", "source"}, {"dest", "o", SBF_OPT_STRING, &dest, "DIR", "dest"},
    {"t", NULL, SBF_OPT_DOUBLE, &t, "T", "threshold"},    {"itr", NULL, SBF_OPT_INT, &itr, "N", "iterations"},
    {"copy", NULL, SBF_OPT_FLAG, &flag, NULL, "copy"},    {0},
};
static const sbf_cmd_spec spec = {"sort", "sort [OPTIONS]", "test", NULL, opts, 0, 1};

static int parse(int argc, char **argv, int *npos, char ***pos) {
    src = dest = NULL;
    itr = 0;
    flag = 0;
    t = 0;
    return sbf_parse(&spec, argc, argv, npos, pos);
}

static void test_forms(void **state) {
    (void)state;
    int n;
    char **pos;
    char *a1[] = {"sort", "-src", "photos", "-t", "0.5", "-itr", "40", "--copy", "--dest=out dir", "extra", NULL};
    assert_int_equal(parse(10, a1, &n, &pos), 0);
    assert_string_equal(src, "photos");
    assert_string_equal(dest, "out dir");
    assert_float_equal(t, 0.5, 0);
    assert_int_equal(itr, 40);
    assert_int_equal(flag, 1);
    assert_int_equal(n, 1);
    assert_string_equal(pos[0], "extra");
    free(pos);
    char *a2[] = {"sort", "--src", "a", "-o", "b", "--itr=7", "-t=0.25", "--", "-notanoption", NULL};
    assert_int_equal(parse(9, a2, &n, &pos), 0);
    assert_string_equal(src, "a");
    assert_string_equal(dest, "b");
    assert_int_equal(itr, 7);
    assert_float_equal(t, 0.25, 0);
    assert_string_equal(pos[0], "-notanoption");
    free(pos);
}

static void test_errors(void **state) {
    (void)state;
    int n;
    char **pos;
    char *bad1[] = {"sort", "--bogus", NULL};
    assert_int_equal(parse(2, bad1, &n, &pos), 2);
    char *bad2[] = {"sort", "-itr", "x7", NULL};
    assert_int_equal(parse(3, bad2, &n, &pos), 2);
    char *bad3[] = {"sort", "-src", NULL};
    assert_int_equal(parse(2, bad3, &n, &pos), 2);
    char *bad4[] = {"sort", "a", "b", NULL};
    assert_int_equal(parse(3, bad4, &n, &pos), 2);
    char *bad5[] = {"sort", "--copy=1", NULL};
    assert_int_equal(parse(2, bad5, &n, &pos), 2);
    char *bad6[] = {"sort", "-t", "nan", NULL};
    assert_int_equal(parse(3, bad6, &n, &pos), 2);
    char *help[] = {"sort", "--help", NULL};
    fflush(stdout);
    assert_int_equal(parse(2, help, &n, &pos), 1);
    assert_int_equal(sbf_check_range_int("sort", "itr", 0, 1, 1000), 2);
    assert_int_equal(sbf_check_range_int("sort", "itr", 5, 1, 1000), 0);
    char *bad7[] = {"sort", "-itr", "0", NULL}; /* the shared range, checked as it is read */
    assert_int_equal(parse(3, bad7, &n, &pos), 2);
    char *bad8[] = {"sort", "--itr=100001", NULL};
    assert_int_equal(parse(2, bad8, &n, &pos), 2);
}

/* One range per flag name, for every verb: e.g. find's --threads as embed's. */
static void test_shared_ranges(void **state) {
    (void)state;
    const char *verbs[] = {"embed", "sort", "find", "detect", "align", "represent"};
    for (size_t v = 0; v < sizeof verbs / sizeof *verbs; v++) {
        assert_int_equal(sbf_check_flag(verbs[v], "threads", 100000), 2);
        assert_int_equal(sbf_check_flag(verbs[v], "threads", -1), 2);
        assert_int_equal(sbf_check_flag(verbs[v], "threads", 256), 0);
        assert_int_equal(sbf_check_flag(verbs[v], "threads", 0), 0);
        assert_int_equal(sbf_check_flag(verbs[v], "processes", 1000), 2);
        assert_int_equal(sbf_check_flag(verbs[v], "min-face", -5), 2);
        assert_int_equal(sbf_check_flag(verbs[v], "min-face", 0), 0);
        assert_int_equal(sbf_check_flag(verbs[v], "min-face", 100000), 0);
        assert_int_equal(sbf_check_flag(verbs[v], "max-pixels", 1), 2); /* not "over the 0.0 megapixel limit" */
        assert_int_equal(sbf_check_flag(verbs[v], "max-pixels", 99999), 2);
        assert_int_equal(sbf_check_flag(verbs[v], "max-pixels", 100000), 0); /* shown as 0.1 megapixel */
        assert_int_equal(sbf_check_flag(verbs[v], "max-pixels", 2147483647.0), 0);
        assert_int_equal(sbf_check_flag(verbs[v], "upsample", 4), 2);
        assert_int_equal(sbf_check_flag(verbs[v], "itr", 0), 2);
        assert_int_equal(sbf_check_flag(verbs[v], "threshold", -1.01), 2);
        assert_int_equal(sbf_check_flag(verbs[v], "threshold", 1), 0);
        assert_int_equal(sbf_check_flag(verbs[v], "face", -1), 2);
        assert_int_equal(sbf_check_flag(verbs[v], "face", 3), 0);
        assert_int_equal(sbf_check_flag(verbs[v], "no-such-flag", -1e9), 0); /* a flag without a range */
    }
}

static char *json_of(const char *s) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sbf_json_string(f, s);
    fclose(f);
    return buf;
}

static void test_json(void **state) {
    (void)state;
    char *j = json_of("a\"b\\c\nd\x01");
    assert_string_equal(j, "\"a\\\"b\\\\c\\nd\\u0001\"");
    free(j);
    j = json_of("caf\xc3\xa9"); /* valid UTF-8 passes through */
    assert_string_equal(j, "\"caf\xc3\xa9\"");
    free(j);
    j = json_of("bad\xff\xc3("); /* invalid bytes escaped, line stays valid JSON */
    assert_string_equal(j, "\"bad\\udcff\\udcc3(\"");
    free(j);
    /* reversible: \udcXX is a byte, never a character of a valid name (UTF-8 cannot encode a surrogate, so
     * its 3 bytes are escaped one by one); U+00E9 written raw stays raw */
    j = json_of("caf\xe9 \xed\xb3\xa9 \xc3\xa9");
    assert_string_equal(j, "\"caf\\udce9 \\udced\\udcb3\\udca9 \xc3\xa9\"");
    free(j);
}

static void test_atomic_write(void **state) {
    (void)state;
    char dir[] = "/tmp/sbf-aw-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], err[256];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    assert_int_equal(sbf_write_file_atomic(path, "one", 3, 0, err, sizeof err), 0);
    assert_int_equal(sbf_write_file_atomic(path, "two", 3, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "not overwriting"));
    size_t len;
    char *b = sbf_read_file(path, &len, 100, err, sizeof err);
    assert_string_equal(b, "one");
    free(b);
    assert_int_equal(sbf_write_file_atomic(path, "three", 5, 1, err, sizeof err), 0);
    b = sbf_read_file(path, &len, 100, err, sizeof err);
    assert_string_equal(b, "three");
    free(b);
    assert_null(sbf_read_file(path, &len, 2, err, sizeof err));
    assert_non_null(strstr(err, "too large"));
    unlink(path);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms), cmocka_unit_test(test_errors),       cmocka_unit_test(test_shared_ranges),
        cmocka_unit_test(test_json),  cmocka_unit_test(test_atomic_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
