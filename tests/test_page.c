/* tests/test_page.c — the people page (src/page.c) and its thumbnails (src/thumbs.c): escaping of hostile
 * names as text and as URLs (markup, quotes, spaces, newlines, invalid UTF-8), the rendered sections (counts,
 * bounded strips best-score first, "and N more", Unknown, "possibly the same person as" above the floor only),
 * thumbnails cut around the box from the EXIF-rotated photo, written once and reused by name, rewritten when
 * damaged, renamed when the photo or box changes (the old one pruned), and a photo that cannot be decoded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stb/stb_image_write.h>
#include "src/page.h"
#include "src/thumbs.h"
#include "src/util.h"
#include "src/walk.h"
#include "tests/helpers/testdir.h"

static char dir[256];

static char *html_of(const char *s, int in_attr) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    sbf_html_text(m, s, in_attr);
    fclose(m);
    return buf;
}
static char *url_of(const char *s) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    sbf_url_path(m, s);
    fclose(m);
    return buf;
}

static void test_html_text(void **state) {
    (void)state;
    static const struct {
        const char *in, *text, *attr;
    } cases[] = {
        {"plain.jpg", "plain.jpg", "plain.jpg"},
        {"<img src=x onerror=alert(1)>.jpg", "&lt;img src=x onerror=alert(1)&gt;.jpg",
         "&lt;img src=x onerror=alert(1)&gt;.jpg"},
        {"a&b\"c'd", "a&amp;b&quot;c&#39;d", "a&amp;b&quot;c&#39;d"},
        {"new\nline\ttab\rcr",
         "new<span class=\"bad\">\\n</span>line<span class=\"bad\">\\t</span>tab<span "
         "class=\"bad\">\\r</span>cr",
         "new\\nline\\ttab\\rcr"},
        {"bad\xff.jpg", "bad<span class=\"bad\">\\xFF</span>.jpg", "bad\\xFF.jpg"},
        /* a lead byte without its continuation, an overlong '/', a UTF-16 surrogate, DEL, ESC */
        {"\xc3(", "<span class=\"bad\">\\xC3</span>(", "\\xC3("},
        {"\xc0\xaf", "<span class=\"bad\">\\xC0</span><span class=\"bad\">\\xAF</span>", "\\xC0\\xAF"},
        {"\xed\xa0\x80",
         "<span class=\"bad\">\\xED</span><span class=\"bad\">\\xA0</span><span class=\"bad\">\\x80</span>",
         "\\xED\\xA0\\x80"},
        {"\x7f\x1b", "<span class=\"bad\">\\x7F</span><span class=\"bad\">\\x1B</span>", "\\x7F\\x1B"},
        /* valid UTF-8 stays as it is: é, a CJK character, an emoji */
        {"caf\xc3\xa9 \xe5\xa4\xa7 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe5\xa4\xa7 \xf0\x9f\x98\x80",
         "caf\xc3\xa9 \xe5\xa4\xa7 \xf0\x9f\x98\x80"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *t = html_of(cases[i].in, 0), *a = html_of(cases[i].in, 1);
        assert_string_equal(t, cases[i].text);
        assert_string_equal(a, cases[i].attr);
        free(t);
        free(a);
    }
}

static void test_url_path(void **state) {
    (void)state;
    static const char *cases[][2] = {
        {"Person 1/IMG_0001.jpg", "Person%201/IMG_0001.jpg"},
        {"a:b/c?d#e%f&g.jpg", "a%3Ab/c%3Fd%23e%25f%26g.jpg"}, /* ':' would start a scheme, '?' '#' end the path */
        {"<i>\"q'\n\xff.jpg", "%3Ci%3E%22q%27%0A%FF.jpg"},
        {"caf\xc3\xa9.jpg", "caf%C3%A9.jpg"},
        {"~x_y-z.JPG", "~x_y-z.JPG"},
        {"back\\slash", "back%5Cslash"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *u = url_of(cases[i][0]);
        assert_string_equal(u, cases[i][1]);
        free(u);
    }
}

/* A face set of np photos with one face each (photo i: path paths[i], score scores[i]); embeddings: face i is
 * the unit vector of axis axis[i], blurred a little towards axis 0 by mix[i]. */
static void make_set(sbf_faceset *fs, int np, const char *const *paths, const double *scores, const int *axis,
                     const float *mix) {
    assert_int_equal(sbf_faceset_alloc(fs, np, np, SBF_EMBED_DIM), 0);
    for (int i = 0; i < np; i++) {
        fs->photos[i].path = strdup(paths[i]);
        fs->photos[i].nfaces = 1;
        fs->photos[i].first_face = i;
        fs->face_photo[i] = i;
        fs->face_index[i] = 0;
        fs->boxes[i] = (sbf_box){10, 10, 49, 49, scores[i], 0};
        float *e = fs->emb + (size_t)i * SBF_EMBED_DIM;
        memset(e, 0, SBF_EMBED_DIM * sizeof *e);
        e[axis[i]] = 1;
        e[0] += mix ? mix[i] : 0;
        float n = 0;
        for (int d = 0; d < SBF_EMBED_DIM; d++) n += e[d] * e[d];
        n = sqrtf(n);
        for (int d = 0; d < SBF_EMBED_DIM; d++) e[d] /= n;
    }
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static char *render(const sbf_page *pg) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    sbf_page_render(pg, m);
    fclose(m);
    return buf;
}

static void test_render_sections(void **state) {
    (void)state;
    /* 30 faces of one person (scores 0.01 .. 0.30, in path order), 2 of another, 1 unknown with a hostile name */
    enum { N = 33 };
    char *paths[N];
    const char *cpaths[N];
    double scores[N];
    int axis[N];
    for (int i = 0; i < N; i++) {
        paths[i] = malloc(64);
        snprintf(paths[i], 64, "lib/p%02d.jpg", i);
        scores[i] = (i + 1) / 100.0;
        axis[i] = i < 30 ? 1 : i < 32 ? 2 : 3;
    }
    free(paths[32]);
    paths[32] = strdup("lib/<b>\"d'/<script>alert(1)\n\xff.jpg");
    for (int i = 0; i < N; i++) cpaths[i] = paths[i];
    sbf_faceset fs;
    make_set(&fs, N, cpaths, scores, axis, NULL);
    const char *links[N] = {0};
    for (int i = 0; i < 30; i++) links[i] = "Person 1/a b.jpg";
    links[30] = links[31] = "Person 2/c&d.jpg";
    sbf_page pg;
    assert_int_equal(sbf_page_init(&pg, &fs, links, "My <photos>"), 0);
    int a[30], b[2] = {30, 31}, u[1] = {32};
    for (int i = 0; i < 30; i++) a[i] = 29 - i; /* any order */
    assert_int_equal(sbf_page_add_person(&pg, "Person 1", "Person 1", a, 30), 0);
    assert_int_equal(sbf_page_add_person(&pg, "Ann & \"Bo\"", "Person 2", b, 2), 0);
    assert_int_equal(sbf_page_set_unknown(&pg, "Unknown", u, 1), 0);
    /* bounded strip, highest detector score first */
    assert_int_equal(pg.people[0].nshown, SBF_PAGE_MAX_SHOWN);
    for (int i = 0; i < SBF_PAGE_MAX_SHOWN; i++) assert_int_equal(pg.people[0].shown[i].face, 29 - i);
    assert_int_equal(pg.people[0].nphotos, 30);
    for (int i = 0; i < SBF_PAGE_MAX_SHOWN; i++) strcpy(pg.people[0].shown[i].thumb, "0000000000000001.jpg");
    char *h = render(&pg);
    assert_int_equal(count(h, "<section "), 3);
    assert_int_equal(count(h, "<section class=\"person\""), 2);
    assert_int_equal(count(h, "<section class=\"unknown\" id=\"unknown\""), 1);
    assert_int_equal(count(h, "<img "), SBF_PAGE_MAX_SHOWN); /* the others have no thumbnail: a placeholder */
    assert_int_equal(count(h, "<li>"), SBF_PAGE_MAX_SHOWN + 2 + 1);
    assert_non_null(strstr(h, "<p class=\"more\">and 6 more</p>"));
    assert_non_null(strstr(h, "30 photos, 30 faces in <a href=\"Person%201/\">Person 1/</a>"));
    assert_non_null(strstr(h, "<h1>My &lt;photos&gt;</h1>"));
    assert_non_null(strstr(h, "2 people, 33 faces in 33 photos."));
    assert_non_null(strstr(h, ">Ann &amp; &quot;Bo&quot;</a></h2>"));
    assert_non_null(strstr(h, "<a href=\"Person%202/c%26d.jpg\""));
    assert_non_null(strstr(h, "<span class=\"cap\">&lt;script&gt;alert(1)<span class=\"bad\">\\n</span>"
                              "<span class=\"bad\">\\xFF</span>.jpg</span>"));
    assert_non_null(
        strstr(h, "<span title=\"lib/&lt;b&gt;&quot;d&#39;/&lt;script&gt;alert(1)\\n\\xFF.jpg, face 0, score 0.33\""));
    /* no hostile markup got through: the only script element is the page's own, at the end */
    assert_int_equal(count(h, "<script"), 1);
    assert_int_equal(count(h, "</script>"), 1);
    assert_null(strstr(h, "\xff"));
    assert_null(strstr(h, "Possibly the same")); /* not computed */
    free(h);
    sbf_page_free(&pg);
    /* without an Unknown section set: none rendered; find's page over the output folder itself links "./" */
    assert_int_equal(sbf_page_init(&pg, &fs, NULL, "find"), 0);
    assert_int_equal(sbf_page_add_person(&pg, "The person in me.jpg", "", b, 2), 0);
    h = render(&pg);
    assert_int_equal(count(h, "<section "), 1);
    assert_non_null(strstr(h, "<h2><a href=\"./\">The person in me.jpg</a></h2>"));
    assert_null(strstr(h, "<a href=\"Person")); /* no links without placed files */
    free(h);
    sbf_page_free(&pg);
    sbf_faceset_free(&fs);
    for (int i = 0; i < N; i++) free(paths[i]);
}

static void test_similar(void **state) {
    (void)state;
    /* people A (axis 1, two faces), B (axis 1 blurred towards axis 0), C (axis 2), D (axis 0):
     * cos(A, B) = 1/sqrt(1 + 0.25) = 0.894; cos(B, D) = 0.447; C is orthogonal to all */
    const char *paths[] = {"a1", "a2", "b", "c", "d"};
    double scores[] = {1, 1, 1, 1, 1};
    int axis[] = {1, 1, 1, 2, 0};
    float mix[] = {0, 0, 0.5f, 0, 0};
    sbf_faceset fs;
    make_set(&fs, 5, paths, scores, axis, mix);
    sbf_page pg;
    assert_int_equal(sbf_page_init(&pg, &fs, NULL, "t"), 0);
    int fa[] = {0, 1}, fb[] = {2}, fc[] = {3}, fd[] = {4};
    assert_int_equal(sbf_page_add_person(&pg, "A", "A", fa, 2), 0);
    assert_int_equal(sbf_page_add_person(&pg, "B", "B", fb, 1), 0);
    assert_int_equal(sbf_page_add_person(&pg, "C", "C", fc, 1), 0);
    assert_int_equal(sbf_page_add_person(&pg, "D", "D", fd, 1), 0);
    assert_int_equal(sbf_page_find_similar(&pg, 0.4, 1), 0);
    assert_int_equal(pg.people[0].nsimilar, 1);
    assert_int_equal(pg.people[0].similar[0], 1);
    assert_float_equal(pg.people[0].similar_sim[0], 0.894427f, 1e-4);
    assert_int_equal(pg.people[1].nsimilar, 2); /* B: A first (more similar), then D */
    assert_int_equal(pg.people[1].similar[0], 0);
    assert_int_equal(pg.people[1].similar[1], 3);
    assert_float_equal(pg.people[1].similar_sim[1], 0.447214f, 1e-4);
    assert_int_equal(pg.people[2].nsimilar, 0);
    char *h = render(&pg);
    assert_non_null(strstr(h, "<p class=\"same\">Possibly the same person as <a href=\"#p1\">A</a> (0.89) or <a "
                              "href=\"#p4\">D</a> (0.45)</p>"));
    free(h);
    /* above the floor only */
    assert_int_equal(sbf_page_find_similar(&pg, 0.5, 1), 0);
    assert_int_equal(pg.people[1].nsimilar, 1);
    assert_int_equal(pg.people[3].nsimilar, 0);
    sbf_page_free(&pg);
    sbf_faceset_free(&fs);
}

typedef struct {
    unsigned char *b;
    size_t n;
} buf_t;
static void put(void *ctx, void *data, int size) {
    buf_t *B = ctx;
    B->b = realloc(B->b, B->n + (size_t)size);
    memcpy(B->b + B->n, data, (size_t)size);
    B->n += (size_t)size;
}

/* A 200x100 JPEG: left half red, right half blue, with a 20x20 green square at x 140..159, y 40..59; with
 * orientation 6 (rotate 90 degrees clockwise to display) the same picture is stored rotated back. */
static void write_photo(const char *path, int orientation) {
    int w = 200, h = 100, sw = orientation == 6 ? h : w, sh = orientation == 6 ? w : h;
    unsigned char *px = malloc((size_t)sw * sh * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char c[3] = {0, 0, 0};
            if (x >= 140 && x < 160 && y >= 40 && y < 60) c[1] = 255;
            else if (x < 100) c[0] = 255;
            else c[2] = 255;
            /* displayed (x, y) of orientation 6 is stored at (y, sh - 1 - x) */
            int sx = orientation == 6 ? y : x, sy = orientation == 6 ? sh - 1 - x : y;
            memcpy(px + ((size_t)sy * sw + sx) * 3, c, 3);
        }
    buf_t j = {0};
    assert_true(stbi_write_jpg_to_func(put, &j, sw, sh, 3, px, 100));
    free(px);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(j.b, 1, 2, f);
    if (orientation == 6) { /* APP1 Exif, big-endian TIFF, IFD0 with one entry: Orientation = 6 */
        static const unsigned char app[] = {0xFF, 0xE1, 0, 34,   'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8,
                                            0,    1,    1, 0x12, 0,   3,   0,   0,   0, 1, 0,   6,   0, 0,  0, 0, 0, 0};
        fwrite(app, 1, sizeof app, f);
    }
    fwrite(j.b + 2, 1, j.n - 2, f);
    fclose(f);
    free(j.b);
}

static const unsigned char *pix(const sbf_image *im, int x, int y) { return im->rgb + ((size_t)y * im->w + x) * 3; }

static void test_cut(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/cut.jpg", dir);
    write_photo(path, 6);
    sbf_image img;
    char err[256];
    assert_int_equal(sbf_image_load(path, SBF_DEFAULT_MAX_PIXELS, &img, err, sizeof err), 0);
    assert_int_equal(img.w, 200); /* displayed size */
    /* the green square's box: the cut is 1.6 x 20 = 32 px around its centre, so the middle 62.5 % is green */
    sbf_box b = {140, 40, 159, 59, 1, 0};
    uint8_t out[64 * 64 * 3];
    sbf_thumb_cut(&img, &b, 64, out);
    sbf_image t = {.w = 64, .h = 64, .rgb = out};
    assert_true(pix(&t, 32, 32)[1] > 200 && pix(&t, 32, 32)[0] < 60 && pix(&t, 32, 32)[2] < 60);
    assert_true(pix(&t, 2, 32)[2] > 200 && pix(&t, 2, 32)[1] < 60);   /* blue on the left of the square */
    assert_true(pix(&t, 61, 32)[2] > 200 && pix(&t, 61, 32)[1] < 60); /* and on its right */
    /* a box at the photo's top-left corner: what falls outside the photo is mid-grey */
    sbf_box corner = {0, 0, 39, 39, 1, 0};
    sbf_thumb_cut(&img, &corner, 64, out);
    for (int c = 0; c < 3; c++) assert_int_equal(pix(&t, 1, 1)[c], 128);
    assert_true(pix(&t, 40, 40)[0] > 200); /* red inside */
    sbf_image_free(&img);
}

static int jpeg_size(const char *path, int *w, int *h) {
    sbf_image im;
    char err[256];
    if (sbf_image_load(path, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err)) return -1;
    *w = im.w, *h = im.h;
    sbf_image_free(&im);
    return 0;
}

static void test_thumbs_reuse(void **state) {
    (void)state;
    char out[300], p1[300], p2[300], p3[300], tp[700];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(p1, sizeof p1, "%s/one.jpg", dir);
    snprintf(p2, sizeof p2, "%s/two.jpg", dir);
    snprintf(p3, sizeof p3, "%s/not-a-photo.jpg", dir);
    assert_int_equal(mkdir(out, 0755), 0);
    write_photo(p1, 1);
    write_photo(p2, 6);
    FILE *f = fopen(p3, "w");
    fputs("text", f);
    fclose(f);
    sbf_thumb_job jobs[4] = {
        {.photo = p1, .size = 1, .mtime_ns = 2, .box = {140, 40, 159, 59, 1, 0}},
        {.photo = p1, .size = 1, .mtime_ns = 2, .box = {20, 20, 59, 59, 1, 0}},
        {.photo = p2, .size = 1, .mtime_ns = 2, .box = {140, 40, 159, 59, 1, 0}},
        {.photo = p3, .size = 1, .mtime_ns = 2, .box = {0, 0, 9, 9, 1, 0}},
    };
    sbf_thumb_stats st;
    char err[512];
    assert_int_equal(sbf_thumbs_write(out, jobs, 4, 2, 1, &st, err, sizeof err), 0);
    assert_int_equal(st.written, 3);
    assert_int_equal(st.reused, 0);
    assert_int_equal(st.failed, 1);
    assert_string_equal(jobs[3].name, "");
    struct stat s0[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(strlen(jobs[i].name), 20);
        snprintf(tp, sizeof tp, "%s/.thumbs/%s", out, jobs[i].name);
        int w, h;
        assert_int_equal(jpeg_size(tp, &w, &h), 0);
        assert_int_equal(w, SBF_THUMB_SIDE);
        assert_int_equal(h, SBF_THUMB_SIDE);
        assert_int_equal(stat(tp, &s0[i]), 0);
    }
    /* the same face of the same photo names the same file, whatever the photo's orientation: the names of jobs
     * 0 and 2 differ only by the path; the EXIF-rotated photo's thumbnail shows the green square too */
    assert_string_not_equal(jobs[0].name, jobs[2].name);
    snprintf(tp, sizeof tp, "%s/.thumbs/%s", out, jobs[2].name);
    sbf_image im;
    assert_int_equal(sbf_image_load(tp, SBF_DEFAULT_MAX_PIXELS, &im, err, sizeof err), 0);
    assert_true(pix(&im, 64, 64)[1] > 200 && pix(&im, 64, 64)[0] < 60);
    sbf_image_free(&im);
    snprintf(tp, sizeof tp, "%s/.thumbs/%s", out, SBF_OUTPUT_MARKER);
    assert_int_equal(access(tp, F_OK), 0); /* embed keeps out of .thumbs/ */

    /* a second run: nothing written, the same files (same inodes) */
    assert_int_equal(sbf_thumbs_write(out, jobs, 3, 2, 1, &st, err, sizeof err), 0);
    assert_int_equal(st.written, 0);
    assert_int_equal(st.reused, 3);
    assert_int_equal(st.pruned, 0);
    for (int i = 0; i < 3; i++) {
        struct stat s1;
        snprintf(tp, sizeof tp, "%s/.thumbs/%s", out, jobs[i].name);
        assert_int_equal(stat(tp, &s1), 0);
        assert_int_equal(s1.st_ino, s0[i].st_ino);
    }
    /* a damaged thumbnail (cut short: no end-of-image marker) is written again */
    snprintf(tp, sizeof tp, "%s/.thumbs/%s", out, jobs[1].name);
    assert_int_equal(truncate(tp, 100), 0);
    assert_int_equal(sbf_thumbs_write(out, jobs, 3, 2, 1, &st, err, sizeof err), 0);
    assert_int_equal(st.written, 1);
    assert_int_equal(st.reused, 2);
    /* the photo changed (new modification time) and a box moved: new names, the old files pruned */
    char old0[SBF_THUMB_NAME_LEN], old1[SBF_THUMB_NAME_LEN];
    strcpy(old0, jobs[0].name);
    strcpy(old1, jobs[1].name);
    jobs[0].mtime_ns = 3;
    jobs[1].mtime_ns = 3;
    jobs[1].box.left = 21;
    assert_int_equal(sbf_thumbs_write(out, jobs, 3, 1, 1, &st, err, sizeof err), 0);
    assert_int_equal(st.written, 2);
    assert_int_equal(st.reused, 1);
    assert_int_equal(st.pruned, 2);
    assert_string_not_equal(jobs[0].name, old0);
    assert_string_not_equal(jobs[1].name, old1);
    snprintf(tp, sizeof tp, "%s/.thumbs/%s", out, old0);
    assert_int_equal(access(tp, F_OK), -1);
    /* without prune, files of other faces stay; a file that is not ours is never removed */
    snprintf(tp, sizeof tp, "%s/.thumbs/notes.txt", out);
    f = fopen(tp, "w");
    fclose(f);
    assert_int_equal(sbf_thumbs_write(out, jobs, 1, 1, 0, &st, err, sizeof err), 0);
    assert_int_equal(st.pruned, 0);
    assert_int_equal(sbf_thumbs_write(out, jobs, 1, 1, 1, &st, err, sizeof err), 0);
    assert_int_equal(st.pruned, 2);
    assert_int_equal(access(tp, F_OK), 0);
}

/* The page written: thumbnails and index.html; a second write replaces index.html and reuses the thumbnails. */
static void test_page_write(void **state) {
    (void)state;
    char out[300], p1[300];
    snprintf(out, sizeof out, "%s/pw", dir);
    snprintf(p1, sizeof p1, "%s/pw.jpg", dir);
    assert_int_equal(mkdir(out, 0755), 0);
    write_photo(p1, 1);
    const char *paths[] = {p1};
    double scores[] = {1};
    int axis[] = {1};
    sbf_faceset fs;
    make_set(&fs, 1, paths, scores, axis, NULL);
    sbf_page pg;
    sbf_page_stats st;
    char err[512], ip[400];
    int f0 = 0;
    for (int run = 0; run < 2; run++) {
        assert_int_equal(sbf_page_init(&pg, &fs, NULL, "pw"), 0);
        assert_int_equal(sbf_page_add_person(&pg, "Person 1", "Person 1", &f0, 1), 0);
        assert_int_equal(sbf_page_set_unknown(&pg, NULL, NULL, 0), 0);
        assert_int_equal(sbf_page_write(&pg, out, 1, 1, &st, err, sizeof err), 0);
        assert_int_equal(st.shown, 1);
        assert_int_equal(st.thumbs.written, run ? 0 : 1);
        assert_int_equal(st.thumbs.reused, run ? 1 : 0);
        snprintf(ip, sizeof ip, "%s/index.html", out);
        size_t len;
        char *h = sbf_read_file(ip, &len, 1 << 20, err, sizeof err);
        assert_non_null(h);
        assert_int_equal(len, st.html_bytes);
        char want[128];
        snprintf(want, sizeof want, "<img src=\".thumbs/%s\"", pg.people[0].shown[0].thumb);
        assert_non_null(strstr(h, want));
        assert_non_null(strstr(h, "No faces outside the people above."));
        free(h);
        sbf_page_free(&pg);
    }
    sbf_faceset_free(&fs);
}

static int setup(void **state) {
    (void)state;
    return testdir_make(dir, sizeof dir, "page");
}
static int teardown(void **state) {
    (void)state;
    return testdir_remove(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_text),  cmocka_unit_test(test_url_path), cmocka_unit_test(test_render_sections),
        cmocka_unit_test(test_similar),    cmocka_unit_test(test_cut),      cmocka_unit_test(test_thumbs_reuse),
        cmocka_unit_test(test_page_write),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
