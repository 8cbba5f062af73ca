/* tests/test_align_cmd.c — the 'align' verb end to end (sbf_cmd_align): one PNG per detected face, eyes where
 * the rule puts them (landmarks re-predicted on the written crop), existing files never replaced, usage errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/align.h"
#include "src/image.h"
#include "src/landmarks.h"
#include "src/util.h"
#include "src/verbs.h"
#include "tests/helpers/testdir.h"

static char g_dir[256], err_buf[256];
static char g_two[4096], g_lfw[4096];

static int setup(void **state) {
    (void)state;
    const char *sh = getenv("SBF_SHARED");
    if (!sh || !*sh) sh = "../shared";
    snprintf(g_two, sizeof g_two, "%s/data/photos/people-examples/two_people.jpg", sh);
    snprintf(g_lfw, sizeof g_lfw, "%s/data/lfw-dev/Aaron_Eckhart/Aaron_Eckhart_0001.jpg", sh);
    if (access(g_two, R_OK) || access(g_lfw, R_OK)) {
        fprintf(stderr, "shared data missing: %s, %s\n", g_two, g_lfw);
        return -1;
    }
    return testdir_make(g_dir, sizeof g_dir, "align");
}

static int teardown(void **state) {
    (void)state;
    return testdir_remove(g_dir);
}

static int run(int n, ...) {
    char *argv[16];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) argv[i] = va_arg(ap, char *);
    va_end(ap);
    argv[n] = NULL;
    fflush(stdout);
    return sbf_cmd_align(n, argv);
}

static long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* Eye centres predicted on a crop, using a box around where the rule placed the face. */
static void eyes_on_crop(const sbf_shape_model *m, const char *png, double e[4]) {
    sbf_image im;
    char err[256];
    if (sbf_image_load(png, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err)) fail_msg("%s: %s", png, err);
    assert_int_equal(im.w, 160);
    assert_int_equal(im.h, 160);
    /* the eyes rule maps an eye distance to 48 px; dlib's box is about 2.1 eye distances wide, eyes at 0.35 */
    sbf_box b = {80 - 50, 56 - 30, 80 + 50, 56 + 70, 0, -1};
    float pts[68][2];
    assert_int_equal(sbf_shape_predict(m, im.gray, 160, 160, &b, pts), 0);
    memset(e, 0, 4 * sizeof *e);
    for (int i = 0; i < 6; i++) {
        e[0] += pts[36 + i][0] / 6;
        e[1] += pts[36 + i][1] / 6;
        e[2] += pts[42 + i][0] / 6;
        e[3] += pts[42 + i][1] / 6;
    }
    sbf_image_free(&im);
}

static void test_writes_crops(void **state) {
    (void)state;
    assert_int_equal(run(7, "align", "--align", "eyes", g_two, g_lfw, "-o", g_dir), 0);
    char p[4096];
    const char *names[] = {"two_people_1.png", "two_people_2.png", "Aaron_Eckhart_0001_1.png"};
    char err[256];
    sbf_shape_model *m = sbf_shape_load(sbf_landmarks_default_path(), err, sizeof err);
    if (!m) fail_msg("model: %s", err);
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
        assert_true(file_size(p) > 1000);
        double e[4];
        eyes_on_crop(m, p, e);
        fprintf(stderr, "%s: eyes (%.1f,%.1f) (%.1f,%.1f)\n", names[i], e[0], e[1], e[2], e[3]);
        assert_true(fabs(e[0] - 56) < 4 && fabs(e[1] - 56) < 4 && fabs(e[2] - 104) < 4 && fabs(e[3] - 56) < 4);
    }
    snprintf(p, sizeof p, "%s/two_people_3.png", g_dir);
    assert_int_equal(file_size(p), -1); /* exactly two faces */
    sbf_shape_free(m);
}

static void test_never_replaces(void **state) {
    (void)state;
    char p1[4096], p2[4096], p3[4096];
    snprintf(p1, sizeof p1, "%s/Aaron_Eckhart_0001_1.png", g_dir);
    snprintf(p2, sizeof p2, "%s/Aaron_Eckhart_0001_1-2.png", g_dir);
    snprintf(p3, sizeof p3, "%s/Aaron_Eckhart_0001_1-3.png", g_dir);
    /* a foreign file in the way of the first alternative name */
    FILE *f = fopen(p2, "w");
    assert_non_null(f);
    fputs("not mine", f);
    fclose(f);
    long before = file_size(p1);
    assert_true(before > 0);
    assert_int_equal(run(6, "align", "--align", "box", g_lfw, "-o", g_dir), 0);
    assert_int_equal(file_size(p1), before);
    assert_int_equal(file_size(p2), 8);
    assert_true(file_size(p3) > 1000);
    /* the box crop differs from the eyes crop */
    sbf_image a, b;
    char err[256];
    assert_int_equal(sbf_image_load(p1, SBF_DEFAULT_MAX_PIXELS, &a, err, sizeof err), 0);
    assert_int_equal(sbf_image_load(p3, SBF_DEFAULT_MAX_PIXELS, &b, err, sizeof err), 0);
    long diff = 0;
    for (int i = 0; i < 160 * 160 * 3; i++) diff += abs(a.rgb[i] - b.rgb[i]);
    assert_true(diff > 160 * 160 * 3);
    sbf_image_free(&a);
    sbf_image_free(&b);
}

static void test_errors(void **state) {
    (void)state;
    assert_int_equal(run(2, "align", g_lfw), 2);                                   /* no -o */
    assert_int_equal(run(6, "align", "--align", "tilted", g_lfw, "-o", g_dir), 2); /* bad rule */
    assert_int_equal(run(6, "align", "--upsample", "9", g_lfw, "-o", g_dir), 2);
    assert_int_equal(run(6, "align", "--landmarks-model", "/nonexistent.dat", g_lfw, "-o", g_dir), 3);
    char sub[512];
    snprintf(sub, sizeof sub, "%s/new/deeper", g_dir);
    /* a missing image fails (1) but the others are still written, into a folder that is created */
    assert_int_equal(run(5, "align", "/nonexistent.jpg", g_lfw, "-o", sub), 1);
    char p[600];
    snprintf(p, sizeof p, "%s/Aaron_Eckhart_0001_1.png", sub);
    assert_true(file_size(p) > 1000);
    /* that run used the default rule: its crop is byte-identical to the explicit run of that rule */
    char ref[600], refdir[512];
    snprintf(refdir, sizeof refdir, "%s/explicit", g_dir);
    assert_int_equal(run(6, "align", "--align", sbf_align_name(SBF_ALIGN_DEFAULT), g_lfw, "-o", refdir), 0);
    snprintf(ref, sizeof ref, "%s/Aaron_Eckhart_0001_1.png", refdir);
    size_t la, lb;
    char *a = sbf_read_file(p, &la, 1 << 24, err_buf, sizeof err_buf),
         *b = sbf_read_file(ref, &lb, 1 << 24, err_buf, sizeof err_buf);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writes_crops),
        cmocka_unit_test(test_never_replaces),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
