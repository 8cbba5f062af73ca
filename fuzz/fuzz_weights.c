/* fuzz/fuzz_weights.c — fuzz target: the SBFW weight-file loader (nn/weights.c, weights/FORMAT.md). */
#include "fuzz/fuzz.h"

#include <string.h>
#include "nn/weights.h"

static uint64_t w_rd(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static void w_wr32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void w_wr64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Makes the file self-consistent where a fuzzer cannot: file size, every tensor CRC, the index CRC
 * and the header CRC are recomputed (bounds permitting), so mutations reach the structural checks. */
static void w_fix_checksums(uint8_t *b, size_t n) {
    if (n < 64) return;
    w_wr64(b + 48, n);
    uint64_t ioff = w_rd(b + 24, 8), isz = w_rd(b + 32, 8);
    if (ioff <= n && isz <= n - ioff) {
        uint8_t *ix = b + ioff;
        uint32_t nt = (uint32_t)w_rd(b + 16, 4), nm = (uint32_t)w_rd(b + 20, 4);
        uint64_t pos = 0;
        for (uint32_t i = 0; i < nm && pos + 6 <= isz; i++) pos += 6 + w_rd(ix + pos, 2) + w_rd(ix + pos + 2, 4);
        for (uint32_t i = 0; i < nt && pos <= isz && isz - pos >= 44; i++) {
            uint8_t *e = ix + pos;
            uint64_t off = w_rd(e + 24, 8), sz = w_rd(e + 32, 8);
            if (off <= n && sz <= n - off) w_wr32(e + 40, nnw_crc32(0, b + off, (size_t)sz));
            pos += 44 + w_rd(e, 2);
        }
        w_wr32(b + 56, nnw_crc32(0, ix, (size_t)isz));
    }
    w_wr32(b + 60, nnw_crc32(0, b, 60));
}

static volatile unsigned w_sink;

static int w_check_one(const uint8_t *buf, size_t n) {
    char err[512];
    err[0] = 0;
    /* the CRC code the loader runs (PCLMULQDQ / ARMv8 CRC32 where present) equals the portable one */
    FUZZ_CHECK(nnw_crc32(0, buf, n) == nnw_crc32_portable(0, buf, n));
    nnw_file *f = nnw_open_memory(buf, n, err, sizeof err);
    if (!f) {
        FUZZ_CHECK(err[0] != 0 && memchr(err, 0, sizeof err) != NULL);
        return 0;
    }
    int nt = nnw_count(f);
    FUZZ_CHECK(nt >= 0);
    FUZZ_CHECK(nnw_at(f, -1) == NULL && nnw_at(f, nt) == NULL);
    unsigned acc = 0;
    for (int i = 0; i < nt; i++) {
        const nnw_tensor *t = nnw_at(f, i);
        FUZZ_CHECK(t != NULL && t->name != NULL && t->name[0] != 0);
        FUZZ_CHECK(nnw_find(f, t->name) == t); /* names are unique */
        FUZZ_CHECK(t->ndim >= 1 && t->ndim <= NNW_MAX_DIMS);
        size_t es = nnw_dtype_size(t->dtype);
        FUZZ_CHECK(es == 1 || es == 2 || es == 4);
        FUZZ_CHECK(strcmp(nnw_dtype_name(t->dtype), "?") != 0);
        uint64_t count = 1;
        for (int d = 0; d < NNW_MAX_DIMS; d++) {
            FUZZ_CHECK(t->shape[d] >= 1);
            if (d >= t->ndim) FUZZ_CHECK(t->shape[d] == 1);
            FUZZ_CHECK(count <= UINT64_MAX / t->shape[d]); /* the shape's element count fits */
            count *= t->shape[d];
        }
        FUZZ_CHECK(count == t->count);
        FUZZ_CHECK(count <= UINT64_MAX / es && t->size == count * es);
        const uint8_t *p = t->data;
        FUZZ_CHECK(p >= buf && (uintptr_t)p % 64 == 0);
        FUZZ_CHECK((uint64_t)(p - buf) <= n && t->size <= n - (size_t)(p - buf));
        for (uint64_t k = 0; k < t->size; k++) acc += p[k]; /* every byte is readable */
        FUZZ_CHECK(nnw_expect(f, t->name, t->dtype, t->ndim, t->shape, err, sizeof err) == t);
        FUZZ_CHECK(nnw_expect(f, t->name, t->dtype, t->ndim, NULL, err, sizeof err) == t);
    }
    int nm = nnw_meta_count(f);
    FUZZ_CHECK(nm >= 0);
    for (int i = 0; i < nm; i++) {
        const char *k = NULL, *v = NULL;
        nnw_meta_at(f, i, &k, &v);
        FUZZ_CHECK(k != NULL && v != NULL && k[0] != 0);
        acc += (unsigned)strlen(v);
        const char *first = nnw_meta(f, k);
        FUZZ_CHECK(first != NULL);
    }
    FUZZ_CHECK(nnw_find(f, "") == NULL);
    nnw_close(f);
    w_sink += acc; /* keeps the reads from being optimised away */
    return 1;
}

int sbf_fuzz_weights(const uint8_t *data, size_t size) {
    /* The loader requires 64-byte alignment; an exact-size allocation lets ASan see any over-read. */
    void *buf = NULL;
    FUZZ_CHECK(posix_memalign(&buf, 64, size ? size : 64) == 0);
    if (size) memcpy(buf, data, size);
    int ok = w_check_one(buf, size);
    if (size >= 64) {
        w_fix_checksums(buf, size);
        w_check_one(buf, size);
    }
    free(buf);
    return ok;
}

#ifndef SBF_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sbf_fuzz_weights(data, size);
    return 0;
}
#endif
