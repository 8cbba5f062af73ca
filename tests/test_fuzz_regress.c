/* tests/test_fuzz_regress.c — replays the fuzz seed corpus (fuzz/corpus/<target>/) and every input
 * that once crashed a fuzz target (fuzz/regress/<target>/) through the very harness code the fuzzers
 * run (fuzz/fuzz_*.c, compiled in here), so each found bug stays a regression test in the normal,
 * ASan+UBSan and qemu builds.  The harnesses abort on any invariant violation; on top of that, files
 * named "ok-*" must be accepted and "bad-*" refused.  Reads fuzz/ relative to the working directory
 * (the repo root under `make test`) or $SBF_FUZZ_DIR; fails when the folders are missing. */
/* 64-bit readdir/stat on 32-bit ARM: under qemu-user a 64-bit host gives 64-bit directory cookies
 * and plain readdir fails with EOVERFLOW (the folders looked empty). */
#define _FILE_OFFSET_BITS 64
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SBF_FUZZ_NO_ENTRY 1
#include "fuzz/fuzz_common.c"
#include "fuzz/fuzz_image.c"
#include "fuzz/fuzz_store.c"
#include "fuzz/fuzz_weights.c"

static const char *fuzz_root(void) {
    const char *d = getenv("SBF_FUZZ_DIR");
    return d && *d ? d : "fuzz";
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Runs fn on every file of <root>/<kind>/<target>; returns the number of files (-1: no folder). */
static int replay(const char *kind, const char *target, int (*fn)(const uint8_t *, size_t), int *nok, int *nbad) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s/%s", fuzz_root(), kind, target);
    DIR *d = opendir(dir);
    if (!d) return -1;
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, (size_t)cap * sizeof *names);
            assert_non_null(names);
        }
        names[n] = strdup(de->d_name);
        assert_non_null(names[n]);
        n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (!f) fail_msg("cannot open %s", path);
        size_t cap_b = 1 << 16, len = 0, got;
        uint8_t *b = malloc(cap_b);
        assert_non_null(b);
        while ((got = fread(b + len, 1, cap_b - len, f)) > 0) {
            len += got;
            if (len == cap_b) {
                cap_b *= 2;
                b = realloc(b, cap_b);
                assert_non_null(b);
            }
        }
        fclose(f);
        /* exact-size copy so ASan sees over-reads past the input */
        uint8_t *exact = malloc(len ? len : 1);
        assert_non_null(exact);
        memcpy(exact, b, len);
        free(b);
        int rc = fn(exact, len);
        free(exact);
        if (!strncmp(names[i], "ok-", 3)) {
            if (rc != 1) fail_msg("%s: expected to be accepted, was refused", path);
            ++*nok;
        } else if (!strncmp(names[i], "bad-", 4)) {
            if (rc != 0) fail_msg("%s: expected to be refused, was accepted", path);
            ++*nbad;
        }
        free(names[i]);
    }
    free(names);
    return n;
}

static void run_target(const char *target, int (*fn)(const uint8_t *, size_t), int min_ok, int min_bad) {
    int nok = 0, nbad = 0;
    int nc = replay("corpus", target, fn, &nok, &nbad);
    if (nc < 0) fail_msg("%s/corpus/%s missing (run from the repo root or set SBF_FUZZ_DIR)", fuzz_root(), target);
    int nr = replay("regress", target, fn, &nok, &nbad);
    print_message("fuzz %s: %d corpus + %d regression inputs replayed (%d must-accept, %d must-refuse)\n", target, nc,
                  nr < 0 ? 0 : nr, nok, nbad);
    assert_true(nc > 0);
    assert_true(nok >= min_ok);
    assert_true(nbad >= min_bad);
}

static void test_image(void **state) {
    (void)state;
    run_target("image", sbf_fuzz_image, 20, 3);
}
static void test_weights(void **state) {
    (void)state;
    run_target("weights", sbf_fuzz_weights, 3, 2);
}
static void test_store(void **state) {
    (void)state;
    run_target("store", sbf_fuzz_store, 4, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_image),
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
