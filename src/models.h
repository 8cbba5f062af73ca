/* src/models.h — where model files are found at run time. */
#ifndef SRC_MODELS_H
#define SRC_MODELS_H
#define SBF_FACENET_FILE "facenet-20180402.sbfw"
/* Resolves a model file name: $SORTBYFACE_WEIGHTS/<file>, <exe dir>/weights/<file>,
 * <exe dir>/../share/sortbyface/<file>, ./weights/<file>, /usr/share/sortbyface/<file>.
 * Returns the first that exists (static buffer), or the ./weights path (for the error message). */
const char *sbf_model_path(const char *file);
#endif
