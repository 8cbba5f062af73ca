/* tests/test_weights.c — SBFW writer/loader round trip, validation of every corruption and truncation,
 * float16 conversion, and the real FaceNet file produced by `make setup`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nn/half.h"
#include "nn/weights.h"

static unsigned char *build(size_t *len) {
    nnw_writer *w = nnw_writer_new();
    float a[2 * 3 * 1 * 5];
    for (int i = 0; i < 30; i++) a[i] = (float)i * 0.5f - 3.0f;
    uint16_t h[7];
    for (int i = 0; i < 7; i++) h[i] = nn_f32_to_f16((float)i / 4.0f);
    int8_t q[3] = {-128, 0, 127};
    assert_int_equal(nnw_writer_meta(w, "model", "test"), 0);
    assert_int_equal(nnw_writer_meta(w, "licence", "none"), 0);
    assert_int_equal(nnw_writer_add(w, "conv_kernel", NNW_F32, 4, (uint32_t[]){2, 3, 1, 5}, 1, a), 0);
    assert_int_equal(nnw_writer_add(w, "half", NNW_F16, 1, (uint32_t[]){7}, 1, h), 0);
    assert_int_equal(nnw_writer_add(w, "q", NNW_I8, 2, (uint32_t[]){1, 3}, 0.25f, q), 0);
    unsigned char *b = nnw_writer_serialize(w, len);
    nnw_writer_free(w);
    assert_non_null(b);
    void *al;
    assert_int_equal(posix_memalign(&al, 64, *len), 0);
    memcpy(al, b, *len);
    free(b);
    return al;
}

static void test_roundtrip(void **state) {
    (void)state;
    size_t len;
    unsigned char *b = build(&len);
    char err[256] = "";
    nnw_file *f = nnw_open_memory(b, len, err, sizeof err);
    assert_non_null(f);
    assert_int_equal(nnw_count(f), 3);
    assert_string_equal(nnw_meta(f, "model"), "test");
    assert_null(nnw_meta(f, "absent"));
    const nnw_tensor *t = nnw_expect(f, "conv_kernel", NNW_F32, 4, (uint32_t[]){2, 0, 1, 5}, err, sizeof err);
    assert_non_null(t);
    assert_int_equal(t->count, 30);
    assert_int_equal((uintptr_t)t->data % 64, 0);
    assert_float_equal(((const float *)t->data)[29], 11.5f, 0);
    t = nnw_find(f, "half");
    assert_int_equal(t->dtype, NNW_F16);
    assert_float_equal(nn_f16_to_f32(((const uint16_t *)t->data)[6]), 1.5f, 0);
    t = nnw_find(f, "q");
    assert_float_equal(t->scale, 0.25f, 0);
    assert_int_equal(((const int8_t *)t->data)[0], -128);
    /* shape / dtype mismatches are reported, naming the tensor */
    assert_null(nnw_expect(f, "conv_kernel", NNW_F32, 4, (uint32_t[]){2, 4, 1, 5}, err, sizeof err));
    assert_non_null(strstr(err, "conv_kernel"));
    assert_null(nnw_expect(f, "half", NNW_F32, 1, NULL, err, sizeof err));
    assert_non_null(strstr(err, "float16"));
    assert_null(nnw_expect(f, "missing", NNW_F32, 1, NULL, err, sizeof err));
    assert_non_null(strstr(err, "lacks"));
    nnw_close(f);
    free(b);
}

/* Every byte of header, index and tensor data matters: flipping one must be rejected. */
static void test_corruption_every_byte(void **state) {
    (void)state;
    size_t len;
    unsigned char *b = build(&len);
    char err[256];
    nnw_file *f = nnw_open_memory(b, len, err, sizeof err);
    assert_non_null(f);
    /* collect covered byte ranges: header+index [0, index_end), each tensor's data */
    uint64_t index_end; /* header says: index size at byte 32 (little-endian host assumed by the test) */
    memcpy(&index_end, b + 32, 8);
    index_end += 64;
    size_t ranges[8][2];
    int nr = 0;
    ranges[nr][0] = 0;
    ranges[nr][1] = index_end;
    nr++;
    for (int i = 0; i < nnw_count(f); i++) {
        const nnw_tensor *t = nnw_at(f, i);
        ranges[nr][0] = (size_t)((const unsigned char *)t->data - b);
        ranges[nr][1] = ranges[nr][0] + t->size;
        nr++;
    }
    nnw_close(f);
    int checked = 0;
    for (int r = 0; r < nr; r++)
        for (size_t off = ranges[r][0]; off < ranges[r][1]; off++) {
            b[off] ^= 0x5a;
            err[0] = 0;
            nnw_file *g = nnw_open_memory(b, len, err, sizeof err);
            if (g) fail_msg("flipping byte %zu was not detected", off);
            assert_true(strlen(err) > 10);
            if (off < 8) assert_non_null(strstr(err, "magic"));
            else if (off >= 64 && off < index_end) assert_non_null(strstr(err, "index"));
            else if (off >= index_end) assert_non_null(strstr(err, "checksum mismatch"));
            b[off] ^= 0x5a;
            checked++;
        }
    assert_true(checked > 300);
    free(b);
}

static void test_truncation(void **state) {
    (void)state;
    size_t len;
    unsigned char *b = build(&len);
    char err[256];
    for (size_t l = 0; l < len; l++) {
        nnw_file *g = nnw_open_memory(b, l, err, sizeof err);
        if (g) fail_msg("truncation to %zu bytes not detected", l);
        assert_non_null(strstr(err, "truncated"));
    }
    free(b);
}

static void test_file_save_open(void **state) {
    (void)state;
    char path[] = "/tmp/sbfw-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    nnw_writer *w = nnw_writer_new();
    float v[3] = {1, 2, 3};
    nnw_writer_add(w, "v", NNW_F32, 1, (uint32_t[]){3}, 1, v);
    char err[256];
    assert_int_equal(nnw_writer_save(w, path, err, sizeof err), 0);
    nnw_writer_free(w);
    nnw_file *f = nnw_open(path, err, sizeof err);
    assert_non_null(f);
    assert_float_equal(((const float *)nnw_find(f, "v")->data)[2], 3.0f, 0);
    nnw_close(f);
    /* truncate the file on disk: clear error */
    assert_int_equal(truncate(path, 70), 0);
    assert_null(nnw_open(path, err, sizeof err));
    assert_non_null(strstr(err, "truncated"));
    unlink(path);
    assert_null(nnw_open(path, err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
}

static void test_half(void **state) {
    (void)state;
    float vals[] = {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f, 5.9604645e-08f, 0.1f, 3.14159f};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        float r = nn_f16_to_f32(nn_f32_to_f16(vals[i]));
        assert_true(fabsf(r - vals[i]) <= fabsf(vals[i]) * (1.0f / 1024));
    }
    assert_int_equal(nn_f32_to_f16(1e6f), 0x7c00); /* overflow -> inf */
    assert_int_equal(nn_f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(nn_f32_to_f16(1.0009765625f), 0x3c01);  /* exactly representable */
    assert_int_equal(nn_f32_to_f16(1.00048828125f), 0x3c00); /* halfway: ties to even */
    /* every half value round-trips exactly */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue; /* NaN payloads */
        assert_int_equal(nn_f32_to_f16(nn_f16_to_f32((uint16_t)h)), h);
    }
}

/* The CRC the loader runs (PCLMULQDQ / ARMv8 CRC32 where the CPU has them) is zlib's crc32, and equals the
 * slicing-by-8 code for every length and alignment and when chained. */
static void test_crc_fast_equals_portable(void **state) {
    (void)state;
    printf("  CRC-32 code: %s\n", nnw_crc32_impl());
    assert_int_equal(nnw_crc32(0, "123456789", 9), 0xCBF43926u); /* the check value of CRC-32/ISO-HDLC */
    assert_int_equal(nnw_crc32_portable(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(nnw_crc32(0, "", 0), 0);
    const size_t n = (1u << 20) + 77;
    unsigned char *b = malloc(n + 64);
    assert_non_null(b);
    uint32_t x = 12345;
    for (size_t i = 0; i < n + 64; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (unsigned char)(x >> 16);
    }
    for (size_t off = 0; off < 16; off++)
        for (size_t len = 0; len <= 1100; len++) {
            uint32_t seed = (uint32_t)(off * 7919 + len);
            if (nnw_crc32(seed, b + off, len) != nnw_crc32_portable(seed, b + off, len))
                fail_msg("CRC differs at offset %zu, length %zu", off, len);
        }
    assert_int_equal(nnw_crc32(0, b + 3, n), nnw_crc32_portable(0, b + 3, n));
    assert_int_equal(nnw_crc32(nnw_crc32(0, b, 1000), b + 1000, n - 1000), nnw_crc32(0, b, n));
    memset(b, 0, n); /* all zero and all ones: the init/final inversion matters */
    assert_int_equal(nnw_crc32(0, b, n), nnw_crc32_portable(0, b, n));
    memset(b, 0xff, n);
    assert_int_equal(nnw_crc32(0, b, n), nnw_crc32_portable(0, b, n));
    free(b);
}

/* The real FaceNet weight file that `make setup` produces. */
static void test_facenet_file(void **state) {
    (void)state;
    char err[256];
    const char *path = "weights/facenet-20180402.sbfw";
    if (access(path, R_OK) != 0) fail_msg("%s missing: run `make setup` first", path);
    nnw_file *f = nnw_open(path, err, sizeof err);
    if (!f) fail_msg("%s: %s", path, err);
    assert_int_equal(nnw_count(f), 266);
    /* kernels in nn's panels (NAME_p16: [cout/16, kh, kw, cin*16]), ready to be used in place */
    if (!nnw_expect(f, "Conv2d_1a_3x3_kernel_p16", NNW_F32, 4, (uint32_t[]){2, 3, 3, 3 * 16}, err, sizeof err))
        fail_msg("%s (an older file with OHWI kernels: `make weights` rewrites it)", err);
    assert_non_null(nnw_expect(f, "Block17_1_Branch_1_Conv2d_0b_1x7_kernel_p16", NNW_F32, 4,
                               (uint32_t[]){128 / 16, 1, 7, 128 * 16}, err, sizeof err));
    assert_non_null(nnw_expect(f, "Bottleneck_kernel_transpose_p16", NNW_F32, 4, (uint32_t[]){32, 1, 1, 1792 * 16}, err,
                               sizeof err));
    uint64_t total = 0;
    for (int i = 0; i < nnw_count(f); i++) total += nnw_at(f, i)->count;
    assert_int_equal(total, 23467824);
    assert_non_null(nnw_meta(f, "licence"));
    nnw_close(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_corruption_every_byte),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_file_save_open),
        cmocka_unit_test(test_half),
        cmocka_unit_test(test_facenet_file),
        cmocka_unit_test(test_crc_fast_equals_portable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
