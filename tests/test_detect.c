/* tests/test_detect.c — face detector unit tests.  Golden values come from dlib 19.24 (Debian
 * libdlib-dev) run on the same decoded pixels (tools/oracle-detect does the full comparison).  The HOG
 * kernels at every ISA level are checked bit for bit against the scalar ones in tests/test_kernels.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nn/threadpool.h"
#include "nn/weights.h"
#include "src/detect.h"
#include "src/hog.h"
#include "src/image.h"

extern const unsigned char sbf_hog_frontal_data[];
extern const unsigned char sbf_hog_frontal_end[];

static const char *shared_dir(void) {
    const char *s = getenv("SBF_SHARED");
    return s && *s ? s : "../shared";
}

/* under qemu (make test-cross sets SBF_CROSS) float code runs ~100x slower: smaller cases */
static int cross(void) {
    const char *s = getenv("SBF_CROSS");
    return s && *s && *s != '0';
}

static int load_gray(const char *rel, sbf_image *im) {
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/%s", shared_dir(), rel);
    if (sbf_image_load(path, SBF_DEFAULT_MAX_PIXELS, im, err, sizeof err)) {
        fail_msg("cannot load %s (%s): set SBF_SHARED to the shared data folder", path, err);
        return -1;
    }
    return 0;
}

/* The embedded model is dlib's: 5 filters, thresholds, overlap tester and separable filter counts
 * as dlib's own num_separable_filters() reports them. */
static void test_model(void **st) {
    (void)st;
    char err[256];
    nnw_file *f =
        nnw_open_memory(sbf_hog_frontal_data, (size_t)(sbf_hog_frontal_end - sbf_hog_frontal_data), err, sizeof err);
    assert_non_null(f);
    assert_string_equal(nnw_meta(f, "num_detectors"), "5");
    assert_string_equal(nnw_meta(f, "iou_thresh"), "0.33008212188056446");
    assert_string_equal(nnw_meta(f, "covered_thresh"), "0.78857142857142859");
    static const char *thresh[5] = {"3.2744957766996508", "3.9868216360740241", "3.8959356750348184",
                                    "3.5148690352596796", "3.5580290258303688"};
    static const uint32_t nsep[5] = {61, 58, 54, 66, 66};
    for (int i = 0; i < 5; i++) {
        char key[32];
        snprintf(key, sizeof key, "det%d.thresh", i);
        assert_string_equal(nnw_meta(f, key), thresh[i]);
        snprintf(key, sizeof key, "det%d.rows", i);
        const nnw_tensor *t = nnw_find(f, key);
        assert_non_null(t);
        assert_int_equal(t->shape[0], nsep[i]);
        assert_int_equal(t->shape[1], 10);
        /* the separable pairs rebuild the full 10x10 filters (sum of row x column outer products) */
        snprintf(key, sizeof key, "det%d.cols", i);
        const float *rows = t->data, *cols = nnw_find(f, key)->data;
        snprintf(key, sizeof key, "det%d.plane", i);
        const int32_t *plane = nnw_find(f, key)->data;
        snprintf(key, sizeof key, "det%d.full", i);
        const float *full = nnw_find(f, key)->data;
        double maxerr = 0;
        for (int p = 0; p < 31; p++)
            for (int r = 0; r < 10; r++)
                for (int c = 0; c < 10; c++) {
                    double s = 0;
                    for (uint32_t k = 0; k < nsep[i]; k++)
                        if (plane[k] == p) s += (double)cols[k * 10 + r] * rows[k * 10 + c];
                    maxerr = fmax(maxerr, fabs(s - full[(p * 10 + r) * 10 + c]));
                }
        assert_true(maxerr < 1e-5);
    }
    nnw_close(f);
    sbf_detector *d = sbf_detector_new(err, sizeof err);
    assert_non_null(d);
    sbf_detector_free(d);
}

/* Sizes and level counts as dlib computes them (pyramid_up of 300x250 is 602x501 in dlib). */
static void test_sizes(void **st) {
    (void)st;
    int w, h;
    sbf_hog_up2_size(300, 250, &w, &h);
    assert_int_equal(w, 602);
    assert_int_equal(h, 501);
    sbf_hog_down6_size(250, 250, &w, &h);
    assert_int_equal(w, 208);
    assert_int_equal(h, 208);
    sbf_hog_down6_size(1137, 910, &w, &h);
    assert_int_equal(w, 947);
    assert_int_equal(h, 758);
    /* 250 -> 207.x -> ... : rect_down keeps >= 64 for 7 steps */
    assert_int_equal(sbf_hog_num_levels(250, 250, 64, 64, 1000), 8);
    assert_int_equal(sbf_hog_num_levels(64, 64, 64, 64, 1000), 1);
    assert_int_equal(sbf_hog_num_levels(0, 0, 64, 64, 1000), 1);
}

/* std::sort(v.rbegin(), v.rend()) order, ties included, from libstdc++ (g++ 12). */
static void test_sort(void **st) {
    (void)st;
    static const double keys[40] = {0, 0, 5, 5, 2, 1, 2, 6, 3, 5, 4, 4, 0, 3, 3, 0, 5, 2, 0, 1,
                                    2, 0, 0, 1, 2, 2, 1, 3, 6, 3, 2, 6, 5, 1, 6, 6, 4, 6, 5, 1};
    static const int ids[40] = {28, 37, 31, 34, 35, 7,  32, 16, 9,  38, 2,  3, 10, 11, 36, 27, 29, 14, 13, 8,
                                17, 4,  20, 30, 24, 25, 6,  33, 26, 23, 39, 5, 19, 22, 21, 18, 15, 12, 1,  0};
    sbf_hog_det v[40];
    for (int i = 0; i < 40; i++) {
        memset(&v[i], 0, sizeof v[i]);
        v[i].key = keys[i];
        v[i].filter = i;
    }
    sbf_hog_sort_desc(v, 40);
    for (int i = 0; i < 40; i++) assert_int_equal(v[i].filter, ids[i]);
    /* 300 keys in {0,1,2}: exercises partitioning; checksum of the id order from libstdc++ */
    unsigned s = 12345;
    for (int i = 0; i < 40; i++) s = s * 1103515245u + 12345u;
    sbf_hog_det *w = calloc(300, sizeof *w);
    for (int i = 0; i < 300; i++) {
        s = s * 1103515245u + 12345u;
        w[i].key = (double)((s >> 16) % 3);
        w[i].filter = i;
    }
    sbf_hog_sort_desc(w, 300);
    uint64_t hsum = 0;
    for (int i = 0; i < 300; i++) hsum = hsum * 31 + (uint64_t)w[i].filter;
    assert_true(hsum == 9137995191060596000ULL);
    free(w);
}

typedef struct {
    long l, t, r, b;
    double score;
    int filter;
} gold;

static void check(const sbf_box *b, int n, const gold *g, int ng) {
    assert_int_equal(n, ng);
    for (int i = 0; i < n; i++) {
        assert_int_equal(b[i].left, g[i].l);
        assert_int_equal(b[i].top, g[i].t);
        assert_int_equal(b[i].right, g[i].r);
        assert_int_equal(b[i].bottom, g[i].b);
        assert_int_equal(b[i].filter, g[i].filter);
        assert_true(fabs(b[i].score - g[i].score) < 1e-9);
    }
}

/* Boxes, scores, filters and order from dlib on the same pixels (decoded by libjpeg-turbo: tools/oracle-detect
 * --json), upsample 0 and 1. */
static void test_golden(void **st) {
    (void)st;
    static const struct {
        const char *rel;
        gold up0[4], up1[4];
        int n0, n1;
    } G[] = {
        {"data/lfw-dev/AJ_Cook/AJ_Cook_0001.jpg",
         {{77, 89, 181, 192, 2.1321089901460524, 0}},
         {{67, 80, 175, 187, 2.0672450219459955, 1}},
         1,
         1},
        {"data/photos/people-examples/obama_small.jpg",
         {{112, 65, 215, 169, 1.4189775623811598, 0}},
         {{103, 68, 211, 175, 1.8968008198274489, 0}},
         1,
         1},
        {"data/photos/dlib-examples/2008_002506.jpg",
         {{123, 54, 227, 158, 1.9492591415545371, 2},
          {330, 77, 434, 181, 1.334108368045849, 1},
          {227, 102, 314, 189, 1.2990840115083571, 0}},
         {{115, 56, 223, 163, 1.6944416557452109, 2},
          {330, 80, 438, 187, 1.5894956742592279, 1},
          {225, 96, 315, 186, 0.96660787243975355, 0}},
         3,
         3},
    };
    char err[256];
    sbf_detector *d = sbf_detector_new(err, sizeof err);
    assert_non_null(d);
    /* (no thread pool under qemu: dynamically linked programs hang in pthread_create there) */
    nn_pool *pool = cross() ? NULL : nn_pool_new(2);
    for (size_t i = 0; i < (cross() ? 1 : sizeof G / sizeof G[0]); i++) {
        sbf_image im;
        if (load_gray(G[i].rel, &im)) continue;
        for (int up = 0; up <= (cross() ? 0 : 1); up++)
            for (int th = 0; th <= (cross() ? 0 : 1); th++) {
                sbf_box *b = NULL;
                int n = sbf_detect(d, im.gray, im.w, im.h, up, th ? pool : NULL, &b);
                check(b, n, up ? G[i].up1 : G[i].up0, up ? G[i].n1 : G[i].n0);
                free(b);
            }
        sbf_image_free(&im);
    }
    if (pool) nn_pool_free(pool);
    sbf_detector_free(d);
}

/* Degenerate inputs: nothing found, no crash. */
static void test_small_and_blank(void **st) {
    (void)st;
    char err[256];
    sbf_detector *d = sbf_detector_new(err, sizeof err);
    assert_non_null(d);
    static uint8_t blank[300 * 300];
    memset(blank, 128, sizeof blank);
    const int sizes[][2] = {{0, 0}, {1, 1}, {3, 2}, {10, 10}, {19, 40}, {20, 20}, {79, 80}, {300, 300}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] - (cross() ? 1 : 0); i++)
        for (int up = 0; up <= (cross() ? 0 : 2); up++) {
            sbf_box *b = (sbf_box *)1;
            int n = sbf_detect(d, blank, sizes[i][0], sizes[i][1], up, NULL, &b);
            assert_int_equal(n, 0);
            assert_null(b);
        }
    sbf_detector_free(d);
}

/* Policy: skipping levels only removes faces; what remains is exactly dlib's. */
static void test_policy(void **st) {
    (void)st;
    char err[256];
    sbf_detector *d = sbf_detector_new(err, sizeof err);
    assert_non_null(d);
    assert_int_equal(sbf_detect_auto_min_face(d, 250, 250, 0), 0);
    assert_int_equal(sbf_detect_auto_min_face(d, 2048, 2048, 0), 0);
    assert_int_equal(sbf_detect_auto_min_face(d, 4000, 3000, 0), 116);
    assert_int_equal(sbf_detect_skip_levels(d, 0, 116), 3);
    assert_int_equal(sbf_detect_skip_levels(d, 0, 115), 2);
    assert_int_equal(sbf_detect_skip_levels(d, 0, 0), 0);
    assert_int_equal(sbf_detect_skip_levels(d, 1, 80), 4);
    sbf_image im;
    if (!cross() && load_gray("data/photos/dlib-examples/bald_guys.jpg", &im) == 0) {
        sbf_box *all = NULL, *big = NULL;
        int na = sbf_detect(d, im.gray, im.w, im.h, 0, NULL, &all);
        int nb = sbf_detect_policy(d, im.gray, im.w, im.h, 0, 150, NULL, &big);
        assert_int_equal(na, 24); /* dlib finds 24 faces here */
        assert_true(nb > 0 && nb < na);
        /* each box is either one of dlib's, or a larger window on the same face that dlib computed
         * (same score) but suppressed in favour of a smaller box from a skipped level */
        int same = 0;
        for (int i = 0; i < nb; i++) {
            int found = 0, covers_smaller = 0;
            for (int j = 0; j < na; j++) {
                found |= all[j].left == big[i].left && all[j].top == big[i].top && all[j].right == big[i].right &&
                         all[j].bottom == big[i].bottom && all[j].score == big[i].score;
                const long il = all[j].left > big[i].left ? all[j].left : big[i].left;
                const long ir = all[j].right < big[i].right ? all[j].right : big[i].right;
                const long it = all[j].top > big[i].top ? all[j].top : big[i].top;
                const long ib = all[j].bottom < big[i].bottom ? all[j].bottom : big[i].bottom;
                const double inter = (ir >= il && ib >= it) ? (double)(ir - il + 1) * (ib - it + 1) : 0;
                const double aj = (double)(all[j].right - all[j].left + 1) * (all[j].bottom - all[j].top + 1);
                if (inter / aj > 0.78 && all[j].right - all[j].left < big[i].right - big[i].left) covers_smaller = 1;
            }
            assert_true(found || covers_smaller);
            same += found;
            assert_true(big[i].right - big[i].left + 1 >= 120);
        }
        assert_true(same >= nb - 3);
        free(all);
        free(big);
        sbf_image_free(&im);
    }
    sbf_detector_free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model),  cmocka_unit_test(test_sizes),           cmocka_unit_test(test_sort),
        cmocka_unit_test(test_golden), cmocka_unit_test(test_small_and_blank), cmocka_unit_test(test_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
