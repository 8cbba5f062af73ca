/* nn/cpu.h — owns the one choice of SIMD kernels for the whole program: the CPU's features, detected once
 * (x86-64: cpuid via __builtin_cpu_supports, which also checks the OS saves the registers, and CPUID itself
 * for what clang's builtin does not know; aarch64 and
 * armv7: getauxval(AT_HWCAP)), and the instruction-set level every kernel family runs at (nn's GEMM and
 * max-pool, src/'s HOG detector, landmarks and clustering): the best level the CPU has, or the one named by
 * the environment variable SORTBYFACE_ISA=scalar|avx2|avx512|neon, or nn_set_isa() (tests, benchmarks).
 *
 * Every family keeps a table of kernels indexed by nn_isa.  A level a family has no kernels of its own for
 * maps to the next one down in its table (e.g. HOG and landmarks at avx512 run their AVX2 kernels; armv7's
 * HOG at neon runs the scalar ones); a table entry is NULL only for a level this build cannot run at all. */
#ifndef NN_CPU_H
#define NN_CPU_H
#include <stddef.h>

typedef enum {
    NN_ISA_SCALAR = 0, /* portable C: the reference every other level is tested against */
    NN_ISA_AVX2,       /* x86-64 AVX2 + FMA + F16C */
    NN_ISA_AVX512,     /* x86-64 the above + AVX-512F */
    NN_ISA_NEON,       /* aarch64 ASIMD; armv7 NEON + VFPv4 */
    NN_ISA_COUNT
} nn_isa;

/* CPU features: bits of nn_cpu_features(). */
#define NN_CPU_AVX2 (1u << 0)
#define NN_CPU_FMA (1u << 1)
#define NN_CPU_F16C (1u << 2)
#define NN_CPU_AVX512F (1u << 3)
#define NN_CPU_NEON (1u << 4)        /* aarch64 asimd, armv7 neon */
#define NN_CPU_VFPV4 (1u << 5)       /* armv7: fused multiply-add (vfma) */
#define NN_CPU_ASIMDDP (1u << 6)     /* aarch64 sdot/udot: the int8 kernels pick sdot within the neon level */
#define NN_CPU_ASIMDHP (1u << 7)     /* aarch64 half-precision arithmetic */
#define NN_CPU_AVX512BW (1u << 8)    /* x86-64 (with avx512f): byte/word AVX-512 */
#define NN_CPU_AVX512VL (1u << 9)    /* x86-64 (with avx512f): AVX-512 on ymm/xmm */
#define NN_CPU_AVX512VNNI (1u << 10) /* x86-64 (with avx512f): vpdpbusd; the int8 kernels pick VNNI within avx512 */
#define NN_CPU_NFEATURES 11

/* The features of this CPU, detected on the first call (thread-safe) and cached. */
unsigned nn_cpu_features(void);
/* "avx2", "fma", ... for one feature bit; NULL for an unknown bit. */
const char *nn_cpu_feature_name(unsigned bit);

/* The features a level's kernels need. */
unsigned nn_isa_needs(nn_isa isa);
/* 1 when this build has kernels for the level and a CPU with these features runs them. */
int nn_isa_runs(nn_isa isa, unsigned features);
/* The best level a CPU with these features runs (avx512 > avx2 > neon > scalar). */
nn_isa nn_isa_best(unsigned features);

/* "scalar", "avx2", "avx512", "neon"; and back (-1 for an unknown name). */
const char *nn_isa_str(nn_isa isa);
int nn_isa_parse(const char *name);

/* The default level for a value of SORTBYFACE_ISA (NULL, "" or "auto": the best) on a CPU with these
 * features.  A value that cannot be honoured (unknown, not in this build, or the CPU lacks a feature) gives
 * the best level, and why gets one line saying so (else it is set to ""). */
nn_isa nn_isa_choose(const char *env, unsigned features, char *why, size_t whylen);

/* The level in force: on first use, nn_isa_choose(getenv("SORTBYFACE_ISA"), nn_cpu_features()), a line on
 * stderr ("sortbyface: SORTBYFACE_ISA=...: ..., using avx2") when the value cannot be honoured. */
nn_isa nn_isa_get(void);
/* Forces a level for every family, process-wide, from now on (for tests and benchmarks; not while kernels
 * run on other threads): "scalar", "avx2", "avx512", "neon" -> 0, or -1 (nothing changes) when this build or
 * CPU cannot run it; "auto" -> the default again (SORTBYFACE_ISA re-read). */
int nn_set_isa(const char *name);
const char *nn_isa_name(void); /* nn_isa_str(nn_isa_get()) */

#endif
