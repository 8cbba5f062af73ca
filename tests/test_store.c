/* tests/test_store.c — the embeddings database: round trips, incremental lookup, forget, torn tails
 * at every byte, damage detection, lock, compaction, and crash safety under SIGKILL; settings up to a
 * path's length, per-photo detection settings, renaming, photos with no face, an empty file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nn/half.h"
#include "src/store.h"
#include "tests/helpers/testdir.h"

static char dir[256];

static uint64_t sm(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double unif(uint64_t *s) { return (double)(sm(s) >> 11) / 9007199254740992.0; }

/* A deterministic face for (photo version v, face i). */
static void make_face(sbf_face_rec *f, long v, int i) {
    uint64_t st = (uint64_t)v * 1000003u + (uint64_t)i;
    memset(f, 0, sizeof *f);
    f->index = i;
    f->box.left = (long)(sm(&st) % 1000) - 10;
    f->box.top = (long)(sm(&st) % 1000);
    f->box.right = f->box.left + 80 + i;
    f->box.bottom = f->box.top + 81;
    f->box.score = unif(&st) * 3 - 0.5;
    f->box.filter = i % 5;
    for (int k = 0; k < SBF_LANDMARKS; k++) {
        f->landmarks[k][0] = (float)(unif(&st) * 500);
        f->landmarks[k][1] = (float)(unif(&st) * 500);
    }
    double n = 0;
    for (int k = 0; k < SBF_EMBED_DIM; k++) {
        f->emb[k] = (float)(unif(&st) * 2 - 1);
        n += (double)f->emb[k] * f->emb[k];
    }
    for (int k = 0; k < SBF_EMBED_DIM; k++) f->emb[k] = (float)(f->emb[k] / sqrt(n));
}

static void dbpath(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

static int put_version(sbf_store *s, const char *path, long v, int nfaces) {
    sbf_face_rec faces[3];
    for (int i = 0; i < nfaces; i++) make_face(&faces[i], v, i);
    sbf_photo_meta m = {path, v, v * 1000 + 7, 640 + (int)v, 480, NULL};
    char err[256];
    int rc = sbf_store_put(s, &m, nfaces, faces, err, sizeof err);
    if (rc) fprintf(stderr, "put: %s\n", err);
    return rc;
}

static int setup(void **state) {
    (void)state;
    return testdir_make(dir, sizeof dir, "test-store");
}
static int teardown(void **state) {
    (void)state;
    return testdir_remove(dir);
}

/* Settings: set/get, only changes are appended, the last value wins on reopen, compaction keeps them and
 * does not count them as dead bytes, bad keys and too many keys are refused, a damaged one is detected. */
static void test_settings(void **state) {
    (void)state;
    char p[300], err[256];
    dbpath(p, sizeof p, "set.db");
    sbf_store *s = sbf_store_open(p, SBF_STORE_WRITE, err, sizeof err);
    assert_non_null(s);
    assert_null(sbf_store_get_setting(s, "align"));
    assert_int_equal(sbf_store_set_setting(s, "align", "box", err, sizeof err), 0);
    assert_int_equal(put_version(s, "a.jpg", 1, 1), 0);
    sbf_store_stats st0, st1;
    sbf_store_get_stats(s, &st0);
    assert_int_equal(sbf_store_set_setting(s, "align", "box", err, sizeof err), 0); /* unchanged: nothing appended */
    sbf_store_get_stats(s, &st1);
    assert_int_equal(st1.file_bytes, st0.file_bytes);
    assert_int_equal(st1.dead_bytes, 0);
    assert_int_equal(sbf_store_set_setting(s, "align", "mtcnn", err, sizeof err), 0);
    assert_int_equal(sbf_store_set_setting(s, "note", "", err, sizeof err), 0);
    assert_string_equal(sbf_store_get_setting(s, "align"), "mtcnn");
    assert_int_equal(sbf_store_set_setting(s, "", "x", err, sizeof err), -1);
    assert_int_equal(sbf_store_set_setting(s, "a-key-that-is-longer-than-31-bytes", "x", err, sizeof err), -1);
    /* a value as long as a folder path may be (a base folder of over 255 bytes) */
    char longv[4097];
    memset(longv, 'x', 4096);
    longv[4096] = 0;
    assert_int_equal(sbf_store_set_setting(s, "long", longv, err, sizeof err), -1); /* 4096: over PATH_MAX - 1 */
    longv[4095] = 0;
    assert_int_equal(sbf_store_set_setting(s, "long", longv, err, sizeof err), 0);
    sbf_store_close(s);
    s = sbf_store_open(p, SBF_STORE_READ, err, sizeof err);
    assert_non_null(s);
    assert_string_equal(sbf_store_get_setting(s, "align"), "mtcnn");
    assert_string_equal(sbf_store_get_setting(s, "note"), "");
    assert_int_equal(strlen(sbf_store_get_setting(s, "long")), 4095);
    sbf_store_get_stats(s, &st1);
    assert_true(st1.dead_bytes > 0 && st1.dead_bytes < 100); /* only the replaced "box" record */
    sbf_store_close(s);
    s = sbf_store_open(p, SBF_STORE_WRITE, err, sizeof err);
    assert_int_equal(sbf_store_compact(s, err, sizeof err), 0);
    sbf_store_close(s);
    s = sbf_store_open(p, SBF_STORE_WRITE, err, sizeof err);
    assert_non_null(s);
    assert_string_equal(sbf_store_get_setting(s, "align"), "mtcnn");
    assert_string_equal(sbf_store_get_setting(s, "note"), "");
    assert_int_equal(sbf_store_lookup(s, "a.jpg", NULL, NULL), 1);
    assert_int_equal(strlen(sbf_store_get_setting(s, "long")), 4095);
    sbf_store_get_stats(s, &st1);
    assert_int_equal(st1.dead_bytes, 0);
    for (int i = 0; i < 61; i++) { /* 64 keys in all */
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        assert_int_equal(sbf_store_set_setting(s, k, "v", err, sizeof err), 0);
    }
    assert_int_equal(sbf_store_set_setting(s, "one-too-many", "v", err, sizeof err), -1);
    sbf_store_close(s);
    /* flip a byte of the first setting's value: detected by its checksum, file left alone */
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 32 + 16 + 4 + 5, SEEK_SET), 0); /* header, record header, lengths, "align" */
    int c = fgetc(f);
    assert_int_equal(c, 'm');
    fseek(f, 32 + 16 + 4 + 5, SEEK_SET);
    fputc('M', f);
    fclose(f);
    assert_null(sbf_store_open(p, SBF_STORE_READ, err, sizeof err));
    assert_non_null(strstr(err, "fails its checksum"));
}

/* The base folder: the face set's relative paths open from anywhere (prefixed with the base unless it is
 * the current folder), absolute ones are left alone; a base that is gone falls back to the database's own
 * folder; a database without one is read as stored. */
static void test_base_paths(void **state) {
    (void)state;
    char p[300], err[256], sub[300], real[PATH_MAX], got[PATH_MAX], old[PATH_MAX];
    dbpath(p, sizeof p, "base.db");
    snprintf(sub, sizeof sub, "%s/photos", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_non_null(realpath(sub, real));
    assert_non_null(getcwd(old, sizeof old));
    sbf_store *s = sbf_store_open(p, SBF_STORE_WRITE, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(put_version(s, "a/1.jpg", 1, 1), 0);
    assert_int_equal(put_version(s, "/abs/2.jpg", 2, 1), 0);
    assert_null(sbf_store_base(s, got, sizeof got));
    sbf_faceset fs;
    assert_int_equal(sbf_store_faceset(s, &fs, err, sizeof err), 0); /* no base: as stored */
    assert_string_equal(fs.photos[1].path, "a/1.jpg");
    sbf_faceset_free(&fs);
    assert_int_equal(sbf_store_set_setting(s, SBF_SETTING_BASE, real, err, sizeof err), 0);
    assert_string_equal(sbf_store_base(s, got, sizeof got), real);
    assert_int_equal(sbf_store_faceset(s, &fs, err, sizeof err), 0); /* run from elsewhere (the test's folder) */
    char want[PATH_MAX + 16];
    snprintf(want, sizeof want, "%s/a/1.jpg", real);
    assert_string_equal(fs.photos[0].path, "/abs/2.jpg");
    assert_string_equal(fs.photos[1].path, want);
    sbf_faceset_free(&fs);
    assert_int_equal(chdir(real), 0); /* run from the base: as stored */
    assert_int_equal(sbf_store_faceset(s, &fs, err, sizeof err), 0);
    assert_string_equal(fs.photos[1].path, "a/1.jpg");
    sbf_faceset_free(&fs);
    assert_int_equal(chdir(old), 0);
    assert_int_equal(sbf_store_set_setting(s, SBF_SETTING_BASE, "/no/such/folder/anywhere", err, sizeof err), 0);
    char dreal[PATH_MAX];
    assert_non_null(realpath(dir, dreal));
    assert_string_equal(sbf_store_base(s, got, sizeof got), dreal); /* moved: the database's folder */
    assert_int_equal(sbf_store_faceset(s, &fs, err, sizeof err), 0);
    snprintf(want, sizeof want, "%s/a/1.jpg", dreal);
    assert_string_equal(fs.photos[1].path, want);
    sbf_faceset_free(&fs);
    sbf_store_close(s);
}

/* Detection settings per photo: a photo made with the defaults names none (its record is as before the
 * field), others name a "detect.N" setting, one per distinct value; they survive reopening and compaction;
 * a rename keeps them and the faces; photos with no face are counted. */
static void test_detect_rename(void **state) {
    (void)state;
    char p[300], err[256];
    dbpath(p, sizeof p, "detect.db");
    sbf_store *s = sbf_store_open(p, SBF_STORE_WRITE, err, sizeof err);
    assert_non_null(s);
    sbf_face_rec faces[2];
    make_face(&faces[0], 7, 0);
    make_face(&faces[1], 7, 1);
    sbf_photo_meta m = {"a.jpg", 10, 20, 640, 480, NULL};
    assert_int_equal(sbf_store_put(s, &m, 2, faces, err, sizeof err), 0);
    sbf_photo_meta m2 = {"./b.jpg", 11, 21, 640, 480, "upsample=2 min-face=auto"};
    assert_int_equal(sbf_store_put(s, &m2, 0, NULL, err, sizeof err), 0);
    sbf_photo_meta m3 = {"c.jpg", 12, 22, 640, 480, "upsample=auto min-face=200"};
    assert_int_equal(sbf_store_put(s, &m3, 1, faces, err, sizeof err), 0);
    sbf_photo_meta m4 = {"d.jpg", 13, 23, 640, 480, "upsample=2 min-face=auto"};
    assert_int_equal(sbf_store_put(s, &m4, 0, NULL, err, sizeof err), 0);
    assert_string_equal(sbf_store_photo_detect(s, "a.jpg"), "");
    assert_string_equal(sbf_store_photo_detect(s, "./b.jpg"), "upsample=2 min-face=auto");
    assert_string_equal(sbf_store_photo_detect(s, "c.jpg"), "upsample=auto min-face=200");
    assert_null(sbf_store_photo_detect(s, "e.jpg"));
    assert_string_equal(sbf_store_get_setting(s, "detect.1"), "upsample=2 min-face=auto");
    assert_string_equal(sbf_store_get_setting(s, "detect.2"), "upsample=auto min-face=200");
    assert_null(sbf_store_get_setting(s, "detect.3")); /* d.jpg shares detect.1 */
    sbf_store_stats st;
    sbf_store_get_stats(s, &st);
    assert_int_equal(st.photos, 4);
    assert_int_equal(st.faces, 3);
    assert_int_equal(st.noface, 2);
    /* renamed: the same record under its one name; onto a name held, the other is just forgotten */
    assert_int_equal(sbf_store_rename(s, "./b.jpg", "b.jpg", err, sizeof err), 0);
    assert_int_equal(sbf_store_lookup(s, "./b.jpg", NULL, NULL), 0);
    long long size, mtime;
    assert_int_equal(sbf_store_lookup(s, "b.jpg", &size, &mtime), 1);
    assert_true(size == 11 && mtime == 21);
    assert_string_equal(sbf_store_photo_detect(s, "b.jpg"), "upsample=2 min-face=auto");
    assert_int_equal(sbf_store_rename(s, "c.jpg", "a.jpg", err, sizeof err), 0);
    assert_int_equal(sbf_store_lookup(s, "c.jpg", NULL, NULL), 0);
    assert_string_equal(sbf_store_photo_detect(s, "a.jpg"), ""); /* a.jpg's own record kept */
    assert_int_equal(sbf_store_rename(s, "nothing.jpg", "x.jpg", err, sizeof err), 0);
    assert_int_equal(sbf_store_rename(s, "a.jpg", "lib/renamed-a.jpg", err, sizeof err), 0);
    sbf_store_close(s);
    for (int round = 0; round < 2; round++) { /* reopened, then compacted */
        s = sbf_store_open(p, SBF_STORE_WRITE, err, sizeof err);
        assert_non_null(s);
        sbf_store_get_stats(s, &st);
        assert_int_equal(st.photos, 3);
        assert_int_equal(st.faces, 2);
        assert_int_equal(st.noface, 2);
        assert_string_equal(sbf_store_photo_detect(s, "b.jpg"), "upsample=2 min-face=auto");
        assert_string_equal(sbf_store_photo_detect(s, "lib/renamed-a.jpg"), "");
        sbf_faceset fs;
        assert_int_equal(sbf_store_faceset(s, &fs, err, sizeof err), 0);
        assert_int_equal(fs.nphotos, 3);
        assert_string_equal(fs.photos[2].path, "lib/renamed-a.jpg");
        assert_int_equal(fs.photos[2].nfaces, 2);
        assert_int_equal(fs.photos[2].width, 640);
        assert_memory_equal(fs.emb + (size_t)fs.photos[2].first_face * SBF_EMBED_DIM, faces[0].emb,
                            sizeof faces[0].emb);
        assert_memory_equal(fs.emb + (size_t)(fs.photos[2].first_face + 1) * SBF_EMBED_DIM, faces[1].emb,
                            sizeof faces[1].emb);
        sbf_faceset_free(&fs);
        if (!round) assert_int_equal(sbf_store_compact(s, err, sizeof err), 0);
        sbf_store_close(s);
    }
    /* a record made with the defaults is byte for byte the earlier format (byte 3 of the payload is 0) */
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    unsigned char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    int defaults = 0;
    for (size_t off = 32; off + 16 <= n;) {
        uint32_t type, plen;
        memcpy(&type, buf + off + 4, 4);
        memcpy(&plen, buf + off + 8, 4);
        const unsigned char *pl = buf + off + 16;
        if (type == 1 && !memcmp(pl + 32, "lib/renamed-a.jpg", 17)) {
            assert_int_equal(pl[2], 0); /* float32 */
            assert_int_equal(pl[3], 0); /* the defaults */
            defaults++;
        }
        if (type == 1 && !memcmp(pl + 32, "b.jpg", 5)) assert_int_equal(pl[3], 1);
        off += 16 + plen + 4;
    }
    assert_int_equal(defaults, 1);
    /* an empty file is named as such */
    dbpath(p, sizeof p, "empty.db");
    f = fopen(p, "wb");
    fclose(f);
    assert_null(sbf_store_open(p, SBF_STORE_READ, err, sizeof err));
    assert_string_equal(err, "empty file, not a sortbyface database");
    assert_null(sbf_store_open(p, SBF_STORE_WRITE, err, sizeof err));
    assert_string_equal(err, "empty file, not a sortbyface database");
}

static void test_crc32_known(void **state) {
    (void)state;
    assert_int_equal(sbf_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(sbf_crc32(0, "", 0), 0u);
    /* incremental == one shot */
    const char *t = "The quick brown fox jumps over the lazy dog";
    assert_int_equal(sbf_crc32(sbf_crc32(0, t, 10), t + 10, strlen(t) - 10), 0x414FA339u);
}

static void test_roundtrip(void **state) {
    (void)state;
    char p[300], err[256];
    dbpath(p, sizeof p, "rt.db");
    sbf_store *s = sbf_store_open(p, SBF_STORE_WRITE, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(put_version(s, "b/two.jpg", 2, 2), 0);
    assert_int_equal(put_version(s, "a/one.jpg", 1, 1), 0);
    assert_int_equal(put_version(s, "c/none.jpg", 3, 0), 0);
    assert_int_equal(put_version(s, "d/gone.jpg", 4, 1), 0);
    long long sz, mt;
    assert_int_equal(sbf_store_lookup(s, "a/one.jpg", &sz, &mt), 1);
    assert_int_equal(sz, 1);
    assert_int_equal(mt, 1007);
    assert_int_equal(sbf_store_lookup(s, "a/one", &sz, &mt), 0);
    assert_int_equal(sbf_store_forget(s, "d/gone.jpg", err, sizeof err), 0);
    assert_int_equal(sbf_store_forget(s, "never/there.jpg", err, sizeof err), 0);
    assert_int_equal(sbf_store_lookup(s, "d/gone.jpg", NULL, NULL), 0);
    /* replace: a/one.jpg changed */
    assert_int_equal(put_version(s, "a/one.jpg", 11, 3), 0);
    sbf_store_close(s);

    for (int pass = 0; pass < 2; pass++) {
        s = sbf_store_open(p, pass ? SBF_STORE_WRITE : SBF_STORE_READ, err, sizeof err);
        assert_non_null(s);
        sbf_store_stats st;
        sbf_store_get_stats(s, &st);
        assert_int_equal(st.photos, 3);
        assert_int_equal(st.faces, 5);
        assert_int_equal(st.torn_bytes, 0);
        assert_true(st.dead_bytes > 0);
        assert_int_equal(sbf_store_lookup(s, "a/one.jpg", &sz, &mt), 1);
        assert_int_equal(sz, 11);
        assert_int_equal(sbf_store_lookup(s, "c/none.jpg", &sz, &mt), 1);
        assert_int_equal(sz, 3);
        sbf_faceset fs;
        assert_int_equal(sbf_store_faceset(s, &fs, err, sizeof err), 0);
        assert_int_equal(fs.nphotos, 3);
        assert_int_equal(fs.nfaces, 5);
        assert_string_equal(fs.photos[0].path, "a/one.jpg");
        assert_string_equal(fs.photos[1].path, "b/two.jpg");
        assert_string_equal(fs.photos[2].path, "c/none.jpg");
        assert_int_equal(fs.photos[0].nfaces, 3);
        assert_int_equal(fs.photos[0].width, 651);
        assert_int_equal(fs.photos[0].height, 480);
        assert_int_equal(fs.photos[1].first_face, 3);
        assert_int_equal(fs.photos[2].nfaces, 0);
        for (int f = 0; f < 5; f++) {
            long v = f < 3 ? 11 : 2;
            int idx = f < 3 ? f : f - 3;
            sbf_face_rec want;
            make_face(&want, v, idx);
            assert_int_equal(fs.face_index[f], idx);
            assert_int_equal(fs.face_photo[f], f < 3 ? 0 : 1);
            assert_int_equal(fs.boxes[f].left, want.box.left);
            assert_int_equal(fs.boxes[f].bottom, want.box.bottom);
            assert_true(fs.boxes[f].score == want.box.score);
            assert_int_equal(fs.boxes[f].filter, want.box.filter);
            assert_memory_equal(fs.landmarks + f * 136, want.landmarks, sizeof want.landmarks);
            assert_memory_equal(fs.emb + f * 512, want.emb, sizeof want.emb);
        }
        sbf_faceset_free(&fs);
        if (pass == 1) {
            /* compaction keeps the live state and drops the dead bytes */
            assert_int_equal(sbf_store_compact(s, err, sizeof err), 0);
            sbf_store_get_stats(s, &st);
            assert_int_equal(st.dead_bytes, 0);
            assert_int_equal(put_version(s, "e/after.jpg", 5, 1), 0);
        }
        sbf_store_close(s);
    }
    s = sbf_store_open(p, SBF_STORE_READ, err, sizeof err);
    assert_non_null(s);
    sbf_store_stats st;
    sbf_store_get_stats(s, &st);
    assert_int_equal(st.photos, 4);
    assert_int_equal(st.faces, 6);
    assert_int_equal(st.dead_bytes, 0);
    assert_int_equal(sbf_store_lookup(s, "e/after.jpg", &sz, NULL), 1);
    assert_int_equal(sbf_store_lookup(s, "d/gone.jpg", NULL, NULL), 0);
    sbf_store_close(s);
    /* no temp files left behind */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", dir);
    assert_int_not_equal(system(cmd), 0);
}

static void test_f16(void **state) {
    (void)state;
    char p[300], err[256];
    dbpath(p, sizeof p, "f16.db");
    sbf_store *s = sbf_store_open(p, SBF_STORE_WRITE | SBF_STORE_F16, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(put_version(s, "x.jpg", 9, 2), 0);
    sbf_store_close(s);
    struct stat st32, st16;
    assert_int_equal(stat(p, &st16), 0);
    s = sbf_store_open(p, SBF_STORE_READ, err, sizeof err);
    assert_non_null(s);
    sbf_faceset fs;
    assert_int_equal(sbf_store_faceset(s, &fs, err, sizeof err), 0);
    for (int f = 0; f < 2; f++) {
        sbf_face_rec want;
        make_face(&want, 9, f);
        for (int k = 0; k < 512; k++) {
            assert_true(fs.emb[f * 512 + k] == nn_f16_to_f32(nn_f32_to_f16(want.emb[k])));
            assert_true(fabsf(fs.emb[f * 512 + k] - want.emb[k]) < 1e-3f);
        }
        assert_memory_equal(fs.landmarks + f * 136, want.landmarks, sizeof want.landmarks);
    }
    sbf_faceset_free(&fs);
    sbf_store_close(s);
    /* same content as float32 is larger by 2 x 512 x 2 bytes */
    char p2[300];
    dbpath(p2, sizeof p2, "f32.db");
    s = sbf_store_open(p2, SBF_STORE_WRITE, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(put_version(s, "x.jpg", 9, 2), 0);
    sbf_store_close(s);
    assert_int_equal(stat(p2, &st32), 0);
    assert_int_equal(st32.st_size - st16.st_size, 2 * 512 * 2);
}

static long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void copy_prefix(const char *src, const char *dst, long n) {
    FILE *a = fopen(src, "rb"), *b = fopen(dst, "wb");
    assert_non_null(a);
    assert_non_null(b);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, a), (size_t)n);
    assert_int_equal(fwrite(buf, 1, (size_t)n, b), (size_t)n);
    free(buf);
    fclose(a);
    fclose(b);
}

static void test_torn_tail_every_byte(void **state) {
    (void)state;
    char p[300], q[300], err[512];
    dbpath(p, sizeof p, "torn.db");
    dbpath(q, sizeof q, "torn-cut.db");
    sbf_store *s = sbf_store_open(p, SBF_STORE_WRITE | SBF_STORE_F16, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(put_version(s, "one.jpg", 1, 1), 0);
    assert_int_equal(put_version(s, "two.jpg", 2, 0), 0);
    sbf_store_close(s);
    long before = file_size(p);
    s = sbf_store_open(p, SBF_STORE_WRITE | SBF_STORE_F16, err, sizeof err);
    assert_int_equal(put_version(s, "three.jpg", 3, 2), 0);
    sbf_store_close(s);
    long full = file_size(p);
    assert_true(full > before + 3000);
    for (long cut = before; cut < full; cut++) {
        copy_prefix(p, q, cut);
        /* read-only: the torn record is ignored, the file untouched */
        s = sbf_store_open(q, SBF_STORE_READ, err, sizeof err);
        if (!s) fail_msg("cut at %ld: %s", cut, err);
        sbf_store_stats st;
        sbf_store_get_stats(s, &st);
        assert_int_equal(st.photos, 2);
        assert_int_equal(st.torn_bytes, (unsigned long long)(cut - before));
        assert_int_equal(sbf_store_lookup(s, "three.jpg", NULL, NULL), 0);
        sbf_store_close(s);
        assert_int_equal(file_size(q), cut);
        if (cut % 97 == 0 || cut == before + 1 || cut == full - 1) {
            /* read/write: the torn tail is dropped, and appending works again */
            s = sbf_store_open(q, SBF_STORE_WRITE, err, sizeof err);
            assert_non_null(s);
            assert_int_equal(file_size(q), before);
            assert_int_equal(put_version(s, "three.jpg", 3, 2), 0);
            sbf_store_close(s);
            s = sbf_store_open(q, SBF_STORE_READ, err, sizeof err);
            assert_non_null(s);
            sbf_store_get_stats(s, &st);
            assert_int_equal(st.photos, 3);
            assert_int_equal(st.faces, 3);
            sbf_store_close(s);
        }
    }
    /* a zero-filled tail (power loss after a size update) is a torn tail too */
    copy_prefix(p, q, full);
    FILE *f = fopen(q, "ab");
    static const char zeros[700];
    fwrite(zeros, 1, sizeof zeros, f);
    fclose(f);
    s = sbf_store_open(q, SBF_STORE_READ, err, sizeof err);
    assert_non_null(s);
    sbf_store_close(s);
}

static void test_damage_detected(void **state) {
    (void)state;
    char p[300], q[300], err[512];
    dbpath(p, sizeof p, "dmg.db");
    dbpath(q, sizeof q, "dmg-bad.db");
    sbf_store *s = sbf_store_open(p, SBF_STORE_WRITE, err, sizeof err);
    assert_non_null(s);
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "p%d.jpg", i);
        assert_int_equal(put_version(s, name, i + 1, 1), 0);
    }
    sbf_store_close(s);
    long n = file_size(p);
    /* flip a byte at many places of the first three records (and the file header) */
    uint64_t rs = 42;
    for (int trial = 0; trial < 200; trial++) {
        long at = trial < 32 ? trial : 32 + (long)(sm(&rs) % (uint64_t)(n * 3 / 4 - 32));
        copy_prefix(p, q, n);
        FILE *f = fopen(q, "r+b");
        fseek(f, at, SEEK_SET);
        int c = fgetc(f);
        fseek(f, at, SEEK_SET);
        fputc(c ^ (1 << (trial % 8)), f);
        fclose(f);
        for (int mode = 0; mode < 2; mode++) {
            err[0] = 0;
            s = sbf_store_open(q, mode ? SBF_STORE_WRITE : SBF_STORE_READ, err, sizeof err);
            if (s) fail_msg("flipped byte at %ld was not detected", at);
            assert_true(strstr(err, "damaged") || strstr(err, "bad magic") || strstr(err, "version"));
            assert_null(strstr(err, q)); /* callers add the path (sbf_file_error) */
        }
        assert_int_equal(file_size(q), n); /* never "repaired" silently */
    }
    /* a missing file is an error in read mode */
    dbpath(q, sizeof q, "missing.db");
    assert_null(sbf_store_open(q, SBF_STORE_READ, err, sizeof err));
    assert_non_null(strstr(err, "No such file"));
    /* not a database at all */
    FILE *f = fopen(q, "wb");
    fputs("hello, this is not a database at all, no no no", f);
    fclose(f);
    assert_null(sbf_store_open(q, SBF_STORE_WRITE, err, sizeof err));
    assert_non_null(strstr(err, "not an embeddings database"));
}

static void test_lock_and_forget_missing(void **state) {
    (void)state;
    char p[300], err[512], photo[300], prefix[300];
    dbpath(p, sizeof p, "lock.db");
    sbf_store *s = sbf_store_open(p, SBF_STORE_WRITE, err, sizeof err);
    assert_non_null(s);
    assert_null(sbf_store_open(p, SBF_STORE_WRITE, err, sizeof err));
    assert_non_null(strstr(err, "in use"));
    sbf_store *r = sbf_store_open(p, SBF_STORE_READ, err, sizeof err); /* readers need no lock */
    assert_non_null(r);
    sbf_store_close(r);
    snprintf(prefix, sizeof prefix, "%s/lib", dir);
    mkdir(prefix, 0755);
    const char *names[] = {"lib/keep.jpg", "lib/gone.jpg", "lib2/gone.jpg"};
    for (int i = 0; i < 3; i++) {
        snprintf(photo, sizeof photo, "%s/%s", dir, names[i]);
        if (i == 0) fclose(fopen(photo, "wb"));
        assert_int_equal(put_version(s, photo, i + 1, 1), 0);
    }
    size_t forgotten = 99;
    assert_int_equal(sbf_store_forget_missing(s, prefix, &forgotten, err, sizeof err), 0);
    assert_int_equal(forgotten, 1); /* lib2/ is outside the prefix */
    snprintf(photo, sizeof photo, "%s/lib2/gone.jpg", dir);
    assert_int_equal(sbf_store_lookup(s, photo, NULL, NULL), 1);
    snprintf(photo, sizeof photo, "%s/lib/keep.jpg", dir);
    assert_int_equal(sbf_store_lookup(s, photo, NULL, NULL), 1);
    assert_int_equal(sbf_store_forget_missing(s, NULL, &forgotten, err, sizeof err), 0);
    assert_int_equal(forgotten, 1);
    sbf_store_close(s);
    s = sbf_store_open(p, SBF_STORE_WRITE, err, sizeof err); /* the lock went with close */
    assert_non_null(s);
    sbf_store_stats st;
    sbf_store_get_stats(s, &st);
    assert_int_equal(st.photos, 1);
    sbf_store_close(s);
}

/* ---- SIGKILL at random points --------------------------------------------------------------------
 * Op k of an endless deterministic sequence: every 25th forgets photo (k*7)%40, every 400th compacts,
 * the others put photo k%40 at version k.  After each kill the database must equal the state after
 * some prefix of the ops, at or after the previous one. */
#define NPH 40
static void op_apply_model(long k, long *model) {
    if (k % 400 == 399) return;
    if (k % 25 == 24) model[(k * 7) % NPH] = -1;
    else model[k % NPH] = k;
}

static void child_run(const char *p, long start) {
    char err[512], name[32];
    sbf_store *s = NULL;
    for (int t = 0; t < 2000 && !s; t++) { /* the killed parent lock is gone, but be patient */
        s = sbf_store_open(p, SBF_STORE_WRITE | ((start / 7) % 2 ? SBF_STORE_F16 : 0), err, sizeof err);
        if (!s) usleep(1000);
    }
    if (!s) _exit(3);
    for (long k = start;; k++) {
        if (k % 400 == 399) {
            if (sbf_store_compact(s, err, sizeof err)) _exit(4);
        } else if (k % 25 == 24) {
            snprintf(name, sizeof name, "photos/p%02ld.jpg", (k * 7) % NPH);
            if (sbf_store_forget(s, name, err, sizeof err)) _exit(5);
        } else {
            snprintf(name, sizeof name, "photos/p%02ld.jpg", k % NPH);
            if (put_version(s, name, k, (int)(k % 3))) _exit(6);
        }
    }
}

static int db_matches(const char *p, const long *model) {
    char err[512], name[32];
    struct stat sst;
    if (stat(p, &sst) != 0) { /* killed before the file was created: only the empty state fits */
        for (int i = 0; i < NPH; i++)
            if (model[i] >= 0) return 0;
        return 1;
    }
    sbf_store *s = sbf_store_open(p, SBF_STORE_READ, err, sizeof err);
    if (!s) fail_msg("reopen after kill: %s", err);
    int ok = 1;
    size_t live = 0;
    for (int i = 0; i < NPH && ok; i++) {
        snprintf(name, sizeof name, "photos/p%02d.jpg", i);
        long long sz, mt;
        int has = sbf_store_lookup(s, name, &sz, &mt);
        if (model[i] < 0) ok = !has;
        else ok = has && sz == model[i] && mt == model[i] * 1000 + 7, live++;
    }
    sbf_store_stats st;
    sbf_store_get_stats(s, &st);
    if (ok && st.photos != live) ok = 0;
    sbf_store_close(s);
    return ok;
}

static void test_sigkill(void **state) {
    (void)state;
    char p[300], err[512];
    dbpath(p, sizeof p, "kill.db");
    long model[NPH];
    for (int i = 0; i < NPH; i++) model[i] = -1;
    long done = 0; /* ops known applied */
    uint64_t rs = 20261130;
    int kills = 0, progressed = 0;
    long scale = 1; /* slower machines (qemu): the kill window grows while rounds make no progress */
    for (int round = 0; round < 48; round++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) child_run(p, done);
        long ns = (long)(200000 + sm(&rs) % 6000000) * scale; /* 0.2 .. 6.2 ms, times scale */
        struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int wst;
        waitpid(pid, &wst, 0);
        if (!(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL)) fail_msg("child ended on its own (status %d)", wst);
        kills++;
        /* find the prefix the database holds: it is at or after the newest put it contains (the
         * version stored in the size field), and at most a few non-put ops later */
        long newest = done - 1;
        {
            struct stat sst;
            if (stat(p, &sst) == 0) {
                sbf_store *r = sbf_store_open(p, SBF_STORE_READ, err, sizeof err);
                if (!r) fail_msg("round %d: reopen after kill: %s", round, err);
                for (int i = 0; i < NPH; i++) {
                    char name[32];
                    long long sz;
                    snprintf(name, sizeof name, "photos/p%02d.jpg", i);
                    if (sbf_store_lookup(r, name, &sz, NULL) && sz > newest) newest = (long)sz;
                }
                sbf_store_close(r);
            }
        }
        long tmp[NPH];
        memcpy(tmp, model, sizeof tmp);
        long k = done;
        while (k < newest + 1) op_apply_model(k++, tmp);
        int found = db_matches(p, tmp);
        for (int extra = 0; !found && extra < 4; extra++) {
            op_apply_model(k++, tmp);
            found = db_matches(p, tmp);
        }
        if (!found)
            fail_msg("round %d: database matches no prefix of the ops after %ld (newest put %ld)", round, done, newest);
        memcpy(model, tmp, sizeof tmp);
        if (k > done) progressed++;
        else if (scale < 256) scale *= 2;
        done = k;
        /* and the writer can always continue */
        sbf_store *s = sbf_store_open(p, SBF_STORE_WRITE, err, sizeof err);
        if (!s) fail_msg("round %d: %s", round, err);
        sbf_store_close(s);
    }
    fprintf(stderr, "sigkill: %d kills, %d rounds made progress, %ld ops survived\n", kills, progressed, done);
    assert_true(kills >= 40);
    assert_true(progressed >= 24); /* the children did real work between kills */
    assert_true(done > 60);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_known),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_base_paths),
        cmocka_unit_test(test_detect_rename),
        cmocka_unit_test(test_f16),
        cmocka_unit_test(test_torn_tail_every_byte),
        cmocka_unit_test(test_damage_detected),
        cmocka_unit_test(test_lock_and_forget_missing),
        cmocka_unit_test(test_sigkill),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
