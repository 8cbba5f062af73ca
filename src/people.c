/* src/people.c — people that last across runs; see src/people.h for the design. */
#include "src/people.h"
#include "src/merge.h"
#include "src/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define seterr sbf_seterr
#define PEOPLE_VERSION 1u
#define NONE32 0xffffffffu

/* ---- state ------------------------------------------------------------------------------------- */
void sbf_people_init(sbf_people *pp) {
    memset(pp, 0, sizeof *pp);
    pp->next_person = 1;
    pp->next_fid = 1;
    pp->next_corr = 1;
    pp->min_faces = SBF_DEFAULT_MIN_FACES;
}

static void placed_free(sbf_placed *e) {
    free(e->rel);
    free(e->to);
}

void sbf_people_free(sbf_people *pp) {
    for (uint32_t i = 0; i < pp->npaths; i++) free(pp->paths[i]);
    free(pp->paths);
    for (int i = 0; i < pp->npersons; i++) {
        free(pp->persons[i].name);
        free(pp->persons[i].folder);
    }
    free(pp->persons);
    free(pp->faces);
    for (int i = 0; i < pp->ncorr; i++) {
        free(pp->corr[i].note);
        free(pp->corr[i].fids);
    }
    free(pp->corr);
    for (int i = 0; i < pp->nplaced; i++) placed_free(&pp->placed[i]);
    free(pp->placed);
    for (int i = 0; i < pp->nren; i++) {
        free(pp->ren[i].from);
        free(pp->ren[i].to);
    }
    free(pp->ren);
    free(pp->outdir);
    free(pp->ptab);
    memset(pp, 0, sizeof *pp);
}

/* Grows *arr (of *cap elements of size sz) to hold at least need; 0 or -1. */
static int grow_to(void **arr, int *cap, int need, size_t sz) {
    if (need <= *cap) return 0;
    int nc = *cap ? *cap : 16;
    while (nc < need) nc *= 2;
    void *n = realloc(*arr, (size_t)nc * sz);
    if (!n) return -1;
    *arr = n;
    *cap = nc;
    return 0;
}

static uint32_t hash_str(const char *p) {
    uint32_t h = 2166136261u;
    for (; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

/* The path table's hash index (open addressing over indices + 1; 0 is empty), rebuilt when it fills. */
static int ptab_rebuild(sbf_people *pp, uint32_t cap) {
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t) return -1;
    for (uint32_t i = 0; i < pp->npaths; i++) {
        uint32_t j = hash_str(pp->paths[i]) & (cap - 1);
        while (t[j]) j = (j + 1) & (cap - 1);
        t[j] = i + 1;
    }
    free(pp->ptab);
    pp->ptab = t;
    pp->ptabcap = cap;
    return 0;
}

uint32_t sbf_people_path(sbf_people *pp, const char *path) {
    if ((pp->npaths + 1) * 2 > pp->ptabcap) {
        uint32_t cap = pp->ptabcap ? pp->ptabcap : 64;
        while ((pp->npaths + 1) * 2 > cap) cap *= 2;
        if (ptab_rebuild(pp, cap)) return NONE32;
    }
    uint32_t j = hash_str(path) & (pp->ptabcap - 1);
    while (pp->ptab[j]) {
        if (!strcmp(pp->paths[pp->ptab[j] - 1], path)) return pp->ptab[j] - 1;
        j = (j + 1) & (pp->ptabcap - 1);
    }
    if (pp->npaths == pp->cappaths) {
        uint32_t nc = pp->cappaths ? pp->cappaths * 2 : 64;
        char **n = realloc(pp->paths, nc * sizeof *n);
        if (!n) return NONE32;
        pp->paths = n;
        pp->cappaths = nc;
    }
    char *c = strdup(path);
    if (!c) return NONE32;
    pp->paths[pp->npaths] = c;
    pp->ptab[j] = pp->npaths + 1;
    return pp->npaths++;
}

/* The person with that number, retired or not (persons are kept in number order: numbers only grow). */
static sbf_person *person_any(const sbf_people *pp, uint32_t number) {
    int lo = 0, hi = pp->npersons;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (pp->persons[mid].number < number) lo = mid + 1;
        else hi = mid;
    }
    return lo < pp->npersons && pp->persons[lo].number == number ? &pp->persons[lo] : NULL;
}

sbf_person *sbf_people_person(const sbf_people *pp, uint32_t number) {
    sbf_person *p = person_any(pp, number);
    return p && !(p->flags & SBF_PERSON_RETIRED) ? p : NULL;
}

sbf_person *sbf_people_new_person(sbf_people *pp, const char *name) {
    if (grow_to((void **)&pp->persons, &pp->cappersons, pp->npersons + 1, sizeof *pp->persons)) return NULL;
    sbf_person *p = &pp->persons[pp->npersons];
    memset(p, 0, sizeof *p);
    if (name && !(p->name = strdup(name))) return NULL;
    p->number = pp->next_person++;
    pp->npersons++;
    return p;
}

static int cmp_face_fid(const void *a, const void *b) {
    uint32_t x = ((const sbf_known_face *)a)->fid, y = ((const sbf_known_face *)b)->fid;
    return (x > y) - (x < y);
}

sbf_known_face *sbf_people_face(const sbf_people *pp, uint32_t fid) {
    sbf_known_face key = {.fid = fid};
    return pp->nfaces ? bsearch(&key, pp->faces, (size_t)pp->nfaces, sizeof *pp->faces, cmp_face_fid) : NULL;
}

/* ---- serialisation ------------------------------------------------------------------------------
 * All integers little-endian; strings are u16 length + bytes (no NUL).  docs/DATABASE.md, "PEOPLE". */
typedef struct {
    unsigned char *p;
    size_t n, cap;
    int oom;
} wbuf;
static void wput(wbuf *b, const void *d, size_t n) {
    if (b->oom || n == 0) return;
    if (b->n + n > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->n + n) nc *= 2;
        unsigned char *q = realloc(b->p, nc);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void w8(wbuf *b, uint8_t v) { wput(b, &v, 1); }
static void w16(wbuf *b, uint16_t v) { wput(b, &v, 2); }
static void w32(wbuf *b, uint32_t v) { wput(b, &v, 4); }
static void w64(wbuf *b, uint64_t v) { wput(b, &v, 8); }
static void wstr(wbuf *b, const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n > 65535) n = 65535; /* never happens: names and paths are checked before */
    w16(b, (uint16_t)n);
    wput(b, s, n);
}

unsigned char *sbf_people_encode(const sbf_people *pp, size_t *len) {
    wbuf b = {0};
    w32(&b, PEOPLE_VERSION);
    w32(&b, pp->planned ? 1u : 0u);
    w32(&b, pp->next_person);
    w32(&b, pp->next_fid);
    w32(&b, pp->next_corr);
    w32(&b, (uint32_t)pp->min_faces);
    w32(&b, (uint32_t)pp->mode);
    double t = pp->threshold;
    wput(&b, &t, 8);
    wstr(&b, pp->outdir);
    w32(&b, pp->npaths);
    for (uint32_t i = 0; i < pp->npaths; i++) wstr(&b, pp->paths[i]);
    w32(&b, (uint32_t)pp->npersons);
    for (int i = 0; i < pp->npersons; i++) {
        const sbf_person *p = &pp->persons[i];
        w32(&b, p->number);
        w32(&b, p->flags);
        w32(&b, p->into);
        wstr(&b, p->name);
        wstr(&b, p->folder);
    }
    w32(&b, (uint32_t)pp->nfaces);
    for (int i = 0; i < pp->nfaces; i++) {
        const sbf_known_face *f = &pp->faces[i];
        w32(&b, f->fid);
        w32(&b, f->person);
        w64(&b, f->hash);
        w32(&b, f->path);
        w32(&b, (uint32_t)f->index);
        for (int k = 0; k < 4; k++) w32(&b, (uint32_t)f->box[k]);
    }
    w32(&b, (uint32_t)pp->ncorr);
    for (int i = 0; i < pp->ncorr; i++) {
        const sbf_correction *c = &pp->corr[i];
        w32(&b, c->id);
        w8(&b, c->kind);
        w8(&b, c->source);
        w16(&b, 0);
        w32(&b, c->person);
        w32(&b, c->other);
        w64(&b, (uint64_t)c->time);
        wstr(&b, c->note);
        w32(&b, c->nfids);
        for (uint32_t k = 0; k < c->nfids; k++) w32(&b, c->fids[k]);
    }
    w32(&b, (uint32_t)pp->nplaced);
    for (int i = 0; i < pp->nplaced; i++) {
        const sbf_placed *e = &pp->placed[i];
        w32(&b, e->fid);
        w32(&b, e->flags);
        w8(&b, e->op);
        wstr(&b, e->rel);
        wstr(&b, e->to);
        w64(&b, e->ino);
        w64(&b, (uint64_t)e->size);
        w64(&b, (uint64_t)e->mtime_ns);
        w32(&b, e->src);
        w64(&b, (uint64_t)e->src_size);
        w64(&b, (uint64_t)e->src_mtime_ns);
    }
    w32(&b, (uint32_t)pp->nren);
    for (int i = 0; i < pp->nren; i++) {
        wstr(&b, pp->ren[i].from);
        wstr(&b, pp->ren[i].to);
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.n;
    return b.p;
}

typedef struct {
    const unsigned char *p;
    size_t n, off;
    int bad;
} rbuf;
static int rget(rbuf *b, void *d, size_t n) {
    if (b->bad || b->n - b->off < n) {
        b->bad = 1;
        memset(d, 0, n);
        return -1;
    }
    memcpy(d, b->p + b->off, n);
    b->off += n;
    return 0;
}
static uint8_t r8(rbuf *b) {
    uint8_t v;
    rget(b, &v, 1);
    return v;
}
static uint16_t r16(rbuf *b) {
    uint16_t v;
    rget(b, &v, 2);
    return v;
}
static uint32_t r32(rbuf *b) {
    uint32_t v;
    rget(b, &v, 4);
    return v;
}
static uint64_t r64(rbuf *b) {
    uint64_t v;
    rget(b, &v, 8);
    return v;
}
/* A string: NULL for length 0 (or on a bad record / out of memory: b->bad). */
static char *rstr(rbuf *b) {
    uint16_t n = r16(b);
    if (b->bad || n == 0) return NULL;
    if (b->n - b->off < n || memchr(b->p + b->off, 0, n)) {
        b->bad = 1;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        b->bad = 1;
        return NULL;
    }
    memcpy(s, b->p + b->off, n);
    s[n] = 0;
    b->off += n;
    return s;
}
/* A count of items of at least min_bytes each that can still fit. */
static int rcount(rbuf *b, size_t min_bytes) {
    uint32_t n = r32(b);
    if (b->bad || n > 0x7fffffffu || (uint64_t)n * min_bytes > b->n - b->off) {
        b->bad = 1;
        return 0;
    }
    return (int)n;
}

int sbf_people_decode(sbf_people *pp, const unsigned char *p, size_t len, char *err, size_t errlen) {
    sbf_people_init(pp);
    rbuf b = {p, len, 0, 0};
    uint32_t ver = r32(&b);
    if (!b.bad && ver != PEOPLE_VERSION) {
        seterr(err, errlen, "people record version %u is not known to this program (it reads %u)", ver, PEOPLE_VERSION);
        return -1;
    }
    uint32_t flags = r32(&b);
    if (flags & ~1u) b.bad = 1; /* (only bit 0 is known) */
    pp->planned = (int)(flags & 1u);
    pp->next_person = r32(&b);
    pp->next_fid = r32(&b);
    pp->next_corr = r32(&b);
    pp->min_faces = (int)r32(&b);
    pp->mode = (int)r32(&b);
    rget(&b, &pp->threshold, 8);
    pp->outdir = rstr(&b);
    int np = rcount(&b, 2);
    for (int i = 0; i < np && !b.bad; i++) {
        char *s = rstr(&b);
        if (b.bad) break;
        uint32_t k = sbf_people_path(pp, s ? s : "");
        free(s);
        if (k != (uint32_t)i) b.bad = 1; /* a repeated path, or out of memory */
    }
    int n = rcount(&b, 16);
    if (!b.bad && grow_to((void **)&pp->persons, &pp->cappersons, n, sizeof *pp->persons)) b.bad = 1;
    for (int i = 0; i < n && !b.bad; i++) {
        sbf_person *q = &pp->persons[pp->npersons++];
        memset(q, 0, sizeof *q);
        q->number = r32(&b);
        q->flags = r32(&b);
        q->into = r32(&b);
        q->name = rstr(&b);
        q->folder = rstr(&b);
        if (q->number == 0 || q->number >= pp->next_person || (i && q->number <= pp->persons[i - 1].number)) b.bad = 1;
    }
    n = rcount(&b, 40);
    if (!b.bad && grow_to((void **)&pp->faces, &pp->capfaces, n, sizeof *pp->faces)) b.bad = 1;
    for (int i = 0; i < n && !b.bad; i++) {
        sbf_known_face *f = &pp->faces[pp->nfaces++];
        f->fid = r32(&b);
        f->person = r32(&b);
        f->hash = r64(&b);
        f->path = r32(&b);
        f->index = (int32_t)r32(&b);
        for (int k = 0; k < 4; k++) f->box[k] = (int32_t)r32(&b);
        if (f->path >= pp->npaths || f->fid >= pp->next_fid || (i && f->fid <= pp->faces[i - 1].fid)) b.bad = 1;
    }
    n = rcount(&b, 32);
    if (!b.bad && grow_to((void **)&pp->corr, &pp->capcorr, n, sizeof *pp->corr)) b.bad = 1;
    for (int i = 0; i < n && !b.bad; i++) {
        sbf_correction *c = &pp->corr[pp->ncorr++];
        memset(c, 0, sizeof *c);
        c->id = r32(&b);
        c->kind = r8(&b);
        c->source = r8(&b);
        if (r16(&b) != 0) b.bad = 1; /* reserved */
        c->person = r32(&b);
        c->other = r32(&b);
        c->time = (int64_t)r64(&b);
        c->note = rstr(&b);
        uint32_t k = (uint32_t)rcount(&b, 4);
        if (b.bad) break;
        c->nfids = k;
        c->fids = malloc((k ? k : 1) * sizeof *c->fids);
        if (!c->fids) {
            b.bad = 1;
            break;
        }
        for (uint32_t j = 0; j < k; j++) c->fids[j] = r32(&b);
        if (c->kind < SBF_CORR_IS || c->kind > SBF_CORR_MERGE) b.bad = 1;
    }
    n = rcount(&b, 61);
    if (!b.bad && grow_to((void **)&pp->placed, &pp->capplaced, n, sizeof *pp->placed)) b.bad = 1;
    for (int i = 0; i < n && !b.bad; i++) {
        sbf_placed *e = &pp->placed[pp->nplaced++];
        memset(e, 0, sizeof *e);
        e->fid = r32(&b);
        e->flags = r32(&b);
        e->op = r8(&b);
        e->rel = rstr(&b);
        e->to = rstr(&b);
        e->ino = r64(&b);
        e->size = (int64_t)r64(&b);
        e->mtime_ns = (int64_t)r64(&b);
        e->src = r32(&b);
        e->src_size = (int64_t)r64(&b);
        e->src_mtime_ns = (int64_t)r64(&b);
        if (e->op > SBF_OP_REMOVE || (e->src != NONE32 && e->src >= pp->npaths) || (!e->rel && e->op != SBF_OP_PLACE))
            b.bad = 1;
    }
    n = rcount(&b, 4);
    if (!b.bad && grow_to((void **)&pp->ren, &pp->capren, n, sizeof *pp->ren)) b.bad = 1;
    for (int i = 0; i < n && !b.bad; i++) {
        sbf_rename *r = &pp->ren[pp->nren++];
        r->from = rstr(&b);
        r->to = rstr(&b);
        if (!r->from || !r->to) b.bad = 1;
    }
    if (!b.bad && b.off != b.n) b.bad = 1;
    if (b.bad) {
        sbf_people_free(pp);
        sbf_people_init(pp);
        seterr(err, errlen, "damaged people record (byte %zu of %zu)", b.off, len);
        return -1;
    }
    return 0;
}

int sbf_people_load(sbf_people *pp, const sbf_store *s, char *err, size_t errlen) {
    size_t len;
    const unsigned char *p = sbf_store_people(s, &len);
    if (!p) {
        sbf_people_init(pp);
        return 0;
    }
    return sbf_people_decode(pp, p, len, err, errlen);
}

/* Drops paths no face or placed file refers to (they pile up as photos come and go). */
static int paths_gc(sbf_people *pp) {
    uint32_t *map = malloc(((size_t)pp->npaths + 1) * sizeof *map);
    if (!map) return -1;
    for (uint32_t i = 0; i < pp->npaths; i++) map[i] = NONE32;
    for (int i = 0; i < pp->nfaces; i++) map[pp->faces[i].path] = 0;
    for (int i = 0; i < pp->nplaced; i++)
        if (pp->placed[i].src != NONE32) map[pp->placed[i].src] = 0;
    uint32_t k = 0;
    for (uint32_t i = 0; i < pp->npaths; i++) {
        if (map[i] == NONE32) {
            free(pp->paths[i]);
            continue;
        }
        map[i] = k;
        pp->paths[k++] = pp->paths[i];
    }
    pp->npaths = k;
    for (int i = 0; i < pp->nfaces; i++) pp->faces[i].path = map[pp->faces[i].path];
    for (int i = 0; i < pp->nplaced; i++)
        if (pp->placed[i].src != NONE32) pp->placed[i].src = map[pp->placed[i].src];
    free(map);
    return ptab_rebuild(pp, pp->ptabcap ? pp->ptabcap : 64);
}

int sbf_people_save(const sbf_people *pp, sbf_store *s, char *err, size_t errlen) {
    size_t len;
    unsigned char *p = sbf_people_encode(pp, &len);
    if (!p) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    int rc = sbf_store_put_people(s, p, len, err, errlen);
    free(p);
    if (!rc) rc = sbf_store_sync(s, err, errlen);
    return rc;
}

/* ---- faces of the database ---------------------------------------------------------------------- */
uint64_t sbf_emb_hash(const float *emb, int dim) {
    uint64_t h = 1469598103934665603ull;
    const unsigned char *p = (const unsigned char *)emb;
    for (size_t i = 0; i < (size_t)dim * sizeof *emb; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

double sbf_box_iou(const int32_t a[4], const int32_t b[4]) {
    double w = fmin(a[2], b[2]) - fmax(a[0], b[0]) + 1, h = fmin(a[3], b[3]) - fmax(a[1], b[1]) + 1;
    if (w <= 0 || h <= 0) return 0;
    double inter = w * h, aa = ((double)a[2] - a[0] + 1) * ((double)a[3] - a[1] + 1), /* no int overflow */
        ab = ((double)b[2] - b[0] + 1) * ((double)b[3] - b[1] + 1);
    return inter / (aa + ab - inter);
}

typedef struct {
    uint64_t key;
    int idx;
} keyidx;
static int cmp_keyidx(const void *a, const void *b) {
    const keyidx *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}
/* First element with key k in a sorted keyidx array, or n. */
static int first_key(const keyidx *v, int n, uint64_t k) {
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (v[mid].key < k) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static const char *stored_path(const sbf_photo *ph) { return ph->stored ? ph->stored : ph->path; }

int sbf_people_sync_faces(sbf_people *pp, const sbf_faceset *fs, uint32_t *fid) {
    int n = fs->nfaces, no = pp->nfaces, rc = -1;
    keyidx *byhash = malloc((size_t)(no ? no : 1) * sizeof *byhash),
           *bypath = malloc((size_t)(no ? no : 1) * sizeof *bypath);
    uint64_t *hash = malloc((size_t)(n ? n : 1) * sizeof *hash);
    uint32_t *pidx = malloc((size_t)(fs->nphotos ? fs->nphotos : 1) * sizeof *pidx);
    char *used = calloc((size_t)(no ? no : 1), 1);
    sbf_known_face *nf = malloc((size_t)(n ? n : 1) * sizeof *nf);
    if (!byhash || !bypath || !hash || !pidx || !used || !nf) goto out;
    for (int p = 0; p < fs->nphotos; p++)
        if ((pidx[p] = sbf_people_path(pp, stored_path(&fs->photos[p]))) == NONE32) goto out;
    for (int i = 0; i < no; i++) {
        byhash[i] = (keyidx){pp->faces[i].hash, i};
        bypath[i] = (keyidx){pp->faces[i].path, i};
    }
    qsort(byhash, (size_t)no, sizeof *byhash, cmp_keyidx);
    qsort(bypath, (size_t)no, sizeof *bypath, cmp_keyidx);
    for (int i = 0; i < n; i++) {
        hash[i] = sbf_emb_hash(fs->emb + (size_t)i * fs->dim, fs->dim);
        fid[i] = 0;
    }
    /* 1. same embedding, same photo; 2. same embedding (the photo's path changed) */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++) {
            if (fid[i]) continue;
            uint32_t path = pidx[fs->face_photo[i]];
            for (int k = first_key(byhash, no, hash[i]); k < no && byhash[k].key == hash[i]; k++) {
                int o = byhash[k].idx;
                if (used[o] || (pass == 0 && pp->faces[o].path != path)) continue;
                used[o] = 1;
                fid[i] = pp->faces[o].fid;
                nf[i] = pp->faces[o];
                break;
            }
        }
    /* 3. the same photo re-embedded: the unused old face of that path whose box overlaps most (IoU >= 0.5) */
    for (int i = 0; i < n; i++) {
        if (fid[i]) continue;
        uint32_t path = pidx[fs->face_photo[i]];
        const sbf_box *b = &fs->boxes[i];
        int32_t box[4] = {(int32_t)b->left, (int32_t)b->top, (int32_t)b->right, (int32_t)b->bottom};
        int best = -1;
        double bi = 0.5;
        for (int k = first_key(bypath, no, path); k < no && bypath[k].key == path; k++) {
            int o = bypath[k].idx;
            if (used[o]) continue;
            double iou = sbf_box_iou(box, pp->faces[o].box);
            if (iou >= bi) {
                bi = iou;
                best = o;
            }
        }
        if (best >= 0) {
            used[best] = 1;
            fid[i] = pp->faces[best].fid;
            nf[i] = pp->faces[best];
        }
    }
    for (int i = 0; i < n; i++) {
        if (!fid[i]) {
            fid[i] = pp->next_fid++;
            nf[i].fid = fid[i];
            nf[i].person = 0;
        }
        const sbf_box *b = &fs->boxes[i];
        nf[i].hash = hash[i];
        nf[i].path = pidx[fs->face_photo[i]];
        nf[i].index = fs->face_index[i];
        nf[i].box[0] = (int32_t)b->left;
        nf[i].box[1] = (int32_t)b->top;
        nf[i].box[2] = (int32_t)b->right;
        nf[i].box[3] = (int32_t)b->bottom;
    }
    qsort(nf, (size_t)n, sizeof *nf, cmp_face_fid);
    free(pp->faces);
    pp->faces = nf;
    pp->nfaces = pp->capfaces = n;
    nf = NULL;
    rc = paths_gc(pp);
out:
    free(byhash);
    free(bypath);
    free(hash);
    free(pidx);
    free(used);
    free(nf);
    return rc;
}

/* ---- clustering ---------------------------------------------------------------------------------- */
int sbf_people_cw(const sbf_graph *g, int nlabels, int *labels, const int *clamp, const int *photo_first,
                  const int *photo_count, const int64_t *forbid_start, const int *forbid, const int *stick_label,
                  const int *spare_label, const sbf_pcw_opts *o) {
    int n = g->n;
    if (n == 0) return 0;
    int *order = malloc((size_t)n * sizeof *order), *touched = malloc(((size_t)n + 2) * sizeof *touched);
    double *sum = calloc((size_t)nlabels, sizeof *sum);
    char *seen = calloc((size_t)nlabels, 1), *bad = calloc((size_t)nlabels, 1);
    if (!order || !touched || !sum || !seen || !bad) {
        free(order);
        free(touched);
        free(sum);
        free(seen);
        free(bad);
        return -1;
    }
/* marks the labels face u may not take; returns whether there are any */
#define MARK(u, v_)                                                                                                    \
    do {                                                                                                               \
        if (photo_first)                                                                                               \
            for (int q = photo_first[u]; q < photo_first[u] + photo_count[u]; q++)                                     \
                if (q != (u)) bad[labels[q]] = (v_);                                                                   \
        if (forbid_start)                                                                                              \
            for (int64_t q = forbid_start[u]; q < forbid_start[(u) + 1]; q++) bad[forbid[q]] = (v_);                   \
    } while (0)
    /* a starting label the face may not have (a stored person it is not, a photo-mate's) gives way to its own */
    for (int u = 0; u < n; u++) {
        if (clamp && clamp[u] >= 0) {
            labels[u] = clamp[u];
            continue;
        }
    }
    for (int u = 0; u < n; u++) {
        if (clamp && clamp[u] >= 0) continue;
        MARK(u, 1);
        if (bad[labels[u]]) labels[u] = spare_label[u];
        MARK(u, 0);
    }
    for (int i = 0; i < n; i++) order[i] = i;
    sbf_rng rng;
    sbf_rng_seed(&rng, o->seed);
    for (int it = 0; it < o->iterations; it++) {
        sbf_rng_shuffle(&rng, order, n);
        for (int oi = 0; oi < n; oi++) {
            int u = order[oi];
            int64_t a = g->rowptr[u], b = g->rowptr[u + 1];
            int sl = stick_label && o->stick > 0 ? stick_label[u] : -1;
            if ((a == b && sl < 0) || (clamp && clamp[u] >= 0)) continue;
            MARK(u, 1);
            int nt = 0;
            if (sl >= 0 && !bad[sl]) {
                seen[sl] = 1;
                touched[nt++] = sl;
                sum[sl] = o->stick;
            }
            for (int64_t k = a; k < b; k++) {
                int l = labels[g->col[k]];
                if (bad[l]) continue;
                if (!seen[l]) {
                    seen[l] = 1;
                    touched[nt++] = l;
                    sum[l] = 0;
                }
                sum[l] += g->w[k];
            }
            if (nt) {
                int best = sbf_cw_pick(touched, nt, sum, &rng);
                for (int t = 0; t < nt; t++) seen[touched[t]] = 0;
                labels[u] = best;
            } else if (bad[labels[u]]) {
                labels[u] = spare_label[u];
            }
            MARK(u, 0);
        }
    }
    /* a face that still shares its label with a face of its photo (both kept theirs) takes its own */
    if (photo_first)
        for (int u = 0; u < n; u++) {
            if (clamp && clamp[u] >= 0) continue;
            for (int q = photo_first[u]; q < photo_first[u] + photo_count[u]; q++)
                if (q != u && labels[q] == labels[u]) {
                    labels[u] = spare_label[u];
                    break;
                }
        }
#undef MARK
    free(order);
    free(touched);
    free(sum);
    free(seen);
    free(bad);
    return 0;
}

void sbf_people_opts_default(sbf_people_opts *o) {
    memset(o, 0, sizeof *o);
    o->threshold = SBF_DEFAULT_THRESHOLD;
    o->iterations = SBF_DEFAULT_ITERATIONS;
    o->seed = SBF_DEFAULT_SEED;
    o->corrections = 1;
    o->stick = -1;
}

typedef struct {
    int label, size, first;
} lsize;
static int cmp_lsize(const void *a, const void *b) {
    const lsize *x = a, *y = b;
    if (x->size != y->size) return y->size - x->size;
    return x->first - y->first;
}
typedef struct {
    int count;
    int label, person; /* fresh label, stored person label */
} overlap;
static int cmp_overlap(const void *a, const void *b) {
    const overlap *x = a, *y = b;
    if (x->count != y->count) return y->count - x->count;
    if (x->person != y->person) return x->person - y->person;
    return x->label - y->label;
}

/* fid -> face index of fs, through a sorted (fid, i) array */
static int face_of_fid(const keyidx *v, int n, uint32_t fid) {
    int k = first_key(v, n, fid);
    return k < n && v[k].key == fid ? v[k].idx : -1;
}

typedef struct {
    int warm, fresh, face;
} wff; /* a face's warm label and fresh label (split_fresh) */
static int cmp_wff(const void *x, const void *y) {
    const wff *a = x, *b = y;
    if (a->warm != b->warm) return a->warm < b->warm ? -1 : 1;
    if (a->fresh != b->fresh) return a->fresh < b->fresh ? -1 : 1;
    return (a->face > b->face) - (a->face < b->face);
}

/* Where a fresh clustering (fresh[]) finds a person of its own inside a stored person (a warm label below
 * nstored), the stored one is split: the faces of warm label L in fresh cluster F (F not the fresh cluster holding
 * most of L) take label newbase + their first face when they are at least 2 and more than half of F.  Faces with
 * keep[i] stay.  Returns the faces moved (*parts: the new labels), or -1 out of memory. */
static int split_fresh(int n, int nstored, int nlabels, int newbase, int *labels, const int *fresh, const char *keep,
                       int *parts) {
    wff *v = malloc((size_t)n * sizeof *v);
    int *fsize = calloc((size_t)nlabels, sizeof *fsize);
    if (!v || !fsize) {
        free(v);
        free(fsize);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        v[i] = (wff){labels[i], fresh[i], i};
        fsize[fresh[i]]++;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_wff);
    int moved = 0;
    *parts = 0;
    for (int a = 0; a < n;) { /* one warm label: v[a..b) */
        int b = a;
        while (b < n && v[b].warm == v[a].warm) b++;
        if (v[a].warm >= nstored) { /* not a stored person: its faces are new, clustered as a fresh run would */
            a = b;
            continue;
        }
        int bestf = -1, bestc = 0;
        for (int k = a; k < b;) {
            int e = k;
            while (e < b && v[e].fresh == v[k].fresh) e++;
            if (e - k > bestc) bestc = e - k, bestf = v[k].fresh;
            k = e;
        }
        for (int k = a; k < b;) {
            int e = k, F = v[k].fresh;
            while (e < b && v[e].fresh == F) e++;
            if (F != bestf && e - k >= 2 && 2 * (e - k) > fsize[F]) {
                int nl = newbase + v[k].face, m = moved; /* sorted by face within (warm, fresh): v[k] is the first */
                for (int q = k; q < e; q++)
                    if (!keep[v[q].face]) labels[v[q].face] = nl, moved++;
                *parts += moved > m;
            }
            k = e;
        }
        a = b;
    }
    free(v);
    free(fsize);
    return moved;
}

/* The merge of src/merge.h on people's labels (stored people first, np of them): two stored people (or people
 * the user fixed faces to) are never joined, nor two clusters with faces of one photo, nor a face with a
 * person it is corrected away from (forbid); the lower label, a stored person's, lives on. */
typedef struct {
    int np;
    const int *pfirst, *pcount;
    const int64_t *fstart; /* NULL: no corrections */
    const int *forbid;
} merge_ctx;

static int merge_allow(void *vctx, const sbf_merge *m, int a, int b) {
    const merge_ctx *c = vctx;
    int keep = a < b ? a : b, gone = a ^ b ^ keep;
    if (gone < c->np) return 0;
    int s = m->sz[a] <= m->sz[b] ? a : b, other = a ^ b ^ s;
    for (int f = m->head[s]; f >= 0; f = m->next[f])
        for (int k = c->pfirst[f]; k < c->pfirst[f] + c->pcount[f]; k++)
            if (k != f && m->lab[k] == other) return 0;
    if (c->fstart && keep < c->np)
        for (int f = m->head[gone]; f >= 0; f = m->next[f])
            for (int64_t k = c->fstart[f]; k < c->fstart[f + 1]; k++)
                if (c->forbid[k] == keep) return 0;
    return 1;
}

/* Returns the joins made, or -1. */
static int merge_stage(const sbf_graph *sims, const sbf_faceset *fs, const float *t, int nlabels, int *labels,
                       const merge_ctx *c) {
    sbf_merge m;
    if (sbf_merge_init(&m, sims, fs->emb, fs->nfaces, fs->dim, t, labels, nlabels)) return -1;
    int r = sbf_merge_greedy(&m, &sbf_merge_default, SBF_MERGE_CUT, merge_allow, NULL, (void *)c);
    if (r >= 0) memcpy(labels, m.lab, (size_t)fs->nfaces * sizeof *labels);
    sbf_merge_free(&m);
    return r;
}

int sbf_people_update(sbf_people *pp, const sbf_faceset *fs, const sbf_people_opts *o, uint32_t *fid, uint32_t *person,
                      sbf_people_info *info) {
    int n = fs->nfaces, rc = -1;
    sbf_people_info inf = {0};
    if (sbf_people_sync_faces(pp, fs, fid)) return -1;
    /* labels: the stored people first (0 .. np-1), then one of its own per face */
    int np = pp->npersons;
    uint32_t maxnum = pp->next_person;
    int *lab_of = malloc(((size_t)maxnum + 1) * sizeof *lab_of); /* person number -> label */
    int *labels = malloc((size_t)(n ? n : 1) * sizeof *labels), *spare = malloc((size_t)(n ? n : 1) * sizeof *spare);
    int *stick = malloc((size_t)(n ? n : 1) * sizeof *stick), *clamp = malloc((size_t)(n ? n : 1) * sizeof *clamp);
    int *pfirst = malloc((size_t)(n ? n : 1) * sizeof *pfirst), *pcount = malloc((size_t)(n ? n : 1) * sizeof *pcount);
    int64_t *fstart = calloc((size_t)n + 1, sizeof *fstart);
    int *forbid = NULL, *stored = malloc((size_t)(n ? n : 1) * sizeof *stored);
    keyidx *byfid = malloc((size_t)(n ? n : 1) * sizeof *byfid);
    lsize *ls = NULL;
    overlap *ov = NULL;
    sbf_graph g = {0}, sims = {0}; /* the graph clustered; with o->rule, also every similarity >= SBF_MERGE_CMIN */
    float *tface = NULL;           /* o->rule: each face's threshold */
    int have_graph = 0;
    if (!lab_of || !labels || !spare || !stick || !clamp || !pfirst || !pcount || !fstart || !stored || !byfid)
        goto out;
    for (uint32_t k = 0; k <= maxnum; k++) lab_of[k] = -1;
    for (int l = 0; l < np; l++) lab_of[pp->persons[l].number] = l;
    for (int l = 0; l < np; l++) { /* a retired person's label is the one it was merged into */
        const sbf_person *p = &pp->persons[l];
        uint32_t to = p->number;
        for (int hop = 0; hop < 64 && person_any(pp, to) && (person_any(pp, to)->flags & SBF_PERSON_RETIRED); hop++)
            to = person_any(pp, to)->into;
        if (to < maxnum && lab_of[to] >= 0) lab_of[p->number] = lab_of[to];
    }
    for (int i = 0; i < n; i++) byfid[i] = (keyidx){fid[i], i};
    qsort(byfid, (size_t)n, sizeof *byfid, cmp_keyidx);
    for (int i = 0; i < n; i++) {
        const sbf_known_face *kf = sbf_people_face(pp, fid[i]);
        uint32_t pn = kf ? kf->person : 0;
        stored[i] = pn && pn < maxnum ? lab_of[pn] : -1;
        spare[i] = np + i;
        labels[i] = o->fresh || stored[i] < 0 ? spare[i] : stored[i];
        stick[i] = o->fresh ? -1 : stored[i];
        clamp[i] = -1;
        if (o->clamp && o->clamp[i] > 0 && (uint32_t)o->clamp[i] < maxnum) clamp[i] = lab_of[o->clamp[i]];
        const sbf_photo *ph = &fs->photos[fs->face_photo[i]];
        pfirst[i] = ph->first_face;
        pcount[i] = ph->nfaces;
    }
    /* corrections: IS fixes a face's label, ISNOT forbids one (CSR by face) */
    if (o->corrections) {
        long long nforbid = 0;
        for (int pass = 0; pass < 2; pass++) {
            for (int c = 0; c < pp->ncorr; c++) {
                const sbf_correction *cr = &pp->corr[c];
                if (cr->kind != SBF_CORR_IS && cr->kind != SBF_CORR_ISNOT) continue;
                int lab = cr->person < maxnum ? lab_of[cr->person] : -1;
                if (lab < 0) continue;
                for (uint32_t k = 0; k < cr->nfids; k++) {
                    int i = face_of_fid(byfid, n, cr->fids[k]);
                    if (i < 0) continue;
                    if (cr->kind == SBF_CORR_IS) {
                        if (pass == 0) clamp[i] = lab;
                    } else if (pass == 0) {
                        fstart[i + 1]++;
                        nforbid++;
                    } else {
                        forbid[fstart[i]++] = lab;
                    }
                }
            }
            if (pass == 0) {
                for (int i = 0; i < n; i++) fstart[i + 1] += fstart[i];
                if (!(forbid = malloc((size_t)(nforbid ? nforbid : 1) * sizeof *forbid))) goto out;
            } else {
                for (int i = n; i > 0; i--) fstart[i] = fstart[i - 1]; /* the fill moved each start to the next */
                fstart[0] = 0;
            }
        }
    }
    double t0 = sbf_now();
    sbf_graph_opts go = {.threshold = o->threshold,
                         .threads = o->threads,
                         .approx = o->approx,
                         .progress = o->progress,
                         .progress_ctx = o->progress_ctx};
    /* per-face thresholds (src/threshold.h): the graph at the lowest, the edges above the mean of the pair's two */
    /* and the second stage of src/merge.h: the thresholds raised by SBF_MERGE_SHIFT, clusters joined after */
    if (o->rule && n) {
        if (!(tface = malloc((size_t)n * sizeof *tface))) goto out;
        sbf_threshold_opts to = {.threads = o->threads};
        if (sbf_threshold_faces(fs->emb, n, fs->dim, &to, tface, &inf.rule)) goto out;
        go.threshold = fmin(inf.rule.lo, SBF_MERGE_CMIN);
    }
    if (n && sbf_graph_build(fs->emb, n, fs->dim, &go, &g)) goto out;
    have_graph = n > 0;
    if (tface && have_graph) {
        sims = g;
        if (sbf_merge_raised_graph(&sims, tface, SBF_MERGE_SHIFT, &g)) {
            g = sims, sims = (sbf_graph){0};
            goto out;
        }
    }
    merge_ctx mc = {np, pfirst, pcount, o->corrections ? fstart : NULL, forbid};
    double t1 = sbf_now();
    sbf_pcw_opts co = {o->iterations, o->seed,
                       o->stick >= 0 ? o->stick
                       : o->rule     ? SBF_DEFAULT_STICK_RULE
                                     : SBF_DEFAULT_STICK};
    if (have_graph && (sbf_people_cw(&g, np + n, labels, clamp, pfirst, pcount, o->corrections ? fstart : NULL, forbid,
                                     stick, spare, &co) ||
                       (tface && (inf.merged = merge_stage(&sims, fs, tface, np + n, labels, &mc)) < 0)))
        goto out;
    if (tface) sbf_merge_reason(inf.rule.reason, sizeof inf.rule.reason, inf.merged);
    /* people a fresh clustering finds inside a stored one: their own people (labels np + n + first face); the
     * faces the user placed (must-linked, or moved by a merge of two people) stay */
    if (have_graph && !o->fresh && !o->no_split) {
        int *fl = malloc((size_t)n * sizeof *fl);
        char *keep = calloc((size_t)n, 1);
        if (!fl || !keep) {
            free(fl);
            free(keep);
            goto out;
        }
        for (int i = 0; i < n; i++) keep[i] = clamp[i] >= 0;
        for (int c = 0; o->corrections && c < pp->ncorr; c++)
            if (pp->corr[c].kind == SBF_CORR_MERGE)
                for (uint32_t k = 0; k < pp->corr[c].nfids; k++) {
                    int i = face_of_fid(byfid, n, pp->corr[c].fids[k]);
                    if (i >= 0) keep[i] = 1;
                }
        memcpy(fl, spare, (size_t)n * sizeof *fl);
        if (sbf_people_cw(&g, np + n, fl, clamp, pfirst, pcount, o->corrections ? fstart : NULL, forbid, NULL, spare,
                          &co) ||
            (tface && merge_stage(&sims, fs, tface, np + n, fl, &mc) < 0) ||
            (inf.split_faces = split_fresh(n, np, np + n, np + n, labels, fl, keep, &inf.split_people)) < 0) {
            free(fl);
            free(keep);
            goto out;
        }
        free(fl);
        free(keep);
    }
    inf.seconds_graph = t1 - t0;
    inf.seconds_cw = sbf_now() - t1;
    inf.edges = have_graph ? (long long)(g.rowptr[n] / 2) : 0;
    inf.capped = have_graph ? g.capped : 0;
    /* A stored person whose label no face kept (its faces all took fresh labels: a face alone in its person
     * takes the label of a new photo of the same person as readily as it gives its own) gives its number to
     * the new cluster sharing most of its faces, greedily, most shared first.  After a fresh clustering
     * (o->match) that is how every stored person finds its cluster. */
    int L = np + 2 * n;
    int *final = malloc((size_t)L * sizeof *final); /* label -> person number (0: new) */
    if (!final) goto out;
    for (int l = 0; l < L; l++) final[l] = l < np ? (int)pp->persons[l].number : 0;
    if ((!o->fresh || o->match) && np) {
        int nov = 0;
        if (!(ov = malloc((size_t)(n ? n : 1) * sizeof *ov))) {
            free(final);
            goto out;
        }
        for (int i = 0; i < n; i++)
            if (stored[i] >= 0 && labels[i] >= np) ov[nov++] = (overlap){1, labels[i], stored[i]};
        /* count (label, person) pairs */
        qsort(ov, (size_t)nov, sizeof *ov, cmp_overlap); /* all counts 1: sorted by person, label */
        int m = 0;
        for (int k = 0; k < nov; k++) {
            if (m && ov[m - 1].label == ov[k].label && ov[m - 1].person == ov[k].person) ov[m - 1].count++;
            else ov[m++] = ov[k];
        }
        qsort(ov, (size_t)m, sizeof *ov, cmp_overlap);
        char *ptaken = calloc((size_t)np, 1);
        if (!ptaken) {
            free(final);
            goto out;
        }
        for (int i = 0; i < n; i++) /* people whose label lives on (warm start), or the clamps kept */
            if (labels[i] < np) ptaken[labels[i]] = 1;
        for (int k = 0; k < m; k++) {
            if (ptaken[ov[k].person] || final[ov[k].label]) continue;
            ptaken[ov[k].person] = 1;
            final[ov[k].label] = (int)pp->persons[ov[k].person].number;
        }
        free(ptaken);
    }
    /* the rest: new people, largest first (ties: the cluster whose first face comes first) */
    if (!(ls = malloc((size_t)L * sizeof *ls))) {
        free(final);
        goto out;
    }
    for (int l = 0; l < L; l++) ls[l] = (lsize){l, 0, n};
    for (int i = 0; i < n; i++) {
        lsize *c = &ls[labels[i]];
        c->size++;
        if (i < c->first) c->first = i;
    }
    qsort(ls, (size_t)L, sizeof *ls, cmp_lsize);
    for (int k = 0; k < L && ls[k].size > 0; k++) {
        if (final[ls[k].label]) continue;
        sbf_person *p = sbf_people_new_person(pp, NULL);
        if (!p) {
            free(final);
            goto out;
        }
        final[ls[k].label] = (int)p->number;
        inf.new_people++;
    }
    for (int i = 0; i < n; i++) {
        uint32_t pn = (uint32_t) final[labels[i]];
        if (person) person[i] = pn;
        sbf_known_face *kf = sbf_people_face(pp, fid[i]);
        if (kf) kf->person = pn;
    }
    free(final);
    pp->threshold = o->rule ? inf.rule.median : o->threshold;
    rc = 0;
out:
    if (have_graph) sbf_graph_free(&g);
    sbf_graph_free(&sims);
    free(tface);
    free(lab_of);
    free(labels);
    free(spare);
    free(stick);
    free(clamp);
    free(pfirst);
    free(pcount);
    free(fstart);
    free(forbid);
    free(stored);
    free(byfid);
    free(ls);
    free(ov);
    if (info) *info = inf;
    return rc;
}

void sbf_people_prune(sbf_people *pp) {
    int *c = sbf_people_counts(pp);
    if (!c) return;
    int m = 0;
    for (int i = 0; i < pp->npersons; i++) {
        sbf_person *p = &pp->persons[i];
        int keep = c[p->number] > 0 || p->name || (p->flags & SBF_PERSON_HIDDEN);
        for (int k = 0; k < pp->ncorr && !keep; k++)
            keep = pp->corr[k].person == p->number || pp->corr[k].other == p->number;
        if (!keep) {
            free(p->name);
            free(p->folder);
            continue;
        }
        pp->persons[m++] = *p;
    }
    pp->npersons = m;
    free(c);
}

/* ---- corrections --------------------------------------------------------------------------------- */
static uint32_t correct_sorted(sbf_people *pp, int kind, int source, uint32_t person, uint32_t other, const char *note,
                               const uint32_t *fids, uint32_t nfids);
static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int same_fids(const sbf_correction *c, const uint32_t *fids, uint32_t n) {
    return c->nfids == n && (n == 0 || !memcmp(c->fids, fids, n * sizeof *fids));
}

static void corr_drop(sbf_people *pp, int k) {
    free(pp->corr[k].note);
    free(pp->corr[k].fids);
    memmove(&pp->corr[k], &pp->corr[k + 1], (size_t)(pp->ncorr - k - 1) * sizeof *pp->corr);
    pp->ncorr--;
}

/* Removes fid from correction k (the correction goes when it names no face any more). */
static void corr_drop_fid(sbf_people *pp, int k, uint32_t fid) {
    sbf_correction *c = &pp->corr[k];
    uint32_t m = 0;
    for (uint32_t j = 0; j < c->nfids; j++)
        if (c->fids[j] != fid) c->fids[m++] = c->fids[j];
    c->nfids = m;
}

uint32_t sbf_people_correct(sbf_people *pp, int kind, int source, uint32_t person, uint32_t other, const char *note,
                            const uint32_t *fids_in, uint32_t nfids) {
    uint32_t *fids = malloc((nfids ? nfids : 1) * sizeof *fids);
    if (!fids) return 0;
    if (nfids) memcpy(fids, fids_in, nfids * sizeof *fids);
    qsort(fids, nfids, sizeof *fids, cmp_u32);
    uint32_t id = correct_sorted(pp, kind, source, person, other, note, fids, nfids);
    free(fids);
    return id;
}

static uint32_t correct_sorted(sbf_people *pp, int kind, int source, uint32_t person, uint32_t other, const char *note,
                               const uint32_t *fids, uint32_t nfids) {
    for (int k = 0; k < pp->ncorr; k++) {
        const sbf_correction *c = &pp->corr[k];
        if (c->kind == kind && c->person == person && c->other == other && same_fids(c, fids, nfids)) return c->id;
    }
    if (kind == SBF_CORR_IS) /* the newest word about a face counts */
        for (int k = pp->ncorr - 1; k >= 0; k--) {
            sbf_correction *c = &pp->corr[k];
            if (c->kind != SBF_CORR_IS && c->kind != SBF_CORR_ISNOT && c->kind != SBF_CORR_IGNORE) continue;
            for (uint32_t j = 0; j < nfids; j++) {
                if (c->kind == SBF_CORR_ISNOT && c->person != person) continue;
                corr_drop_fid(pp, k, fids[j]);
            }
            if (c->nfids == 0) corr_drop(pp, k);
        }
    if (kind == SBF_CORR_ISNOT || kind == SBF_CORR_IGNORE) /* "is not P" undoes "is P" */
        for (int k = pp->ncorr - 1; k >= 0; k--) {
            sbf_correction *c = &pp->corr[k];
            if (c->kind != SBF_CORR_IS || (kind == SBF_CORR_ISNOT && c->person != person)) continue;
            for (uint32_t j = 0; j < nfids; j++) corr_drop_fid(pp, k, fids[j]);
            if (c->nfids == 0) corr_drop(pp, k);
        }
    if (grow_to((void **)&pp->corr, &pp->capcorr, pp->ncorr + 1, sizeof *pp->corr)) return 0;
    sbf_correction *c = &pp->corr[pp->ncorr];
    memset(c, 0, sizeof *c);
    c->fids = malloc((nfids ? nfids : 1) * sizeof *c->fids);
    c->note = strdup(note ? note : "");
    if (!c->fids || !c->note) {
        free(c->fids);
        free(c->note);
        return 0;
    }
    if (nfids) memcpy(c->fids, fids, nfids * sizeof *fids); /* (sorted: sbf_people_ignored searches them) */
    c->nfids = nfids;
    c->id = pp->next_corr++;
    c->kind = (uint8_t)kind;
    c->source = (uint8_t)source;
    c->person = person;
    c->other = other;
    c->time = (int64_t)time(NULL);
    pp->ncorr++;
    /* the state follows at once (the next sort keeps it) */
    for (uint32_t j = 0; j < nfids; j++) {
        sbf_known_face *f = sbf_people_face(pp, fids[j]);
        if (!f) continue;
        if (kind == SBF_CORR_IS) f->person = person;
        else if (kind == SBF_CORR_ISNOT && f->person == person) f->person = 0;
    }
    if (kind == SBF_CORR_HIDE) {
        sbf_person *p = sbf_people_person(pp, person);
        if (p) p->flags |= SBF_PERSON_HIDDEN;
    }
    return c->id;
}

int sbf_people_ignored(const sbf_people *pp, uint32_t fid) {
    for (int k = 0; k < pp->ncorr; k++) {
        const sbf_correction *c = &pp->corr[k];
        if (c->kind == SBF_CORR_IGNORE && c->nfids && bsearch(&fid, c->fids, c->nfids, sizeof fid, cmp_u32)) return 1;
    }
    return 0;
}

int sbf_people_withdraw(sbf_people *pp, uint32_t id) {
    int k = 0;
    while (k < pp->ncorr && pp->corr[k].id != id) k++;
    if (k == pp->ncorr) return -1;
    sbf_correction *c = &pp->corr[k];
    if (c->kind == SBF_CORR_IS || c->kind == SBF_CORR_ISNOT) {
        for (uint32_t j = 0; j < c->nfids; j++) {
            sbf_known_face *f = sbf_people_face(pp, c->fids[j]);
            if (f) f->person = 0;
        }
    } else if (c->kind == SBF_CORR_HIDE) {
        sbf_person *p = sbf_people_person(pp, c->person);
        int still = 0; /* another HIDE of the same person keeps it hidden */
        for (int q = 0; q < pp->ncorr; q++)
            still |= q != k && pp->corr[q].kind == SBF_CORR_HIDE && pp->corr[q].person == c->person;
        if (p && !still) p->flags &= ~(uint32_t)SBF_PERSON_HIDDEN;
    } else if (c->kind == SBF_CORR_MERGE) {
        sbf_person *from = person_any(pp, c->other), *into = sbf_people_person(pp, c->person);
        if (from) {
            from->flags &= ~(uint32_t)SBF_PERSON_RETIRED;
            from->into = 0;
            for (uint32_t j = 0; j < c->nfids; j++) {
                sbf_known_face *f = sbf_people_face(pp, c->fids[j]);
                if (f && f->person == c->person) f->person = c->other;
            }
            if (c->note && *c->note && into && into->name && !strcmp(into->name, c->note) && !from->name) {
                from->name = into->name;
                into->name = NULL;
            }
        }
    }
    corr_drop(pp, k);
    return 0;
}

uint32_t sbf_people_merge(sbf_people *pp, uint32_t from, uint32_t into, int source) {
    sbf_person *pf = sbf_people_person(pp, from), *pi = sbf_people_person(pp, into);
    if (!pf || !pi || from == into) return 0;
    uint32_t nf = 0, *fids = malloc(((size_t)pp->nfaces + 1) * sizeof *fids);
    if (!fids) return 0;
    for (int i = 0; i < pp->nfaces; i++)
        if (pp->faces[i].person == from) fids[nf++] = pp->faces[i].fid;
    const char *moved_name = !pi->name && pf->name ? pf->name : "";
    uint32_t id = sbf_people_correct(pp, SBF_CORR_MERGE, source, into, from, moved_name, fids, nf);
    free(fids);
    if (!id) return 0;
    pf = sbf_people_person(pp, from); /* the correction list may have moved nothing, but be safe */
    pi = sbf_people_person(pp, into);
    for (int i = 0; i < pp->nfaces; i++)
        if (pp->faces[i].person == from) pp->faces[i].person = into;
    for (int k = 0; k < pp->ncorr; k++) {
        sbf_correction *c = &pp->corr[k];
        if ((c->kind == SBF_CORR_IS || c->kind == SBF_CORR_ISNOT) && c->person == from) c->person = into;
    }
    if (!pi->name && pf->name) {
        pi->name = pf->name;
        pf->name = NULL;
    }
    pf->flags |= SBF_PERSON_RETIRED;
    pf->into = into;
    return id;
}

/* ---- names and folders ---------------------------------------------------------------------------- */
static int numbered_folder(const char *s, uint32_t *number) {
    if (strncmp(s, "Person ", 7)) return 0;
    s += 7;
    if (!*s) return 0;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > 0xffffffffu) return 0;
    }
    if (number) *number = (uint32_t)v;
    return 1;
}

const char *sbf_people_name_invalid(const char *name) {
    size_t n = strlen(name);
    if (n == 0) return "a name cannot be empty";
    if (n > 255) return "a name is at most 255 bytes (it names a folder)";
    if (name[0] == '.') return "a name cannot start with '.' (a hidden folder)";
    if (name[0] == ' ' || name[n - 1] == ' ') return "a name cannot start or end with a space";
    for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
        if (*s == '/') return "a name cannot hold '/' (it names a folder)";
        if (*s < 0x20 || *s == 0x7f) return "a name cannot hold control characters";
    }
    if (strspn(name, "0123456789") == n) return "a name cannot be a number (numbers name people)";
    if (!strcmp(name, SBF_UNKNOWN_FOLDER))
        return "'" SBF_UNKNOWN_FOLDER "' is the folder of the people seen too rarely";
    if (numbered_folder(name, NULL)) return "'Person N' is how unnamed people are called";
    return NULL;
}

sbf_person *sbf_people_by_name(const sbf_people *pp, const char *name) {
    for (int i = 0; i < pp->npersons; i++) {
        sbf_person *p = &pp->persons[i];
        if (!(p->flags & SBF_PERSON_RETIRED) && p->name && !strcmp(p->name, name)) return p;
    }
    return NULL;
}

sbf_person *sbf_people_lookup(const sbf_people *pp, const char *arg) {
    sbf_person *p = sbf_people_by_name(pp, arg);
    if (p) return p;
    uint32_t num = 0;
    const char *s = arg;
    if (!numbered_folder(arg, &num)) {
        if (!*s) return NULL;
        uint64_t v = 0;
        for (; *s; s++) {
            if (*s < '0' || *s > '9') return NULL;
            v = v * 10 + (uint64_t)(*s - '0');
            if (v > 0xffffffffu) return NULL;
        }
        num = (uint32_t)v;
    }
    /* a retired number leads to the person it was merged into */
    for (int hop = 0; hop < 64; hop++) {
        sbf_person *q = person_any(pp, num);
        if (!q) return NULL;
        if (!(q->flags & SBF_PERSON_RETIRED)) return q;
        num = q->into;
    }
    return NULL;
}

int *sbf_people_counts(const sbf_people *pp) {
    int *c = calloc((size_t)pp->next_person + 1, sizeof *c);
    if (!c) return NULL;
    for (int i = 0; i < pp->nfaces; i++)
        if (pp->faces[i].person < pp->next_person) c[pp->faces[i].person]++;
    return c;
}

const char *sbf_people_folder(const sbf_person *p, int count, int min_faces, char *buf, size_t n) {
    if (p->flags & (SBF_PERSON_HIDDEN | SBF_PERSON_RETIRED)) return NULL;
    if (p->name) snprintf(buf, n, "%s", p->name);
    else if (count < min_faces) snprintf(buf, n, "%s", SBF_UNKNOWN_FOLDER);
    else snprintf(buf, n, "Person %0*u", SBF_PERSON_WIDTH, p->number);
    return buf;
}

/* ---- listing ------------------------------------------------------------------------------------- */
static int cmp_view(const void *a, const void *b) {
    const sbf_view_person *x = a, *y = b;
    int gx = x->name ? 0 : x->unknown || x->hidden ? 2 : 1, gy = y->name ? 0 : y->unknown || y->hidden ? 2 : 1;
    if (gx != gy) return gx - gy;
    if (gx == 0) {
        int c = strcmp(x->name, y->name);
        if (c) return c;
    }
    return (x->number > y->number) - (x->number < y->number);
}

int sbf_people_view_build(const sbf_people *pp, const sbf_faceset *fs, const uint32_t *fid, int min_faces,
                          sbf_people_view *v) {
    memset(v, 0, sizeof *v);
    int *counts = sbf_people_counts(pp);
    int *slot = malloc(((size_t)pp->next_person + 1) * sizeof *slot);
    int *filled = NULL;
    if (!counts || !slot) goto oom;
    for (uint32_t k = 0; k <= pp->next_person; k++) slot[k] = -1;
    v->people = calloc((size_t)(pp->npersons ? pp->npersons : 1), sizeof *v->people);
    if (!v->people) goto oom;
    for (int i = 0; i < pp->npersons; i++) {
        const sbf_person *p = &pp->persons[i];
        if (p->flags & SBF_PERSON_RETIRED) continue;
        int c = counts[p->number];
        if (c == 0 && !p->name) continue;
        sbf_view_person *q = &v->people[v->n];
        q->number = p->number;
        q->name = p->name;
        q->hidden = (p->flags & SBF_PERSON_HIDDEN) != 0;
        q->unknown = !p->name && c < min_faces;
        if (!sbf_people_folder(p, c, min_faces, q->folder, sizeof q->folder)) q->folder[0] = 0;
        q->faces = malloc((size_t)(c ? c : 1) * sizeof *q->faces);
        if (!q->faces) goto oom;
        slot[p->number] = v->n++;
    }
    for (int i = 0; i < fs->nfaces; i++) {
        const sbf_known_face *kf = sbf_people_face(pp, fid[i]);
        if (!kf || !kf->person) {
            v->unsorted++;
            continue;
        }
        int s = slot[kf->person];
        if (s < 0) continue;
        sbf_view_person *q = &v->people[s];
        int ph = fs->face_photo[i];
        q->faces[q->nfaces++] = (sbf_view_face){i, ph, fs->photos[ph].path, fs->face_index[i], fs->boxes[i]};
        if (q->nfaces == 1 || q->faces[q->nfaces - 2].photo != ph) q->nphotos++;
    }
    /* the view's people point at their faces; sort them into display order */
    qsort(v->people, (size_t)v->n, sizeof *v->people, cmp_view);
    free(counts);
    free(slot);
    free(filled);
    return 0;
oom:
    free(counts);
    free(slot);
    free(filled);
    sbf_people_view_free(v);
    return -1;
}

void sbf_people_view_free(sbf_people_view *v) {
    for (int i = 0; i < v->n; i++) free(v->people[i].faces);
    free(v->people);
    memset(v, 0, sizeof *v);
}
