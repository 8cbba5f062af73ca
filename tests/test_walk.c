/* tests/test_walk.c — the folder walk: sorted order, paths as the user spelled the root, symlink loops
 * and symlinked duplicates visited once, dangling links ignored, odd names, unreadable folders and files,
 * our own output folders left out unless named as the root, trees deeper than PATH_MAX, file identities;
 * and the path rules of src/path.h (normal form, the one name of a photo, opening long paths). */
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
#include <sys/wait.h>
#include <unistd.h>
#include "src/walk.h"
#include "tests/helpers/testdir.h"

static char root[64];

static void touch(const char *rel, const char *content) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
}
static void mk(const char *rel) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}
static void ln(const char *target, const char *rel) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state) {
    (void)state;
    return testdir_make(root, sizeof root, "walk");
}
static int teardown(void **state) {
    (void)state;
    return testdir_remove(root);
}

static void test_walk(void **state) {
    (void)state;
    mk("b");
    mk("b/c");
    mk("a");
    touch("z.jpg", "1");
    touch("b/two words.png", "22");
    touch("b/c/deep.gif", "333");
    touch("a/new\nline.jpg", "4444");
    ln("..", "b/c/loop");  /* loop back up */
    ln("../b", "a/alias"); /* the same folder again through a link */
    ln("/nonexistent/x", "a/dangling");
    ln("z.jpg", "zz-link.jpg"); /* a symlinked file is a file */
    char spelled[80];
    snprintf(spelled, sizeof spelled, "%s/", root); /* trailing slash: no double slash in results */
    sbf_walk w = {0};
    char err[256];
    assert_int_equal(sbf_walk_tree(&w, spelled, err, sizeof err), 0);
    const char *want[] = {"a/new\nline.jpg", "b/c/deep.gif", "b/two words.png", "z.jpg", "zz-link.jpg"};
    /* a/alias is b again (real path wins): skipped; b/c/loop is the root again: skipped */
    assert_int_equal(w.n, 5);
    for (int i = 0; i < 5; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", root, want[i]);
        assert_string_equal(w.files[i].path, p);
    }
    assert_int_equal(w.files[3].size, 1);
    assert_true(w.files[3].mtime_ns > 0);
    /* the symlinked file is the same file as its target, and says it was reached through a link */
    assert_true(w.files[3].id.ino == w.files[4].id.ino && w.files[3].id.dev == w.files[4].id.dev);
    assert_false(w.files[3].via_link);
    assert_true(w.files[4].via_link);
    assert_false(w.files[0].id.ino == w.files[1].id.ino);
    assert_int_equal(w.loops, 2);
    assert_int_equal(w.dir_errors, 0);
    sbf_walk_free(&w);
    /* a single file as the root */
    char f[512];
    snprintf(f, sizeof f, "%s/z.jpg", root);
    assert_int_equal(sbf_walk_tree(&w, f, err, sizeof err), 0);
    assert_int_equal(w.n, 1);
    sbf_walk_free(&w);
    snprintf(f, sizeof f, "%s/missing", root);
    assert_int_equal(sbf_walk_tree(&w, f, err, sizeof err), -1);
    assert_non_null(strstr(err, "No such file"));
}

/* An unreadable sub-folder is reported and counted; the rest is still walked.  As root, permissions
 * do not stop reads, so the check runs in a child that drops to 'nobody'. */
static void test_unreadable(void **state) {
    (void)state;
    mk("ok");
    mk("locked");
    mk("listonly");
    touch("ok/1.jpg", "1");
    touch("locked/2.jpg", "2");
    touch("listonly/3.jpg", "3");
    char p[512], q[512];
    snprintf(p, sizeof p, "%s/locked", root);
    snprintf(q, sizeof q, "%s/listonly", root);
    assert_int_equal(chmod(p, 0), 0);
    assert_int_equal(chmod(q, 0444), 0); /* names can be read, the files not reached: each is named */
    assert_int_equal(chmod(root, 0755), 0);
    pid_t pid = fork();
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(10);
        sbf_walk w = {0};
        char err[256];
        if (sbf_walk_tree(&w, root, err, sizeof err) != 0) _exit(11);
        if (w.n != 1 || w.dir_errors != 2) _exit(12);
        if (!strstr(w.files[0].path, "ok/1.jpg")) _exit(13);
        /* ... and named, so embed keeps what the database had from it */
        char q3[600];
        snprintf(q3, sizeof q3, "%s/3.jpg", q);
        if (w.nunreadable != 2 || strcmp(w.unreadable[0], q3) != 0 || strcmp(w.unreadable[1], p) != 0) _exit(15);
        if (!sbf_path_under("x/locked/2.jpg", "x/locked/") || sbf_path_under("x/locked2/2.jpg", "x/locked")) _exit(16);
        sbf_walk_free(&w);
        /* the root itself unreadable: an error, not a silent empty walk */
        if (sbf_walk_tree(&w, p, err, sizeof err) != -1 || !strstr(err, "cannot read folder")) _exit(14);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* A folder holding SBF_OUTPUT_MARKER (sort's and find's output) is not entered, directly or through a
 * symlink, and is counted; named as the root itself, it is walked. */
static void test_output_folders(void **state) {
    (void)state;
    mk("lib");
    mk("lib/Sorted-pictures");
    mk("lib/Sorted-pictures/Person 1");
    mk("lib/keep");
    touch("lib/a.jpg", "1");
    touch("lib/keep/b.jpg", "2");
    touch("lib/Sorted-pictures/" SBF_OUTPUT_MARKER, "x");
    touch("lib/Sorted-pictures/Person 1/a.jpg", "1");
    ln("Sorted-pictures", "lib/via-link");
    char p[512];
    snprintf(p, sizeof p, "%s/lib", root);
    sbf_walk w = {0};
    char err[256];
    assert_int_equal(sbf_walk_tree(&w, p, err, sizeof err), 0);
    assert_int_equal(w.n, 2);
    assert_non_null(strstr(w.files[0].path, "lib/a.jpg"));
    assert_non_null(strstr(w.files[1].path, "lib/keep/b.jpg"));
    assert_int_equal(w.outputs, 2);
    sbf_walk_free(&w);
    snprintf(p, sizeof p, "%s/lib/Sorted-pictures", root);
    assert_int_equal(sbf_walk_tree(&w, p, err, sizeof err), 0);
    assert_int_equal(w.n, 2); /* the marker and Person 1/a.jpg */
    assert_int_equal(w.outputs, 0);
    sbf_walk_free(&w);
}

/* Naming a path from another folder, by spelling (embed run away from a database's base folder). */
static void test_path_rebase(void **state) {
    (void)state;
    static const struct {
        const char *from, *to, *path, *want;
    } cases[] = {
        {"/a/b", "/a", "../c/x.jpg", "c/x.jpg"},
        {"/a/b", "/a/d", "../c/x.jpg", "../c/x.jpg"},
        {"/a/b", "/a/b", "./lib//x.jpg", "lib/x.jpg"},
        {"/a/b", "/a/b/", "lib/", "lib"},
        {"/a/b", "/a/b", ".", "."},
        {"/a/b", "/a", ".", "b"},
        {"/a/b", "/a/b/c/d", "..", "../../.."},
        {"/x", "/a/b", "/a/c/x.jpg", "../c/x.jpg"},
        {"/a", "/", "x", "a/x"},
        {"/", "/a", "x", "../x"},
        {"/a", "/a", "../../x", "../x"},   /* ".." stops at the root */
        {"/a/bc", "/a/b", "x", "../bc/x"}, /* components compare whole, not by prefix */
        {"/a/b", "/a", "c/../../b/./y", "b/y"},
    };
    char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = sbf_path_rebase(cases[i].from, cases[i].to, cases[i].path, out, sizeof out);
        if (!got || strcmp(got, cases[i].want))
            fail_msg("%s from %s seen from %s: got %s, want %s", cases[i].path, cases[i].from, cases[i].to,
                     got ? got : "NULL", cases[i].want);
    }
    char small[6];
    assert_non_null(sbf_path_rebase("/a", "/a", "abcd", small, sizeof small));
    assert_null(sbf_path_rebase("/a", "/a", "abcde/f", small, sizeof small));
    assert_null(sbf_path_rebase("/a/b/c", "/a/x/y/z", "q", small, sizeof small));
}

/* A tree deeper than PATH_MAX: walked (paths of any length), its photo opened through sbf_path_open /
 * sbf_path_short, identified by sbf_file_id_of. */
static void test_deep(void **state) {
    (void)state;
    char name[241];
    memset(name, 'd', 240);
    name[240] = 0;
    int fd = open(root, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    for (int i = 0; i < 20; i++) { /* 20 x 241 bytes: over 4,800 */
        assert_int_equal(mkdirat(fd, name, 0755), 0);
        int nfd = openat(fd, name, O_RDONLY | O_DIRECTORY);
        assert_true(nfd >= 0);
        close(fd);
        fd = nfd;
    }
    int f = openat(fd, "deep.jpg", O_WRONLY | O_CREAT, 0644);
    assert_true(f >= 0);
    assert_int_equal(write(f, "12345", 5), 5);
    close(f);
    close(fd);
    sbf_walk w = {0};
    char err[256];
    assert_int_equal(sbf_walk_tree(&w, root, err, sizeof err), 0);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.dir_errors, 0);
    assert_true(strlen(w.files[0].path) > PATH_MAX);
    assert_int_equal(w.files[0].size, 5);
    const char *path = w.files[0].path;
    struct stat st;
    assert_int_equal(stat(path, &st), -1); /* the ordinary calls cannot */
    assert_int_equal(errno, ENAMETOOLONG);
    sbf_file_id id;
    assert_int_equal(sbf_file_id_of(path, &id), 0);
    assert_true(id.ino == w.files[0].id.ino);
    char buf[32], got[8] = "";
    int sfd;
    const char *s = sbf_path_short(path, buf, sizeof buf, &sfd);
    assert_non_null(s);
    assert_true(sfd >= 0);
    assert_non_null(strstr(s, "/proc/self/fd/"));
    FILE *in = fopen(s, "rb");
    assert_non_null(in);
    assert_int_equal(fread(got, 1, 5, in), 5);
    fclose(in);
    close(sfd);
    assert_string_equal(got, "12345");
    const char *shortname = "short.jpg";
    assert_ptr_equal(sbf_path_short(shortname, buf, sizeof buf, &sfd), shortname); /* short paths as they are */
    assert_int_equal(sfd, -1);
    /* the walk's root may be that long too */
    char *dir = strdup(path);
    *strrchr(dir, '/') = 0;
    sbf_walk w2 = {0};
    assert_int_equal(sbf_walk_tree(&w2, dir, err, sizeof err), 0);
    assert_int_equal(w2.n, 1);
    assert_string_equal(w2.files[0].path, path);
    sbf_walk_free(&w2);
    free(dir);
    sbf_walk_free(&w);
}

/* The normal form and the one name of a path in a database (sbf_path_key). */
static void test_path_key(void **state) {
    (void)state;
    static const struct {
        const char *path, *want;
    } norm[] = {
        {"lib", "lib"},
        {"./lib", "lib"},
        {"lib/", "lib"},
        {"lib//sub", "lib/sub"},
        {"lib/./sub/", "lib/sub"},
        {"lib/sub/../sub", "lib/sub"},
        {"lib/..", "."},
        {"", "."},
        {"./", "."},
        {"../x", "../x"},
        {"../../x/..", "../.."},
        {"/", "/"},
        {"/..", "/"},
        {"//a//b/", "/a/b"},
        {"/a/../../b", "/b"},
        {"a/b/../../..", ".."},
    };
    for (size_t i = 0; i < sizeof norm / sizeof *norm; i++) {
        char *got = sbf_path_normal(norm[i].path);
        if (strcmp(got, norm[i].want))
            fail_msg("normal form of '%s': got '%s', want '%s'", norm[i].path, got, norm[i].want);
        free(got);
    }
    static const struct {
        const char *base, *cwd, *path, *want;
    } key[] = {
        {"/no/base", "/no/base", "lib", "lib"},
        {"/no/base", "/no/base", "./lib", "lib"},
        {"/no/base", "/no/base", "lib//sub", "lib/sub"},
        {"/no/base", "/no/base", "/no/base/lib", "lib"}, /* $PWD/lib */
        {"/no/base", "/no/base", "lib/sub/../sub", "lib/sub"},
        {"/no/base", "/no/base", ".", "."}, /* the base itself */
        {"/no/base", "/no/base/in", "..", "."},
        {"/no/base", "/no/base/in/deep", "../x.jpg", "in/x.jpg"},      /* seen from a folder inside it */
        {"/no/base", "/no", "base/lib", "lib"},                        /* ... from a folder above it */
        {"/no/base", "/no/base", "../other/x.jpg", "/no/other/x.jpg"}, /* outside it: absolute */
        {"/no/base", "/no/base", "/no/basement/x", "/no/basement/x"},  /* a longer name is not inside */
        {"/", "/x", "y", "x/y"},
        {"/no/base/", "/no/base", "lib", "lib"},
    };
    for (size_t i = 0; i < sizeof key / sizeof *key; i++) {
        char *got = sbf_path_key(key[i].base, key[i].cwd, key[i].path);
        if (strcmp(got, key[i].want))
            fail_msg("key of '%s' from %s, base %s: got '%s', want '%s'", key[i].path, key[i].cwd, key[i].base, got,
                     key[i].want);
        free(got);
    }
    /* "link/.." is the link target's parent, not the link's folder: the real name is taken */
    mk("lib");
    mk("lib/a");
    mk("other");
    mk("other/b");
    ln("../other/b", "lib/link");
    char *k = sbf_path_key(root, root, "lib/link/../b");
    assert_string_equal(k, "other/b");
    free(k);
    k = sbf_path_key(root, root, "lib/a/../a"); /* no link: by spelling */
    assert_string_equal(k, "lib/a");
    free(k);
    char lnk[512], real[512];
    snprintf(lnk, sizeof lnk, "%s/lib/link", root);
    snprintf(real, sizeof real, "%s/other/b", root);
    assert_true(sbf_same_file(lnk, real));
    assert_true(sbf_path_same_photo(lnk, real));
    assert_false(sbf_path_same_photo(lnk, root));
    assert_true(sbf_path_same_photo("/no/such/./x.jpg", "/no/such/x.jpg")); /* gone: by spelling */
    assert_false(sbf_path_same_photo("/no/such/x.jpg", "/no/such/y.jpg"));
    assert_true(sbf_path_under("lib/x", "."));
    assert_false(sbf_path_under("/lib/x", "."));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_folders, setup, teardown),
        cmocka_unit_test(test_path_rebase),
        cmocka_unit_test_setup_teardown(test_deep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
