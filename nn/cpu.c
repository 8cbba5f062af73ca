/* nn/cpu.c — CPU features detected once, and the ISA level every kernel family runs at; see nn/cpu.h. */
#include "nn/cpu.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__aarch64__) || defined(__arm__)
#include <sys/auxv.h>
#endif
#if defined(__x86_64__)
#include <cpuid.h>
#endif

static const char *const ISA_NAMES[NN_ISA_COUNT] = {"scalar", "avx2", "avx512", "neon"};
static const char *const FEATURE_NAMES[NN_CPU_NFEATURES] = {
    "avx2", "fma", "f16c", "avx512f", "neon", "vfpv4", "asimddp", "asimdhp", "avx512bw", "avx512vl", "avx512vnni"};

static unsigned detect(void) {
    unsigned f = 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) f |= NN_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) f |= NN_CPU_FMA;
    /* F16C: CPUID leaf 1, ECX bit 29 (clang's __builtin_cpu_supports does not know "f16c") */
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29))) f |= NN_CPU_F16C;
    if (__builtin_cpu_supports("avx512f")) {
        f |= NN_CPU_AVX512F;
        /* The other AVX-512 parts the int8 kernels use, from CPUID leaf 7 (clang 14's __builtin_cpu_supports
         * lacks some names); the OS saving the registers is already known from avx512f: EBX bit 30 BW,
         * bit 31 VL, ECX bit 11 VNNI. */
        if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
            if (b & (1u << 30)) f |= NN_CPU_AVX512BW;
            if (b & (1u << 31)) f |= NN_CPU_AVX512VL;
            if (c & (1u << 11)) f |= NN_CPU_AVX512VNNI;
        }
    }
#elif defined(__aarch64__)
    const unsigned long hw = getauxval(AT_HWCAP);
    if (hw & HWCAP_ASIMD) f |= NN_CPU_NEON;
    if (hw & HWCAP_ASIMDDP) f |= NN_CPU_ASIMDDP;
    if (hw & HWCAP_ASIMDHP) f |= NN_CPU_ASIMDHP;
#elif defined(__arm__)
    const unsigned long hw = getauxval(AT_HWCAP);
    if (hw & HWCAP_ARM_NEON) f |= NN_CPU_NEON;
    if (hw & HWCAP_ARM_VFPv4) f |= NN_CPU_VFPV4;
#endif
    return f;
}

static unsigned g_features;
static pthread_once_t g_features_once = PTHREAD_ONCE_INIT;
static void features_init(void) { g_features = detect(); }

unsigned nn_cpu_features(void) {
    pthread_once(&g_features_once, features_init);
    return g_features;
}

const char *nn_cpu_feature_name(unsigned bit) {
    for (int i = 0; i < NN_CPU_NFEATURES; i++)
        if (bit == 1u << i) return FEATURE_NAMES[i];
    return NULL;
}

unsigned nn_isa_needs(nn_isa isa) {
    switch (isa) {
    case NN_ISA_AVX2: return NN_CPU_AVX2 | NN_CPU_FMA | NN_CPU_F16C;
    case NN_ISA_AVX512: return NN_CPU_AVX2 | NN_CPU_FMA | NN_CPU_F16C | NN_CPU_AVX512F;
#if defined(__arm__)
    case NN_ISA_NEON: return NN_CPU_NEON | NN_CPU_VFPV4; /* the build targets neon-vfpv4: vfma */
#else
    case NN_ISA_NEON: return NN_CPU_NEON;
#endif
    default: return 0;
    }
}

/* The levels this build has kernels for. */
static int built(nn_isa isa) {
    switch (isa) {
    case NN_ISA_SCALAR: return 1;
#if defined(__x86_64__)
    case NN_ISA_AVX2:
    case NN_ISA_AVX512: return 1;
#endif
#if defined(__ARM_NEON)
    case NN_ISA_NEON: return 1;
#endif
    default: return 0;
    }
}

int nn_isa_runs(nn_isa isa, unsigned features) {
    if ((unsigned)isa >= NN_ISA_COUNT || !built(isa)) return 0;
    const unsigned need = nn_isa_needs(isa);
    return (features & need) == need;
}

nn_isa nn_isa_best(unsigned features) {
    static const nn_isa order[] = {NN_ISA_AVX512, NN_ISA_AVX2, NN_ISA_NEON};
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        if (nn_isa_runs(order[i], features)) return order[i];
    return NN_ISA_SCALAR;
}

const char *nn_isa_str(nn_isa isa) { return (unsigned)isa < NN_ISA_COUNT ? ISA_NAMES[isa] : "?"; }

int nn_isa_parse(const char *name) {
    for (int i = 0; name && i < NN_ISA_COUNT; i++)
        if (!strcmp(name, ISA_NAMES[i])) return i;
    return -1;
}

nn_isa nn_isa_choose(const char *env, unsigned features, char *why, size_t whylen) {
    const nn_isa best = nn_isa_best(features);
    if (why && whylen) why[0] = 0;
    if (!env || !*env || !strcmp(env, "auto")) return best;
    const int isa = nn_isa_parse(env);
    if (isa >= 0 && nn_isa_runs((nn_isa)isa, features)) return (nn_isa)isa;
    if (!why || !whylen) return best;
    if (isa < 0) {
        snprintf(why, whylen, "SORTBYFACE_ISA=%s: unknown (scalar, avx2, avx512, neon), using %s", env,
                 ISA_NAMES[best]);
    } else if (!built((nn_isa)isa)) {
        snprintf(why, whylen, "SORTBYFACE_ISA=%s: not in this build (it is for another architecture), using %s", env,
                 ISA_NAMES[best]);
    } else {
        char missing[64] = "";
        const unsigned lack = nn_isa_needs((nn_isa)isa) & ~features;
        for (int i = 0; i < NN_CPU_NFEATURES; i++)
            if (lack & (1u << i))
                snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s", missing[0] ? " " : "",
                         FEATURE_NAMES[i]);
        snprintf(why, whylen, "SORTBYFACE_ISA=%s: this CPU lacks %s, using %s", env, missing, ISA_NAMES[best]);
    }
    return best;
}

static _Atomic int g_isa = -1;
static pthread_once_t g_isa_once = PTHREAD_ONCE_INIT;

static void isa_default(void) {
    char why[160];
    const nn_isa isa = nn_isa_choose(getenv("SORTBYFACE_ISA"), nn_cpu_features(), why, sizeof why);
    if (why[0]) fprintf(stderr, "sortbyface: %s\n", why);
    atomic_store_explicit(&g_isa, (int)isa, memory_order_release);
}

nn_isa nn_isa_get(void) {
    int v = atomic_load_explicit(&g_isa, memory_order_acquire);
    if (v >= 0) return (nn_isa)v;
    pthread_once(&g_isa_once, isa_default);
    return (nn_isa)atomic_load_explicit(&g_isa, memory_order_acquire);
}

int nn_set_isa(const char *name) {
    if (!name) return -1;
    pthread_once(&g_isa_once, isa_default);
    if (!strcmp(name, "auto")) {
        isa_default();
        return 0;
    }
    const int isa = nn_isa_parse(name);
    if (isa < 0 || !nn_isa_runs((nn_isa)isa, nn_cpu_features())) return -1;
    atomic_store_explicit(&g_isa, isa, memory_order_release);
    return 0;
}

const char *nn_isa_name(void) { return ISA_NAMES[nn_isa_get()]; }
