/* fuzz/fuzz_store.c — fuzz target: the embeddings database reader (src/store.c, docs/DATABASE.md). */
#include "fuzz/fuzz.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "src/people.h"
#include "src/store.h"

static uint32_t s_rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void s_wr32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Recomputes the header CRC and every record's header and payload CRC (as far as the records'
 * lengths fit), so mutations reach the structural checks behind the checksums. */
static void st_fix_checksums(uint8_t *b, size_t n) {
    if (n < 32) return;
    s_wr32(b + 28, sbf_crc32(0, b, 28));
    size_t off = 32;
    while (n - off >= 16) {
        uint8_t *h = b + off;
        s_wr32(h + 12, sbf_crc32(0, h, 12));
        uint32_t plen = s_rd32(h + 8);
        if ((uint64_t)plen + 20 > n - off) break;
        s_wr32(h + 16 + plen, sbf_crc32(0, h + 16, plen));
        off += 20 + (size_t)plen;
    }
}

static int same_bits(const void *a, const void *b, size_t n) { return memcmp(a, b, n) == 0; }

/* Face set invariants: photos sorted by path, faces contiguous per photo, lookups agree. */
static void check_faceset(const sbf_store *s, const sbf_faceset *fs) {
    sbf_store_stats st;
    sbf_store_get_stats(s, &st);
    FUZZ_CHECK(fs->nphotos >= 0 && fs->nfaces >= 0 && fs->dim == SBF_EMBED_DIM);
    FUZZ_CHECK(st.photos == (size_t)fs->nphotos && st.faces == (size_t)fs->nfaces);
    int next = 0;
    for (int i = 0; i < fs->nphotos; i++) {
        const sbf_photo *p = &fs->photos[i];
        FUZZ_CHECK(p->path != NULL && p->path[0] != 0);
        if (i) FUZZ_CHECK(strcmp(fs->photos[i - 1].path, p->path) < 0);
        FUZZ_CHECK(p->first_face == next && p->nfaces >= 0 && p->nfaces <= fs->nfaces - next);
        for (int k = 0; k < p->nfaces; k++) FUZZ_CHECK(fs->face_photo[next + k] == i);
        next += p->nfaces;
        long long size = -1, mtime = -1;
        FUZZ_CHECK(sbf_store_lookup(s, p->path, &size, &mtime) == 1);
        FUZZ_CHECK(size == p->size && mtime == p->mtime_ns);
    }
    FUZZ_CHECK(next == fs->nfaces);
    /* every embedding / landmark byte is readable */
    double acc = 0;
    for (size_t k = 0; k < (size_t)fs->nfaces * SBF_EMBED_DIM; k++) acc += fs->emb[k] == fs->emb[k];
    for (size_t k = 0; k < (size_t)fs->nfaces * SBF_LANDMARKS * 2; k++) acc += fs->landmarks[k] == fs->landmarks[k];
    FUZZ_CHECK(acc >= 0);
}

/* b equals a without photo number skip (-1: none). */
static void same_faceset(const sbf_faceset *a, const sbf_faceset *b, int skip) {
    FUZZ_CHECK(b->nphotos == a->nphotos - (skip >= 0));
    FUZZ_CHECK(b->nfaces == a->nfaces - (skip >= 0 ? a->photos[skip].nfaces : 0));
    for (int i = 0, j = 0; i < a->nphotos; i++) {
        if (i == skip) continue;
        const sbf_photo *p = &a->photos[i], *q = &b->photos[j];
        FUZZ_CHECK(strcmp(p->path, q->path) == 0 && p->size == q->size && p->mtime_ns == q->mtime_ns);
        FUZZ_CHECK(p->width == q->width && p->height == q->height && p->nfaces == q->nfaces);
        for (int k = 0; k < p->nfaces; k++) {
            int fa = p->first_face + k, fb = q->first_face + k;
            FUZZ_CHECK(a->face_index[fa] == b->face_index[fb]);
            const sbf_box *x = &a->boxes[fa], *y = &b->boxes[fb];
            FUZZ_CHECK(x->left == y->left && x->top == y->top && x->right == y->right && x->bottom == y->bottom);
            FUZZ_CHECK(x->filter == y->filter && same_bits(&x->score, &y->score, sizeof x->score));
            FUZZ_CHECK(same_bits(a->landmarks + (size_t)fa * SBF_LANDMARKS * 2,
                                 b->landmarks + (size_t)fb * SBF_LANDMARKS * 2, SBF_LANDMARKS * 2 * sizeof(float)));
            FUZZ_CHECK(same_bits(a->emb + (size_t)fa * SBF_EMBED_DIM, b->emb + (size_t)fb * SBF_EMBED_DIM,
                                 SBF_EMBED_DIM * sizeof(float)));
        }
        j++;
    }
}

static void count_path(void *ctx, const char *path) {
    FUZZ_CHECK(path != NULL && path[0] != 0);
    ++*(int *)ctx;
}

static int st_check_one(const uint8_t *d, size_t n) {
    const char *path = sbf_fuzz_write_tmp("fuzz.db", d, n);
    char dbpath[1100];
    snprintf(dbpath, sizeof dbpath, "%s", path);
    char err[1024];
    err[0] = 0;
    sbf_store *r = sbf_store_open(dbpath, SBF_STORE_READ, err, sizeof err);
    if (!r) {
        FUZZ_CHECK(err[0] != 0 && memchr(err, 0, sizeof err) != NULL);
        /* read/write mode refuses the same file, and leaves it as it was */
        FUZZ_CHECK(sbf_store_open(dbpath, SBF_STORE_WRITE, err, sizeof err) == NULL);
        struct stat st;
        FUZZ_CHECK(stat(dbpath, &st) == 0 && (size_t)st.st_size == n);
        unlink(dbpath);
        return 0;
    }
    sbf_store_stats rs;
    sbf_store_get_stats(r, &rs);
    FUZZ_CHECK(rs.file_bytes + rs.torn_bytes == n && rs.file_bytes >= 32);
    FUZZ_CHECK(rs.dead_bytes <= rs.file_bytes);
    sbf_faceset a;
    FUZZ_CHECK(sbf_store_faceset(r, &a, err, sizeof err) == 0);
    check_faceset(r, &a);
    /* the people state (src/people.c, issue 19): its record is refused with a reason, or read, written back byte
     * for byte and matched to the face set */
    {
        sbf_people pp;
        char perr[512] = "";
        size_t olen = 0, len = 0;
        const unsigned char *orig = sbf_store_people(r, &olen);
        if (sbf_people_load(&pp, r, perr, sizeof perr) == 0) {
            unsigned char *enc = sbf_people_encode(&pp, &len);
            FUZZ_CHECK(enc != NULL && (!orig || (len == olen && memcmp(enc, orig, len) == 0)));
            free(enc);
            uint32_t *fid = malloc(((size_t)a.nfaces + 1) * sizeof *fid);
            FUZZ_CHECK(fid != NULL && sbf_people_sync_faces(&pp, &a, fid) == 0);
            free(fid);
        } else {
            FUZZ_CHECK(orig != NULL && perr[0] != 0);
        }
        sbf_people_free(&pp);
    }
    int npaths = 0;
    sbf_store_each_path(r, count_path, &npaths);
    FUZZ_CHECK(npaths == a.nphotos);
    FUZZ_CHECK(sbf_store_lookup(r, "\x01not-a-stored-path", NULL, NULL) == 0);
    sbf_store_close(r);

    /* Read/write: the torn tail is cut, the content is the same. */
    sbf_store *w = sbf_store_open(dbpath, SBF_STORE_WRITE, err, sizeof err);
    FUZZ_CHECK(w != NULL);
    struct stat st;
    FUZZ_CHECK(stat(dbpath, &st) == 0 && (unsigned long long)st.st_size == rs.file_bytes);
    sbf_faceset b;
    FUZZ_CHECK(sbf_store_faceset(w, &b, err, sizeof err) == 0);
    same_faceset(&a, &b, -1);
    sbf_faceset_free(&b);
    /* Forget the first photo, compact, reopen: everything else survives bit for bit. */
    int skip = a.nphotos > 0 ? 0 : -1;
    if (skip == 0) FUZZ_CHECK(sbf_store_forget(w, a.photos[0].path, err, sizeof err) == 0);
    FUZZ_CHECK(sbf_store_compact(w, err, sizeof err) == 0);
    sbf_store_close(w);
    r = sbf_store_open(dbpath, SBF_STORE_READ, err, sizeof err);
    FUZZ_CHECK(r != NULL);
    sbf_store_get_stats(r, &rs);
    FUZZ_CHECK(rs.torn_bytes == 0 && rs.dead_bytes == 0);
    FUZZ_CHECK(sbf_faceset_alloc(&b, 0, 0, SBF_EMBED_DIM) == 0);
    sbf_faceset_free(&b);
    FUZZ_CHECK(sbf_store_faceset(r, &b, err, sizeof err) == 0);
    check_faceset(r, &b);
    same_faceset(&a, &b, skip);
    sbf_faceset_free(&b);
    sbf_store_close(r);
    sbf_faceset_free(&a);
    unlink(dbpath);
    return 1;
}

int sbf_fuzz_store(const uint8_t *data, size_t size) {
    int ok = st_check_one(data, size);
    if (size >= 32) {
        uint8_t *copy = malloc(size);
        FUZZ_CHECK(copy != NULL);
        memcpy(copy, data, size);
        st_fix_checksums(copy, size);
        if (memcmp(copy, data, size) != 0) st_check_one(copy, size);
        free(copy);
    }
    return ok;
}

#ifndef SBF_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sbf_fuzz_store(data, size);
    return 0;
}
#endif
