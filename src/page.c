/* src/page.c — the people page, OUTPUT/index.html; see src/page.h. */
#include "src/page.h"
#include "src/cluster.h"
#include "src/util.h"
#include "src/walk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- escaping ------------------------------------------------------------------------------------------ */

/* Length of a valid UTF-8 sequence at s (1..4; shortest form, no surrogates, <= U+10FFFF), 0 when invalid. */
static int utf8_len(const unsigned char *s) {
    unsigned c = s[0], min;
    int n;
    if (c < 0x80) return 1;
    if ((c & 0xe0) == 0xc0) n = 2, min = 0x80, c &= 0x1f;
    else if ((c & 0xf0) == 0xe0) n = 3, min = 0x800, c &= 0x0f;
    else if ((c & 0xf8) == 0xf0) n = 4, min = 0x10000, c &= 0x07;
    else return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    return n;
}

void sbf_html_text(FILE *out, const char *str, int in_attr) {
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        int n = utf8_len(s);
        if (n == 1 && *s >= 0x20 && *s != 0x7f) {
            switch (*s) {
            case '&': fputs("&amp;", out); break;
            case '<': fputs("&lt;", out); break;
            case '>': fputs("&gt;", out); break;
            case '"': fputs("&quot;", out); break;
            case '\'': fputs("&#39;", out); break;
            default: fputc(*s, out);
            }
            s++;
        } else if (n > 1) {
            fwrite(s, 1, (size_t)n, out);
            s += n;
        } else { /* an invalid byte or a control character, shown as an escape */
            if (!in_attr) fputs("<span class=\"bad\">", out);
            if (*s == '\n') fputs("\\n", out);
            else if (*s == '\t') fputs("\\t", out);
            else if (*s == '\r') fputs("\\r", out);
            else fprintf(out, "\\x%02X", *s);
            if (!in_attr) fputs("</span>", out);
            s++;
        }
    }
}

void sbf_url_path(FILE *out, const char *path) {
    for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
        unsigned c = *s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~' || c == '/')
            fputc((int)c, out);
        else fprintf(out, "%%%02X", c);
    }
}

/* ---- the view model -------------------------------------------------------------------------------------- */

int sbf_page_init(sbf_page *pg, const sbf_faceset *fs, const char *const *links, const char *title) {
    memset(pg, 0, sizeof *pg);
    pg->fs = fs;
    pg->links = links;
    pg->title = strdup(title);
    return pg->title ? 0 : -1;
}

static void person_free(sbf_page_person *p) {
    free(p->title);
    free(p->folder);
    free(p->members);
    free(p->shown);
}

void sbf_page_free(sbf_page *pg) {
    for (int i = 0; i < pg->npeople; i++) person_free(&pg->people[i]);
    person_free(&pg->unknown);
    free(pg->people);
    free(pg->title);
    memset(pg, 0, sizeof *pg);
}

/* Higher detector score first; then face order (photo path order), so the choice is reproducible. */
static int by_score(const void *a, const void *b, void *ctx) {
    const sbf_faceset *fs = ctx;
    int x = *(const int *)a, y = *(const int *)b;
    double sx = fs->boxes[x].score, sy = fs->boxes[y].score;
    if (sx != sy) return sx > sy ? -1 : 1;
    return (x > y) - (x < y);
}
static int by_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int fill_person(sbf_page *pg, sbf_page_person *p, const char *title, const char *folder, const int *faces,
                       int n) {
    memset(p, 0, sizeof *p);
    p->title = strdup(title);
    p->folder = folder ? strdup(folder) : NULL;
    p->members = malloc((size_t)(n ? n : 1) * sizeof *p->members);
    int *tmp = malloc((size_t)(n ? n : 1) * sizeof *tmp);
    int shown = n < SBF_PAGE_MAX_SHOWN ? n : SBF_PAGE_MAX_SHOWN;
    p->shown = calloc((size_t)(shown ? shown : 1), sizeof *p->shown);
    if (!p->title || (folder && !p->folder) || !p->members || !tmp || !p->shown) {
        free(tmp);
        person_free(p);
        memset(p, 0, sizeof *p);
        return -1;
    }
    for (int i = 0; i < n; i++) p->members[i] = faces[i]; /* (faces may be NULL when n is 0) */
    p->nfaces = n;
    /* distinct photos: the photo indices of the faces, sorted */
    for (int i = 0; i < n; i++) tmp[i] = pg->fs->face_photo[faces[i]];
    qsort(tmp, (size_t)n, sizeof *tmp, by_int);
    for (int i = 0; i < n; i++) p->nphotos += i == 0 || tmp[i] != tmp[i - 1];
    for (int i = 0; i < n; i++) tmp[i] = faces[i];
    qsort_r(tmp, (size_t)n, sizeof *tmp, by_score, (void *)pg->fs);
    for (int i = 0; i < shown; i++) {
        p->shown[i].face = tmp[i];
        p->shown[i].link = pg->links ? pg->links[tmp[i]] : NULL;
    }
    p->nshown = shown;
    free(tmp);
    return 0;
}

int sbf_page_add_person(sbf_page *pg, const char *title, const char *folder, const int *faces, int n) {
    if (pg->npeople == pg->cap) {
        int cap = pg->cap ? pg->cap * 2 : 64;
        sbf_page_person *np = realloc(pg->people, (size_t)cap * sizeof *np);
        if (!np) return -1;
        pg->people = np, pg->cap = cap;
    }
    if (fill_person(pg, &pg->people[pg->npeople], title, folder, faces, n)) return -1;
    pg->npeople++;
    return 0;
}

int sbf_page_set_unknown(sbf_page *pg, const char *folder, const int *faces, int n) {
    person_free(&pg->unknown);
    pg->has_unknown = 1;
    return fill_person(pg, &pg->unknown, "Unknown", folder, faces, n);
}

int sbf_page_find_similar(sbf_page *pg, double floor, int threads) {
    int np = pg->npeople, dim = pg->fs->dim;
    for (int i = 0; i < np; i++) pg->people[i].nsimilar = 0;
    if (np < 2) return 0;
    float *mean = calloc((size_t)np * dim, sizeof *mean);
    if (!mean) return -1;
    for (int i = 0; i < np; i++) {
        float *m = mean + (size_t)i * dim;
        const sbf_page_person *p = &pg->people[i];
        for (int k = 0; k < p->nfaces; k++) {
            const float *e = pg->fs->emb + (size_t)p->members[k] * dim;
            for (int d = 0; d < dim; d++) m[d] += e[d];
        }
        double ss = 0;
        for (int d = 0; d < dim; d++) ss += (double)m[d] * m[d];
        float inv = ss > 0 ? (float)(1 / sqrt(ss)) : 0;
        for (int d = 0; d < dim; d++) m[d] *= inv;
    }
    sbf_graph_opts go = {.threshold = floor, .threads = threads, .approx = np > 50000};
    sbf_graph g;
    int rc = sbf_graph_build(mean, np, dim, &go, &g);
    free(mean);
    if (rc) return -1;
    for (int i = 0; i < np; i++) {
        sbf_page_person *p = &pg->people[i];
        for (int64_t e = g.rowptr[i]; e < g.rowptr[i + 1]; e++) {
            float w = g.w[e];
            int j = g.col[e], at = p->nsimilar < SBF_PAGE_MAX_SIMILAR ? p->nsimilar : SBF_PAGE_MAX_SIMILAR - 1;
            if (p->nsimilar == SBF_PAGE_MAX_SIMILAR && w <= p->similar_sim[at]) continue;
            /* insertion into the short list, most similar first (ties: the lower index, added first) */
            while (at > 0 && p->similar_sim[at - 1] < w) {
                p->similar[at] = p->similar[at - 1], p->similar_sim[at] = p->similar_sim[at - 1];
                at--;
            }
            p->similar[at] = j, p->similar_sim[at] = w;
            if (p->nsimilar < SBF_PAGE_MAX_SIMILAR) p->nsimilar++;
        }
    }
    sbf_graph_free(&g);
    return 0;
}

/* ---- rendering ---------------------------------------------------------------------------------------------- */

static const char css[] =
    ":root{color-scheme:light dark;--fg:#1d1d1f;--bg:#fff;--mute:#666;--card:#f3f3f5;--line:#ddd;--bad:#b00020}"
    "@media (prefers-color-scheme:dark){:root{--fg:#eee;--bg:#161618;--mute:#aaa;--card:#232326;--line:#333;"
    "--bad:#ff6b81}}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:15px/1.4 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:var(--fg);"
    "background:var(--bg)}"
    "header{padding:12px 16px;border-bottom:1px solid var(--line)}"
    "h1{font-size:1.3em;margin:0 0 4px;overflow-wrap:anywhere}"
    "header p{margin:0;color:var(--mute)}"
    "#filter{margin-top:8px;width:100%;max-width:360px;font:inherit;padding:6px 8px}"
    "main{padding:0 16px 24px}"
    "section{padding:14px 0;border-bottom:1px solid var(--line)}"
    "h2{font-size:1.1em;margin:0;overflow-wrap:anywhere}"
    "h2 a{color:inherit}"
    ".counts,.same,.more{margin:2px 0;color:var(--mute);font-size:.92em;overflow-wrap:anywhere}"
    ".same a{color:inherit}"
    "ul.faces{list-style:none;margin:8px 0 0;padding:0;display:grid;gap:8px;"
    "grid-template-columns:repeat(auto-fill,minmax(96px,1fr))}"
    "ul.faces li{background:var(--card);border-radius:6px;overflow:hidden;min-width:0}"
    "ul.faces img,ul.faces .none{display:block;width:100%;height:auto;aspect-ratio:1}"
    "ul.faces .none{background:repeating-linear-gradient(45deg,var(--card),var(--card) 6px,var(--line) 6px,"
    "var(--line) 12px)}"
    ".cap{display:block;padding:3px 5px;font-size:.78em;line-height:1.25;overflow-wrap:anywhere}"
    ".bad{color:var(--bad);font-family:monospace}"
    "@media (max-width:480px){main{padding:0 10px 20px}"
    "ul.faces{grid-template-columns:repeat(auto-fill,minmax(72px,1fr));gap:6px}}";

/* The filter box: shown only when scripts run (the page works without it). */
static const char script[] =
    "(function(){var f=document.getElementById('filter');if(!f)return;f.hidden=false;"
    "f.addEventListener('input',function(){var q=f.value.trim().toLowerCase();"
    "document.querySelectorAll('section.person').forEach(function(s){"
    "var t=(s.getAttribute('data-name')||'').toLowerCase();s.hidden=q!==''&&t.indexOf(q)<0;});});})();";

static const char *base_name(const char *p) {
    const char *b = strrchr(p, '/');
    return b && b[1] ? b + 1 : p;
}

static void render_person(const sbf_page *pg, const sbf_page_person *p, const char *id, FILE *out) {
    const sbf_faceset *fs = pg->fs;
    fprintf(out, "<section class=\"%s\" id=\"%s\" data-name=\"", p == &pg->unknown ? "unknown" : "person", id);
    sbf_html_text(out, p->title, 1);
    fputs("\">\n<h2>", out);
    if (p->folder) {
        fputs("<a href=\"", out);
        sbf_url_path(out, *p->folder ? p->folder : ".");
        fputs("/\">", out);
    }
    sbf_html_text(out, p->title, 0);
    fputs(p->folder ? "</a></h2>\n" : "</h2>\n", out);
    fprintf(out, "<p class=\"counts\">%d photo%s, %d face%s", p->nphotos, sbf_s(p->nphotos), p->nfaces,
            sbf_s(p->nfaces));
    if (p->folder && *p->folder) {
        fputs(" in <a href=\"", out);
        sbf_url_path(out, p->folder);
        fputs("/\">", out);
        sbf_html_text(out, p->folder, 0);
        fputs("/</a>", out);
    }
    fputs("</p>\n", out);
    if (p->nsimilar) {
        fputs("<p class=\"same\">Possibly the same person as ", out);
        for (int i = 0; i < p->nsimilar; i++) {
            const sbf_page_person *o = &pg->people[p->similar[i]];
            fprintf(out, "%s<a href=\"#p%d\">", i == 0 ? "" : i == p->nsimilar - 1 ? " or " : ", ", p->similar[i] + 1);
            sbf_html_text(out, o->title, 0);
            fprintf(out, "</a> (%.2f)", p->similar_sim[i]);
        }
        fputs("</p>\n", out);
    }
    if (p->nshown) fputs("<ul class=\"faces\">\n", out);
    for (int i = 0; i < p->nshown; i++) {
        const sbf_page_face *f = &p->shown[i];
        const sbf_photo *ph = &fs->photos[fs->face_photo[f->face]];
        const sbf_box *b = &fs->boxes[f->face];
        const char *shown_name = base_name(f->link ? f->link : ph->path);
        fputs("<li>", out);
        if (f->link) {
            fputs("<a href=\"", out);
            sbf_url_path(out, f->link);
            fputs("\" title=\"", out);
        } else fputs("<span title=\"", out);
        sbf_html_text(out, ph->path, 1);
        fprintf(out, ", face %d, score %.2f\">", fs->face_index[f->face], b->score);
        if (f->thumb[0]) {
            /* alt="": the caption next to it names the photo */
            fprintf(out, "<img src=\"%s/%s\" width=\"%d\" height=\"%d\" loading=\"lazy\" alt=\"\">", SBF_THUMBS_DIR,
                    f->thumb, SBF_THUMB_SIDE, SBF_THUMB_SIDE);
        } else fputs("<span class=\"none\"></span>", out);
        fputs(f->link ? "</a>" : "</span>", out);
        fputs("<span class=\"cap\">", out);
        sbf_html_text(out, shown_name, 0);
        if (ph->nfaces > 1) fprintf(out, " &middot; face %d", fs->face_index[f->face]);
        fputs("</span></li>\n", out);
    }
    if (p->nshown) fputs("</ul>\n", out);
    if (p->nfaces > p->nshown) fprintf(out, "<p class=\"more\">and %d more</p>\n", p->nfaces - p->nshown);
    fputs("</section>\n", out);
}

void sbf_page_render(const sbf_page *pg, FILE *out) {
    int faces = 0, photos = 0;
    char *seen = calloc((size_t)pg->fs->nphotos + 1, 1);
    for (int i = 0; i <= pg->npeople; i++) {
        const sbf_page_person *p = i < pg->npeople ? &pg->people[i] : &pg->unknown;
        faces += p->nfaces;
        for (int k = 0; seen && k < p->nfaces; k++) {
            int ph = pg->fs->face_photo[p->members[k]];
            photos += !seen[ph];
            seen[ph] = 1;
        }
    }
    free(seen);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          out);
    sbf_html_text(out, pg->title, 1);
    fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<header>\n<h1>", css);
    sbf_html_text(out, pg->title, 0);
    fprintf(out,
            "</h1>\n<p>%d %s, %d face%s in %d photo%s. A thumbnail opens its photo; a name opens the "
            "person's folder.</p>\n",
            pg->npeople, pg->npeople == 1 ? "person" : "people", faces, sbf_s(faces), photos, sbf_s(photos));
    fputs("<input id=\"filter\" type=\"search\" placeholder=\"Filter by name\" aria-label=\"Filter by name\" "
          "hidden>\n</header>\n<main>\n",
          out);
    char id[32];
    for (int i = 0; i < pg->npeople; i++) {
        snprintf(id, sizeof id, "p%d", i + 1);
        render_person(pg, &pg->people[i], id, out);
    }
    if (!pg->has_unknown) {
    } else if (pg->unknown.nfaces) render_person(pg, &pg->unknown, "unknown", out);
    else
        fputs("<section class=\"unknown\" id=\"unknown\" data-name=\"Unknown\">\n<h2>Unknown</h2>\n"
              "<p class=\"counts\">No faces outside the people above.</p>\n</section>\n",
              out);
    fprintf(out, "</main>\n<script>%s</script>\n</body>\n</html>\n", script);
}

int sbf_page_write(sbf_page *pg, const char *outdir, int threads, int prune, sbf_page_stats *st, char *err,
                   size_t errlen) {
    memset(st, 0, sizeof *st);
    int n = 0;
    for (int i = 0; i <= pg->npeople; i++) n += (i < pg->npeople ? &pg->people[i] : &pg->unknown)->nshown;
    sbf_thumb_job *jobs = calloc((size_t)(n ? n : 1), sizeof *jobs);
    if (!jobs) {
        sbf_seterr(err, errlen, "out of memory");
        return -1;
    }
    const sbf_faceset *fs = pg->fs;
    int k = 0;
    for (int i = 0; i <= pg->npeople; i++) {
        sbf_page_person *p = i < pg->npeople ? &pg->people[i] : &pg->unknown;
        for (int s = 0; s < p->nshown; s++, k++) {
            const sbf_photo *ph = &fs->photos[fs->face_photo[p->shown[s].face]];
            jobs[k].photo = ph->path;
            jobs[k].size = ph->size;
            jobs[k].mtime_ns = ph->mtime_ns;
            jobs[k].box = fs->boxes[p->shown[s].face];
        }
    }
    double t0 = sbf_now();
    int rc = sbf_thumbs_write(outdir, jobs, n, threads, prune, &st->thumbs, err, errlen);
    st->seconds_thumbs = sbf_now() - t0;
    st->shown = n;
    k = 0;
    for (int i = 0; i <= pg->npeople; i++) {
        sbf_page_person *p = i < pg->npeople ? &pg->people[i] : &pg->unknown;
        for (int s = 0; s < p->nshown; s++, k++) memcpy(p->shown[s].thumb, rc ? "" : jobs[k].name, SBF_THUMB_NAME_LEN);
    }
    free(jobs);
    if (rc) return -1;
    t0 = sbf_now();
    char *buf = NULL, *path = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m || !(path = sbf_path_join(outdir, SBF_PAGE_FILE))) {
        if (m) fclose(m);
        free(buf);
        sbf_seterr(err, errlen, "out of memory");
        return -1;
    }
    sbf_page_render(pg, m);
    fclose(m);
    char why[512];
    rc = sbf_write_file_atomic(path, buf, len, 1, why, sizeof why);
    if (rc) sbf_seterr(err, errlen, "%s", why);
    st->html_bytes = len;
    st->seconds_html = sbf_now() - t0;
    free(buf);
    free(path);
    return rc;
}
