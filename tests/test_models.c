/* tests/test_models.c — which FaceNet model a run uses (src/models.h), one assertion per rule: the names and
 * files; a new database gets --model or the default; an old database with photos but no "model" setting is
 * float32; a recorded model stays; an explicit --model that differs is refused (2) with the reason, one this
 * version does not know is 3; a weight file given as --model counts as the model of its arithmetic (int8 file
 * int8, float32 file float32), something else is refused; the default per int8 kernel flavour; and through the
 * store (src/pipeline.h): a database records no model until embed writes it, sbf_pipeline_db_model reads it.
 * Needs the weight files (make setup): fails, never skips, without them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/facenet.h"
#include "nn/cpu.h"
#include "src/models.h"
#include "src/pipeline.h"
#include "src/store.h"

static void test_names(void **state) {
    (void)state;
    sbf_model m = SBF_MODEL_INT8;
    assert_int_equal(sbf_model_parse("float32", &m), 0);
    assert_int_equal(m, SBF_MODEL_FLOAT32);
    assert_int_equal(sbf_model_parse("int8", &m), 0);
    assert_int_equal(m, SBF_MODEL_INT8);
    assert_int_equal(sbf_model_parse("INT8", &m), -1);
    assert_int_equal(sbf_model_parse("float16", &m), -1);
    assert_int_equal(sbf_model_parse(NULL, &m), -1);
    assert_string_equal(sbf_model_name(SBF_MODEL_FLOAT32), "float32");
    assert_string_equal(sbf_model_name(SBF_MODEL_INT8), "int8");
    assert_string_equal(sbf_model_file(SBF_MODEL_FLOAT32), "facenet-20180402.sbfw");
    assert_string_equal(sbf_model_file(SBF_MODEL_INT8), "facenet-20180402-int8.sbfw");
}

/* rule(recorded, photos, given, flag) -> (status, model) */
static int rule(const char *recorded, size_t photos, int given, sbf_model flag, sbf_model dflt, sbf_model *out,
                char *why) {
    *out = (sbf_model)-1;
    return sbf_model_rule(recorded, photos, given, flag, dflt, out, why, 512);
}

static void test_rule(void **state) {
    (void)state;
    char why[512];
    sbf_model m;
    const sbf_model F = SBF_MODEL_FLOAT32, Q = SBF_MODEL_INT8;
    /* a new database: the default, or --model */
    assert_int_equal(rule(NULL, 0, 0, F, F, &m, why), 0);
    assert_int_equal(m, F);
    assert_int_equal(rule(NULL, 0, 0, F, Q, &m, why), 0);
    assert_int_equal(m, Q);
    assert_int_equal(rule(NULL, 0, 1, Q, F, &m, why), 0);
    assert_int_equal(m, Q);
    assert_int_equal(rule(NULL, 0, 1, F, Q, &m, why), 0);
    assert_int_equal(m, F);
    /* made before the setting: float32, whatever the default is now (a nightly embed after an upgrade) */
    assert_int_equal(rule(NULL, 3, 0, F, Q, &m, why), 0);
    assert_int_equal(m, F);
    assert_int_equal(rule(NULL, 3, 1, F, Q, &m, why), 0);
    assert_int_equal(m, F);
    assert_int_equal(rule(NULL, 3, 1, Q, Q, &m, why), 2);
    assert_string_equal(why, "its embeddings were made with the float32 model, not int8, and embeddings of two models "
                             "do not compare (leave --model out, or use another --db)");
    /* a recorded model stays, with or without photos */
    assert_int_equal(rule("int8", 5, 0, F, F, &m, why), 0);
    assert_int_equal(m, Q);
    assert_int_equal(rule("int8", 0, 0, F, F, &m, why), 0);
    assert_int_equal(m, Q);
    assert_int_equal(rule("float32", 5, 0, F, Q, &m, why), 0);
    assert_int_equal(m, F);
    assert_int_equal(rule("int8", 5, 1, Q, F, &m, why), 0); /* the same model, named: fine */
    assert_int_equal(m, Q);
    /* an explicit other model: refused, nothing chosen */
    assert_int_equal(rule("int8", 5, 1, F, F, &m, why), 2);
    assert_int_equal(m, (sbf_model)-1);
    assert_true(strstr(why, "made with the int8 model, not float32") != NULL);
    assert_int_equal(rule("float32", 0, 1, Q, F, &m, why), 2);
    /* a model of a later version */
    assert_int_equal(rule("int4", 5, 0, F, F, &m, why), 3);
    assert_string_equal(why, "made with a FaceNet model this version does not know ('int4')");
    assert_int_equal(rule("int4", 5, 1, F, F, &m, why), 3);
}

static void test_default(void **state) {
    (void)state;
    /* int8 where it passed the gate and was measured faster (docs/MEASUREMENTS.md "FaceNet int8", "Default per
     * ISA"): AVX-512 with VNNI, AVX2; float32 elsewhere (NEON: not measured; AVX-512 without VNNI: the int8 AVX2
     * kernels against float32's AVX-512 ones, not measured; scalar) */
    assert_int_equal(sbf_model_default_for("avx512", "avx512vnni"), SBF_MODEL_INT8);
    assert_int_equal(sbf_model_default_for("avx2", "avx2"), SBF_MODEL_INT8);
    assert_int_equal(sbf_model_default_for("avx512", "avx2"), SBF_MODEL_FLOAT32);
    assert_int_equal(sbf_model_default_for("scalar", "scalar"), SBF_MODEL_FLOAT32);
    assert_int_equal(sbf_model_default_for("neon", "neon"), SBF_MODEL_FLOAT32);
    assert_int_equal(sbf_model_default_for("neon", "neondot"), SBF_MODEL_FLOAT32);
    assert_int_equal(sbf_model_default_for(NULL, NULL), SBF_MODEL_FLOAT32);
    assert_int_equal(sbf_model_default(), sbf_model_default_for(nn_isa_name(), nn_facenet_int8_kernels()));
    /* the level in force decides: forced to scalar, float32; to avx2 (where the CPU runs it), int8 */
    assert_int_equal(nn_set_isa("scalar"), 0);
    assert_int_equal(sbf_model_default(), SBF_MODEL_FLOAT32);
    if (nn_set_isa("avx2") == 0) assert_int_equal(sbf_model_default(), SBF_MODEL_INT8);
    assert_int_equal(nn_set_isa("auto"), 0);
}

static char g_weights[4096];
static const char *weight(const char *file) {
    static char p[4200];
    snprintf(p, sizeof p, "%s/%s", g_weights, file);
    return p;
}

static void test_flag(void **state) {
    (void)state;
    sbf_model m;
    const char *path = "x";
    char err[512];
    assert_int_equal(sbf_model_flag("int8", &m, &path, err, sizeof err), 0);
    assert_int_equal(m, SBF_MODEL_INT8);
    assert_null(path);
    assert_int_equal(sbf_model_flag("float32", &m, &path, err, sizeof err), 0);
    assert_int_equal(m, SBF_MODEL_FLOAT32);
    assert_null(path);
    /* a weight file: its arithmetic */
    const char *q = weight(SBF_FACENET_INT8_FILE);
    assert_int_equal(sbf_model_flag(q, &m, &path, err, sizeof err), 0);
    assert_int_equal(m, SBF_MODEL_INT8);
    assert_string_equal(path, q);
    const char *f = weight(SBF_FACENET_FILE);
    assert_int_equal(sbf_model_flag(f, &m, &path, err, sizeof err), 0);
    assert_int_equal(m, SBF_MODEL_FLOAT32);
    assert_string_equal(path, f);
    /* not a FaceNet file: the landmark model; no file at all */
    assert_int_equal(sbf_model_flag(weight("shape-68.sbfw"), &m, &path, err, sizeof err), -1);
    assert_true(strstr(err, "not float32, int8 or a FaceNet weight file (not a FaceNet weight file") != NULL);
    assert_int_equal(sbf_model_flag("Int8", &m, &path, err, sizeof err), -1);
    assert_true(strstr(err, "--model Int8: not float32, int8 or a FaceNet weight file") == err);
    /* a file named that is not there: the model is missing (fatal), not a usage error */
    assert_int_equal(sbf_model_flag("/nonexistent/facenet.sbfw", &m, &path, err, sizeof err), -2);
    assert_true(strstr(err, "/nonexistent/facenet.sbfw: ") == err);
}

/* Through a real database file. */
static void test_store(void **state) {
    (void)state;
    char path[] = "/tmp/sbf-test-models-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    char err[512];
    sbf_store *st = sbf_store_open(path, SBF_STORE_WRITE, err, sizeof err);
    assert_non_null(st);
    int recorded = 1;
    assert_null(sbf_pipeline_db_model_name(st, &recorded)); /* new and empty */
    assert_int_equal(recorded, 0);
    sbf_pipeline_opts o;
    sbf_pipeline_defaults(&o);
    assert_int_equal(o.model, SBF_MODEL_FLOAT32);
    assert_int_equal(sbf_pipeline_db_model(&o, st, "test", path, "int8"), 0);
    assert_int_equal(o.model, SBF_MODEL_INT8);
    assert_null(o.facenet_model);
    assert_int_equal(sbf_store_set_setting(st, SBF_SETTING_MODEL, "int8", err, sizeof err), 0);
    assert_string_equal(sbf_pipeline_db_model_name(st, &recorded), "int8");
    assert_int_equal(recorded, 1);
    sbf_pipeline_defaults(&o);
    assert_int_equal(sbf_pipeline_db_model(&o, st, "test", path, NULL), 0); /* kept */
    assert_int_equal(o.model, SBF_MODEL_INT8);
    assert_int_equal(sbf_pipeline_db_model(&o, st, "test", path, "float32"), 2); /* refused */
    assert_int_equal(sbf_pipeline_db_model(&o, st, "test", path, weight(SBF_FACENET_FILE)), 2);
    assert_int_equal(sbf_pipeline_db_model(&o, st, "test", path, weight(SBF_FACENET_INT8_FILE)), 0);
    assert_string_equal(o.facenet_model, weight(SBF_FACENET_INT8_FILE));
    assert_int_equal(sbf_pipeline_db_model(&o, st, "test", path, "nonsense"), 2);
    assert_int_equal(sbf_store_set_setting(st, SBF_SETTING_MODEL, "int4", err, sizeof err), 0);
    assert_int_equal(sbf_pipeline_db_model(&o, st, "test", path, NULL), 3);
    /* no database: as a new one */
    sbf_pipeline_defaults(&o);
    assert_int_equal(sbf_pipeline_db_model(&o, NULL, "test", NULL, NULL), 0);
    assert_int_equal(o.model, sbf_model_default());
    sbf_store_close(st);
    unlink(path);
}

int main(void) {
    const char *w = getenv("SORTBYFACE_WEIGHTS");
    snprintf(g_weights, sizeof g_weights, "%s", w && *w ? w : "weights");
    if (access(weight(SBF_FACENET_FILE), R_OK) || access(weight(SBF_FACENET_INT8_FILE), R_OK)) {
        fprintf(stderr, "test_models: %s/%s and %s missing (make setup)\n", g_weights, SBF_FACENET_FILE,
                SBF_FACENET_INT8_FILE);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names), cmocka_unit_test(test_rule),  cmocka_unit_test(test_default),
        cmocka_unit_test(test_flag),  cmocka_unit_test(test_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
