/* src/landmarks.c — dlib's shape_predictor (ensemble of regression trees), loaded from dlib's .dat or
 * from our SBFW conversion, evaluated with the same arithmetic as dlib/image_processing/shape_predictor.h. */
#include "src/landmarks.h"
#include "src/landmarks_impl.h"
#include "nn/weights.h"
#include "nn/half.h"
#include "src/util.h"
#include "src/models.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DLIB_DEFAULT_MODEL "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- dlib serialization reader ------------------------------------------------------------------ */

typedef struct {
    const uint8_t *p, *end;
    const char *what; /* first failure */
} dreader;

static int rd_fail(dreader *r, const char *what) {
    if (!r->what) r->what = what;
    r->p = r->end;
    return -1;
}

/* dlib ser_helper::unpack_int for unsigned types: control byte (size, reserved bits 0x70 ignored),
 * then size little-endian bytes. */
static int rd_ulong(dreader *r, uint64_t *v) {
    if (r->p >= r->end) return rd_fail(r, "truncated file");
    unsigned size = *r->p++ & 0x8F;
    if (size == 0 || size > 8) return rd_fail(r, "bad integer");
    if ((size_t)(r->end - r->p) < size) return rd_fail(r, "truncated file");
    uint64_t x = 0;
    for (int i = (int)size - 1; i >= 0; i--) x = (x << 8) | r->p[i];
    r->p += size;
    *v = x;
    return 0;
}

/* Signed: bit 0x80 of the control byte is the sign, low nibble the size. */
static int rd_slong(dreader *r, int64_t *v, unsigned maxsize) {
    if (r->p >= r->end) return rd_fail(r, "truncated file");
    unsigned c = *r->p++;
    int neg = (c & 0x80) != 0;
    unsigned size = c & 0x0F;
    if (size == 0 || size > maxsize) return rd_fail(r, "bad integer");
    if ((size_t)(r->end - r->p) < size) return rd_fail(r, "truncated file");
    uint64_t x = 0;
    for (int i = (int)size - 1; i >= 0; i--) x = (x << 8) | r->p[i];
    r->p += size;
    *v = neg ? -(int64_t)x : (int64_t)x;
    return 0;
}

/* dlib float_details: int64 mantissa, int16 exponent; value = ldexp((float)mantissa, exponent). */
static int rd_float(dreader *r, float *v) {
    if (r->p >= r->end) return rd_fail(r, "truncated file");
    if ((*r->p & 0x70) != 0)
        return rd_fail(r, "old ASCII float encoding (unsupported; re-save the model with dlib >= 18.x)");
    int64_t man, ex;
    if (rd_slong(r, &man, 8) || rd_slong(r, &ex, 2)) return -1;
    if (ex < 32000) *v = ldexpf((float)man, (int)ex);
    else if (ex == 32000) *v = INFINITY;
    else if (ex == 32001) *v = -INFINITY;
    else *v = NAN;
    return 0;
}

/* matrix<float,0,1>: nr, nc (negative in the newer format), then nr*nc floats row-major. */
static int rd_colvec_header(dreader *r, int64_t *n) {
    int64_t nr, nc;
    if (rd_slong(r, &nr, 8) || rd_slong(r, &nc, 8)) return -1;
    if (nr < 0 || nc < 0) {
        nr = -nr;
        nc = -nc;
    }
    if (nc != 1 && !(nr == 0 && nc == 0)) return rd_fail(r, "column vector expected");
    *n = nr;
    return 0;
}

static int is_pow2(uint64_t x) { return x && !(x & (x - 1)); }

static void *xmalloc(size_t n) { return malloc(n ? n : 1); }

static int load_dat(sbf_shape_model *m, const uint8_t *buf, size_t len, char *err, size_t errlen) {
    dreader r = {buf, buf + len, NULL};
    int64_t version, n;
    uint64_t u;
    if (rd_slong(&r, &version, 8) || version != 1) {
        seterr(err, errlen, "not a dlib shape_predictor file (version field)");
        return -1;
    }
    if (rd_colvec_header(&r, &n)) goto bad;
    if (n <= 0 || n % 2 || n / 2 != SBF_LANDMARKS) {
        seterr(err, errlen, "model has %lld values in its mean shape; a 68-point model is needed", (long long)n);
        return -1;
    }
    m->nparts = (int)(n / 2);
    m->initial = xmalloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        if (rd_float(&r, &m->initial[i])) goto bad;

    uint64_t ncasc;
    if (rd_ulong(&r, &ncasc)) goto bad;
    if (ncasc == 0 || ncasc > 1000) {
        seterr(err, errlen, "implausible cascade count %llu", (unsigned long long)ncasc);
        return -1;
    }
    m->ncasc = (int)ncasc;
    const int dim = 2 * m->nparts;
    for (uint64_t c = 0; c < ncasc; c++) {
        uint64_t ntrees;
        if (rd_ulong(&r, &ntrees)) goto bad;
        if (c == 0) {
            if (ntrees == 0 || ntrees > 100000) {
                seterr(err, errlen, "implausible tree count");
                return -1;
            }
            m->ntrees = (int)ntrees;
        } else if (ntrees != (uint64_t)m->ntrees) {
            seterr(err, errlen, "cascades with different tree counts are not supported");
            return -1;
        }
        for (uint64_t t = 0; t < ntrees; t++) {
            uint64_t nsplit, nleaf;
            if (rd_ulong(&r, &nsplit)) goto bad;
            if (c == 0 && t == 0) {
                if (!is_pow2(nsplit + 1) || nsplit > 65535) {
                    seterr(err, errlen, "tree is not complete");
                    return -1;
                }
                m->nsplit = (int)nsplit;
                m->nleaf = (int)nsplit + 1;
                m->depth = 0;
                while ((1 << m->depth) < m->nleaf) m->depth++;
                /* every serialized float takes at least 4 bytes: refuse sizes the file cannot hold before
                 * allocating (a corrupted count must not become a huge allocation) */
                if ((uint64_t)m->ncasc * (uint64_t)m->ntrees * (uint64_t)m->nleaf * (uint64_t)dim > len / 4) {
                    seterr(err, errlen, "tree counts larger than the file can hold (truncated or corrupt file)");
                    return -1;
                }
                m->splits = xmalloc(sizeof(sbf_split) * (size_t)m->ncasc * m->ntrees * m->nsplit);
                size_t nl = (size_t)m->ncasc * m->ntrees * m->nleaf * dim;
                float *lv = malloc(sizeof(float) * nl);
                if (!lv || !m->splits) {
                    seterr(err, errlen, "out of memory");
                    return -1;
                }
                m->leaves = lv;
                m->owned_leaves = lv;
            } else if (nsplit != (uint64_t)m->nsplit) {
                seterr(err, errlen, "trees of different depths are not supported");
                return -1;
            }
            sbf_split *sp = m->splits + ((size_t)c * m->ntrees + t) * m->nsplit;
            for (uint64_t s = 0; s < nsplit; s++) {
                uint64_t a, b;
                if (rd_ulong(&r, &a) || rd_ulong(&r, &b) || rd_float(&r, &sp[s].thresh)) goto bad;
                if (a > 65535 || b > 65535) {
                    seterr(err, errlen, "feature index out of range");
                    return -1;
                }
                sp[s].a = (uint16_t)a;
                sp[s].b = (uint16_t)b;
            }
            if (rd_ulong(&r, &nleaf)) goto bad;
            if (nleaf != nsplit + 1) {
                seterr(err, errlen, "leaf count does not match split count");
                return -1;
            }
            float *lv = (float *)m->owned_leaves + (((size_t)c * m->ntrees + t) * m->nleaf) * dim;
            for (uint64_t l = 0; l < nleaf; l++) {
                if (rd_colvec_header(&r, &n)) goto bad;
                if (n != dim) {
                    seterr(err, errlen, "leaf vector has %lld values, expected %d", (long long)n, dim);
                    return -1;
                }
                for (int k = 0; k < dim; k++)
                    if (rd_float(&r, &lv[l * dim + k])) goto bad;
            }
        }
    }
    /* anchor_idx: vector<vector<unsigned long>> */
    if (rd_ulong(&r, &u)) goto bad;
    if (u != ncasc) {
        seterr(err, errlen, "anchor table does not match cascade count");
        return -1;
    }
    for (uint64_t c = 0; c < ncasc; c++) {
        uint64_t nf;
        if (rd_ulong(&r, &nf)) goto bad;
        if (c == 0) {
            if (nf == 0 || nf > 65535) {
                seterr(err, errlen, "implausible feature count");
                return -1;
            }
            m->nfeat = (int)nf;
            m->anchor = xmalloc(sizeof(uint16_t) * (size_t)m->ncasc * m->nfeat);
            m->delta = xmalloc(sizeof(float) * 2 * (size_t)m->ncasc * m->nfeat);
        } else if (nf != (uint64_t)m->nfeat) {
            seterr(err, errlen, "cascades with different feature counts are not supported");
            return -1;
        }
        for (uint64_t i = 0; i < nf; i++) {
            if (rd_ulong(&r, &u)) goto bad;
            if (u >= (uint64_t)m->nparts) {
                seterr(err, errlen, "anchor index out of range");
                return -1;
            }
            m->anchor[c * m->nfeat + i] = (uint16_t)u;
        }
    }
    /* deltas: vector<vector<vector<float,2>>> */
    if (rd_ulong(&r, &u)) goto bad;
    if (u != ncasc) {
        seterr(err, errlen, "delta table does not match cascade count");
        return -1;
    }
    for (uint64_t c = 0; c < ncasc; c++) {
        uint64_t nf;
        if (rd_ulong(&r, &nf)) goto bad;
        if (nf != (uint64_t)m->nfeat) {
            seterr(err, errlen, "delta table does not match anchors");
            return -1;
        }
        for (uint64_t i = 0; i < nf; i++) {
            float *d = m->delta + 2 * (c * m->nfeat + i);
            if (rd_float(&r, &d[0]) || rd_float(&r, &d[1])) goto bad;
        }
    }
    for (size_t i = 0; i < (size_t)m->ncasc * m->ntrees * m->nsplit; i++)
        if (m->splits[i].a >= m->nfeat || m->splits[i].b >= m->nfeat) {
            seterr(err, errlen, "split feature index out of range");
            return -1;
        }
    m->bytes = sizeof(float) * (size_t)m->ncasc * m->ntrees * m->nleaf * dim;
    return 0;
bad:
    seterr(err, errlen, "dlib shape_predictor file: %s at byte %zu", r.what ? r.what : "parse error",
           (size_t)(r.p - buf));
    return -1;
}

/* ---- SBFW ----------------------------------------------------------------------------------------- */

static int load_sbfw(sbf_shape_model *m, const char *path, char *err, size_t errlen) {
    char e2[200];
    nnw_file *f = nnw_open(path, e2, sizeof e2);
    if (!f) {
        seterr(err, errlen, "%s", e2);
        return -1;
    }
    m->wf = f;
    const char *kind = nnw_meta(f, "kind");
    if (!kind || strcmp(kind, SBF_SHAPE_KIND) != 0) {
        seterr(err, errlen, "weight file is not a shape predictor (meta kind=%s)", kind ? kind : "missing");
        return -1;
    }
    const nnw_tensor *ti =
        nnw_expect(f, "initial_shape", NNW_F32, 2, (const uint32_t[]){SBF_LANDMARKS, 2}, e2, sizeof e2);
    const nnw_tensor *tl = ti ? nnw_find(f, "leaves") : NULL;
    if (!ti || !tl) {
        seterr(err, errlen, "%s", ti ? "tensor leaves missing" : e2);
        return -1;
    }
    if (tl->ndim != 4 || (tl->dtype != NNW_F32 && tl->dtype != NNW_F16) || tl->shape[3] != 2 * SBF_LANDMARKS ||
        !is_pow2(tl->shape[2]) || tl->shape[2] < 2 || tl->shape[2] > 65536 || tl->shape[0] == 0 || tl->shape[1] == 0) {
        seterr(err, errlen, "tensor leaves has an unexpected type or shape");
        return -1;
    }
    m->nparts = SBF_LANDMARKS;
    m->ncasc = (int)tl->shape[0];
    m->ntrees = (int)tl->shape[1];
    m->nleaf = (int)tl->shape[2];
    m->nsplit = m->nleaf - 1;
    m->depth = 0;
    while ((1 << m->depth) < m->nleaf) m->depth++;
    m->f16 = tl->dtype == NNW_F16;
    m->leaves = tl->data;
    m->bytes = tl->size;
    const nnw_tensor *ta =
        nnw_expect(f, "anchor", NNW_I32, 2, (const uint32_t[]){(uint32_t)m->ncasc, 0}, e2, sizeof e2);
    if (!ta) {
        seterr(err, errlen, "%s", e2);
        return -1;
    }
    m->nfeat = (int)ta->shape[1];
    if (m->nfeat <= 0 || m->nfeat > 65535) {
        seterr(err, errlen, "implausible feature count");
        return -1;
    }
    const nnw_tensor *td = nnw_expect(f, "delta", NNW_F32, 3,
                                      (const uint32_t[]){(uint32_t)m->ncasc, (uint32_t)m->nfeat, 2}, e2, sizeof e2);
    const nnw_tensor *tsf =
        td ? nnw_expect(f, "split_feature", NNW_I32, 4,
                        (const uint32_t[]){(uint32_t)m->ncasc, (uint32_t)m->ntrees, (uint32_t)m->nsplit, 2}, e2,
                        sizeof e2)
           : NULL;
    const nnw_tensor *tst =
        tsf ? nnw_expect(f, "split_thresh", NNW_F32, 3,
                         (const uint32_t[]){(uint32_t)m->ncasc, (uint32_t)m->ntrees, (uint32_t)m->nsplit}, e2,
                         sizeof e2)
            : NULL;
    if (!tst) {
        seterr(err, errlen, "%s", e2);
        return -1;
    }
    m->initial = xmalloc(sizeof(float) * 2 * m->nparts);
    memcpy(m->initial, ti->data, sizeof(float) * 2 * m->nparts);
    size_t nf = (size_t)m->ncasc * m->nfeat, ns = (size_t)m->ncasc * m->ntrees * m->nsplit;
    m->anchor = xmalloc(sizeof(uint16_t) * nf);
    m->delta = xmalloc(sizeof(float) * 2 * nf);
    m->splits = xmalloc(sizeof(sbf_split) * ns);
    const int32_t *a = ta->data, *sf = tsf->data;
    const float *st = tst->data;
    for (size_t i = 0; i < nf; i++) {
        if (a[i] < 0 || a[i] >= m->nparts) {
            seterr(err, errlen, "anchor index out of range");
            return -1;
        }
        m->anchor[i] = (uint16_t)a[i];
    }
    memcpy(m->delta, td->data, sizeof(float) * 2 * nf);
    for (size_t i = 0; i < ns; i++) {
        if (sf[2 * i] < 0 || sf[2 * i] >= m->nfeat || sf[2 * i + 1] < 0 || sf[2 * i + 1] >= m->nfeat) {
            seterr(err, errlen, "split feature index out of range");
            return -1;
        }
        m->splits[i].a = (uint16_t)sf[2 * i];
        m->splits[i].b = (uint16_t)sf[2 * i + 1];
        m->splits[i].thresh = st[i];
    }
    return 0;
}

sbf_shape_model *sbf_shape_load(const char *path, char *err, size_t errlen) {
    sbf_shape_model *m = calloc(1, sizeof *m);
    if (!m) {
        seterr(err, errlen, "out of memory");
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        seterr(err, errlen, "%s", strerror(errno));
        free(m);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        seterr(err, errlen, "not a regular file");
        close(fd);
        free(m);
        return NULL;
    }
    uint8_t head[4] = {0};
    ssize_t got = pread(fd, head, 4, 0);
    int rc;
    if (got == 4 && memcmp(head, "SBFW", 4) == 0) {
        close(fd);
        rc = load_sbfw(m, path, err, errlen);
    } else {
        size_t len = (size_t)st.st_size;
        if (len < 16) {
            seterr(err, errlen, "file too small for a shape predictor");
            close(fd);
            free(m);
            return NULL;
        }
        void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (map == MAP_FAILED) {
            seterr(err, errlen, "mmap: %s", strerror(errno));
            free(m);
            return NULL;
        }
        madvise(map, len, MADV_SEQUENTIAL);
        rc = load_dat(m, map, len, err, errlen);
        munmap(map, len);
    }
    if (rc) {
        sbf_shape_free(m);
        return NULL;
    }
    return m;
}

void sbf_shape_free(sbf_shape_model *m) {
    if (!m) return;
    free(m->initial);
    free(m->splits);
    free(m->anchor);
    free(m->delta);
    free(m->owned_leaves);
    if (m->wf) nnw_close(m->wf);
    free(m);
}

void sbf_shape_get_info(const sbf_shape_model *m, sbf_shape_info *info) {
    info->parts = m->nparts;
    info->cascades = m->ncasc;
    info->trees = m->ntrees;
    info->depth = m->depth;
    info->features = m->nfeat;
    info->leaves_f16 = m->f16;
    info->bytes = m->bytes;
}

/* ---- saving (tools/shape-convert) ---------------------------------------------------------------- */

int sbf_shape_save_sbfw(const sbf_shape_model *m, const char *path, int f16, const char *source, char *err,
                        size_t errlen) {
    nnw_writer *w = nnw_writer_new();
    if (!w) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    const int dim = 2 * m->nparts;
    size_t nf = (size_t)m->ncasc * m->nfeat, ns = (size_t)m->ncasc * m->ntrees * m->nsplit;
    size_t nl = (size_t)m->ncasc * m->ntrees * m->nleaf * dim;
    int32_t *a = xmalloc(sizeof(int32_t) * nf), *sf = xmalloc(sizeof(int32_t) * 2 * ns);
    float *st = xmalloc(sizeof(float) * ns);
    void *lv = NULL;
    int rc = -1;
    for (size_t i = 0; i < nf; i++) a[i] = m->anchor[i];
    for (size_t i = 0; i < ns; i++) {
        sf[2 * i] = m->splits[i].a;
        sf[2 * i + 1] = m->splits[i].b;
        st[i] = m->splits[i].thresh;
    }
    if (f16 && !m->f16) {
        uint16_t *h = xmalloc(sizeof(uint16_t) * nl);
        const float *src = m->leaves;
        for (size_t i = 0; i < nl; i++) h[i] = nn_f32_to_f16(src[i]);
        lv = h;
    } else if (!f16 && m->f16) {
        float *o = xmalloc(sizeof(float) * nl);
        nn_f16_to_f32_array(m->leaves, o, nl);
        lv = o;
    }
    char buf[64];
    nnw_writer_meta(w, "kind", SBF_SHAPE_KIND);
    nnw_writer_meta(w, "source", source ? source : "dlib shape_predictor");
    snprintf(buf, sizeof buf, "%d", m->nparts);
    nnw_writer_meta(w, "parts", buf);
    nnw_writer_meta(w, "licence", "iBUG 300-W trained model: the data set's licence excludes commercial use");
    if (nnw_writer_add(w, "initial_shape", NNW_F32, 2, (const uint32_t[]){(uint32_t)m->nparts, 2}, 1, m->initial) ||
        nnw_writer_add(w, "split_feature", NNW_I32, 4,
                       (const uint32_t[]){(uint32_t)m->ncasc, (uint32_t)m->ntrees, (uint32_t)m->nsplit, 2}, 1, sf) ||
        nnw_writer_add(w, "split_thresh", NNW_F32, 3,
                       (const uint32_t[]){(uint32_t)m->ncasc, (uint32_t)m->ntrees, (uint32_t)m->nsplit}, 1, st) ||
        nnw_writer_add(w, "anchor", NNW_I32, 2, (const uint32_t[]){(uint32_t)m->ncasc, (uint32_t)m->nfeat}, 1, a) ||
        nnw_writer_add(w, "delta", NNW_F32, 3, (const uint32_t[]){(uint32_t)m->ncasc, (uint32_t)m->nfeat, 2}, 1,
                       m->delta) ||
        nnw_writer_add(w, "leaves", f16 ? NNW_F16 : NNW_F32, 4,
                       (const uint32_t[]){(uint32_t)m->ncasc, (uint32_t)m->ntrees, (uint32_t)m->nleaf, (uint32_t)dim},
                       1, lv ? lv : m->leaves)) {
        seterr(err, errlen, "cannot add tensors (out of memory)");
        goto out;
    }
    rc = nnw_writer_save(w, path, err, errlen);
out:
    free(a);
    free(sf);
    free(st);
    free(lv);
    nnw_writer_free(w);
    return rc;
}

/* ---- evaluation ----------------------------------------------------------------------------------- */

void sbf_shape_accum_scalar(float *cur, const void *leaves, int f16, const uint32_t *leaf_off, int n, int dim) {
    if (f16) {
        for (int t = 0; t < n; t++) {
            const uint16_t *l = (const uint16_t *)leaves + leaf_off[t];
            for (int j = 0; j < dim; j++) cur[j] += nn_f16_to_f32(l[j]);
        }
    } else {
        for (int t = 0; t < n; t++) {
            const float *l = (const float *)leaves + leaf_off[t];
            for (int j = 0; j < dim; j++) cur[j] += l[j];
        }
    }
}

#if defined(__aarch64__)
#include <arm_neon.h>
static void accum_neon(float *cur, const void *leaves, int f16, const uint32_t *leaf_off, int n, int dim) {
    int j0 = 0;
    for (; j0 + 4 <= dim; j0 += 64) {
        int nv = (dim - j0) / 4;
        if (nv > 16) nv = 16;
        float32x4_t acc[16];
        for (int k = 0; k < nv; k++) acc[k] = vld1q_f32(cur + j0 + 4 * k);
        for (int t = 0; t < n; t++) {
            if (f16) {
                const uint16_t *l = (const uint16_t *)leaves + leaf_off[t] + j0;
                for (int k = 0; k < nv; k++)
                    acc[k] = vaddq_f32(acc[k], vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(l + 4 * k))));
            } else {
                const float *l = (const float *)leaves + leaf_off[t] + j0;
                for (int k = 0; k < nv; k++) acc[k] = vaddq_f32(acc[k], vld1q_f32(l + 4 * k));
            }
        }
        for (int k = 0; k < nv; k++) vst1q_f32(cur + j0 + 4 * k, acc[k]);
        if (nv < 16) {
            j0 += 4 * nv;
            break;
        }
    }
    for (int t = 0; t < n && j0 < dim; t++) {
        if (f16) {
            const uint16_t *l = (const uint16_t *)leaves + leaf_off[t];
            for (int j = j0; j < dim; j++) cur[j] += nn_f16_to_f32(l[j]);
        } else {
            const float *l = (const float *)leaves + leaf_off[t];
            for (int j = j0; j < dim; j++) cur[j] += l[j];
        }
    }
}
#endif

static const sbf_shape_accum_fn ACCUM[NN_ISA_COUNT] = {
    [NN_ISA_SCALAR] = sbf_shape_accum_scalar,
#if defined(__x86_64__)
    [NN_ISA_AVX2] = sbf_shape_accum_avx2,
    [NN_ISA_AVX512] = sbf_shape_accum_avx2,
#elif defined(__aarch64__)
    [NN_ISA_NEON] = accum_neon,
#elif defined(__ARM_NEON)
    [NN_ISA_NEON] = sbf_shape_accum_scalar,
#endif
};

sbf_shape_accum_fn sbf_shape_accum_for(nn_isa isa) { return (unsigned)isa < NN_ISA_COUNT ? ACCUM[isa] : NULL; }

sbf_shape_accum_fn sbf_shape_accum_get(void) { return ACCUM[nn_isa_get()]; }

/* dlib's find_similarity_transform (Umeyama) from the mean shape to the current shape, reduced to its
 * closed 2-D form: c*R = [[a,-b],[b,a]] / sigma_from with a = cov00+cov11, b = cov10-cov01, which is
 * what the SVD construction yields for any cov (it always picks a proper rotation).  Only the 2x2 part
 * is used by dlib, cast to float. */
static void similarity(const float *from, const float *to, int n, float tf[4]) {
    double mfx = 0, mfy = 0, mtx = 0, mty = 0;
    for (int i = 0; i < n; i++) {
        mfx += (double)from[2 * i];
        mfy += (double)from[2 * i + 1];
        mtx += (double)to[2 * i];
        mty += (double)to[2 * i + 1];
    }
    mfx /= n;
    mfy /= n;
    mtx /= n;
    mty /= n;
    double sf = 0, c00 = 0, c01 = 0, c10 = 0, c11 = 0;
    for (int i = 0; i < n; i++) {
        double fx = from[2 * i] - mfx, fy = from[2 * i + 1] - mfy;
        double tx = to[2 * i] - mtx, ty = to[2 * i + 1] - mty;
        sf += fx * fx + fy * fy;
        c00 += tx * fx;
        c01 += tx * fy;
        c10 += ty * fx;
        c11 += ty * fy;
    }
    sf /= n;
    c00 /= n;
    c01 /= n;
    c10 /= n;
    c11 /= n;
    double a = c00 + c11, b = c10 - c01;
    double m00, m01, m10, m11;
    if (sf != 0) {
        m00 = a / sf;
        m01 = -b / sf;
        m10 = b / sf;
        m11 = a / sf;
    } else { /* dlib: c = 1 and R from the SVD */
        double r = sqrt(a * a + b * b);
        if (r > 0) {
            m00 = a / r;
            m01 = -b / r;
            m10 = b / r;
            m11 = a / r;
        } else {
            m00 = 1;
            m01 = 0;
            m10 = 0;
            m11 = 1;
        }
    }
    tf[0] = (float)m00;
    tf[1] = (float)m01;
    tf[2] = (float)m10;
    tf[3] = (float)m11;
}

int sbf_shape_predict(const sbf_shape_model *m, const unsigned char *gray, int w, int h, const sbf_box *box,
                      float pts[68][2]) {
    if (!m || !gray || w <= 0 || h <= 0 || !box || m->nparts != SBF_LANDMARKS) return -1;
    const int P = m->nparts, dim = 2 * P, F = m->nfeat, T = m->ntrees, S = m->nsplit, L = m->nleaf;
    float cur[2 * SBF_LANDMARKS];
    float feat_stack[512];
    uint32_t off_stack[512];
    float *feat = F <= 512 ? feat_stack : malloc(sizeof(float) * F);
    uint32_t *off = T <= 512 ? off_stack : malloc(sizeof(uint32_t) * T);
    if (!feat || !off) {
        if (feat != feat_stack) free(feat);
        return -1;
    }
    memcpy(cur, m->initial, sizeof(float) * dim);
    /* unnormalizing_tform(rect): (0,0)->tl, (1,0)->tr, (1,1)->br */
    const double sx = (double)(box->right - box->left), sy = (double)(box->bottom - box->top);
    const double ox = (double)box->left, oy = (double)box->top;
    const size_t esz = m->f16 ? 2 : 4;
    const sbf_shape_accum_fn accum = sbf_shape_accum_get();
    for (int c = 0; c < m->ncasc; c++) {
        float tf[4];
        similarity(m->initial, cur, P, tf);
        const uint16_t *anc = m->anchor + (size_t)c * F;
        const float *del = m->delta + (size_t)c * F * 2;
        for (int i = 0; i < F; i++) {
            float dx = del[2 * i], dy = del[2 * i + 1];
            float px = tf[0] * dx;
            px += tf[1] * dy;
            float py = tf[2] * dx;
            py += tf[3] * dy;
            px += cur[2 * anc[i]];
            py += cur[2 * anc[i] + 1];
            double X = sx * (double)px + ox, Y = sy * (double)py + oy;
            double fx = floor(X + 0.5), fy = floor(Y + 0.5);
            if (fx >= 0 && fx <= (double)(w - 1) && fy >= 0 && fy <= (double)(h - 1))
                feat[i] = (float)gray[(size_t)fy * (size_t)w + (size_t)fx];
            else feat[i] = 0;
        }
        const sbf_split *sp = m->splits + (size_t)c * T * S;
        const size_t base = (size_t)c * T * L;
        for (int t = 0; t < T; t++, sp += S) {
            unsigned i = 0;
            while (i < (unsigned)S) i = (feat[sp[i].a] - feat[sp[i].b] > sp[i].thresh) ? 2 * i + 1 : 2 * i + 2;
            size_t o = (base + (size_t)t * L + (i - (unsigned)S)) * dim;
            off[t] = (uint32_t)(o - base * dim);
            __builtin_prefetch((const char *)m->leaves + o * esz);
            __builtin_prefetch((const char *)m->leaves + o * esz + 128);
            __builtin_prefetch((const char *)m->leaves + o * esz + 256);
        }
        const void *lbase = (const char *)m->leaves + base * dim * esz;
        accum(cur, lbase, m->f16, off, T, dim);
    }
    for (int i = 0; i < P; i++) {
        pts[i][0] = (float)(sx * (double)cur[2 * i] + ox);
        pts[i][1] = (float)(sy * (double)cur[2 * i + 1] + oy);
    }
    if (feat != feat_stack) free(feat);
    if (off != off_stack) free(off);
    return 0;
}

const char *sbf_landmarks_default_path(void) {
    static _Thread_local char buf[4096]; /* own copy: sbf_model_path's buffer is reused by the next call */
    const char *p = sbf_model_path(SBF_SHAPE_SBFW_NAME);
    if (access(p, R_OK) != 0) return DLIB_DEFAULT_MODEL;
    snprintf(buf, sizeof buf, "%s", p);
    return buf;
}

void sbf_landmarks_print_json(FILE *out, const float pts[68][2]) {
    fputs(",\"landmarks\":[", out);
    for (int i = 0; i < SBF_LANDMARKS; i++) {
        fputs(i ? ",[" : "[", out);
        sbf_json_float(out, pts[i][0]);
        fputc(',', out);
        sbf_json_float(out, pts[i][1]);
        fputc(']', out);
    }
    fputc(']', out);
}
