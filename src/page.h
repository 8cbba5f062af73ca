/* src/page.h — owns the people page: OUTPUT/index.html, one static page (no server, no external asset, works
 * offline, phone and desktop) with one section per person (title, link to the folder, counts of photos and
 * faces, a strip of face thumbnails each linking to its photo with a visible caption, "possibly the same
 * person as" the most similar other people), then an Unknown section; how names are escaped in it; and the
 * view model it is rendered from.  It does not decide who is a person: the caller (the verbs; the people
 * module) adds one section per person with the person's faces.  Thumbnails: src/thumbs.h. */
#ifndef SRC_PAGE_H
#define SRC_PAGE_H
#include <stdio.h>
#include "src/store.h"
#include "src/thumbs.h"

#define SBF_PAGE_FILE "index.html"
#define SBF_PAGE_MAX_SHOWN 24  /* faces shown per section: the highest detector scores; "and N more" */
#define SBF_PAGE_MAX_SIMILAR 3 /* other people named under "possibly the same person as" */
/* TUNED-VALUE: the floor of "possibly the same person as": the cosine similarity of two people's mean
 * embeddings (each L2-normalised) above which the other person is named.  On lfw-dev clustered at the default
 * threshold (`build/native/tools/eval-similar --db lfw-dev.db [--min-faces 2]`), 0.70 is where the most similar
 * other cluster becomes the same person about half the time, and above it lie most of the right suggestions
 * (docs/MEASUREMENTS.md, "The people page (issue 20)").  Re-measure when the pipeline or the threshold changes. */
#define SBF_PAGE_SIMILAR_FLOOR 0.70

typedef struct {
    int face;                       /* index into the face set */
    const char *link;               /* the photo's file relative to the output folder, NULL: not placed (no link) */
    char thumb[SBF_THUMB_NAME_LEN]; /* file name in OUTPUT/.thumbs/, "" none (set by sbf_page_write) */
} sbf_page_face;

typedef struct {
    char *title;          /* "Person 3" or the person's name */
    char *folder;         /* the person's folder relative to the output folder ("" the output folder
                                 itself), NULL: none */
    int nphotos, nfaces;  /* all of the person's photos and faces */
    int *members;         /* the nfaces face indices */
    sbf_page_face *shown; /* at most SBF_PAGE_MAX_SHOWN faces, highest detector score first */
    int nshown;
    int similar[SBF_PAGE_MAX_SIMILAR]; /* indices of other sections, most similar first */
    float similar_sim[SBF_PAGE_MAX_SIMILAR];
    int nsimilar;
} sbf_page_person;

typedef struct {
    const sbf_faceset *fs;
    const char *const *links; /* per face of fs: its placed photo relative to the output folder, or NULL */
    char *title;              /* the page's heading */
    sbf_page_person *people;  /* in the order added (the caller's: largest first) */
    int npeople, cap;
    sbf_page_person unknown; /* title "Unknown"; nfaces 0 when every face belongs to a person */
    int has_unknown;         /* sbf_page_set_unknown was called: the page ends with the Unknown section */
} sbf_page;

typedef struct {
    size_t html_bytes;
    int shown; /* thumbnails on the page */
    sbf_thumb_stats thumbs;
    double seconds_thumbs, seconds_similar, seconds_html;
} sbf_page_stats;

/* An empty page over a face set; links (may be NULL) is per face.  Both must outlive the page. */
int sbf_page_init(sbf_page *pg, const sbf_faceset *fs, const char *const *links, const char *title);
void sbf_page_free(sbf_page *pg);
/* Adds a person's section: title, folder (see sbf_page_person; NULL none) and the person's faces (indices
 * into fs, any order, n >= 1).  0, or -1 when out of memory. */
int sbf_page_add_person(sbf_page *pg, const char *title, const char *folder, const int *faces, int n);
/* The Unknown section: faces that belong to no person (folder as above; n may be 0: the section says none). */
int sbf_page_set_unknown(sbf_page *pg, const char *folder, const int *faces, int n);
/* "Possibly the same person as": for every person, the (at most SBF_PAGE_MAX_SIMILAR) other people whose mean
 * embedding has a cosine similarity above floor with theirs, most similar first.  The means are compared with
 * the clustering's similarity graph (src/cluster.h; approximate neighbours beyond 50,000 people), so it costs
 * at most what clustering the faces did.  0, or -1 when out of memory. */
int sbf_page_find_similar(sbf_page *pg, double floor, int threads);
/* Writes the thumbnails (src/thumbs.h; prune: remove thumbnails no longer shown) and then outdir/index.html
 * (atomically, replacing an earlier one: the output folder is sortbyface's).  0, or -1 with reason. */
int sbf_page_write(sbf_page *pg, const char *outdir, int threads, int prune, sbf_page_stats *st, char *err,
                   size_t errlen);
/* The HTML of the page (thumbnail names as they are) to out. */
void sbf_page_render(const sbf_page *pg, FILE *out);

/* Escaping, for every name that reaches the page (file names are any bytes but NUL):
 * sbf_html_text writes s as HTML text or attribute value: & < > " ' as character references; valid UTF-8 as
 * it is; each byte of an invalid sequence and each control character (tab, newline, ...) visibly as \xNN
 * (\n, \t, \r for those), wrapped in <span class="bad">...</span> when markup is allowed (in_attr == 0).
 * sbf_url_path writes a relative path as a URL path: every byte outside A-Z a-z 0-9 - . _ ~ / as %XX (so a
 * name with ':' '?' '#' '%' or spaces stays one relative file reference). */
void sbf_html_text(FILE *out, const char *s, int in_attr);
void sbf_url_path(FILE *out, const char *path);
#endif
