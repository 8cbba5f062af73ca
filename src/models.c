/* src/models.c — model file lookup. */
#include "src/models.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "src/util.h"

const char *sbf_model_path(const char *file) {
    static _Thread_local char buf[PATH_MAX];
    const char *env = getenv("SORTBYFACE_WEIGHTS");
    const char *exe = sbf_exe_dir();
    struct { const char *dir, *sub; } cand[] = {
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
