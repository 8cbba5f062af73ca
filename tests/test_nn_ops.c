/* tests/test_nn_ops.c — every nn/ operator and kernel flavour (scalar, AVX2, NEON — whichever this
 * machine runs) against the naive reference on odd shapes: 7 channels, 9x5 images, VALID/SAME,
 * stride 1/2, 1x7/7x1/1x3/3x1 kernels, channel slices, residual add, ReLU, threads, binary16 panels.
 * ("avx512" is the AVX2 table plus a two-panel AVX-512F conv kernel, used when the CPU has AVX-512F.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>
#include <cmocka.h>
#include "nn/conv.h"
#include "nn/ops.h"
#include "nn/half.h"
#include "nn/kernels.h"
#include "nn/threadpool.h"

static uint32_t g_rng = 12345;
static float frand(void) { /* uniform in [-1, 1) */
    g_rng = g_rng * 1664525u + 1013904223u;
    return (float)((g_rng >> 8) & 0xffffff) / 8388608.0f - 1.0f;
}
static float *rand_buf(size_t n) {
    float *p = malloc(n * sizeof *p + 64);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) p[i] = frand();
    return p;
}

static const char *const ISAS[] = {"scalar", "avx2", "avx512", "neon"};

/* Runs one convolution configuration through every available ISA, compares with nn_ref_conv2d. */
static int check_conv(int n, int h, int w, int cin, int cout, int kh, int kw, int sh, int sw, nn_padding pad, int flags,
                      int in_extra, int out_off, int out_extra, int f16, nn_pool *pool) {
    int in_ld = cin + in_extra, out_ld = cout + out_off + out_extra;
    float *in = rand_buf((size_t)n * h * w * in_ld);
    float *wt = rand_buf((size_t)cout * kh * kw * cin);
    float *bias = rand_buf((size_t)cout);
    if (f16) /* the reference sees exactly the weights the kernel sees */
        for (size_t i = 0; i < (size_t)cout * kh * kw * cin; i++) wt[i] = nn_f16_to_f32(nn_f32_to_f16(wt[i]));
    nn_conv cv;
    assert_int_equal(nn_conv_init(&cv, wt, 0, bias, cout, kh, kw, cin, sh, sw, pad, f16), 0);
    int oh, ow, pt, pl;
    nn_conv_geometry(&cv, h, w, &oh, &ow, &pt, &pl);
    size_t osz = (size_t)n * oh * ow * out_ld;
    float *init = rand_buf(osz), *ref = malloc(osz * sizeof(float) + 4), *got = malloc(osz * sizeof(float) + 4);
    memcpy(ref, init, osz * sizeof(float));
    nn_ref_conv2d(in, n, h, w, cin, in_ld, wt, bias, cout, kh, kw, sh, sw, pad, ref + out_off, out_ld, flags);
    int tested = 0;
    /* Direct, then (3x3 stride 1) Winograd F(4x4, 3x3) on the same panels. */
    for (int wino = 0; wino < 2; wino++) {
        if (wino) {
            const int r = nn_conv_winograd(&cv);
            assert_int_equal(r, kh == 3 && kw == 3 && sh == 1 && sw == 1 ? 0 : 1);
            if (r) break;
        }
        for (size_t i = 0; i < sizeof ISAS / sizeof *ISAS; i++) {
            if (nn_set_isa(ISAS[i]) != 0) continue;
            if (f16 && !nn_kern()->gemm_f16) continue;
            memcpy(got, init, osz * sizeof(float));
            nn_conv_run(&cv, pool, in, n, h, w, in_ld, got + out_off, out_ld, flags);
            double tol = 1e-4 * sqrt((double)kh * kw * cin);
            for (size_t j = 0; j < osz; j++) {
                if (fabs(got[j] - ref[j]) > tol) {
                    fail_msg("conv %s%s n%d %dx%d cin%d cout%d k%dx%d s%d,%d pad%d flags%d f16=%d: [%zu] %g vs %g",
                             ISAS[i], wino ? " winograd" : "", n, h, w, cin, cout, kh, kw, sh, sw, (int)pad, flags,
                             f16, j, got[j], ref[j]);
                }
            }
            tested++;
        }
    }
    nn_set_isa("auto");
    nn_conv_free(&cv);
    free(in);
    free(wt);
    free(bias);
    free(init);
    free(ref);
    free(got);
    return tested;
}

static void test_isa_selection(void **state) {
    (void)state;
    const unsigned f = nn_cpu_features();
    assert_int_equal(nn_set_isa("scalar"), 0);
    assert_string_equal(nn_isa_name(), "scalar");
    assert_int_equal(nn_set_isa("no-such-isa"), -1);
    assert_string_equal(nn_isa_name(), "scalar");
#if defined(__x86_64__)
    if ((f & (NN_CPU_AVX2 | NN_CPU_FMA | NN_CPU_F16C)) == (NN_CPU_AVX2 | NN_CPU_FMA | NN_CPU_F16C)) {
        assert_int_equal(nn_set_isa("avx2"), 0);
        assert_string_equal(nn_isa_name(), "avx2");
        assert_null(nn_kern()->gemm2);
    } else {
        assert_int_equal(nn_set_isa("avx2"), -1);
    }
    if (f & NN_CPU_AVX512F) {
        assert_int_equal(nn_set_isa("avx512"), 0);
        assert_string_equal(nn_isa_name(), "avx512");
        assert_non_null(nn_kern()->gemm2);
    }
    assert_int_equal(nn_set_isa("neon"), -1);
#elif defined(__ARM_NEON)
    assert_true(f & NN_CPU_NEON);
    assert_int_equal(nn_set_isa("avx512"), -1);
    assert_int_equal(nn_set_isa("neon"), 0);
    assert_string_equal(nn_isa_name(), "neon");
    assert_int_equal(nn_set_isa("avx2"), -1);
#endif
    (void)f;
    assert_int_equal(nn_set_isa("auto"), 0);
}

static void test_conv_odd_shapes(void **state) {
    (void)state;
    static const int ks[][2] = {{1, 1}, {3, 3}, {1, 7}, {7, 1}, {1, 3}, {3, 1}, {2, 2}, {5, 3}};
    static const int couts[] = {7, 16, 33};
    int cases = 0;
    for (size_t k = 0; k < sizeof ks / sizeof *ks; k++)
        for (int s = 1; s <= 2; s++)
            for (int pad = 0; pad <= 1; pad++)
                for (size_t co = 0; co < 3; co++) {
                    int kh = ks[k][0], kw = ks[k][1];
                    if (pad == NN_PAD_VALID && (kh > 9 || kw > 5)) continue;
                    int flags = (int)((k + co + (size_t)s) % 3 == 0 ? 0
                                      : (k + co) % 3 == 1           ? NN_RELU
                                                                    : NN_RELU | NN_ACCUM);
                    assert_true(
                        check_conv(2, 9, 5, 7, couts[co], kh, kw, s, s, (nn_padding)pad, flags, 0, 0, 0, 0, NULL) >= 1);
                    cases++;
                }
    assert_true(cases > 80);
}

static void test_conv_slices_and_strides(void **state) {
    (void)state;
    /* input channel slice (in_ld > cin), output slice (offset + wider pixel stride) */
    assert_true(check_conv(1, 9, 5, 7, 13, 3, 3, 1, 1, NN_PAD_SAME, NN_RELU, 5, 3, 4, 0, NULL) >= 1);
    assert_true(check_conv(3, 8, 11, 3, 32, 3, 3, 2, 2, NN_PAD_VALID, NN_RELU, 0, 16, 0, 0, NULL) >= 1);
    /* asymmetric strides, TF SAME with an even-sized input (pads bottom/right more) */
    assert_true(check_conv(1, 10, 6, 5, 20, 3, 3, 2, 1, NN_PAD_SAME, 0, 1, 0, 0, 0, NULL) >= 1);
    assert_true(check_conv(2, 6, 10, 9, 17, 1, 7, 1, 2, NN_PAD_SAME, NN_RELU | NN_ACCUM, 0, 0, 0, 0, NULL) >= 1);
    /* 1x1 on a 1x1 image = fully connected */
    assert_true(check_conv(5, 1, 1, 70, 37, 1, 1, 1, 1, NN_PAD_VALID, 0, 0, 0, 0, 0, NULL) >= 1);
    /* larger K than one panel block */
    assert_true(check_conv(1, 7, 7, 300, 48, 3, 3, 1, 1, NN_PAD_SAME, NN_RELU, 0, 0, 0, 0, NULL) >= 1);
}

static void test_conv_threads(void **state) {
    (void)state;
    nn_pool *pool = nn_pool_new(3);
    assert_non_null(pool);
    assert_true(check_conv(2, 9, 5, 7, 33, 3, 3, 1, 1, NN_PAD_SAME, NN_RELU, 0, 0, 0, 0, pool) >= 1);
    assert_true(check_conv(1, 3, 3, 40, 100, 1, 3, 1, 1, NN_PAD_SAME, NN_RELU | NN_ACCUM, 0, 0, 0, 0, pool) >= 1);
    assert_true(check_conv(2, 23, 19, 8, 24, 3, 3, 2, 2, NN_PAD_VALID, NN_RELU, 0, 8, 8, 0, pool) >= 1);
    nn_pool_free(pool);
}

/* Winograd at FaceNet's shapes: several tile blocks per task (77x77, 36x36), partial tiles at the bottom and right
 * edges (VALID 79 -> 77, SAME 17x17), tasks split by tiles and by panels (threads), every output outside the tile
 * grid untouched (slices of a wider output). */
static void test_conv_winograd_shapes(void **state) {
    (void)state;
    nn_pool *pool = nn_pool_new(3);
    assert_non_null(pool);
    assert_true(check_conv(1, 79, 79, 32, 32, 3, 3, 1, 1, NN_PAD_VALID, NN_RELU, 0, 0, 0, 0, NULL) >= 1);
    assert_true(check_conv(2, 38, 38, 80, 40, 3, 3, 1, 1, NN_PAD_VALID, NN_RELU, 3, 5, 7, 0, pool) >= 1);
    assert_true(check_conv(2, 17, 17, 192, 50, 3, 3, 1, 1, NN_PAD_SAME, NN_RELU | NN_ACCUM, 0, 0, 0, 0, pool) >= 1);
    assert_true(check_conv(2, 8, 8, 256, 64, 3, 3, 1, 1, NN_PAD_SAME, NN_RELU, 0, 32, 0, 0, pool) >= 1);
    assert_true(check_conv(3, 1, 2, 5, 3, 3, 3, 1, 1, NN_PAD_SAME, 0, 0, 0, 0, 0, NULL) >= 1);
    nn_pool_free(pool);
}

static void test_conv_f16_panels(void **state) {
    (void)state;
    check_conv(2, 9, 5, 7, 33, 3, 3, 1, 1, NN_PAD_SAME, NN_RELU, 0, 0, 0, 1, NULL);
    check_conv(1, 4, 4, 64, 16, 1, 1, 1, 1, NN_PAD_VALID, NN_ACCUM, 0, 0, 0, 1, NULL);
}

static void test_conv_f16_source(void **state) {
    (void)state;
    /* binary16 weights in the file, float32 panels: identical to float32 weights of the same values */
    int cout = 9, cin = 7, k = 3;
    size_t nw = (size_t)cout * k * k * cin;
    uint16_t *wh = malloc(nw * 2);
    float *wf = malloc(nw * 4), *in = rand_buf(9 * 5 * 7);
    for (size_t i = 0; i < nw; i++) {
        wh[i] = nn_f32_to_f16(frand());
        wf[i] = nn_f16_to_f32(wh[i]);
    }
    nn_conv a, b;
    assert_int_equal(nn_conv_init(&a, wh, 1, NULL, cout, k, k, cin, 1, 1, NN_PAD_SAME, 0), 0);
    assert_int_equal(nn_conv_init(&b, wf, 0, NULL, cout, k, k, cin, 1, 1, NN_PAD_SAME, 0), 0);
    float o1[9 * 5 * 9], o2[9 * 5 * 9];
    nn_conv_run(&a, NULL, in, 1, 9, 5, 7, o1, 9, 0);
    nn_conv_run(&b, NULL, in, 1, 9, 5, 7, o2, 9, 0);
    assert_memory_equal(o1, o2, sizeof o1);
    nn_conv_free(&a);
    nn_conv_free(&b);
    free(wh);
    free(wf);
    free(in);
}

/* Panels packed ahead (nn_conv_pack, as a weight file stores them) and used in place give what packing at init
 * gives, bit for bit, float32 and binary16, with a padded last panel (21 output channels); unpack inverts pack. */
static void test_conv_packed_in_place(void **state) {
    (void)state;
    const int cout = 21, cin = 7, kh = 1, kw = 3;
    const size_t nw = (size_t)cout * kh * kw * cin;
    float *w = rand_buf(nw), *bias = rand_buf(cout), *in = rand_buf(9 * 5 * cin), *back = malloc(nw * sizeof(float));
    for (int f16 = 0; f16 <= 1; f16++) {
        if (f16) /* binary16 panels: compare with values binary16 holds exactly */
            for (size_t i = 0; i < nw; i++) w[i] = nn_f16_to_f32(nn_f32_to_f16(w[i]));
        size_t bytes = nn_conv_panel_bytes(cout, kh, kw, cin, f16);
        void *panels = NULL;
        assert_int_equal(posix_memalign(&panels, 64, bytes), 0);
        memset(panels, 0xa5, bytes);
        nn_conv_pack(panels, f16, w, 0, cout, kh, kw, cin);
        nn_conv_unpack(back, panels, f16, cout, kh, kw, cin);
        assert_memory_equal(back, w, nw * sizeof(float));
        nn_conv a, b;
        assert_int_equal(nn_conv_init(&a, w, 0, bias, cout, kh, kw, cin, 1, 1, NN_PAD_SAME, f16), 0);
        assert_int_equal(nn_conv_init_packed(&b, panels, f16, bias, cout, kh, kw, cin, 1, 1, NN_PAD_SAME), 0);
        assert_memory_equal(a.panels, b.panels, bytes);
        assert_ptr_equal(b.panels, panels); /* used in place, not copied */
        float o1[9 * 5 * 21], o2[9 * 5 * 21];
        for (size_t i = 0; i < sizeof ISAS / sizeof *ISAS; i++) {
            if (nn_set_isa(ISAS[i]) != 0) continue;
            nn_conv_run(&a, NULL, in, 1, 9, 5, cin, o1, cout, NN_RELU);
            nn_conv_run(&b, NULL, in, 1, 9, 5, cin, o2, cout, NN_RELU);
            assert_memory_equal(o1, o2, sizeof o1);
        }
        nn_set_isa("auto");
        nn_conv_free(&a);
        nn_conv_free(&b); /* leaves the caller's panels alone */
        assert_int_equal(nn_conv_init_packed(&b, (char *)panels + 4, f16, bias, cout, kh, kw, cin, 1, 1, NN_PAD_SAME),
                         -1);
        free(panels);
    }
    free(w);
    free(bias);
    free(in);
    free(back);
}

/* nn_conv_open_plain gives a file's packed kernels back as plain float32 kernels (OHWI; [out, in] for a
 * _kernel_transpose), out rounded up to 16 with zero rows; other tensors as stored; a file without panels
 * as it is; a NAME_p16 not in the panel layout refused with its name. */
static void test_open_plain(void **state) {
    (void)state;
    const int cout = 16, cin = 5;
    const size_t nw = (size_t)cout * 3 * 1 * cin, nf = (size_t)cout * cin;
    float *w = rand_buf(nw), *fcw = rand_buf(nf), *bias = rand_buf(cout);
    void *p1 = NULL, *p2 = NULL, *p3 = NULL;
    assert_int_equal(posix_memalign(&p1, 64, nn_conv_panel_bytes(cout, 3, 1, cin, 0)), 0);
    assert_int_equal(posix_memalign(&p2, 64, nn_conv_panel_bytes(cout, 1, 1, cin, 1)), 0);
    assert_int_equal(posix_memalign(&p3, 64, nn_conv_panel_bytes(9, 1, 1, cin, 0)), 0);
    for (size_t i = 0; i < nf; i++) fcw[i] = nn_f16_to_f32(nn_f32_to_f16(fcw[i])); /* stored as binary16 */
    nn_conv_pack(p1, 0, w, 0, cout, 3, 1, cin);
    nn_conv_pack(p2, 1, fcw, 0, cout, 1, 1, cin);
    nn_conv_pack(p3, 0, w, 0, 9, 1, 1, cin); /* 9 output channels: 7 zero rows come back */
    char path[] = "/tmp/sbf-plain-XXXXXX", err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (int round = 0; round < 3; round++) {
        nnw_writer *wr = nnw_writer_new();
        assert_int_equal(nnw_writer_meta(wr, "layout", "panels"), 0);
        if (round == 0) {
            assert_int_equal(nnw_writer_add(wr, "a_kernel_p16", NNW_F32, 4, (uint32_t[]){1, 3, 1, cin * 16}, 1, p1), 0);
            assert_int_equal(nnw_writer_add(wr, "a_bias", NNW_F32, 1, (uint32_t[]){cout}, 1, bias), 0);
            assert_int_equal(
                nnw_writer_add(wr, "b_kernel_transpose_p16", NNW_F16, 4, (uint32_t[]){1, 1, 1, cin * 16}, 1, p2), 0);
            assert_int_equal(nnw_writer_add(wr, "c_kernel_p16", NNW_F32, 4, (uint32_t[]){1, 1, 1, cin * 16}, 1, p3), 0);
        } else if (round == 1) { /* no panels: opened as it is */
            assert_int_equal(nnw_writer_add(wr, "a_kernel", NNW_F32, 4, (uint32_t[]){cout, 3, 1, cin}, 1, w), 0);
        } else {
            assert_int_equal(nnw_writer_add(wr, "d_kernel_p16", NNW_F32, 3, (uint32_t[]){1, 3, cin * 16}, 1, p1), 0);
        }
        assert_int_equal(nnw_writer_save(wr, path, err, sizeof err), 0);
        nnw_writer_free(wr);
        nnw_file *f = nn_conv_open_plain(path, err, sizeof err);
        if (round == 2) {
            assert_null(f);
            assert_non_null(strstr(err, "d_kernel_p16"));
            continue;
        }
        assert_non_null(f);
        const nnw_tensor *t = nnw_expect(f, "a_kernel", NNW_F32, 4, (uint32_t[]){cout, 3, 1, cin}, err, sizeof err);
        assert_non_null(t);
        assert_memory_equal(t->data, w, nw * sizeof(float));
        if (round == 0) {
            assert_null(nnw_find(f, "a_kernel_p16"));
            assert_string_equal(nnw_meta(f, "layout"), "kernels unpacked to OHWI from: panels");
            t = nnw_expect(f, "a_bias", NNW_F32, 1, (uint32_t[]){cout}, err, sizeof err);
            assert_non_null(t);
            assert_memory_equal(t->data, bias, cout * sizeof(float));
            t = nnw_expect(f, "b_kernel_transpose", NNW_F32, 2, (uint32_t[]){cout, cin}, err, sizeof err);
            assert_non_null(t);
            assert_memory_equal(t->data, fcw, nf * sizeof(float));
            t = nnw_expect(f, "c_kernel", NNW_F32, 4, (uint32_t[]){16, 1, 1, cin}, err, sizeof err);
            assert_non_null(t);
            assert_memory_equal(t->data, w, 9 * (size_t)cin * sizeof(float));
            for (size_t i = 9 * (size_t)cin; i < 16 * (size_t)cin; i++)
                assert_true(((const float *)t->data)[i] == 0.0f);
        }
        nnw_close(f);
    }
    unlink(path);
    assert_null(nn_conv_open_plain(path, err, sizeof err));
    free(p1);
    free(p2);
    free(p3);
    free(w);
    free(fcw);
    free(bias);
}

static void test_conv_rejects_bad_args(void **state) {
    (void)state;
    nn_conv cv;
    float w[4] = {0};
    assert_int_equal(nn_conv_init(&cv, w, 0, NULL, 0, 1, 1, 4, 1, 1, NN_PAD_VALID, 0), -1);
    assert_int_equal(nn_conv_init(&cv, w, 0, NULL, 1, 9, 9, 4, 1, 1, NN_PAD_VALID, 0), -1); /* > 64 taps */
    assert_int_equal(nn_conv_init(&cv, w, 0, NULL, 1, 1, 1, 4, 0, 1, NN_PAD_VALID, 0), -1);
}

static void check_maxpool(int n, int h, int w, int ch, int in_extra, int out_off, int out_extra) {
    int in_ld = ch + in_extra, out_ld = ch + out_off + out_extra, oh = (h - 3) / 2 + 1, ow = (w - 3) / 2 + 1;
    float *in = rand_buf((size_t)n * h * w * in_ld);
    size_t osz = (size_t)n * oh * ow * out_ld;
    float *ref = rand_buf(osz), *got = malloc(osz * sizeof(float));
    float *init = malloc(osz * sizeof(float));
    memcpy(init, ref, osz * sizeof(float));
    nn_ref_maxpool(in, n, h, w, ch, in_ld, 3, 2, ref + out_off, out_ld);
    int tested = 0;
    for (size_t i = 0; i < sizeof ISAS / sizeof *ISAS; i++) {
        if (nn_set_isa(ISAS[i]) != 0) continue;
        memcpy(got, init, osz * sizeof(float));
        nn_maxpool3s2(in, n, h, w, ch, in_ld, got + out_off, out_ld);
        assert_memory_equal(got, ref, osz * sizeof(float));
        tested++;
    }
    assert_true(tested >= 1);
    nn_set_isa("auto");
    free(in);
    free(ref);
    free(got);
    free(init);
}

static void test_maxpool(void **state) {
    (void)state;
    check_maxpool(1, 9, 5, 7, 0, 0, 0);
    check_maxpool(2, 9, 5, 7, 3, 2, 5);
    check_maxpool(1, 10, 12, 19, 0, 0, 0);
    check_maxpool(2, 17, 17, 64, 0, 640, 0);
    check_maxpool(1, 3, 3, 1, 0, 0, 0);
}

static void test_maxpool_reference_values(void **state) {
    (void)state;
    /* 5x5 single channel ramp: outputs are the bottom-right corners of the windows */
    float in[25], out[4];
    for (int i = 0; i < 25; i++) in[i] = (float)i;
    nn_ref_maxpool(in, 1, 5, 5, 1, 1, 3, 2, out, 1);
    assert_true(out[0] == 12.0f && out[1] == 14.0f && out[2] == 22.0f && out[3] == 24.0f);
    nn_maxpool3s2(in, 1, 5, 5, 1, 1, out, 1);
    assert_true(out[0] == 12.0f && out[1] == 14.0f && out[2] == 22.0f && out[3] == 24.0f);
}

static void test_avgpool(void **state) {
    (void)state;
    /* 2 images, 3x3 pixels, 2 channels: channel 0 = pixel index, channel 1 = 10*image */
    float in[2 * 9 * 2], out[4];
    for (int i = 0; i < 2; i++)
        for (int p = 0; p < 9; p++) {
            in[(i * 9 + p) * 2] = (float)p;
            in[(i * 9 + p) * 2 + 1] = 10.0f * i - 3.0f;
        }
    nn_global_avgpool(in, 2, 9, 2, out);
    assert_float_equal(out[0], 4.0, 1e-6);
    assert_float_equal(out[1], -3.0, 1e-6);
    assert_float_equal(out[2], 4.0, 1e-6);
    assert_float_equal(out[3], 7.0, 1e-6);
}

static void test_l2_normalize(void **state) {
    (void)state;
    float v[6] = {3, 4, 0, 0, 0, 0};
    nn_l2_normalize(v, 2, 3);
    assert_float_equal(v[0], 0.6, 1e-7);
    assert_float_equal(v[1], 0.8, 1e-7);
    assert_float_equal(v[2], 0.0, 0);
    assert_float_equal(v[3], 0.0, 0); /* zero vector stays zero, no NaN */
    assert_false(isnan(v[4]));
    float *r = rand_buf(513);
    nn_l2_normalize(r, 1, 513);
    double ss = 0;
    for (int i = 0; i < 513; i++) ss += (double)r[i] * r[i];
    assert_float_equal(ss, 1.0, 1e-6);
    free(r);
}

static void test_input_scaling(void **state) {
    (void)state;
    unsigned char px[4] = {0, 127, 128, 255};
    float out[4];
    nn_input_rgb(px, 4, out);
    assert_float_equal(out[0], -127.5 / 128, 0);
    assert_float_equal(out[1], -0.5 / 128, 0);
    assert_float_equal(out[2], 0.5 / 128, 0);
    assert_float_equal(out[3], 127.5 / 128, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_selection),
        cmocka_unit_test(test_conv_odd_shapes),
        cmocka_unit_test(test_conv_slices_and_strides),
        cmocka_unit_test(test_conv_threads),
        cmocka_unit_test(test_conv_winograd_shapes),
        cmocka_unit_test(test_conv_f16_panels),
        cmocka_unit_test(test_conv_f16_source),
        cmocka_unit_test(test_conv_packed_in_place),
        cmocka_unit_test(test_conv_rejects_bad_args),
        cmocka_unit_test(test_maxpool),
        cmocka_unit_test(test_maxpool_reference_values),
        cmocka_unit_test(test_avgpool),
        cmocka_unit_test(test_l2_normalize),
        cmocka_unit_test(test_input_scaling),
        cmocka_unit_test(test_open_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
