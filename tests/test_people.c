/* tests/test_people.c — people that last across runs: the state record (round trip, damage, the store keeps
 * the last one through reopening and compaction, old databases), stable face identities (same embedding,
 * a path clean-up, a re-embedded photo by box overlap), the constrained Chinese Whispers (equal to
 * sbf_chinese_whispers without constraints; same-photo, must-link and cannot-link rules), warm-started
 * sorting (numbers kept, new faces joining, new people numbered, numbers never given again, a merge undone)
 * with one threshold and with the per-face rule (issue 24), the learned merge of src/merge.h inside it (joins
 * a person's two looks; never two faces of one photo, two stored people, or a face and a person it is not),
 * corrections and their withdrawal, merges, names and folder names, and the listing's order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cluster.h"
#include "src/merge.h"
#include "src/people.h"
#include "src/store.h"
#include "tests/helpers/looks.h"
#include "tests/helpers/testdir.h"

static char dir[256];
static int setup(void **state) {
    (void)state;
    return testdir_make(dir, sizeof dir, "test-people");
}
static int teardown(void **state) {
    (void)state;
    return testdir_remove(dir);
}

#define DIM 16
static uint64_t sm(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double unif(uint64_t *s) { return (double)(sm(s) >> 11) / 9007199254740992.0; }

/* An embedding near the centre of identity id (cos ~0.9 to it; different identities are near-orthogonal). */
static void embed_id(float *e, int id, uint64_t *rng, double noise) {
    double n = 0;
    for (int k = 0; k < DIM; k++) {
        e[k] = (float)((k == id % DIM ? 1.0 : 0.0) + (k == (id / DIM + 5) % DIM ? 0.3 : 0.0) +
                       noise * (unif(rng) * 2 - 1));
        n += (double)e[k] * e[k];
    }
    for (int k = 0; k < DIM; k++) e[k] = (float)(e[k] / sqrt(n));
}

/* A face set: photo p holds nf[p] faces of identities ids (flattened). */
static void make_set(sbf_faceset *fs, int np, const int *nf, const int *ids, const char *const *paths, uint64_t seed) {
    int n = 0;
    for (int p = 0; p < np; p++) n += nf[p];
    assert_int_equal(sbf_faceset_alloc(fs, np, n, DIM), 0);
    uint64_t rng = seed;
    int f = 0;
    for (int p = 0; p < np; p++) {
        fs->photos[p].path = strdup(paths[p]);
        fs->photos[p].stored = strdup(paths[p]);
        fs->photos[p].nfaces = nf[p];
        fs->photos[p].first_face = f;
        fs->photos[p].size = 1000 + p;
        for (int k = 0; k < nf[p]; k++, f++) {
            fs->face_photo[f] = p;
            fs->face_index[f] = k;
            fs->boxes[f] = (sbf_box){10 + 100 * k, 10, 90 + 100 * k, 90, 1.5, 0};
            embed_id(fs->emb + (size_t)f * DIM, ids[f], &rng, 0.15);
        }
    }
}

static char **names_n(int n, const char *fmt) {
    char **v = calloc((size_t)n, sizeof *v);
    for (int i = 0; i < n; i++) {
        v[i] = malloc(64);
        snprintf(v[i], 64, fmt, i);
    }
    return v;
}
static void names_free(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static void opts(sbf_people_opts *o) {
    sbf_people_opts_default(o);
    o->threshold = 0.7;
    o->threads = 1;
}

/* ---- the state record ---------------------------------------------------------------------------- */
static void fill_state(sbf_people *pp) {
    sbf_people_init(pp);
    pp->outdir = strdup("/x/Sorted-pictures");
    pp->mode = 2;
    pp->min_faces = 3;
    pp->threshold = 0.71;
    sbf_person *a = sbf_people_new_person(pp, "Alice"), *b = sbf_people_new_person(pp, NULL);
    a->folder = strdup("Alice");
    b->flags = SBF_PERSON_HIDDEN;
    uint32_t p0 = sbf_people_path(pp, "lib/a.jpg"), p1 = sbf_people_path(pp, "lib/b.jpg");
    assert_int_equal(sbf_people_path(pp, "lib/a.jpg"), p0); /* one index per path */
    pp->faces = calloc(2, sizeof *pp->faces);
    pp->faces[0] = (sbf_known_face){1, 1, 0x1234567890abcdefull, p0, 0, {1, 2, 3, 4}};
    pp->faces[1] = (sbf_known_face){2, 2, 42, p1, 1, {5, 6, 7, 8}};
    pp->nfaces = pp->capfaces = 2;
    pp->next_fid = 3;
    uint32_t f1 = 1;
    assert_int_equal(sbf_people_correct(pp, SBF_CORR_ISNOT, SBF_FROM_FOLDER, 2, 0, "lib/a.jpg", &f1, 1), 1);
    pp->placed = calloc(2, sizeof *pp->placed);
    pp->placed[0] =
        (sbf_placed){1, 0, strdup("Alice/a.jpg"), 77, 1000, 123456789, p0, 1000, 5, SBF_OP_MOVE, strdup("Bob/a.jpg")};
    pp->placed[1] = (sbf_placed){0, SBF_PLACED_USER, strdup("Alice/notes.txt"), 78, 3, 4, 0xffffffffu, 0, 0, 0, NULL};
    pp->nplaced = pp->capplaced = 2;
    pp->ren = calloc(1, sizeof *pp->ren);
    pp->ren[0] = (sbf_rename){strdup("Person 0002"), strdup("Bob")};
    pp->nren = pp->capren = 1;
    pp->planned = 1;
}

static void test_record_round_trip(void **state) {
    (void)state;
    sbf_people a, b;
    fill_state(&a);
    size_t len;
    unsigned char *p = sbf_people_encode(&a, &len);
    assert_non_null(p);
    char err[256];
    assert_int_equal(sbf_people_decode(&b, p, len, err, sizeof err), 0);
    size_t len2;
    unsigned char *p2 = sbf_people_encode(&b, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(p, p2, len);
    assert_string_equal(b.outdir, "/x/Sorted-pictures");
    assert_int_equal(b.npersons, 2);
    assert_string_equal(b.persons[0].name, "Alice");
    assert_null(b.persons[1].name);
    assert_int_equal(b.persons[1].flags, SBF_PERSON_HIDDEN);
    assert_int_equal(b.faces[0].hash, 0x1234567890abcdefull);
    assert_string_equal(b.paths[b.faces[1].path], "lib/b.jpg");
    assert_int_equal(b.ncorr, 1);
    assert_int_equal(b.corr[0].kind, SBF_CORR_ISNOT);
    assert_string_equal(b.placed[0].to, "Bob/a.jpg");
    assert_int_equal(b.placed[1].src, 0xffffffffu);
    assert_string_equal(b.ren[0].to, "Bob");
    assert_int_equal(b.planned, 1);
    assert_int_equal(b.min_faces, 3);
    /* damage: every truncation and a bad count are refused with a reason, never read half */
    for (size_t cut = 0; cut < len; cut++) {
        sbf_people c;
        assert_int_equal(sbf_people_decode(&c, p, cut, err, sizeof err), -1);
        sbf_people_free(&c);
    }
    assert_non_null(strstr(err, "damaged people record"));
    p[4 * 7 + 8 + 2 + strlen("/x/Sorted-pictures") + 3] = 0x7f; /* the path count */
    sbf_people c;
    assert_int_equal(sbf_people_decode(&c, p, len, err, sizeof err), -1);
    sbf_people_free(&c);
    p[0] = 9; /* a later version is named */
    assert_int_equal(sbf_people_decode(&c, p, len, err, sizeof err), -1);
    assert_non_null(strstr(err, "version 9"));
    sbf_people_free(&c);
    free(p);
    free(p2);
    sbf_people_free(&a);
    sbf_people_free(&b);
}

static void test_record_in_store(void **state) {
    (void)state;
    char db[400], err[256];
    snprintf(db, sizeof db, "%s/people.db", dir);
    sbf_store *s = sbf_store_open(db, SBF_STORE_WRITE, err, sizeof err);
    assert_non_null(s);
    sbf_people a, b;
    assert_int_equal(sbf_people_load(&a, s, err, sizeof err), 0); /* a database without people: empty state */
    assert_int_equal(a.npersons, 0);
    assert_int_equal(a.next_person, 1);
    sbf_people_free(&a);
    fill_state(&a);
    assert_int_equal(sbf_people_save(&a, s, err, sizeof err), 0);
    sbf_people_new_person(&a, "Carol");
    assert_int_equal(sbf_people_save(&a, s, err, sizeof err), 0); /* the last one counts */
    sbf_store_close(s);
    s = sbf_store_open(db, SBF_STORE_READ, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(sbf_people_load(&b, s, err, sizeof err), 0);
    assert_int_equal(b.npersons, 3);
    assert_string_equal(b.persons[2].name, "Carol");
    sbf_people_free(&b);
    sbf_store_close(s);
    /* a torn last record: the one before */
    FILE *f = fopen(db, "r+b");
    fseek(f, 0, SEEK_END);
    long end = ftell(f);
    fclose(f);
    assert_int_equal(truncate(db, end - 5), 0);
    s = sbf_store_open(db, SBF_STORE_READ, err, sizeof err);
    assert_non_null(s);
    assert_int_equal(sbf_people_load(&b, s, err, sizeof err), 0);
    assert_int_equal(b.npersons, 2);
    sbf_people_free(&b);
    sbf_store_close(s);
    /* compaction keeps only the last record, and it is the same */
    s = sbf_store_open(db, SBF_STORE_WRITE, err, sizeof err);
    assert_int_equal(sbf_people_save(&a, s, err, sizeof err), 0);
    sbf_store_stats st;
    sbf_store_get_stats(s, &st);
    assert_true(st.dead_bytes > 0);
    assert_int_equal(sbf_store_compact(s, err, sizeof err), 0);
    sbf_store_get_stats(s, &st);
    assert_int_equal(st.dead_bytes, 0);
    sbf_store_close(s);
    s = sbf_store_open(db, SBF_STORE_READ, err, sizeof err);
    assert_int_equal(sbf_people_load(&b, s, err, sizeof err), 0);
    assert_int_equal(b.npersons, 3);
    assert_string_equal(b.persons[2].name, "Carol");
    sbf_people_free(&b);
    sbf_store_close(s);
    sbf_people_free(&a);
}

/* ---- face identities ------------------------------------------------------------------------------ */
static void test_sync_faces(void **state) {
    (void)state;
    const char *paths[] = {"a.jpg", "b.jpg", "c.jpg"};
    int nf[] = {2, 1, 1}, ids[] = {0, 1, 0, 2};
    sbf_faceset fs;
    make_set(&fs, 3, nf, ids, paths, 1);
    sbf_people pp;
    sbf_people_init(&pp);
    uint32_t fid[8], fid2[8];
    assert_int_equal(sbf_people_sync_faces(&pp, &fs, fid), 0);
    assert_int_equal(pp.nfaces, 4);
    for (int i = 0; i < 4; i++) assert_int_equal(fid[i], (uint32_t)i + 1);
    sbf_people_face(&pp, fid[2])->person = 7;
    /* the same set again: the same identities */
    assert_int_equal(sbf_people_sync_faces(&pp, &fs, fid2), 0);
    assert_memory_equal(fid, fid2, 4 * sizeof *fid);
    assert_int_equal(sbf_people_face(&pp, fid[2])->person, 7);
    /* a path clean-up ("b.jpg" is "./b.jpg" now): same embedding, same face; a re-embedded photo (a.jpg:
     * other embeddings) keeps the identity of the face whose box overlaps (IoU >= 0.5), a face moved far
     * away is new; c.jpg is gone */
    sbf_faceset fs2;
    const char *paths2[] = {"./b.jpg", "a.jpg"};
    int nf2[] = {1, 2}, ids2[] = {0, 1, 3};
    make_set(&fs2, 2, nf2, ids2, paths2, 99);
    memcpy(fs2.emb, fs.emb + 2 * DIM, DIM * sizeof(float)); /* ./b.jpg: the embedding b.jpg had */
    fs2.boxes[1] = (sbf_box){15, 12, 95, 92, 1, 0};         /* a.jpg face 0: moved a little */
    fs2.boxes[2] = (sbf_box){400, 400, 480, 480, 1, 0};     /* a.jpg face 1: elsewhere */
    assert_int_equal(sbf_people_sync_faces(&pp, &fs2, fid2), 0);
    assert_int_equal(fid2[0], fid[2]);
    assert_int_equal(sbf_people_face(&pp, fid2[0])->person, 7);
    assert_int_equal(fid2[1], fid[0]);
    assert_int_equal(fid2[2], 5); /* new */
    assert_int_equal(pp.nfaces, 3);
    assert_null(sbf_people_face(&pp, fid[3])); /* c.jpg's face is dropped */
    assert_int_equal(pp.npaths, 2);            /* and paths nobody needs */
    /* IoU */
    int32_t a[4] = {0, 0, 9, 9}, b[4] = {5, 0, 14, 9}, c[4] = {20, 20, 29, 29};
    assert_true(fabs(sbf_box_iou(a, b) - 50.0 / 150.0) < 1e-9);
    assert_true(sbf_box_iou(a, c) == 0);
    assert_true(sbf_box_iou(a, a) == 1);
    sbf_people_free(&pp);
    sbf_faceset_free(&fs);
    sbf_faceset_free(&fs2);
}

/* ---- the constrained Chinese Whispers ------------------------------------------------------------------ */
static void random_graph(sbf_graph *g, int n, uint64_t seed) {
    /* clusters of 1..8 nodes with dense edges inside and a few across */
    uint64_t r = seed;
    float *emb = malloc((size_t)n * DIM * sizeof *emb);
    for (int i = 0; i < n; i++) embed_id(emb + (size_t)i * DIM, (int)(sm(&r) % (uint64_t)(n / 4 + 1)), &r, 0.5);
    sbf_graph_opts go = {.threshold = 0.6, .threads = 1};
    assert_int_equal(sbf_graph_build(emb, n, DIM, &go, g), 0);
    free(emb);
}

static void test_cw_equals_plain(void **state) {
    (void)state;
    for (int t = 0; t < 5; t++) {
        sbf_graph g;
        int n = 60 + 37 * t;
        random_graph(&g, n, 100 + (uint64_t)t);
        int *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b),
            *spare = malloc((size_t)n * sizeof *spare);
        for (int i = 0; i < n; i++) b[i] = spare[i] = i;
        assert_true(sbf_chinese_whispers(&g, 30, 7 + (uint64_t)t, a) > 0);
        sbf_pcw_opts o = {30, 7 + (uint64_t)t, 0};
        assert_int_equal(sbf_people_cw(&g, n, b, NULL, NULL, NULL, NULL, NULL, NULL, spare, &o), 0);
        /* the same partition (sbf_chinese_whispers numbers it by size) */
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) assert_int_equal(a[i] == a[j], b[i] == b[j]);
        free(a);
        free(b);
        free(spare);
        sbf_graph_free(&g);
    }
}

static void test_cw_constraints(void **state) {
    (void)state;
    /* 6 faces of one identity: 0,1 in one photo, 2,3 in another; 4 must be label 9; 5 must not be the
     * label face 0 ends with */
    sbf_faceset fs;
    const char *paths[] = {"p", "q", "r", "s"};
    int nf[] = {2, 2, 1, 1}, ids[] = {3, 3, 3, 3, 3, 3};
    make_set(&fs, 4, nf, ids, paths, 5);
    sbf_graph g;
    sbf_graph_opts go = {.threshold = 0.5, .threads = 1};
    assert_int_equal(sbf_graph_build(fs.emb, 6, DIM, &go, &g), 0);
    assert_int_equal(g.rowptr[6], 30); /* complete */
    int labels[6], spare[6], clamp[6] = {-1, -1, -1, -1, 9, -1}, pf[6], pc[6];
    for (int i = 0; i < 6; i++) {
        labels[i] = spare[i] = i;
        pf[i] = fs.photos[fs.face_photo[i]].first_face;
        pc[i] = fs.photos[fs.face_photo[i]].nfaces;
    }
    int64_t fstart[7] = {0, 0, 0, 0, 0, 0, 1};
    int forbid[1] = {9};
    sbf_pcw_opts o = {30, 3, 0};
    assert_int_equal(sbf_people_cw(&g, 12, labels, clamp, pf, pc, fstart, forbid, NULL, spare, &o), 0);
    assert_int_equal(labels[4], 9);
    assert_int_not_equal(labels[0], labels[1]);
    assert_int_not_equal(labels[2], labels[3]);
    assert_int_not_equal(labels[5], 9);
    /* everything else joins face 4's label where the rules allow: one of each photo pair */
    assert_true(labels[0] == 9 || labels[1] == 9);
    assert_true(labels[2] == 9 || labels[3] == 9);
    sbf_graph_free(&g);
    sbf_faceset_free(&fs);
}

/* ---- sorting that lasts ---------------------------------------------------------------------------- */
static void test_update_warm(void **state) {
    (void)state;
    /* 30 photos: identity i % 5 for photo i, one face each */
    int np = 30, nf[40], ids[40];
    char **paths = names_n(40, "lib/%02d.jpg");
    for (int i = 0; i < 40; i++) {
        nf[i] = 1;
        ids[i] = i % 5;
    }
    ids[29] = 11; /* one stranger */
    sbf_faceset fs;
    make_set(&fs, np, nf, ids, (const char *const *)paths, 3);
    sbf_people pp;
    sbf_people_init(&pp);
    sbf_people_opts o;
    opts(&o);
    uint32_t fid[40], person[40], person2[40];
    sbf_people_info inf;
    assert_int_equal(sbf_people_update(&pp, &fs, &o, fid, person, &inf), 0);
    assert_int_equal(inf.new_people, 6);
    /* numbered by size: the 6-face identities 0 (photos 0, 5, ...) and 1 get 1 and 2 (ties: first face) */
    assert_int_equal(person[0], 1);
    assert_int_equal(person[1], 2);
    assert_int_equal(person[29], 6);
    for (int i = 0; i < 29; i++) assert_int_equal(person[i], person[i % 5]);
    /* names stay with numbers */
    free(sbf_people_person(&pp, person[2])->name);
    sbf_people_person(&pp, person[2])->name = strdup("Carol");
    /* 10 more photos: 4 of known identities, 6 of a new one; another seed (the visiting order changes) */
    sbf_faceset fs2;
    for (int i = 30; i < 34; i++) ids[i] = i % 5;
    for (int i = 34; i < 40; i++) ids[i] = 7;
    make_set(&fs2, 40, nf, ids, (const char *const *)paths, 3); /* the first 30 as before (same seed) */
    o.seed = 12345;
    assert_int_equal(sbf_people_update(&pp, &fs2, &o, fid, person2, &inf), 0);
    for (int i = 0; i < 30; i++) assert_int_equal(person2[i], person[i]); /* nobody sorted before moved */
    for (int i = 30; i < 34; i++) assert_int_equal(person2[i], person[i % 5]);
    assert_int_equal(inf.new_people, 1);
    assert_int_equal(person2[34], 7); /* the next number */
    assert_string_equal(sbf_people_person(&pp, person[2])->name, "Carol");
    /* the stranger's photo goes: its number is not given again */
    sbf_faceset fs3;
    make_set(&fs3, 29, nf, ids, (const char *const *)paths, 3);
    assert_int_equal(sbf_people_update(&pp, &fs3, &o, fid, person2, &inf), 0);
    sbf_people_prune(&pp);
    assert_null(sbf_people_person(&pp, 6));
    assert_int_equal(pp.next_person, 8);
    /* from scratch (fresh) with matching: the same numbers */
    uint32_t person3[40];
    o.fresh = 1;
    o.match = 1;
    assert_int_equal(sbf_people_update(&pp, &fs2, &o, fid, person3, &inf), 0);
    for (int i = 0; i < 29; i++) assert_int_equal(person3[i], person[i]);
    sbf_people_free(&pp);
    sbf_faceset_free(&fs);
    sbf_faceset_free(&fs2);
    sbf_faceset_free(&fs3);
    names_free(paths, 40);
}

/* A merge made once does not last: two people that a first run joined (the stored state says one person) are
 * apart after a warm run whose fresh clustering finds the smaller one inside the stored person (a new person; the
 * larger keeps the number); with no_split the warm start keeps them joined; a merge the user made stays. */
static void test_update_split(void **state) {
    (void)state;
    int np = 12, nf[12], ids[12];
    char **paths = names_n(np, "lib/%02d.jpg");
    for (int i = 0; i < np; i++) {
        nf[i] = 1;
        ids[i] = i < 7 ? 0 : 1; /* 7 photos of one person, 5 of another */
    }
    sbf_faceset fs;
    make_set(&fs, np, nf, ids, (const char *const *)paths, 5);
    for (int mode = 0; mode < 3; mode++) { /* 0: no_split, 1: split, 2: split after a merge by the user */
        sbf_people pp;
        sbf_people_init(&pp);
        sbf_people_opts o;
        opts(&o);
        uint32_t fid[12], person[12], person2[12];
        sbf_people_info inf;
        assert_int_equal(sbf_people_update(&pp, &fs, &o, fid, person, &inf), 0);
        for (int i = 0; i < np; i++) assert_int_equal(person[i], i < 7 ? 1u : 2u);
        if (mode == 2) assert_true(sbf_people_merge(&pp, 2, 1, SBF_FROM_VERB) > 0);
        else
            for (int i = 7; i < np; i++)
                sbf_people_face(&pp, fid[i])->person = 1; /* as if an earlier run joined them */
        o.no_split = mode == 0;
        o.seed = 99;
        assert_int_equal(sbf_people_update(&pp, &fs, &o, fid, person2, &inf), 0);
        for (int i = 0; i < 7; i++) assert_int_equal(person2[i], 1);
        for (int i = 7; i < np; i++) assert_int_equal(person2[i], mode == 1 ? 3u : 1u);
        assert_int_equal(inf.new_people, mode == 1);
        assert_int_equal(inf.split_faces, mode == 1 ? 5 : 0);
        assert_int_equal(inf.split_people, mode == 1);
        sbf_people_free(&pp);
    }
    sbf_faceset_free(&fs);
    names_free(paths, np);
}

/* The per-face threshold rule (issue 24) inside sbf_people_update: the same people as sbf_cluster_merged from
 * scratch, the thresholds and the reason given back; a small library (10 people of 5 photos, 20 strangers; photos
 * of one person ~0.68 alike) is kept whole where one threshold of 0.73 splits it; a later run with a few new
 * photos keeps every stored person's members and the new photos join their people. */
#define RDIM 128
static void rule_set(sbf_faceset *fs, int np, const int *ids, char **paths, uint64_t seed) {
    assert_int_equal(sbf_faceset_alloc(fs, np, np, RDIM), 0);
    uint64_t rng = seed;
    for (int p = 0; p < np; p++) {
        fs->photos[p].path = strdup(paths[p]);
        fs->photos[p].stored = strdup(paths[p]);
        fs->photos[p].nfaces = 1;
        fs->photos[p].first_face = p;
        fs->photos[p].size = 1000 + p;
        fs->face_photo[p] = p;
        fs->face_index[p] = 0;
        fs->boxes[p] = (sbf_box){10, 10, 90, 90, 1.5, 0};
        /* the identity's centre (from its id alone), plus gaussian noise of this photo */
        float *e = fs->emb + (size_t)p * RDIM;
        uint64_t c = 0xC0FFEEull + (uint64_t)ids[p] * 7919u;
        double n = 0;
        for (int k = 0; k < RDIM; k++) {
            double g1 = sqrt(-2 * log(unif(&c) + 1e-300)) * cos(6.283185307179586 * unif(&c));
            double g2 = sqrt(-2 * log(unif(&rng) + 1e-300)) * cos(6.283185307179586 * unif(&rng));
            e[k] = (float)(g1 / sqrt(RDIM) + 0.06 * g2);
            n += (double)e[k] * e[k];
        }
        for (int k = 0; k < RDIM; k++) e[k] = (float)(e[k] / sqrt(n));
    }
}

static void test_update_rule(void **state) {
    (void)state;
    enum { PEOPLE = 10, PER = 5, STRANGERS = 20, N1 = PEOPLE * PER + STRANGERS, N2 = N1 + PEOPLE / 2 + 2 };
    int ids[N2];
    char **paths = names_n(N2, "lib/%03d.jpg");
    for (int i = 0; i < N2; i++)
        ids[i] = i < PEOPLE * PER ? i % PEOPLE : i < N1 ? 100 + i : i < N1 + PEOPLE / 2 ? i - N1 : 200 + i;
    sbf_faceset fs;
    rule_set(&fs, N1, ids, paths, 5);
    sbf_people pp;
    sbf_people_init(&pp);
    sbf_people_opts o;
    opts(&o);
    o.rule = 1;
    o.threshold = 0.99; /* ignored under the rule */
    uint32_t fid[N2], person[N2], person2[N2];
    sbf_people_info inf;
    assert_int_equal(sbf_people_update(&pp, &fs, &o, fid, person, &inf), 0);
    assert_non_null(strstr(inf.rule.reason, "threshold per face 0.60-0.60"));
    assert_true(pp.threshold == inf.rule.median && inf.rule.lo >= 0.60 - 1e-6);
    /* every person whole, every stranger alone */
    for (int i = 0; i < PEOPLE * PER; i++) assert_int_equal(person[i], person[i % PEOPLE]);
    for (int a = 0; a < N1; a++)
        for (int b = a + 1; b < N1; b++)
            if (ids[a] != ids[b]) assert_true(person[a] != person[b]);
    assert_int_equal(inf.new_people, PEOPLE + STRANGERS);
    /* the same partition as sbf_cluster_merged (same graph, same Chinese Whispers, same merge) */
    sbf_cluster_opts co;
    sbf_cluster_opts_default(&co);
    co.graph.threads = 1;
    co.iterations = o.iterations;
    co.seed = o.seed;
    int lab[N1];
    assert_int_equal(sbf_cluster_merged(fs.emb, N1, RDIM, &co, NULL, lab, NULL, NULL, NULL), PEOPLE + STRANGERS);
    for (int a = 0; a < N1; a++)
        for (int b = a + 1; b < N1; b++) assert_int_equal(lab[a] == lab[b], person[a] == person[b]);
    /* one threshold of 0.73 (the old default) splits most of the people */
    sbf_people pf;
    sbf_people_init(&pf);
    sbf_people_opts of;
    opts(&of);
    of.threshold = 0.73;
    sbf_people_info inf73;
    assert_int_equal(sbf_people_update(&pf, &fs, &of, fid, person2, &inf73), 0);
    assert_true(inf73.new_people > PEOPLE + STRANGERS + PEOPLE / 2);
    assert_int_equal(inf73.rule.reason[0], 0); /* no rule, no reason */
    sbf_people_free(&pf);
    /* the next night: one more photo of five of the people, two strangers; another seed */
    sbf_faceset fs2;
    rule_set(&fs2, N2, ids, paths, 5); /* the first N1 photos as before (same seed) */
    o.seed = 777;
    assert_int_equal(sbf_people_update(&pp, &fs2, &o, fid, person2, &inf), 0);
    for (int i = 0; i < N1; i++) assert_int_equal(person2[i], person[i]);
    for (int i = N1; i < N1 + PEOPLE / 2; i++) assert_int_equal(person2[i], person[i - N1]);
    assert_int_equal(inf.new_people, 2);
    sbf_people_free(&pp);
    sbf_faceset_free(&fs);
    sbf_faceset_free(&fs2);
    names_free(paths, N2);
}

/* The library of tests/helpers/looks.h as photos of one face each, except that with two_in_one face 6 (P's
 * second look) is the second face of face 0's photo (the faces in photo order: 0, 6, 1-5, 7-...). */
static void looks_set(sbf_faceset *fs, int two_in_one, int *order) {
    int truth[LOOKS_N], start[LOOKS_N];
    float *e = looks_library(truth, start);
    int np = two_in_one ? LOOKS_N - 1 : LOOKS_N;
    assert_int_equal(sbf_faceset_alloc(fs, np, LOOKS_N, LOOKS_DIM), 0);
    for (int f = 0; f < LOOKS_N; f++) order[f] = !two_in_one || f > 6 ? f : f == 0 ? 0 : f == 1 ? 6 : f - 1;
    for (int p = 0, f = 0; p < np; p++) {
        char path[64];
        snprintf(path, sizeof path, "lib/%03d.jpg", p);
        fs->photos[p].path = strdup(path);
        fs->photos[p].stored = strdup(path);
        fs->photos[p].nfaces = two_in_one && p == 0 ? 2 : 1;
        fs->photos[p].first_face = f;
        fs->photos[p].size = 1000 + p;
        for (int k = 0; k < fs->photos[p].nfaces; k++, f++) {
            fs->face_photo[f] = p;
            fs->face_index[f] = k;
            fs->boxes[f] = (sbf_box){10 + 100 * k, 10, 90 + 100 * k, 90, 1.5, 0};
            memcpy(fs->emb + (size_t)f * LOOKS_DIM, e + (size_t)order[f] * LOOKS_DIM, LOOKS_DIM * sizeof *e);
        }
    }
    free(e);
}

static void test_update_merge(void **state) {
    (void)state;
    int order[LOOKS_N];
    uint32_t fid[LOOKS_N], person[LOOKS_N], again[LOOKS_N];
    sbf_people_opts o;
    opts(&o);
    o.rule = 1;
    sbf_people_info inf;
    /* from scratch: P's two looks are one person (the merge's one join), Q and every stranger alone */
    sbf_faceset fs;
    looks_set(&fs, 0, order);
    sbf_people pp;
    sbf_people_init(&pp);
    assert_int_equal(sbf_people_update(&pp, &fs, &o, fid, person, &inf), 0);
    assert_int_equal(inf.merged, 1);
    assert_non_null(strstr(inf.rule.reason, "then 1 pair of clusters joined"));
    for (int f = 1; f < 2 * LOOKS_PER; f++) assert_int_equal(person[f], person[0]);
    assert_int_equal(inf.new_people, 2 + LOOKS_STRANGERS);
    /* without the rule (one threshold), no merge */
    sbf_people pt;
    sbf_people_init(&pt);
    sbf_people_opts ot;
    opts(&ot);
    ot.threshold = 0.75; /* above the looks' ~0.65, below each look's ~0.80 */
    assert_int_equal(sbf_people_update(&pt, &fs, &ot, fid, again, &inf), 0);
    assert_int_equal(inf.merged, 0);
    assert_int_not_equal(again[0], again[LOOKS_PER]);
    for (int f = 1; f < LOOKS_PER; f++) assert_true(again[f] == again[0] && again[LOOKS_PER + f] == again[LOOKS_PER]);
    /* ... and its two stored people stay two under the rule: the merge never joins two stored people */
    uint32_t A = again[0], B = again[LOOKS_PER];
    assert_int_equal(sbf_people_update(&pt, &fs, &o, fid, again, &inf), 0);
    assert_int_equal(inf.merged, 0);
    for (int f = 0; f < LOOKS_PER; f++) assert_true(again[f] == A && again[LOOKS_PER + f] == B);
    /* a face of each look in one photo: never one person */
    sbf_faceset f2;
    looks_set(&f2, 1, order);
    sbf_people p2;
    sbf_people_init(&p2);
    assert_int_equal(sbf_people_update(&p2, &f2, &o, fid, again, &inf), 0);
    assert_int_equal(inf.merged, 0);
    assert_int_not_equal(again[0], again[1]); /* faces 0 and 6 of the library */
    for (int f = 2; f < 2 + LOOKS_PER - 1; f++) assert_int_equal(again[f], again[0]);
    for (int f = 2 + LOOKS_PER - 1; f < 2 * LOOKS_PER; f++) assert_int_equal(again[f], again[1]);
    /* a correction: look B's first face is not person A, whose faces the user fixed (fresh run): the merge
     * would join the look into A, and does not */
    sbf_people p3;
    sbf_people_init(&p3);
    assert_int_equal(sbf_people_update(&p3, &fs, &ot, fid, again, &inf), 0);
    A = again[0];
    assert_true(sbf_people_correct(&p3, SBF_CORR_IS, SBF_FROM_VERB, A, 0, "A", fid, LOOKS_PER) > 0);
    sbf_people_opts of = o;
    of.fresh = 1;
    assert_int_equal(sbf_people_update(&p3, &fs, &of, fid, again, &inf), 0);
    assert_int_equal(inf.merged, 1); /* the look joins A */
    for (int f = 0; f < 2 * LOOKS_PER; f++) assert_int_equal(again[f], A);
    assert_true(sbf_people_correct(&p3, SBF_CORR_ISNOT, SBF_FROM_VERB, A, 0, "B", &fid[LOOKS_PER], 1) > 0);
    assert_int_equal(sbf_people_update(&p3, &fs, &of, fid, again, &inf), 0);
    assert_int_equal(inf.merged, 0);
    for (int f = 0; f < LOOKS_PER; f++) assert_true(again[f] == A && again[LOOKS_PER + f] != A);
    sbf_people_free(&pp);
    sbf_people_free(&pt);
    sbf_people_free(&p2);
    sbf_people_free(&p3);
    sbf_faceset_free(&fs);
    sbf_faceset_free(&f2);
}

static void test_corrections(void **state) {
    (void)state;
    int np = 12, nf[12], ids[13];
    char **paths = names_n(12, "lib/%02d.jpg");
    for (int i = 0; i < 12; i++) {
        nf[i] = 1;
        ids[i] = i < 6 ? 0 : 1;
    }
    nf[11] = 2; /* photo 11: faces of identities 1 and 0 */
    ids[12] = 0;
    sbf_faceset fs;
    make_set(&fs, np, nf, ids, (const char *const *)paths, 8);
    sbf_people pp;
    sbf_people_init(&pp);
    sbf_people_opts o;
    opts(&o);
    uint32_t fid[13], person[13];
    assert_int_equal(sbf_people_update(&pp, &fs, &o, fid, person, NULL), 0);
    uint32_t A = person[0], B = person[6];
    assert_int_not_equal(A, B);
    assert_int_equal(person[12], A);
    /* face 3 is B (must-link), face 4 is not A (cannot-link): both hold on the next run */
    uint32_t id1 = sbf_people_correct(&pp, SBF_CORR_IS, SBF_FROM_VERB, B, 0, "lib/03.jpg", &fid[3], 1);
    uint32_t id2 = sbf_people_correct(&pp, SBF_CORR_ISNOT, SBF_FROM_VERB, A, 0, "lib/04.jpg", &fid[4], 1);
    assert_int_equal(sbf_people_correct(&pp, SBF_CORR_IS, SBF_FROM_VERB, B, 0, "again", &fid[3], 1),
                     id1); /* a repeat */
    assert_int_equal(pp.ncorr, 2);
    assert_int_equal(sbf_people_update(&pp, &fs, &o, fid, person, NULL), 0);
    assert_int_equal(person[3], B);
    assert_int_not_equal(person[4], A);
    assert_int_equal(person[0], A);
    /* "is A" about face 4 takes the "is not A" back (the newest word counts) */
    uint32_t id3 = sbf_people_correct(&pp, SBF_CORR_IS, SBF_FROM_VERB, A, 0, "lib/04.jpg", &fid[4], 1);
    assert_int_equal(pp.ncorr, 2);
    assert_int_equal(sbf_people_update(&pp, &fs, &o, fid, person, NULL), 0);
    assert_int_equal(person[4], A);
    /* withdrawn: face 3 goes back to what the evidence says */
    assert_int_equal(sbf_people_withdraw(&pp, id1), 0);
    assert_int_equal(sbf_people_withdraw(&pp, id1), -1);
    assert_int_equal(sbf_people_update(&pp, &fs, &o, fid, person, NULL), 0);
    assert_int_equal(person[3], A);
    (void)id2;
    (void)id3;
    /* merge B into A, then withdraw it: B's faces come back to B, with its name */
    sbf_people_person(&pp, B)->name = strdup("Bea");
    uint32_t m = sbf_people_merge(&pp, B, A, SBF_FROM_VERB);
    assert_true(m > 0);
    assert_null(sbf_people_person(&pp, B));
    assert_ptr_equal(sbf_people_lookup(&pp, "Bea"), sbf_people_person(&pp, A)); /* A took the name */
    char num[16];
    snprintf(num, sizeof num, "%u", B);
    assert_ptr_equal(sbf_people_lookup(&pp, num), sbf_people_person(&pp, A)); /* B's number leads to A */
    assert_int_equal(sbf_people_update(&pp, &fs, &o, fid, person, NULL), 0);
    for (int i = 0; i < 11; i++) assert_int_equal(person[i], A);
    assert_int_not_equal(person[11], person[12]); /* two faces of one photo: never one person */
    assert_int_equal(sbf_people_withdraw(&pp, m), 0);
    assert_non_null(sbf_people_person(&pp, B));
    assert_string_equal(sbf_people_person(&pp, B)->name, "Bea");
    assert_null(sbf_people_person(&pp, A)->name);
    assert_int_equal(sbf_people_update(&pp, &fs, &o, fid, person, NULL), 0);
    assert_int_equal(person[7], B);
    assert_int_equal(person[0], A);
    /* hide: the person is kept, flagged, and shown again when withdrawn */
    uint32_t h = sbf_people_correct(&pp, SBF_CORR_HIDE, SBF_FROM_FOLDER, B, 0, "Bea", NULL, 0);
    char buf[64];
    assert_null(sbf_people_folder(sbf_people_person(&pp, B), 6, 2, buf, sizeof buf));
    assert_int_equal(sbf_people_withdraw(&pp, h), 0);
    assert_string_equal(sbf_people_folder(sbf_people_person(&pp, B), 6, 2, buf, sizeof buf), "Bea");
    /* ignore */
    uint32_t ig = sbf_people_correct(&pp, SBF_CORR_IGNORE, SBF_FROM_FOLDER, 0, 0, "Unknown/", &fid[5], 1);
    assert_true(sbf_people_ignored(&pp, fid[5]));
    assert_false(sbf_people_ignored(&pp, fid[6]));
    assert_int_equal(sbf_people_withdraw(&pp, ig), 0);
    assert_false(sbf_people_ignored(&pp, fid[5]));
    sbf_people_free(&pp);
    sbf_faceset_free(&fs);
    names_free(paths, 12);
}

static void test_names_and_folders(void **state) {
    (void)state;
    assert_null(sbf_people_name_invalid("Alice"));
    assert_null(sbf_people_name_invalid("Grand-mère Anne"));
    const char *bad[] = {"", ".hidden", "a/b", "Unknown", "Person 12", "Person 0003", "42", " Alice", "Alice ", "a\nb"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) assert_non_null(sbf_people_name_invalid(bad[i]));
    char longname[300];
    memset(longname, 'x', 256);
    longname[256] = 0;
    assert_non_null(sbf_people_name_invalid(longname));
    sbf_people pp;
    sbf_people_init(&pp);
    for (int i = 0; i < 12; i++) sbf_people_new_person(&pp, i == 2 ? "Carol" : NULL);
    assert_int_equal(sbf_people_lookup(&pp, "3")->number, 3);
    assert_int_equal(sbf_people_lookup(&pp, "Carol")->number, 3);
    assert_int_equal(sbf_people_lookup(&pp, "Person 0012")->number, 12);
    assert_int_equal(sbf_people_lookup(&pp, "Person 5")->number, 5);
    assert_null(sbf_people_lookup(&pp, "13"));
    assert_null(sbf_people_lookup(&pp, "carol"));
    assert_null(sbf_people_lookup(&pp, ""));
    char buf[64];
    assert_string_equal(sbf_people_folder(sbf_people_person(&pp, 7), 5, 2, buf, sizeof buf), "Person 0007");
    assert_string_equal(sbf_people_folder(sbf_people_person(&pp, 7), 1, 2, buf, sizeof buf), SBF_UNKNOWN_FOLDER);
    assert_string_equal(sbf_people_folder(sbf_people_person(&pp, 3), 1, 2, buf, sizeof buf),
                        "Carol"); /* named: own folder */
    sbf_person *p = sbf_people_new_person(&pp, NULL);
    p->number = 12345; /* past 4 digits */
    assert_string_equal(sbf_people_folder(p, 9, 2, buf, sizeof buf), "Person 12345");
    sbf_people_free(&pp);
}

static void test_view(void **state) {
    (void)state;
    /* photos: 0-3 identity 0, 4-6 identity 1 (named Zed), 7 identity 2 (alone), 8 two faces (0 and 3) */
    int nf[] = {1, 1, 1, 1, 1, 1, 1, 1, 2}, ids[] = {0, 0, 0, 0, 1, 1, 1, 2, 0, 3};
    char **paths = names_n(9, "p%d.jpg");
    sbf_faceset fs;
    make_set(&fs, 9, nf, ids, (const char *const *)paths, 4);
    sbf_people pp;
    sbf_people_init(&pp);
    sbf_people_opts o;
    opts(&o);
    uint32_t fid[10], person[10];
    assert_int_equal(sbf_people_update(&pp, &fs, &o, fid, person, NULL), 0);
    sbf_people_person(&pp, person[4])->name = strdup("Zed");
    sbf_people_view v;
    assert_int_equal(sbf_people_view_build(&pp, &fs, fid, 2, &v), 0);
    assert_int_equal(v.n, 4);
    assert_string_equal(v.people[0].name, "Zed"); /* named first */
    assert_int_equal(v.people[0].nfaces, 3);
    assert_string_equal(v.people[0].folder, "Zed");
    assert_int_equal(v.people[1].number, person[0]);
    assert_int_equal(v.people[1].nfaces, 5);
    assert_int_equal(v.people[1].nphotos, 5);
    assert_string_equal(v.people[1].faces[4].path, "p8.jpg");
    assert_int_equal(v.people[1].faces[4].index, 0);
    assert_true(v.people[2].unknown && v.people[3].unknown); /* Unknown/ last, by number */
    assert_true(v.people[2].number < v.people[3].number);
    assert_string_equal(v.people[2].folder, SBF_UNKNOWN_FOLDER);
    assert_int_equal(v.unsorted, 0);
    sbf_people_view_free(&v);
    sbf_people_free(&pp);
    sbf_faceset_free(&fs);
    names_free(paths, 9);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_round_trip), cmocka_unit_test(test_record_in_store),
        cmocka_unit_test(test_sync_faces),        cmocka_unit_test(test_cw_equals_plain),
        cmocka_unit_test(test_cw_constraints),    cmocka_unit_test(test_update_warm),
        cmocka_unit_test(test_update_split),      cmocka_unit_test(test_update_rule),
        cmocka_unit_test(test_update_merge),      cmocka_unit_test(test_corrections),
        cmocka_unit_test(test_names_and_folders), cmocka_unit_test(test_view),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
