/* src/models.c — model file lookup; the FaceNet model names, the default, the database rule. */
#include "src/models.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nn/cpu.h"
#include "nn/facenet.h"
#include "src/util.h"

const char *sbf_model_path(const char *file) {
    static _Thread_local char buf[PATH_MAX];
    const char *env = getenv("SORTBYFACE_WEIGHTS");
    const char *exe = sbf_exe_dir();
    struct {
        const char *dir, *sub;
    } cand[] = {
        {env, ""}, {exe, "/weights"}, {exe, "/../share/sortbyface"}, {".", "/weights"}, {"/usr/share/sortbyface", ""},
    };
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
        if (!cand[i].dir || !cand[i].dir[0]) continue;
        snprintf(buf, sizeof buf, "%s%s/%s", cand[i].dir, cand[i].sub, file);
        if (access(buf, R_OK) == 0) return buf;
    }
    snprintf(buf, sizeof buf, "weights/%s", file);
    return buf;
}

static const char *const NAMES[] = {"float32", "int8"};
static const char *const FILES[] = {SBF_FACENET_FILE, SBF_FACENET_INT8_FILE};

const char *sbf_model_name(sbf_model m) { return (unsigned)m < 2 ? NAMES[m] : "?"; }
const char *sbf_model_file(sbf_model m) { return (unsigned)m < 2 ? FILES[m] : FILES[0]; }

int sbf_model_parse(const char *name, sbf_model *m) {
    for (int i = 0; name && i < 2; i++)
        if (!strcmp(name, NAMES[i])) {
            *m = (sbf_model)i;
            return 0;
        }
    return -1;
}

/* Where int8 is the default for new databases: the ISA level in force and its int8 kernels, where the int8 model
 * passed its accuracy gate and was measured faster than float32 at that level (docs/MEASUREMENTS.md, "FaceNet
 * int8", "Default per ISA"): AVX-512 with VNNI, and AVX2.  Not the NEON levels (not measured: only qemu here),
 * nor AVX-512 without VNNI (float32 there runs the AVX-512 kernels, int8 the AVX2 ones: not measured). */
static const char *const INT8_DEFAULT[][2] = {{"avx512", "avx512vnni"}, {"avx2", "avx2"}};

sbf_model sbf_model_default_for(const char *isa, const char *int8_kernels) {
    for (size_t i = 0; isa && int8_kernels && i < sizeof INT8_DEFAULT / sizeof *INT8_DEFAULT; i++)
        if (!strcmp(isa, INT8_DEFAULT[i][0]) && !strcmp(int8_kernels, INT8_DEFAULT[i][1])) return SBF_MODEL_INT8;
    return SBF_MODEL_FLOAT32;
}

sbf_model sbf_model_default(void) { return sbf_model_default_for(nn_isa_name(), nn_facenet_int8_kernels()); }

int sbf_model_flag(const char *flag, sbf_model *m, const char **path, char *err, size_t errlen) {
    *path = NULL;
    if (!sbf_model_parse(flag, m)) return 0;
    char e[256];
    int q = nn_facenet_file_int8(flag, e, sizeof e);
    if (q == -1 && nn_facenet_file_packed(flag)) q = 0;        /* float kernels stored packed (NAME_p16): float32 */
    if (q == -2 && (strchr(flag, '/') || strchr(flag, '.'))) { /* a file named, not readable: the model is missing */
        snprintf(err, errlen, "%s: %s", flag, e);
        return -2;
    }
    if (q < 0) {
        snprintf(err, errlen, "--model %s: not float32, int8 or a FaceNet weight file (%s)", flag, e);
        return -1;
    }
    *m = q ? SBF_MODEL_INT8 : SBF_MODEL_FLOAT32;
    *path = flag;
    return 0;
}

int sbf_model_rule(const char *recorded, size_t photos, int given, sbf_model flag_model, sbf_model dflt, sbf_model *out,
                   char *why, size_t whylen) {
    if (why && whylen) why[0] = 0;
    sbf_model m;
    if (!recorded && photos == 0) { /* a new database */
        *out = given ? flag_model : dflt;
        return 0;
    }
    if (!recorded) m = SBF_MODEL_FLOAT32; /* made before the setting existed */
    else if (sbf_model_parse(recorded, &m)) {
        snprintf(why, whylen, "made with a FaceNet model this version does not know ('%s')", recorded);
        return 3;
    }
    if (given && flag_model != m) {
        snprintf(why, whylen,
                 "its embeddings were made with the %s model, not %s, and embeddings of two models do not compare "
                 "(leave --model out, or use another --db)",
                 sbf_model_name(m), sbf_model_name(flag_model));
        return 2;
    }
    *out = m;
    return 0;
}
