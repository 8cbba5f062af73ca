/* src/store.h — owns the embeddings database (docs/DATABASE.md): an append-only log of CRC-checked
 * photo records, incremental lookup by path, crash-safe appends, atomic compaction, and the
 * in-memory face set (sbf_faceset) that sort/find/eval read. */
#ifndef SRC_STORE_H
#define SRC_STORE_H
#include <stddef.h>
#include <stdint.h>
#include "src/face.h"

#define SBF_DEFAULT_DB "embeddings.db"

/* One face as the embed loop produces it. */
typedef struct {
    int index;                         /* face index within the photo (0, 1, ...) */
    sbf_box box;                       /* left/top/right/bottom stored as int32, score as float64,
                                           filter as int32 */
    float landmarks[SBF_LANDMARKS][2]; /* x, y in image coordinates */
    float emb[SBF_EMBED_DIM];          /* L2-normalised embedding */
} sbf_face_rec;

/* What is known about a photo besides its faces. */
typedef struct {
    const char *path;   /* the photo's one name (sbf_path_key; any bytes except NUL, at most 65535) */
    long long size;     /* bytes */
    long long mtime_ns; /* st_mtim in nanoseconds */
    int width, height;  /* decoded size after EXIF rotation (0 when unknown) */
    const char *detect; /* the detection settings it was processed with (sbf_store_put records them as a
                             SETTING "detect.N"); NULL or "" for the defaults */
} sbf_photo_meta;

typedef struct sbf_store sbf_store;

enum {
    SBF_STORE_READ = 0,  /* read only: no lock, a torn tail is ignored (not truncated) */
    SBF_STORE_WRITE = 1, /* read/write, creating the file if absent; takes an exclusive lock;
                             a torn tail (record cut short by a kill) is truncated away */
    SBF_STORE_F16 = 2    /* with WRITE: new records store embeddings as float16 (default float32) */
};

/* Opens (and with SBF_STORE_WRITE creates) a database, reading and checking every record.
 * A damaged file (bad magic, checksum mismatch before the tail) is an error naming the byte offset:
 * NULL with the reason in err.  A missing file with READ is an error too.  Like the other modules,
 * reasons in err never include the database path: print them with sbf_file_error(path, err). */
sbf_store *sbf_store_open(const char *path, int flags, char *err, size_t errlen);
void sbf_store_close(sbf_store *s); /* syncs pending appends first (WRITE) */

/* 1 and the stored size/mtime when path is known (with or without faces), 0 otherwise. */
int sbf_store_lookup(const sbf_store *s, const char *path, long long *size, long long *mtime_ns);
/* Records a processed photo (nfaces may be 0), replacing any earlier record of the same path.
 * The record is appended with one write(): a SIGKILL at any moment leaves either the old or the new
 * state.  Data reaches the disk (fdatasync) at least every SBF_STORE_SYNC_SECONDS and on close/sync.
 * 0 on success, -1 with reason. */
#define SBF_STORE_SYNC_SECONDS 1.0
int sbf_store_put(sbf_store *s, const sbf_photo_meta *meta, int nfaces, const sbf_face_rec *faces, char *err,
                  size_t errlen);
/* Forgets a photo (appends a tombstone); 0 also when it was unknown. */
int sbf_store_forget(sbf_store *s, const char *path, char *err, size_t errlen);
/* Gives the photo held at from the name to (its faces kept): a record under to, then from forgotten; when
 * to is held already, from is just forgotten.  0 also when from is unknown. */
int sbf_store_rename(sbf_store *s, const char *from, const char *to, char *err, size_t errlen);
/* The detection settings the photo at path was processed with: "" for the defaults (and for records
 * written before settings were recorded), "?" for settings the database does not name, NULL when the
 * photo is unknown. */
const char *sbf_store_photo_detect(const sbf_store *s, const char *path);
/* Settings: small key -> value strings that describe the whole database (key 1-31 bytes, value 0-4095,
 * at most 64 keys), e.g. "align" -> "mtcnn", the alignment rule its embeddings were made with.  set
 * appends a SETTING record only when the value changes; get returns NULL for a key never set. */
#define SBF_SETTING_ALIGN "align"
/* "model": the FaceNet model its embeddings were made with, "float32" or "int8" (src/models.h); none = float32. */
#define SBF_SETTING_MODEL "model"
/* "base": the folder (absolute, as getcwd spells it) the database's relative photo paths start from;
 * embed records it when it makes the database, so sort and find work from any folder. */
#define SBF_SETTING_BASE "base"
/* Where the relative paths start now: the recorded base when that folder exists, else (the library
 * moved, its database with it) the database file's own folder, absolute, in buf; NULL when the
 * database records no base (made before the setting: its paths are relative to where it was used). */
const char *sbf_store_base(const sbf_store *s, char *buf, size_t n);
/* "detect.N" (N = 1, 2, ...): detection settings other than the defaults that photos were processed with
 * (sbf_photo_meta.detect); each photo record names its N (0: the defaults). */
#define SBF_SETTING_DETECT "detect"
const char *sbf_store_get_setting(const sbf_store *s, const char *key);
int sbf_store_set_setting(sbf_store *s, const char *key, const char *value, char *err, size_t errlen);
int sbf_store_sync(sbf_store *s, char *err, size_t errlen);
/* The people state (src/people.c): the payload of the last PEOPLE record, NULL when there is none (the
 * pointer stays valid until the next put_people or the store is closed).  put_people appends a new one
 * (compaction keeps only the last). */
const unsigned char *sbf_store_people(const sbf_store *s, size_t *len);
int sbf_store_put_people(sbf_store *s, const void *data, size_t len, char *err, size_t errlen);
/* Rewrites the file with live records only (temp file + fsync + rename + dir fsync). */
int sbf_store_compact(sbf_store *s, char *err, size_t errlen);
/* Compacts when dead records take more than half the file (cheap to call after every run). */
int sbf_store_maybe_compact(sbf_store *s, char *err, size_t errlen);

/* Counters: live photos / live faces / bytes of the file / bytes of dead records / torn-tail bytes
 * that were dropped at open. */
typedef struct {
    size_t photos, faces;
    unsigned long long file_bytes, dead_bytes, torn_bytes;
    size_t noface; /* live photos in which no face was found */
} sbf_store_stats;
void sbf_store_get_stats(const sbf_store *s, sbf_store_stats *st);

/* Calls fn for every live photo path (any order).  fn must not modify the store. */
void sbf_store_each_path(const sbf_store *s, void (*fn)(void *ctx, const char *path), void *ctx);
/* Forgets every live photo whose path starts with prefix (all when prefix is NULL or "") and no
 * longer exists (lstat fails with ENOENT/ENOTDIR).  Paths are as stored, so call it from the same
 * working directory / with the same -src spelling as the embed run.  *forgotten counts them. */
int sbf_store_forget_missing(sbf_store *s, const char *prefix, size_t *forgotten, char *err, size_t errlen);

/* ---- The face set: a snapshot of live faces for clustering -------------------------------------
 * Photos are sorted by path (byte order), faces by index within a photo, so the result does not
 * depend on the order files were embedded in. */
typedef struct {
    char *path;   /* as it opens from the current folder */
    char *stored; /* as the database stores it (the key of the photo; NULL in hand-built sets) */
    long long size, mtime_ns;
    int width, height;
    int nfaces, first_face; /* faces [first_face, first_face + nfaces) of the face set */
} sbf_photo;

typedef struct {
    int nphotos;
    sbf_photo *photos;
    int nfaces;
    int *face_photo;  /* [nfaces] index into photos */
    int *face_index;  /* [nfaces] face index within its photo */
    sbf_box *boxes;   /* [nfaces] */
    float *landmarks; /* [nfaces * 136] */
    float *emb;       /* [nfaces * dim], 64-byte aligned, float32 */
    int dim;
} sbf_faceset;

/* Builds the snapshot (allocates); 0 on success.  Paths are as stored, except that relative ones are
 * prefixed with sbf_store_base when that is not the current folder, so every path opens from where
 * the program runs. */
int sbf_store_faceset(const sbf_store *s, sbf_faceset *fs, char *err, size_t errlen);
/* Empty set with room for the given counts (for tools/tests that build sets by hand); paths NULL. */
int sbf_faceset_alloc(sbf_faceset *fs, int nphotos, int nfaces, int dim);
void sbf_faceset_free(sbf_faceset *fs);

/* CRC-32 (IEEE 802.3, as zlib) used by the file format. */
uint32_t sbf_crc32(uint32_t crc, const void *data, size_t len);

#endif
