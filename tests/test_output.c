/* tests/test_output.c — fresh output folders, collision-free placement (copy / hard link / symlink),
 * Person folders and clusters.tsv, and that sources are never touched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/output.h"
#include "src/walk.h"
#include "tests/helpers/testdir.h"

static char dir[256];

static int setup(void **state) {
    (void)state;
    return testdir_make(dir, sizeof dir, "test-output");
}
static int teardown(void **state) {
    (void)state;
    return testdir_remove(dir);
}

static void write_file(const char *path, const char *content) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}
static char *slurp(const char *path) {
    static char buf[8192];
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}
static int exists(const char *p) {
    struct stat st;
    return lstat(p, &st) == 0;
}

static void test_fresh_dir(void **state) {
    (void)state;
    char dest[300], got[400], err[256];
    int renamed = -1;
    snprintf(dest, sizeof dest, "%s/Sorted", dir);
    assert_int_equal(sbf_output_fresh_dir(dest, "Inside", got, sizeof got, &renamed, err, sizeof err), 0);
    assert_string_equal(got, dest);
    assert_int_equal(renamed, 0);
    /* an earlier output of ours: a sibling */
    assert_int_equal(sbf_output_fresh_dir(dest, "Inside", got, sizeof got, &renamed, err, sizeof err), 0);
    char want[400];
    snprintf(want, sizeof want, "%s-2", dest);
    assert_string_equal(got, want);
    assert_int_equal(renamed, 1);
    /* trailing slash, and a plain file occupying "-3" is skipped too */
    snprintf(want, sizeof want, "%s-3", dest);
    write_file(want, "x");
    char dslash[310];
    snprintf(dslash, sizeof dslash, "%s/", dest);
    assert_int_equal(sbf_output_fresh_dir(dslash, "Inside", got, sizeof got, &renamed, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s-4", dest);
    assert_string_equal(got, want);
    /* each made folder carries the mark that keeps embed out of it */
    char mark[450];
    snprintf(mark, sizeof mark, "%s/%s", got, SBF_OUTPUT_MARKER);
    assert_true(exists(mark));
    /* a folder of the user's: a visibly named folder inside it, never a sibling; without an inside name, siblings */
    snprintf(dest, sizeof dest, "%s/mine", dir);
    mkdir(dest, 0755);
    assert_int_equal(sbf_output_fresh_dir(dest, "Inside", got, sizeof got, &renamed, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/mine/Inside", dir);
    assert_string_equal(got, want);
    assert_int_equal(renamed, 1);
    assert_int_equal(sbf_output_fresh_dir(dest, "Inside", got, sizeof got, &renamed, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/mine/Inside-2", dir);
    assert_string_equal(got, want);
    assert_int_equal(sbf_output_fresh_dir(dest, NULL, got, sizeof got, &renamed, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/mine-2", dir);
    assert_string_equal(got, want);
    /* "." inside an output of ours: the folder's own name with -N, never "./-2" */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(dest, sizeof dest, "%s/Sorted", dir);
    assert_int_equal(chdir(dest), 0);
    assert_int_equal(sbf_output_fresh_dir(".", "Inside", got, sizeof got, &renamed, err, sizeof err), 0);
    assert_int_equal(chdir(cwd), 0);
    char real[PATH_MAX];
    assert_non_null(realpath(dir, real));
    snprintf(want, sizeof want, "%.300s/Sorted-5", real);
    assert_string_equal(got, want);
    /* a file or a device: an error, nothing made */
    snprintf(dest, sizeof dest, "%s/Sorted-3", dir);
    assert_int_equal(sbf_output_fresh_dir(dest, "Inside", got, sizeof got, &renamed, err, sizeof err), -1);
    assert_non_null(strstr(err, "exists and is not a folder"));
    assert_int_equal(sbf_output_fresh_dir("/dev/null", "Inside", got, sizeof got, &renamed, err, sizeof err), -1);
    assert_non_null(strstr(err, "/dev/null exists and is not a folder"));
    assert_false(exists("/dev/null-2"));
    /* missing parent: a clear error */
    snprintf(dest, sizeof dest, "%s/no/such/parent", dir);
    assert_int_equal(sbf_output_fresh_dir(dest, "Inside", got, sizeof got, &renamed, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot create folder"));
}

static void test_names_fit(void **state) {
    (void)state;
    char out[600], base[300];
    sbf_output_name("IMG_1.jpg", 1, out, sizeof out);
    assert_string_equal(out, "IMG_1.jpg");
    sbf_output_name("IMG_1.jpg", 3, out, sizeof out);
    assert_string_equal(out, "IMG_1-3.jpg");
    sbf_output_name(".hidden", 2, out, sizeof out);
    assert_string_equal(out, ".hidden-2");
    sbf_output_name("noext", 12, out, sizeof out);
    assert_string_equal(out, "noext-12");
    /* 255 bytes: the stem is shortened so "-2.jpg" fits */
    memset(base, 'a', 251);
    strcpy(base + 251, ".jpg");
    sbf_output_name(base, 2, out, sizeof out);
    assert_int_equal(strlen(out), 255);
    assert_string_equal(out + 249, "-2.jpg");
    /* never in the middle of a UTF-8 character: 125 two-byte letters and ".jpg" (254 bytes) */
    for (int i = 0; i < 125; i++) memcpy(base + 2 * i, "\xc3\xa9", 2);
    strcpy(base + 250, ".jpg");
    sbf_output_name(base, 10, out, sizeof out);
    assert_true(strlen(out) <= 255);
    assert_string_equal(out + strlen(out) - 7, "-10.jpg");
    size_t stem = strlen(out) - 7;
    assert_int_equal(stem % 2, 0); /* whole characters only */
    /* two 255-byte names that need a suffix are placed (the second shortened), not "File name too long" */
    char src[600], out_dir[400], placed[900], err[256];
    snprintf(out_dir, sizeof out_dir, "%s/long", dir);
    mkdir(out_dir, 0755);
    memset(base, 'b', 251);
    strcpy(base + 251, ".jpg");
    for (int k = 0; k < 2; k++) {
        snprintf(src, sizeof src, "%s/long%d", dir, k);
        mkdir(src, 0755);
        snprintf(src, sizeof src, "%s/long%d/%s", dir, k, base);
        write_file(src, k ? "two" : "one");
        assert_int_equal(sbf_place_file(src, out_dir, NULL, SBF_PLACE_COPY, placed, sizeof placed, err, sizeof err), 0);
    }
    assert_string_equal(placed + strlen(placed) - 6, "-2.jpg");
    assert_int_equal(strlen(strrchr(placed, '/') + 1), 255);
    assert_string_equal(slurp(placed), "two");
}

static void test_place_modes(void **state) {
    (void)state;
    char src1[300], src2[300], src3[300], out[300], placed[600], err[256];
    snprintf(src1, sizeof src1, "%s/a", dir);
    mkdir(src1, 0755);
    snprintf(src1, sizeof src1, "%s/b", dir);
    mkdir(src1, 0755);
    snprintf(src1, sizeof src1, "%s/a/IMG_1.jpg", dir);
    snprintf(src2, sizeof src2, "%s/b/IMG_1.jpg", dir);
    snprintf(src3, sizeof src3, "%s/b/.hidden", dir);
    write_file(src1, "first photo");
    write_file(src2, "second photo");
    write_file(src3, "dot");
    struct timespec old[2] = {{1000000000, 0}, {1000000000, 5}};
    utimensat(AT_FDCWD, src1, old, 0);
    struct stat s1, s2;
    stat(src1, &s1);
    snprintf(out, sizeof out, "%s/out", dir);
    mkdir(out, 0755);
    /* copy: same base name from two folders never collides */
    assert_int_equal(sbf_place_file(src1, out, NULL, SBF_PLACE_COPY, placed, sizeof placed, err, sizeof err), 0);
    assert_non_null(strstr(placed, "/out/IMG_1.jpg"));
    assert_string_equal(slurp(placed), "first photo");
    stat(placed, &s2);
    assert_true(s2.st_ino != s1.st_ino);
    assert_int_equal(s2.st_mtim.tv_sec, 1000000000); /* mtime kept */
    assert_int_equal(sbf_place_file(src2, out, NULL, SBF_PLACE_COPY, placed, sizeof placed, err, sizeof err), 0);
    assert_non_null(strstr(placed, "/out/IMG_1-2.jpg"));
    assert_string_equal(slurp(placed), "second photo");
    /* hard link (the same file system: the check says so) */
    assert_int_equal(sbf_link_check(src1, out), 0);
    assert_int_equal(sbf_place_file(src1, out, NULL, SBF_PLACE_LINK, placed, sizeof placed, err, sizeof err), 0);
    assert_non_null(strstr(placed, "/out/IMG_1-3.jpg"));
    stat(placed, &s2);
    assert_true(s2.st_ino == s1.st_ino);
    /* symlink to the absolute source path, even for a relative source */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(
        sbf_place_file("b/IMG_1.jpg", "out", NULL, SBF_PLACE_SYMLINK, placed, sizeof placed, err, sizeof err), 0);
    assert_string_equal(placed, "out/IMG_1-4.jpg");
    char target[PATH_MAX];
    ssize_t tl = readlink(placed, target, sizeof target - 1);
    assert_true(tl > 0);
    target[tl] = 0;
    assert_true(target[0] == '/');
    assert_non_null(strstr(target, "/b/IMG_1.jpg"));
    assert_string_equal(slurp(placed), "second photo");
    assert_int_equal(chdir(cwd), 0);
    /* dot files and names without extension */
    assert_int_equal(sbf_place_file(src3, out, NULL, SBF_PLACE_COPY, placed, sizeof placed, err, sizeof err), 0);
    assert_int_equal(sbf_place_file(src3, out, NULL, SBF_PLACE_COPY, placed, sizeof placed, err, sizeof err), 0);
    assert_non_null(strstr(placed, "/out/.hidden-2"));
    /* missing source: error, nothing left behind */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/a/nope.jpg", dir);
    assert_int_equal(sbf_place_file(missing, out, NULL, SBF_PLACE_COPY, placed, sizeof placed, err, sizeof err),
                     ENOENT);
    assert_non_null(strstr(err, "cannot read"));
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | grep -q sortbyface", out);
    assert_int_not_equal(system(cmd), 0); /* no temp files */
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 6", out);
    assert_int_equal(system(cmd), 0);
    /* sources untouched */
    assert_string_equal(slurp(src1), "first photo");
    assert_string_equal(slurp(src2), "second photo");
    struct stat s3;
    stat(src1, &s3);
    assert_int_equal(s3.st_mtim.tv_sec, 1000000000);
}

static void test_write_tree(void **state) {
    (void)state;
    /* photos: p/a/x.jpg (faces 0,1 -> persons 1,2), p/b/x.jpg (person 1), p/c/y.png (two faces, both
     * person 1), p/d/none.jpg (no face), p/e/gone.jpg (missing on disk, person 2) */
    char base[300], path[400], err[256];
    snprintf(base, sizeof base, "%s/p", dir);
    mkdir(base, 0755);
    const char *names[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", base, names[i]);
        mkdir(path, 0755);
    }
    const char *files[] = {"a/x.jpg", "b/x.jpg", "c/y.png", "d/none.jpg", "e/gone.jpg"};
    int nf[] = {2, 1, 2, 0, 1};
    sbf_faceset fs;
    assert_int_equal(sbf_faceset_alloc(&fs, 5, 6, 4), 0);
    int f = 0;
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", base, files[i]);
        if (i != 4) write_file(path, files[i]);
        fs.photos[i].path = strdup(path);
        fs.photos[i].nfaces = nf[i];
        fs.photos[i].first_face = f;
        for (int k = 0; k < nf[i]; k++, f++) {
            fs.face_photo[f] = i;
            fs.face_index[f] = k;
            fs.boxes[f] = (sbf_box){10 * f, 20, 10 * f + 50, 70, 1.0, 0};
        }
    }
    const char *folder[] = {"Person 1", "Person 2", "Person 1", "Person 1", "Person 1", "Person 2"};
    uint32_t person[] = {1, 2, 1, 1, 1, 2};
    char out[300];
    snprintf(out, sizeof out, "%s/sorted", dir);
    mkdir(out, 0755);
    sbf_sort_stats st;
    assert_int_equal(sbf_write_tree(&fs, folder, person, out, SBF_PLACE_COPY, &st, NULL, NULL, err, sizeof err), 0);
    assert_int_equal(st.folders, 2);
    assert_int_equal(st.placed, 4);
    assert_int_equal(st.failed, 1);
    snprintf(path, sizeof path, "%s/Person 1/x.jpg", out);
    assert_string_equal(slurp(path), "a/x.jpg");
    snprintf(path, sizeof path, "%s/Person 1/x-2.jpg", out);
    assert_string_equal(slurp(path), "b/x.jpg");
    snprintf(path, sizeof path, "%s/Person 1/y.png", out);
    assert_string_equal(slurp(path), "c/y.png");
    snprintf(path, sizeof path, "%s/Person 1/y-2.png", out);
    assert_false(exists(path)); /* two faces of one person: the photo once */
    snprintf(path, sizeof path, "%s/Person 2/x.jpg", out);
    assert_string_equal(slurp(path), "a/x.jpg"); /* the photobomb photo is in both folders */
    snprintf(path, sizeof path, "%s/Person 3", out);
    assert_false(exists(path));
    snprintf(path, sizeof path, "%s/clusters.tsv", out);
    char want[4096];
    snprintf(want, sizeof want,
             "path\tface\tleft\ttop\tright\tbottom\tperson\tfile\n"
             "%s/a/x.jpg\t0\t0\t20\t50\t70\t1\tPerson 1/x.jpg\n"
             "%s/a/x.jpg\t1\t10\t20\t60\t70\t2\tPerson 2/x.jpg\n"
             "%s/b/x.jpg\t0\t20\t20\t70\t70\t1\tPerson 1/x-2.jpg\n"
             "%s/c/y.png\t0\t30\t20\t80\t70\t1\tPerson 1/y.png\n"
             "%s/c/y.png\t1\t40\t20\t90\t70\t1\tPerson 1/y.png\n"
             "%s/e/gone.jpg\t0\t50\t20\t100\t70\t2\t\n",
             base, base, base, base, base, base);
    assert_string_equal(slurp(path), want);
    /* writing again into the same folder refuses (Person 1 exists) rather than mixing results, and leaves
     * nothing of its own behind */
    assert_int_equal(sbf_write_tree(&fs, folder, person, out, SBF_PLACE_COPY, &st, NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "Person 1"));
    snprintf(path, sizeof path, "%s/clusters.tsv", out);
    assert_string_equal(slurp(path), want);
    snprintf(path, sizeof path, "%s/Person 1/x.jpg", out);
    assert_string_equal(slurp(path), "a/x.jpg");
    sbf_faceset_free(&fs);
}

static void test_tsv_escape(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    sbf_tsv_escape(m, "a\tb\nc\\d\re");
    fclose(m);
    assert_string_equal(buf, "a\\tb\\nc\\\\d\\re");
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_dir),  cmocka_unit_test(test_place_modes), cmocka_unit_test(test_names_fit),
        cmocka_unit_test(test_write_tree), cmocka_unit_test(test_tsv_escape),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
