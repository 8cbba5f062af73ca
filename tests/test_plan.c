/* tests/test_plan.c — embed's incremental rules (src/plan.h), one assertion per rule: which folders are
 * walked, which files are embedded, left unchanged, failed or skipped, and which photos the database holds
 * are forgotten or kept (gone, no image any more, under a folder not given or not readable). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "src/plan.h"

/* roots as given -> the folders walked, "|"-joined */
static void check_roots(const char *given, const char *want) {
    char buf[256], *r[16], out[256] = "";
    int n = 0;
    snprintf(buf, sizeof buf, "%s", given);
    for (char *s = strtok(buf, "|"); s; s = strtok(NULL, "|")) r[n++] = s;
    n = sbf_plan_roots(r, n);
    for (int i = 0; i < n; i++) snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "|" : "", r[i]);
    assert_string_equal(out, want);
}

static void test_roots(void **state) {
    (void)state;
    /* e2e_faults' `embed multi/x/in -src multi/x multi/y/ multi/y missing-folder` (-src comes first) */
    check_roots("multi/x|multi/x/in|multi/y/|multi/y|missing-folder", "multi/x|multi/y/|missing-folder");
    check_roots("lib|lib|lib", "lib"); /* each spelling once */
    check_roots("lib/|lib", "lib/");   /* the same folder spelled twice: the first is kept */
    check_roots("lib|lib/", "lib");
    check_roots("lib/2019/summer|lib/2019|lib", "lib");      /* inside a folder given later: walked with it */
    check_roots("lib/a.jpg|lib", "lib");                     /* a file in a folder given */
    check_roots("lib|library|lib2/x", "lib|library|lib2/x"); /* a longer name is not inside */
    check_roots("/|/home/me/pics|pics", "/|pics");           /* everything absolute is inside "/", relative is not */
    check_roots(".|./a|a", ".");                             /* "." (the base) holds every relative name */
    check_roots("./a|a", "./a|a");                           /* names given to it are in normal form (sbf_path_key) */
    check_roots("b|a", "b|a");                               /* the order given is kept */
}

static void test_unique_files(void **state) {
    (void)state;
    const char *paths[] = {"lib/b.jpg", "lib/a.jpg", "lib/b.jpg", "lib/a/x.jpg", "lib/a.jpg", "lib/b.jpg"};
    sbf_walk_file f[6];
    for (int i = 0; i < 6; i++) f[i] = (sbf_walk_file){.path = strdup(paths[i]), .size = 100 + i, .mtime_ns = 1000};
    int n = sbf_plan_unique_files(f, 6); /* repeats freed: ASan's leak check counts them */
    assert_int_equal(n, 3);
    assert_string_equal(f[0].path, "lib/a.jpg");
    assert_string_equal(f[1].path, "lib/a/x.jpg"); /* byte order: '.' < '/' */
    assert_string_equal(f[2].path, "lib/b.jpg");
    assert_int_equal(f[1].size, 103);
    for (int i = 0; i < n; i++) free(f[i].path);
    assert_int_equal(sbf_plan_unique_files(NULL, 0), 0);
}

static sbf_plan_state state_of_stale(int kind, int known, long long size, long long mtime, int stale) {
    sbf_walk_file f = {.path = "lib/a.jpg", .size = 5000, .mtime_ns = 1700000000123456789LL};
    sbf_plan_facts facts = {kind, known, size, mtime, stale};
    return sbf_plan_file(&f, &facts);
}
static sbf_plan_state state_of(int kind, int known, long long size, long long mtime) {
    return state_of_stale(kind, known, size, mtime, 0);
}

static void test_file_states(void **state) {
    (void)state;
    const long long sz = 5000, mt = 1700000000123456789LL;
    assert_int_equal(state_of(1, 0, 0, 0), SBF_PLAN_NEW);                    /* an image not held */
    assert_int_equal(state_of(1, 1, sz, mt), SBF_PLAN_UNCHANGED);            /* same path, size and time */
    assert_int_equal(state_of(1, 1, sz + 1, mt), SBF_PLAN_CHANGED);          /* another size */
    assert_int_equal(state_of(1, 1, sz, mt + 1), SBF_PLAN_CHANGED);          /* a nanosecond later */
    assert_int_equal(state_of(1, 1, sz, mt - 1000000000), SBF_PLAN_CHANGED); /* older (a backup restored) */
    assert_int_equal(state_of(-1, 0, 0, 0), SBF_PLAN_UNREADABLE);            /* cannot be opened */
    assert_int_equal(state_of(-1, 1, sz, mt), SBF_PLAN_UNREADABLE);          /* ... even if held unchanged */
    assert_int_equal(state_of(-1, 1, sz + 1, mt), SBF_PLAN_UNREADABLE);      /* ... or changed */
    assert_int_equal(state_of(0, 0, 0, 0), SBF_PLAN_OTHER);                  /* not an image */
    assert_int_equal(state_of(0, 1, sz, mt), SBF_PLAN_OTHER);                /* no image any more, same size/time */
    assert_int_equal(state_of(0, 1, sz + 1, mt), SBF_PLAN_OTHER);
    /* made with other detection settings (or --redo): embedded again, even with the same size and time */
    assert_int_equal(state_of_stale(1, 1, sz, mt, 1), SBF_PLAN_CHANGED);
    assert_int_equal(state_of_stale(1, 1, sz + 1, mt, 1), SBF_PLAN_CHANGED);
    assert_int_equal(state_of_stale(-1, 1, sz, mt, 1), SBF_PLAN_UNREADABLE); /* ... unless it cannot be read */
    assert_int_equal(state_of_stale(0, 1, sz, mt, 1), SBF_PLAN_OTHER);
    assert_true(sbf_plan_embeds(SBF_PLAN_NEW));
    assert_true(sbf_plan_embeds(SBF_PLAN_CHANGED));
    assert_false(sbf_plan_embeds(SBF_PLAN_UNCHANGED));
    assert_false(sbf_plan_embeds(SBF_PLAN_UNREADABLE));
    assert_false(sbf_plan_embeds(SBF_PLAN_OTHER));
    assert_false(sbf_plan_embeds(SBF_PLAN_DUPLICATE));
}

/* One file under several names (hard links, symlinks): embedded once, under the name the database holds,
 * else a real one, else the first in byte order. */
static void test_same_files(void **state) {
    (void)state;
    sbf_walk_file f[] = {
        {.path = "lib/a.jpg", .id = {1, 10}},                /* 0: file 10, first name */
        {.path = "lib/b.jpg", .id = {1, 11}},                /* 1: alone */
        {.path = "lib/c.jpg", .id = {1, 10}},                /* 2: file 10 again (a hard link) */
        {.path = "lib/d.jpg", .id = {2, 10}},                /* 3: inode 10 on another device: another file */
        {.path = "lib/e.jpg", .id = {1, 12}, .via_link = 1}, /* 4: file 12 through a symlink */
        {.path = "lib/f.jpg", .id = {1, 12}},                /* 5: ... and its real name */
        {.path = "lib/g.jpg", .id = {1, 10}},                /* 6: file 10 a third time */
    };
    int same[7];
    sbf_plan_same_files(f, 7, NULL, same);
    int want[] = {-1, -1, 0, -1, 5, -1, 0};
    for (int i = 0; i < 7; i++) assert_int_equal(same[i], want[i]);
    int known[] = {0, 0, 0, 0, 1, 0, 1}; /* the database holds lib/e.jpg and lib/g.jpg */
    sbf_plan_same_files(f, 7, known, same);
    int want2[] = {6, -1, 6, -1, -1, 4, -1};
    for (int i = 0; i < 7; i++) assert_int_equal(same[i], want2[i]);
    sbf_plan_same_files(NULL, 0, NULL, same);
}

/* A file named as a format it decodes: one whose content is none is named as failed, not skipped. */
static void test_image_names(void **state) {
    (void)state;
    const char *yes[] = {"a.jpg", "lib/a.JPG", "b.jpeg", "c.Png", "d.gif",        "e.bmp",
                         "f.tga", "g.ppm",     "h.pgm",  "i.pnm", "x/y.z/k.jfif", "j.jpe"};
    const char *no[] = {"a.heic", "b.webp", "c.txt", "jpg", "lib.jpg/readme", "d.jpg.bak", ".jpgx", "e"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) assert_true(sbf_plan_image_name(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof *no; i++) assert_false(sbf_plan_image_name(no[i]));
}

static void test_forget(void **state) {
    (void)state;
    /* a run over "lib/" and "away" (which could not be read: NULL); lib/locked could not be read */
    sbf_walk_file files[] = {{.path = "lib/a.jpg"},     {.path = "lib/b.jpg"}, {.path = "lib/c.txt"},
                             {.path = "lib/d.jpg"},     {.path = "lib/e.jpg"}, {.path = "lib/link.jpg"},
                             {.path = "lib/sub/f.heic"}};
    sbf_plan_state st[] = {SBF_PLAN_UNCHANGED, SBF_PLAN_UNREADABLE, SBF_PLAN_OTHER, SBF_PLAN_NEW,
                           SBF_PLAN_CHANGED,   SBF_PLAN_DUPLICATE,  SBF_PLAN_OTHER};
    char *unreadable[] = {"lib/locked"}, *roots[] = {"lib/", NULL};
    sbf_walk w = {.files = files, .n = 7, .unreadable = unreadable, .nunreadable = 1, .dir_errors = 1};
    assert_true(sbf_plan_forget("lib/gone.jpg", roots, 2, &w, st));         /* deleted */
    assert_true(sbf_plan_forget("lib/deep/er/gone.jpg", roots, 2, &w, st)); /* deleted with its folder */
    assert_true(sbf_plan_forget("lib/c.txt", roots, 2, &w, st));            /* no image any more */
    assert_true(sbf_plan_forget("lib/sub/f.heic", roots, 2, &w, st));       /* a format it cannot decode now */
    assert_true(sbf_plan_forget("lib/link.jpg", roots, 2, &w, st));         /* a second name of a photo held */
    assert_false(sbf_plan_forget("lib/a.jpg", roots, 2, &w, st));           /* unchanged */
    assert_false(sbf_plan_forget("lib/b.jpg", roots, 2, &w, st));           /* unreadable file: kept */
    assert_false(sbf_plan_forget("lib/d.jpg", roots, 2, &w, st));           /* images found are kept ... */
    assert_false(sbf_plan_forget("lib/e.jpg", roots, 2, &w, st));           /* ... new or changed */
    assert_false(sbf_plan_forget("lib/locked/x.jpg", roots, 2, &w, st));    /* under a folder it could not read */
    assert_false(sbf_plan_forget("lib/locked/deep/x.jpg", roots, 2, &w, st));
    assert_true(sbf_plan_forget("lib/locked2/x.jpg", roots, 2, &w, st)); /* a neighbour of it is not */
    assert_false(sbf_plan_forget("away/x.jpg", roots, 2, &w, st));       /* under a folder given, unread */
    assert_false(sbf_plan_forget("other/x.jpg", roots, 2, &w, st));      /* under no folder given */
    assert_false(sbf_plan_forget("library/x.jpg", roots, 2, &w, st));    /* a longer name is not under lib */
    assert_false(sbf_plan_forget("/abs/lib/x.jpg", roots, 2, &w, st));   /* by spelling: not under lib */
    /* a folder that was emptied: all it held is forgotten */
    char *mroots[] = {"multi"};
    sbf_walk empty = {0};
    assert_true(sbf_plan_forget("multi/x/in/a.jpg", mroots, 1, &empty, NULL));
    assert_true(sbf_plan_forget("multi", mroots, 1, &empty, NULL)); /* the folder given was a file */
    assert_false(sbf_plan_forget("multiple/a.jpg", mroots, 1, &empty, NULL));
    /* the base folder itself given ("."): every relative path lies under it, no absolute one */
    char *base[] = {"."};
    assert_true(sbf_plan_forget("x.jpg", base, 1, &empty, NULL));
    assert_true(sbf_plan_forget("lib/x.jpg", base, 1, &empty, NULL));
    assert_false(sbf_plan_forget("/media/x.jpg", base, 1, &empty, NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roots),      cmocka_unit_test(test_unique_files), cmocka_unit_test(test_file_states),
        cmocka_unit_test(test_same_files), cmocka_unit_test(test_image_names),  cmocka_unit_test(test_forget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
