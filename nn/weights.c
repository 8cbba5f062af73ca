/* nn/weights.c — SBFW weight files: see weights/FORMAT.md for the layout this code reads and writes. */
#include "nn/weights.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HDR_SIZE 64
#define ALIGN 64
static const unsigned char MAGIC[8] = {'S', 'B', 'F', 'W', '\r', '\n', 0x1a, '\n'};
#define VERSION 1
#define TENSOR_ENTRY_FIXED 44 /* u16 name_len, u8 dtype, u8 ndim, u32 shape[4], f32 scale, u64 off, u64 size, u32 crc */

struct nnw_file {
    const unsigned char *base;
    size_t len;
    int mapped;  /* munmap on close */
    void *owned; /* malloc'ed copy (read fallback) */
    int ntensors, nmeta;
    nnw_tensor *tensors;
    char **meta_keys, **meta_vals;
    char *names; /* storage for NUL-terminated names */
};

/* ---- CRC32 (IEEE, reflected, zlib's crc32) ----------------------------------------------------
 * Every open checks the CRC of every tensor (the whole 94 MB FaceNet file), so it runs on the fastest code
 * the CPU has: x86-64 PCLMULQDQ folding, the ARMv8 CRC32 instructions (aarch64, and armv7 builds on an ARMv8
 * core), else slicing-by-8.  All compute the same function (tests/test_weights.c compares them); the "raw"
 * helpers work on the uninverted register. */
static uint32_t crc_tab[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
typedef uint32_t (*crc_fn)(uint32_t raw, const unsigned char *p, size_t len);
static crc_fn crc_fast;

static uint32_t crc_raw_sb8(uint32_t crc, const unsigned char *p, size_t len) {
    while (len && ((uintptr_t)p & 7)) {
        crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        len--;
    }
    while (len >= 8) {
        uint32_t a = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        uint32_t b = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        a ^= crc;
        crc = crc_tab[7][a & 0xff] ^ crc_tab[6][(a >> 8) & 0xff] ^ crc_tab[5][(a >> 16) & 0xff] ^ crc_tab[4][a >> 24] ^
              crc_tab[3][b & 0xff] ^ crc_tab[2][(b >> 8) & 0xff] ^ crc_tab[1][(b >> 16) & 0xff] ^ crc_tab[0][b >> 24];
        p += 8;
        len -= 8;
    }
    while (len--) crc = crc_tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
#include <immintrin.h>
/* Folding with carry-less multiplies.  A 16-byte block loaded little-endian is the message polynomial of its
 * 128 bits (first bit = highest power): X = L x^64 + H (L: bytes 0-7, H: bytes 8-15, each bit-reflected).
 * Moving X forward by D bits modulo P: L x^(64+D) + H x^D == L (x^(D+32) mod P) x^32 + H (x^(D-32) mod P) x^32,
 * and a reflected 64 x 33-bit carry-less product carries exactly that x^32 when the 32-bit constant is stored
 * reflected and shifted left by one.  Four blocks are folded 64 bytes ahead at a time, then into one, which is
 * finished with the table code: the message is congruent to those 16 bytes followed by the rest. */
static uint64_t clmul_k[4]; /* D = 512: x^544, x^480; D = 128: x^160, x^96 (mod P, reflected, << 1) */
static uint64_t xpow_mod_reflected(int e) {
    uint32_t v = 1; /* x^0, normal order */
    for (int i = 0; i < e; i++) v = (v << 1) ^ ((v >> 31) ? 0x04C11DB7u : 0);
    uint32_t r = 0;
    for (int i = 0; i < 32; i++) r |= ((v >> i) & 1u) << (31 - i);
    return (uint64_t)r << 1;
}
__attribute__((target("pclmul,sse4.1"))) static inline __m128i fold(__m128i x, __m128i k) {
    return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11));
}
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc_raw_clmul(uint32_t crc, const unsigned char *p,
                                                                       size_t len) {
    if (len < 64) return crc_raw_sb8(crc, p, len);
    const __m128i k512 = _mm_set_epi64x((long long)clmul_k[1], (long long)clmul_k[0]);
    const __m128i k128 = _mm_set_epi64x((long long)clmul_k[3], (long long)clmul_k[2]);
    __m128i x0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi32_si128((int)crc));
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16)), x2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    p += 64;
    len -= 64;
    for (; len >= 64; p += 64, len -= 64) {
        x0 = _mm_xor_si128(fold(x0, k512), _mm_loadu_si128((const __m128i *)p));
        x1 = _mm_xor_si128(fold(x1, k512), _mm_loadu_si128((const __m128i *)(p + 16)));
        x2 = _mm_xor_si128(fold(x2, k512), _mm_loadu_si128((const __m128i *)(p + 32)));
        x3 = _mm_xor_si128(fold(x3, k512), _mm_loadu_si128((const __m128i *)(p + 48)));
    }
    x1 = _mm_xor_si128(fold(x0, k128), x1);
    x2 = _mm_xor_si128(fold(x1, k128), x2);
    x3 = _mm_xor_si128(fold(x2, k128), x3);
    for (; len >= 16; p += 16, len -= 16) x3 = _mm_xor_si128(fold(x3, k128), _mm_loadu_si128((const __m128i *)p));
    unsigned char last[16];
    _mm_storeu_si128((__m128i *)last, x3);
    return crc_raw_sb8(crc_raw_sb8(0, last, 16), p, len);
}
#endif

#if defined(__aarch64__) || defined(__arm__)
#include <sys/auxv.h>
#if defined(__aarch64__)
#include <arm_acle.h>
#define CRC_TARGET __attribute__((target("+crc")))
#define CRC32W __crc32w
#define CRC32B __crc32b
#else
#include <asm/hwcap.h>
#define CRC_TARGET __attribute__((target("arch=armv8-a+crc")))
#define CRC32W __builtin_arm_crc32w
#define CRC32B __builtin_arm_crc32b
#endif
CRC_TARGET static uint32_t crc_raw_arm(uint32_t crc, const unsigned char *p, size_t len) {
    while (len && ((uintptr_t)p & 7)) {
        crc = CRC32B(crc, *p++);
        len--;
    }
#if defined(__aarch64__)
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        crc = __crc32d(crc, v);
    }
#endif
    for (; len >= 4; p += 4, len -= 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        crc = CRC32W(crc, v);
    }
    while (len--) crc = CRC32B(crc, *p++);
    return crc;
}
#endif

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xff];
    crc_fast = crc_raw_sb8;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")) {
        const int e[4] = {512 + 32, 512 - 32, 128 + 32, 128 - 32};
        for (int i = 0; i < 4; i++) clmul_k[i] = xpow_mod_reflected(e[i]);
        crc_fast = crc_raw_clmul;
    }
#elif defined(__aarch64__)
    if (getauxval(AT_HWCAP) & HWCAP_CRC32) crc_fast = crc_raw_arm;
#elif defined(__arm__) && defined(HWCAP2_CRC32)
    if (getauxval(AT_HWCAP2) & HWCAP2_CRC32) crc_fast = crc_raw_arm;
#endif
}

uint32_t nnw_crc32(uint32_t crc, const void *data, size_t len) {
    pthread_once(&crc_once, crc_init);
    return ~crc_fast(~crc, data, len);
}

uint32_t nnw_crc32_portable(uint32_t crc, const void *data, size_t len) {
    pthread_once(&crc_once, crc_init);
    return ~crc_raw_sb8(~crc, data, len);
}

const char *nnw_crc32_impl(void) {
    pthread_once(&crc_once, crc_init);
#if defined(__x86_64__)
    if (crc_fast == crc_raw_clmul) return "pclmulqdq";
#endif
#if defined(__aarch64__) || defined(__arm__)
    if (crc_fast == crc_raw_arm) return "armv8-crc32";
#endif
    return "slicing-by-8";
}

/* ---- little-endian helpers ------------------------------------------------------------------ */
static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const unsigned char *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static float rdf32(const unsigned char *p) {
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static void wr16(unsigned char *p, uint16_t v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
static void wr32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void wr64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

size_t nnw_dtype_size(nnw_dtype t) {
    switch (t) {
    case NNW_F32:
    case NNW_I32: return 4;
    case NNW_F16: return 2;
    case NNW_I8:
    case NNW_U8: return 1;
    }
    return 0;
}
const char *nnw_dtype_name(nnw_dtype t) {
    switch (t) {
    case NNW_F32: return "float32";
    case NNW_F16: return "float16";
    case NNW_I8: return "int8";
    case NNW_U8: return "uint8";
    case NNW_I32: return "int32";
    }
    return "?";
}

void nnw_close(nnw_file *f) {
    if (!f) return;
    if (f->mapped) munmap((void *)f->base, f->len);
    free(f->owned);
    free(f->tensors);
    free(f->meta_keys);
    free(f->meta_vals);
    free(f->names);
    free(f);
}

/* Parses and validates the whole image.  On success fills f (tensors, metadata). */
static int parse(nnw_file *f, char *err, size_t errlen) {
    const unsigned char *b = f->base;
    size_t len = f->len;
    if (len < HDR_SIZE) {
        seterr(err, errlen, "truncated weight file (%zu bytes, header needs %d)", len, HDR_SIZE);
        return -1;
    }
    if (memcmp(b, MAGIC, 8) != 0) {
        seterr(err, errlen, "not a sortbyface weight file (bad magic)");
        return -1;
    }
    uint32_t version = rd32(b + 8);
    if (version != VERSION) {
        seterr(err, errlen, "unsupported weight file version %u (this build reads %d)", version, VERSION);
        return -1;
    }
    if (rd32(b + 60) != nnw_crc32(0, b, 60)) {
        seterr(err, errlen, "corrupted weight file header (checksum mismatch)");
        return -1;
    }
    if (rd32(b + 12) != HDR_SIZE) {
        seterr(err, errlen, "bad header size %u", rd32(b + 12));
        return -1;
    }
    uint32_t nt = rd32(b + 16), nm = rd32(b + 20);
    uint64_t ioff = rd64(b + 24), isz = rd64(b + 32), doff = rd64(b + 40), fsz = rd64(b + 48);
    if (fsz != len) {
        seterr(err, errlen, "%s weight file: header says %llu bytes, file has %zu",
               fsz > len ? "truncated" : "oversized", (unsigned long long)fsz, len);
        return -1;
    }
    if (ioff != HDR_SIZE || isz > len - ioff || doff < ioff + isz || doff > len || doff % ALIGN) {
        seterr(err, errlen, "corrupted weight file (index/data bounds out of range)");
        return -1;
    }
    if (nt > 1000000 || nm > 100000) {
        seterr(err, errlen, "corrupted weight file (implausible counts)");
        return -1;
    }
    const unsigned char *ix = b + ioff;
    if (rd32(b + 56) != nnw_crc32(0, ix, isz)) {
        seterr(err, errlen, "corrupted weight file index (checksum mismatch)");
        return -1;
    }
    /* Pass 1: sizes. */
    size_t pos = 0, names_len = 0;
    for (uint32_t i = 0; i < nm; i++) {
        if (isz - pos < 6) goto bad_index;
        uint16_t kl = rd16(ix + pos);
        uint32_t vl = rd32(ix + pos + 2);
        pos += 6;
        if (kl == 0 || (uint64_t)kl + vl > isz - pos) goto bad_index;
        pos += kl + (size_t)vl;
        names_len += kl + (size_t)vl + 2;
    }
    size_t tpos = pos;
    for (uint32_t i = 0; i < nt; i++) {
        if (isz - pos < TENSOR_ENTRY_FIXED) goto bad_index;
        uint16_t nl = rd16(ix + pos);
        pos += TENSOR_ENTRY_FIXED;
        if (nl == 0 || nl > isz - pos) goto bad_index;
        pos += nl;
        names_len += nl + 1;
    }
    if (pos != isz) goto bad_index;
    f->names = malloc(names_len ? names_len : 1);
    f->tensors = calloc(nt ? nt : 1, sizeof *f->tensors);
    f->meta_keys = calloc(nm ? nm : 1, sizeof(char *));
    f->meta_vals = calloc(nm ? nm : 1, sizeof(char *));
    if (!f->names || !f->tensors || !f->meta_keys || !f->meta_vals) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    char *np = f->names;
    pos = 0;
    for (uint32_t i = 0; i < nm; i++) {
        uint16_t kl = rd16(ix + pos);
        uint32_t vl = rd32(ix + pos + 2);
        pos += 6;
        f->meta_keys[i] = np;
        memcpy(np, ix + pos, kl);
        np[kl] = 0;
        np += kl + 1;
        pos += kl;
        f->meta_vals[i] = np;
        memcpy(np, ix + pos, vl);
        np[vl] = 0;
        np += vl + 1;
        pos += vl;
        if (strlen(f->meta_keys[i]) != kl) goto bad_index;
    }
    f->nmeta = (int)nm;
    pos = tpos;
    for (uint32_t i = 0; i < nt; i++) {
        const unsigned char *e = ix + pos;
        nnw_tensor *t = &f->tensors[i];
        uint16_t nl = rd16(e);
        unsigned dt = e[2], nd = e[3];
        memcpy(np, e + TENSOR_ENTRY_FIXED, nl);
        np[nl] = 0;
        t->name = np;
        np += nl + 1;
        if (strlen(t->name) != nl) {
            seterr(err, errlen, "corrupted weight file (tensor %u has a bad name)", i);
            return -1;
        }
        if (dt > NNW_I32) {
            seterr(err, errlen, "tensor '%s': unknown dtype %u", t->name, dt);
            return -1;
        }
        if (nd < 1 || nd > NNW_MAX_DIMS) {
            seterr(err, errlen, "tensor '%s': bad rank %u", t->name, nd);
            return -1;
        }
        t->dtype = (nnw_dtype)dt;
        t->ndim = (int)nd;
        uint64_t count = 1;
        for (int d = 0; d < NNW_MAX_DIMS; d++) {
            t->shape[d] = rd32(e + 4 + 4 * d);
            if (d >= t->ndim && t->shape[d] != 1) {
                seterr(err, errlen, "tensor '%s': bad shape", t->name);
                return -1;
            }
            if (t->shape[d] == 0) {
                seterr(err, errlen, "tensor '%s': zero-sized dimension", t->name);
                return -1;
            }
            /* checked before multiplying: count <= 2^40 times a u32 could wrap around 2^64 */
            if (t->shape[d] > ((uint64_t)1 << 40) / count) {
                seterr(err, errlen, "tensor '%s': implausible size", t->name);
                return -1;
            }
            count *= t->shape[d];
        }
        t->scale = rdf32(e + 20);
        uint64_t off = rd64(e + 24), sz = rd64(e + 32);
        uint32_t crc = rd32(e + 40);
        t->count = count;
        t->size = sz;
        if (sz != count * nnw_dtype_size(t->dtype)) {
            seterr(err, errlen, "tensor '%s': size does not match shape", t->name);
            return -1;
        }
        if (off % ALIGN || off < doff || off > len || sz > len - off) {
            seterr(err, errlen, "tensor '%s': data out of bounds or misaligned", t->name);
            return -1;
        }
        t->data = b + off;
        if (nnw_crc32(0, t->data, sz) != crc) {
            seterr(err, errlen, "tensor '%s': checksum mismatch (corrupted data)", t->name);
            return -1;
        }
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(f->tensors[j].name, t->name) == 0) {
                seterr(err, errlen, "duplicate tensor name '%s'", t->name);
                return -1;
            }
        pos += TENSOR_ENTRY_FIXED + nl;
    }
    f->ntensors = (int)nt;
    return 0;
bad_index:
    seterr(err, errlen, "corrupted weight file index (entries overrun)");
    return -1;
}

nnw_file *nnw_open_memory(const void *buf, size_t len, char *err, size_t errlen) {
    nnw_file *f = calloc(1, sizeof *f);
    if (!f) {
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    f->base = buf;
    f->len = len;
    if ((uintptr_t)buf % ALIGN) {
        seterr(err, errlen, "weight buffer not 64-byte aligned");
        nnw_close(f);
        return NULL;
    }
    if (parse(f, err, errlen)) {
        nnw_close(f);
        return NULL;
    }
    return f;
}

nnw_file *nnw_open_memory_owned(void *buf, size_t len, char *err, size_t errlen) {
    nnw_file *f = nnw_open_memory(buf, len, err, errlen);
    if (!f) {
        free(buf);
        return NULL;
    }
    f->owned = buf;
    return f;
}

nnw_file *nnw_open(const char *path, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        seterr(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        seterr(err, errlen, "not a regular file");
        close(fd);
        return NULL;
    }
    nnw_file *f = calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    f->len = (size_t)st.st_size;
    if (f->len > 0) {
        void *m = mmap(NULL, f->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            f->base = m;
            f->mapped = 1;
        } else { /* read fallback, into a 64-byte aligned buffer */
            if (posix_memalign(&f->owned, ALIGN, f->len)) {
                close(fd);
                free(f);
                seterr(err, errlen, "out of memory");
                return NULL;
            }
            size_t got = 0;
            while (got < f->len) {
                ssize_t r = read(fd, (char *)f->owned + got, f->len - got);
                if (r <= 0) {
                    if (r < 0 && errno == EINTR) continue;
                    break;
                }
                got += (size_t)r;
            }
            if (got != f->len) {
                close(fd);
                nnw_close(f);
                seterr(err, errlen, "read error");
                return NULL;
            }
            f->base = f->owned;
        }
    }
    close(fd);
    if (parse(f, err, errlen)) {
        nnw_close(f);
        return NULL;
    }
    return f;
}

int nnw_count(const nnw_file *f) { return f->ntensors; }
const nnw_tensor *nnw_at(const nnw_file *f, int i) { return i >= 0 && i < f->ntensors ? &f->tensors[i] : NULL; }
const nnw_tensor *nnw_find(const nnw_file *f, const char *name) {
    for (int i = 0; i < f->ntensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}
const nnw_tensor *nnw_expect(const nnw_file *f, const char *name, nnw_dtype dtype, int ndim, const uint32_t *shape,
                             char *err, size_t errlen) {
    const nnw_tensor *t = nnw_find(f, name);
    if (!t) {
        seterr(err, errlen, "weight file lacks tensor '%s'", name);
        return NULL;
    }
    if (t->dtype != dtype) {
        seterr(err, errlen, "tensor '%s' is %s, expected %s", name, nnw_dtype_name(t->dtype), nnw_dtype_name(dtype));
        return NULL;
    }
    if (t->ndim != ndim) {
        seterr(err, errlen, "tensor '%s' has rank %d, expected %d", name, t->ndim, ndim);
        return NULL;
    }
    for (int d = 0; shape && d < ndim; d++)
        if (shape[d] && shape[d] != t->shape[d]) {
            seterr(err, errlen, "tensor '%s' dimension %d is %u, expected %u", name, d, t->shape[d], shape[d]);
            return NULL;
        }
    return t;
}
const char *nnw_meta(const nnw_file *f, const char *key) {
    for (int i = 0; i < f->nmeta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_vals[i];
    return NULL;
}
int nnw_meta_count(const nnw_file *f) { return f->nmeta; }
void nnw_meta_at(const nnw_file *f, int i, const char **key, const char **value) {
    *key = f->meta_keys[i];
    *value = f->meta_vals[i];
}

/* ---- writer ---------------------------------------------------------------------------------- */
typedef struct {
    char *name;
    nnw_dtype dtype;
    int ndim;
    uint32_t shape[4];
    float scale;
    void *data;
    uint64_t size;
} wtensor;
struct nnw_writer {
    wtensor *t;
    int nt, cap;
    char **mk, **mv;
    int nm, mcap;
};

nnw_writer *nnw_writer_new(void) { return calloc(1, sizeof(nnw_writer)); }

void nnw_writer_free(nnw_writer *w) {
    if (!w) return;
    for (int i = 0; i < w->nt; i++) {
        free(w->t[i].name);
        free(w->t[i].data);
    }
    for (int i = 0; i < w->nm; i++) {
        free(w->mk[i]);
        free(w->mv[i]);
    }
    free(w->t);
    free(w->mk);
    free(w->mv);
    free(w);
}

int nnw_writer_meta(nnw_writer *w, const char *key, const char *value) {
    if (!key[0] || strlen(key) > 65535) return -1;
    if (w->nm == w->mcap) {
        int nc = w->mcap ? 2 * w->mcap : 8;
        char **a = realloc(w->mk, nc * sizeof *a), **b2;
        if (!a) return -1;
        w->mk = a;
        b2 = realloc(w->mv, nc * sizeof *b2);
        if (!b2) return -1;
        w->mv = b2;
        w->mcap = nc;
    }
    w->mk[w->nm] = strdup(key);
    w->mv[w->nm] = strdup(value);
    if (!w->mk[w->nm] || !w->mv[w->nm]) return -1;
    w->nm++;
    return 0;
}

int nnw_writer_add(nnw_writer *w, const char *name, nnw_dtype dtype, int ndim, const uint32_t *shape, float scale,
                   const void *data) {
    if (!name[0] || strlen(name) > 65535 || ndim < 1 || ndim > NNW_MAX_DIMS || !nnw_dtype_size(dtype)) return -1;
    if (w->nt == w->cap) {
        int nc = w->cap ? 2 * w->cap : 64;
        wtensor *a = realloc(w->t, nc * sizeof *a);
        if (!a) return -1;
        w->t = a;
        w->cap = nc;
    }
    wtensor *t = &w->t[w->nt];
    memset(t, 0, sizeof *t);
    t->dtype = dtype;
    t->ndim = ndim;
    t->scale = dtype == NNW_I8 ? scale : 1.0f;
    uint64_t count = 1;
    for (int d = 0; d < NNW_MAX_DIMS; d++) {
        t->shape[d] = d < ndim ? shape[d] : 1;
        if (!t->shape[d]) return -1;
        count *= t->shape[d];
    }
    t->size = count * nnw_dtype_size(dtype);
    t->name = strdup(name);
    t->data = malloc(t->size);
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        return -1;
    }
    memcpy(t->data, data, t->size);
    w->nt++;
    return 0;
}

static uint64_t align_up(uint64_t v) { return (v + ALIGN - 1) / ALIGN * ALIGN; }

void *nnw_writer_serialize(nnw_writer *w, size_t *outlen) {
    uint64_t isz = 0;
    for (int i = 0; i < w->nm; i++) isz += 6 + strlen(w->mk[i]) + strlen(w->mv[i]);
    for (int i = 0; i < w->nt; i++) isz += TENSOR_ENTRY_FIXED + strlen(w->t[i].name);
    uint64_t doff = align_up(HDR_SIZE + isz), end = doff;
    for (int i = 0; i < w->nt; i++) end = align_up(end) + w->t[i].size;
    void *mem;
    if (posix_memalign(&mem, ALIGN, end ? end : 1)) return NULL;
    unsigned char *b = memset(mem, 0, end);
    unsigned char *ix = b + HDR_SIZE, *p = ix;
    for (int i = 0; i < w->nm; i++) {
        size_t kl = strlen(w->mk[i]), vl = strlen(w->mv[i]);
        wr16(p, (uint16_t)kl);
        wr32(p + 2, (uint32_t)vl);
        p += 6;
        memcpy(p, w->mk[i], kl);
        p += kl;
        memcpy(p, w->mv[i], vl);
        p += vl;
    }
    uint64_t off = doff;
    for (int i = 0; i < w->nt; i++) {
        wtensor *t = &w->t[i];
        size_t nl = strlen(t->name);
        off = align_up(off);
        wr16(p, (uint16_t)nl);
        p[2] = (unsigned char)t->dtype;
        p[3] = (unsigned char)t->ndim;
        for (int d = 0; d < 4; d++) wr32(p + 4 + 4 * d, t->shape[d]);
        uint32_t sc;
        memcpy(&sc, &t->scale, 4);
        wr32(p + 20, sc);
        wr64(p + 24, off);
        wr64(p + 32, t->size);
        wr32(p + 40, nnw_crc32(0, t->data, t->size));
        memcpy(p + TENSOR_ENTRY_FIXED, t->name, nl);
        p += TENSOR_ENTRY_FIXED + nl;
        memcpy(b + off, t->data, t->size);
        off += t->size;
    }
    memcpy(b, MAGIC, 8);
    wr32(b + 8, VERSION);
    wr32(b + 12, HDR_SIZE);
    wr32(b + 16, (uint32_t)w->nt);
    wr32(b + 20, (uint32_t)w->nm);
    wr64(b + 24, HDR_SIZE);
    wr64(b + 32, isz);
    wr64(b + 40, doff);
    wr64(b + 48, end);
    wr32(b + 56, nnw_crc32(0, ix, isz));
    wr32(b + 60, nnw_crc32(0, b, 60));
    *outlen = end;
    return b;
}

int nnw_writer_save(nnw_writer *w, const char *path, char *err, size_t errlen) {
    size_t len;
    unsigned char *b = nnw_writer_serialize(w, &len);
    if (!b) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 32);
    if (!tmp) {
        free(b);
        seterr(err, errlen, "out of memory");
        return -1;
    }
    snprintf(tmp, pl + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int rc = -1;
    if (fd < 0) {
        seterr(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t r = write(fd, b + done, len - done);
        if (r < 0) {
            if (errno == EINTR) continue;
            seterr(err, errlen, "write %s: %s", tmp, strerror(errno));
            break;
        }
        done += (size_t)r;
    }
    if (done == len && fsync(fd) != 0) {
        seterr(err, errlen, "fsync %s: %s", tmp, strerror(errno));
        done = 0;
    }
    if (close(fd) != 0 && done == len) {
        seterr(err, errlen, "close %s: %s", tmp, strerror(errno));
        done = 0;
    }
    if (done != len) {
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) != 0) {
        seterr(err, errlen, "rename to %s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = 0;
out:
    free(tmp);
    free(b);
    return rc;
}
