/* src/models.h — where model files are found at run time, and which FaceNet model a database's embeddings are
 * made with: the model names (float32, int8), their files, the default for a new database on this CPU, and the
 * database rule (as for the alignment rule: a database keeps the model it was made with, so embeddings of two
 * models never mix in one). */
#ifndef SRC_MODELS_H
#define SRC_MODELS_H
#include <stddef.h>

#define SBF_FACENET_FILE "facenet-20180402.sbfw"
#define SBF_FACENET_INT8_FILE "facenet-20180402-int8.sbfw"

/* Resolves a model file name: $SORTBYFACE_WEIGHTS/<file>, <exe dir>/weights/<file>,
 * <exe dir>/../share/sortbyface/<file>, ./weights/<file>, /usr/share/sortbyface/<file>.
 * Returns the first that exists (static buffer), or the ./weights path (for the error message). */
const char *sbf_model_path(const char *file);

/* The FaceNet models: the same network (20180402-114759) in float32 arithmetic, or int8 (int8 weights, 12-bit
 * activations: nn/facenet_q.h); a float16 weight file computes float32 embeddings within 1e-4 of the float32
 * file's, so it counts as float32. */
typedef enum { SBF_MODEL_FLOAT32 = 0, SBF_MODEL_INT8 = 1 } sbf_model;
const char *sbf_model_name(sbf_model m);             /* "float32", "int8" */
int sbf_model_parse(const char *name, sbf_model *m); /* 0, or -1 for another name */
const char *sbf_model_file(sbf_model m);             /* SBF_FACENET_FILE, SBF_FACENET_INT8_FILE */

/* The model of new databases at ISA level `isa` (nn_isa_name()) whose int8 kernels are `int8_kernels`
 * (nn_facenet_int8_kernels()): int8 where it passed its accuracy gate and was measured faster than float32
 * (docs/MEASUREMENTS.md, "FaceNet int8": avx512 with VNNI, avx2), else float32. */
sbf_model sbf_model_default_for(const char *isa, const char *int8_kernels);
sbf_model sbf_model_default(void); /* on this CPU, at the level in force */

/* A --model value: a model name, or the path of a FaceNet weight file, whose arithmetic names its model (int8
 * file: int8; float32 or float16 file: float32).  *m gets the model, *path the file to load (NULL for a name:
 * the model's file, found by sbf_model_path).  0; -1 with a one-line reason in err when the value is neither a
 * name nor a FaceNet weight file (a usage error); -2 with "FILE: reason" when it names a file (it holds a '/' or
 * a '.') that cannot be opened or read (the model is missing: fatal). */
int sbf_model_flag(const char *flag, sbf_model *m, const char **path, char *err, size_t errlen);

/* The database rule, pure: recorded = the database's "model" setting (NULL when it has none), photos = how many
 * photos it holds, given = an explicit --model was given (its model flag_model), dflt = the default for a new
 * database.  A database with no setting and no photo is new: the flag's model or dflt; one with photos but no
 * setting was made before the setting existed, in float32; a recorded model stays.  *out gets the run's model.
 * 0; 2 when an explicit flag differs from the database's model, 3 when the recorded model is unknown to this
 * version (why: one line, without the verb or file). */
int sbf_model_rule(const char *recorded, size_t photos, int given, sbf_model flag_model, sbf_model dflt, sbf_model *out,
                   char *why, size_t whylen);

#endif
