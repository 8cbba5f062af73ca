/* src/store.c — the embeddings database: see src/store.h and docs/DATABASE.md. */
#include "src/store.h"
#include "nn/half.h"
#include "nn/weights.h"
#include "src/util.h"
#include "src/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "store.c assumes a little-endian host (the file format is little-endian)"
#endif

#define FILE_MAGIC "SBFEMBDB"
#define FILE_VERSION 1u
#define FILE_HDR 32u
#define REC_MAGIC 0x52464253u /* "SBFR" */
#define REC_HDR 16u
#define REC_TRAILER 4u
#define REC_PUT 1u
#define REC_FORGET 2u
#define REC_SETTING 3u /* u16 key length, u16 value length, key, value */
#define REC_PEOPLE 4u  /* the people state (src/people.c): the last one counts */
#define MAX_PEOPLE_BYTES 0x7ffffff0u
#define MAX_SETTINGS 64 /* "align", "base", "detect.1", ... */
#define MAX_KEY 31u
#define MAX_VALUE 4095u /* a folder path the system accepts (PATH_MAX - 1); 255 before "base" could be longer */
#define PUT_FIXED 32u   /* u16 pathlen, u8 dtype, u8 detect, u32 nfaces, i64 size, i64 mtime, i32 w, i32 h */
#define FACE_FIXED 32u  /* i32 index, 4 x i32 box, i32 filter, f64 score */
#define LM_BYTES (SBF_LANDMARKS * 2 * 4)
#define MAX_FACES_PER_PHOTO 100000u
#define MAX_PATH_BYTES 65535u

/* ---- CRC-32: the same IEEE CRC as the weight files (nn/weights.c) ----------------------------- */
uint32_t sbf_crc32(uint32_t crc, const void *data, size_t len) { return nnw_crc32(crc, data, len); }

/* ---- little helpers ---------------------------------------------------------------------------- */
#define seterr sbf_seterr
static uint16_t rd16(const unsigned char *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}
static uint32_t rd32(const unsigned char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static int64_t rd64(const unsigned char *p) {
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}
static void wr16(unsigned char *p, uint16_t v) { memcpy(p, &v, 2); }
static void wr32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void wr64(unsigned char *p, int64_t v) { memcpy(p, &v, 8); }

static size_t face_bytes(int dim, int dtype) { return FACE_FIXED + LM_BYTES + (size_t)dim * (dtype ? 2 : 4); }

static int write_all(int fd, const void *buf, size_t len) {
    const unsigned char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* The folder holding path: "." for a bare name, "/" at the root. */
static void dir_of(const char *path, char *dir, size_t n) {
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, n, ".");
    else if (slash == path) snprintf(dir, n, "/");
    else snprintf(dir, n, "%.*s", (int)(slash - path), path);
}

static int fsync_dir_of(const char *path) {
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* ---- in-memory model --------------------------------------------------------------------------- */
typedef struct {
    char *path; /* malloc'ed, NUL-terminated */
    uint32_t hash;
    int live;
    const unsigned char *payload; /* PUT payload (points into s->buf or into owned) */
    unsigned char *owned;
    uint32_t plen;
} entry;

struct sbf_store {
    char *path;
    int fd; /* -1 when read-only */
    int flags;
    unsigned char *buf; /* file contents read at open */
    size_t buflen;
    entry *tab; /* open addressing, power-of-two capacity */
    size_t cap, used, live, live_faces, live_noface;
    unsigned long long file_bytes, live_bytes, torn_bytes;
    double last_sync;
    int dirty;
    int nsettings;                                             /* settings: the last SETTING record of each key */
    char skey[MAX_SETTINGS][MAX_KEY + 1], *sval[MAX_SETTINGS]; /* values malloc'ed */
    unsigned long long setting_bytes;                          /* bytes of the records that hold the current settings */
    unsigned long long srec[MAX_SETTINGS];
    const unsigned char *people; /* payload of the last PEOPLE record (into buf or people_owned) */
    unsigned char *people_owned;
    uint32_t people_len;
    int has_people;
};

static uint32_t hash_path(const char *p) {
    uint32_t h = 2166136261u;
    for (; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    return h ? h : 1;
}

static entry *find_slot(const sbf_store *s, const char *path, uint32_t h) {
    size_t m = s->cap - 1, i = h & m;
    for (;;) {
        entry *e = &s->tab[i];
        if (!e->path) return e;
        if (e->hash == h && strcmp(e->path, path) == 0) return e;
        i = (i + 1) & m;
    }
}

static int grow(sbf_store *s) {
    size_t ncap = s->cap ? s->cap * 2 : 1024;
    entry *nt = calloc(ncap, sizeof *nt);
    if (!nt) return -1;
    for (size_t i = 0; i < s->cap; i++) {
        entry *e = &s->tab[i];
        if (!e->path) continue;
        size_t j = e->hash & (ncap - 1);
        while (nt[j].path) j = (j + 1) & (ncap - 1);
        nt[j] = *e;
    }
    free(s->tab);
    s->tab = nt;
    s->cap = ncap;
    return 0;
}

static entry *get_entry(sbf_store *s, const char *path, size_t plen, int create) {
    char tmp[512];
    char *key = plen < sizeof tmp ? tmp : malloc(plen + 1);
    if (!key) return NULL;
    memcpy(key, path, plen);
    key[plen] = 0;
    uint32_t h = hash_path(key);
    entry *e = s->cap ? find_slot(s, key, h) : NULL;
    if ((!e || !e->path) && create) {
        if ((s->used + 1) * 10 > s->cap * 7) {
            if (grow(s)) {
                if (key != tmp) free(key);
                return NULL;
            }
        }
        e = find_slot(s, key, h);
        e->path = key != tmp ? key : strdup(key);
        if (!e->path) return NULL;
        e->hash = h;
        e->live = 0;
        s->used++;
        return e;
    }
    if (key != tmp) free(key);
    return (e && e->path) ? e : NULL;
}

static uint32_t payload_nfaces(const unsigned char *p) { return rd32(p + 4); }

static void entry_kill(sbf_store *s, entry *e) {
    if (!e->live) return;
    e->live = 0;
    s->live--;
    s->live_faces -= payload_nfaces(e->payload);
    s->live_noface -= payload_nfaces(e->payload) == 0;
    s->live_bytes -= REC_HDR + e->plen + REC_TRAILER;
    free(e->owned);
    e->owned = NULL;
    e->payload = NULL;
    e->plen = 0;
}

static void entry_set(sbf_store *s, entry *e, const unsigned char *payload, uint32_t plen, unsigned char *owned) {
    entry_kill(s, e);
    e->live = 1;
    e->payload = payload;
    e->owned = owned;
    e->plen = plen;
    s->live++;
    s->live_faces += payload_nfaces(payload);
    s->live_noface += payload_nfaces(payload) == 0;
    s->live_bytes += REC_HDR + plen + REC_TRAILER;
}

/* ---- record encoding / checking ---------------------------------------------------------------- */
static void make_rec_header(unsigned char *h, uint32_t type, uint32_t plen) {
    wr32(h, REC_MAGIC);
    wr32(h + 4, type);
    wr32(h + 8, plen);
    wr32(h + 12, sbf_crc32(0, h, 12));
}

/* Structural check of a PUT/FORGET payload whose CRC matched.  Returns NULL or a reason. */
static const char *check_payload(uint32_t type, const unsigned char *p, uint32_t plen, int dim) {
    if (type == REC_PEOPLE)
        return plen > MAX_PEOPLE_BYTES ? "people record too large" : NULL; /* src/people.c checks the rest */
    if (type == REC_SETTING) {
        if (plen < 4) return "short setting record";
        uint32_t kl = rd16(p), vl = rd16(p + 2);
        if (kl == 0 || kl > MAX_KEY || vl > MAX_VALUE || 4u + kl + vl != plen) return "bad setting record length";
        if (memchr(p + 4, 0, kl + vl)) return "NUL byte in setting";
        return NULL;
    }
    if (type == REC_FORGET) {
        if (plen < 4) return "short forget record";
        uint32_t pl = rd16(p);
        if (pl == 0 || 4u + pl != plen) return "bad forget record length";
        if (memchr(p + 4, 0, pl)) return "NUL byte in path";
        return NULL;
    }
    if (type != REC_PUT) return "unknown record type";
    if (plen < PUT_FIXED) return "short photo record";
    uint32_t pl = rd16(p), dtype = p[2], nf = rd32(p + 4); /* p[3]: detection settings, any value */
    if (pl == 0) return "empty path";
    if (dtype > 1) return "unknown embedding type";
    if (nf > MAX_FACES_PER_PHOTO) return "too many faces";
    uint64_t want = PUT_FIXED + (uint64_t)pl + (uint64_t)nf * face_bytes(dim, (int)dtype);
    if (want != plen) return "photo record length does not match its face count";
    if (memchr(p + PUT_FIXED, 0, pl)) return "NUL byte in path";
    return NULL;
}

/* Records a setting in memory (the record holding it is `bytes` long); -1 when there are too many keys, -2
 * when out of memory. */
static int set_setting_mem(sbf_store *s, const char *key, size_t kl, const char *val, size_t vl,
                           unsigned long long bytes) {
    int i = 0;
    while (i < s->nsettings && !(strlen(s->skey[i]) == kl && memcmp(s->skey[i], key, kl) == 0)) i++;
    char *v = malloc(vl + 1);
    if (!v) return -2;
    if (i == s->nsettings) {
        if (i == MAX_SETTINGS) {
            free(v);
            return -1;
        }
        memcpy(s->skey[i], key, kl);
        s->skey[i][kl] = 0;
        s->srec[i] = 0;
        s->sval[i] = NULL;
        s->nsettings++;
    }
    memcpy(v, val, vl);
    v[vl] = 0;
    free(s->sval[i]);
    s->sval[i] = v;
    s->setting_bytes += bytes - s->srec[i];
    s->srec[i] = bytes;
    return 0;
}

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* Parses s->buf.  Returns 0 and sets *good_end (where the valid log ends; the rest is a torn tail),
 * or -1 with a reason naming the offset. */
static int parse_log(sbf_store *s, size_t *good_end, char *err, size_t errlen) {
    const unsigned char *b = s->buf;
    size_t n = s->buflen;
    if (n == 0) {
        seterr(err, errlen, "empty file, not a sortbyface database");
        return -1;
    }
    if (n < FILE_HDR || memcmp(b, FILE_MAGIC, 8) != 0) {
        seterr(err, errlen, "not an embeddings database (bad magic)");
        return -1;
    }
    if (rd32(b + 28) != sbf_crc32(0, b, 28)) {
        seterr(err, errlen, "damaged database: header checksum mismatch");
        return -1;
    }
    if (rd32(b + 8) != FILE_VERSION) {
        seterr(err, errlen, "unsupported database version %u (this program reads version %u)", rd32(b + 8),
               FILE_VERSION);
        return -1;
    }
    if (rd32(b + 12) != SBF_EMBED_DIM || rd32(b + 16) != SBF_LANDMARKS) {
        seterr(err, errlen, "database holds %u-D embeddings / %u landmarks, expected %d / %d", rd32(b + 12),
               rd32(b + 16), SBF_EMBED_DIM, SBF_LANDMARKS);
        return -1;
    }
    size_t off = FILE_HDR;
    unsigned long long nrec = 0;
    while (off < n) {
        size_t rem = n - off;
        const unsigned char *h = b + off;
        if (rem < REC_HDR) { break; /* torn header at the tail */ }
        if (rd32(h) != REC_MAGIC || rd32(h + 12) != sbf_crc32(0, h, 12)) {
            if (all_zero(h, rem)) break; /* zero-filled tail (power loss): torn */
            seterr(err, errlen, "damaged database: record %llu at byte %zu has a bad header checksum", nrec + 1, off);
            return -1;
        }
        uint32_t type = rd32(h + 4), plen = rd32(h + 8);
        if ((uint64_t)REC_HDR + plen + REC_TRAILER > rem) break; /* cut short: torn tail */
        const unsigned char *p = h + REC_HDR;
        if (rd32(p + plen) != sbf_crc32(0, p, plen)) {
            seterr(err, errlen, "damaged database: record %llu at byte %zu fails its checksum", nrec + 1, off);
            return -1;
        }
        const char *why = check_payload(type, p, plen, SBF_EMBED_DIM);
        if (why) {
            seterr(err, errlen, "invalid database: record %llu at byte %zu: %s", nrec + 1, off, why);
            return -1;
        }
        if (type == REC_SETTING) {
            int rc = set_setting_mem(s, (const char *)p + 4, rd16(p), (const char *)p + 4 + rd16(p), rd16(p + 2),
                                     REC_HDR + plen + REC_TRAILER);
            if (rc == -2) {
                seterr(err, errlen, "out of memory");
                return -1;
            }
            if (rc) {
                seterr(err, errlen, "invalid database: record %llu at byte %zu: more than %d settings", nrec + 1, off,
                       MAX_SETTINGS);
                return -1;
            }
        } else if (type == REC_PEOPLE) {
            s->people = p;
            s->people_len = plen;
            s->has_people = 1;
        } else if (type == REC_PUT) {
            entry *e = get_entry(s, (const char *)p + PUT_FIXED, rd16(p), 1);
            if (!e) {
                seterr(err, errlen, "out of memory");
                return -1;
            }
            entry_set(s, e, p, plen, NULL);
        } else {
            entry *e = get_entry(s, (const char *)p + 4, rd16(p), 0);
            if (e) entry_kill(s, e);
        }
        off += REC_HDR + plen + REC_TRAILER;
        nrec++;
    }
    *good_end = off;
    return 0;
}

static int read_whole(int fd, unsigned char **out, size_t *len, char *err, size_t errlen) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
        seterr(err, errlen, "%s", strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        seterr(err, errlen, "not a regular file");
        return -1;
    }
    size_t n = (size_t)st.st_size;
    unsigned char *b = malloc(n ? n : 1);
    if (!b) {
        seterr(err, errlen, "out of memory (%zu bytes)", n);
        return -1;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, b + got, n - got, (off_t)got);
        if (r < 0) {
            if (errno == EINTR) continue;
            seterr(err, errlen, "read error: %s", strerror(errno));
            free(b);
            return -1;
        }
        if (r == 0) break; /* file shrank meanwhile */
        got += (size_t)r;
    }
    *out = b;
    *len = got;
    return 0;
}

static void make_file_header(unsigned char *h) {
    memset(h, 0, FILE_HDR);
    memcpy(h, FILE_MAGIC, 8);
    wr32(h + 8, FILE_VERSION);
    wr32(h + 12, SBF_EMBED_DIM);
    wr32(h + 16, SBF_LANDMARKS);
    wr32(h + 28, sbf_crc32(0, h, 28));
}

static void tmp_name(char *out, size_t n, const char *path, const char *what) {
    static unsigned counter;
    snprintf(out, n, "%s.%s-%ld-%u.tmp", path, what, (long)getpid(), __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
}

/* Creates path holding just a header, atomically (never clobbers an existing file). */
static int create_empty(const char *path, char *err, size_t errlen) {
    char tmp[4200];
    tmp_name(tmp, sizeof tmp, path, "new");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        seterr(err, errlen, "cannot create: %s", strerror(errno));
        return -1;
    }
    unsigned char h[FILE_HDR];
    make_file_header(h);
    if (write_all(fd, h, sizeof h) || fsync(fd)) {
        seterr(err, errlen, "cannot write: %s", strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    int rc = link(tmp, path);
    int e = errno;
    unlink(tmp);
    if (rc != 0 && e != EEXIST) {
        seterr(err, errlen, "cannot create: %s", strerror(e));
        return -1;
    }
    fsync_dir_of(path);
    return 0;
}

/* Removes temp files of compactions that were killed (only the lock holder compacts, so with the
 * lock held every such file is stale). */
static void remove_stale_temps(const char *path) {
    const char *slash = strrchr(path, '/');
    char dirn[4096];
    const char *base = slash ? slash + 1 : path;
    if (!slash) snprintf(dirn, sizeof dirn, ".");
    else snprintf(dirn, sizeof dirn, "%.*s", (int)(slash - path + (slash == path)), path);
    DIR *d = opendir(dirn);
    if (!d) return;
    size_t bl = strlen(base);
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        size_t nl = strlen(n);
        if (nl > bl + 13 && !strncmp(n, base, bl) && !strncmp(n + bl, ".compact-", 9) && !strcmp(n + nl - 4, ".tmp")) {
            char full[8300];
            snprintf(full, sizeof full, "%s/%s", dirn, n);
            unlink(full);
        }
    }
    closedir(d);
}

static void store_free(sbf_store *s) {
    if (!s) return;
    for (size_t i = 0; i < s->cap; i++) {
        free(s->tab[i].path);
        free(s->tab[i].owned);
    }
    free(s->tab);
    for (int i = 0; i < s->nsettings; i++) free(s->sval[i]);
    free(s->buf);
    free(s->people_owned);
    if (s->fd >= 0) close(s->fd);
    free(s->path);
    free(s);
}

sbf_store *sbf_store_open(const char *path, int flags, char *err, size_t errlen) {
    char why[512] = "";
    sbf_store *s = calloc(1, sizeof *s);
    if (!s) {
        seterr(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    s->fd = -1;
    s->flags = flags;
    s->path = strdup(path);
    int fd = -1;
    if (flags & SBF_STORE_WRITE) {
        for (int attempt = 0;; attempt++) {
            fd = open(path, O_RDWR | O_CLOEXEC);
            if (fd < 0 && errno == ENOENT && attempt < 3) {
                if (create_empty(path, why, sizeof why)) goto fail;
                continue;
            }
            if (fd < 0) {
                snprintf(why, sizeof why, "%s", strerror(errno));
                goto fail;
            }
            if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
                snprintf(why, sizeof why, "%s",
                         errno == EWOULDBLOCK ? "database is in use by another sortbyface process" : strerror(errno));
                goto fail;
            }
            /* A compaction by another process may have replaced the file between open and flock. */
            struct stat a, b;
            if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) break;
            close(fd);
            fd = -1;
            if (attempt >= 5) {
                snprintf(why, sizeof why, "database keeps being replaced");
                goto fail;
            }
        }
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(why, sizeof why, "%s", strerror(errno));
            goto fail;
        }
    }
    if (read_whole(fd, &s->buf, &s->buflen, why, sizeof why)) goto fail;
    size_t good = 0;
    if (parse_log(s, &good, why, sizeof why)) goto fail;
    s->torn_bytes = s->buflen - good;
    s->file_bytes = good;
    if (flags & SBF_STORE_WRITE) {
        if (s->torn_bytes) {
            if (ftruncate(fd, (off_t)good) != 0 || fsync(fd) != 0) {
                snprintf(why, sizeof why, "cannot drop the torn tail: %s", strerror(errno));
                goto fail;
            }
        }
        if (lseek(fd, (off_t)good, SEEK_SET) < 0) {
            snprintf(why, sizeof why, "%s", strerror(errno));
            goto fail;
        }
        s->fd = fd;
        s->last_sync = sbf_now();
        remove_stale_temps(path);
    } else {
        close(fd);
    }
    return s;
fail:
    seterr(err, errlen, "%s", why);
    if (fd >= 0) close(fd);
    s->fd = -1;
    store_free(s);
    return NULL;
}

int sbf_store_sync(sbf_store *s, char *err, size_t errlen) {
    if (s->fd < 0 || !s->dirty) return 0;
    if (fdatasync(s->fd) != 0) {
        seterr(err, errlen, "sync failed: %s", strerror(errno));
        return -1;
    }
    s->dirty = 0;
    s->last_sync = sbf_now();
    return 0;
}

void sbf_store_close(sbf_store *s) {
    if (!s) return;
    sbf_store_sync(s, NULL, 0);
    store_free(s);
}

int sbf_store_lookup(const sbf_store *s, const char *path, long long *size, long long *mtime_ns) {
    if (!s->cap) return 0;
    entry *e = find_slot(s, path, hash_path(path));
    if (!e->path || !e->live) return 0;
    if (size) *size = rd64(e->payload + 8);
    if (mtime_ns) *mtime_ns = rd64(e->payload + 16);
    return 1;
}

/* Appends one record (header + payload + crc) with a single write; on a short write the file is
 * truncated back so the log stays clean. */
static int append_record(sbf_store *s, uint32_t type, const unsigned char *payload, uint32_t plen, char *err,
                         size_t errlen) {
    if (s->fd < 0) {
        seterr(err, errlen, "database opened read-only");
        return -1;
    }
    size_t tot = REC_HDR + (size_t)plen + REC_TRAILER;
    unsigned char *rec = malloc(tot);
    if (!rec) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    make_rec_header(rec, type, plen);
    memcpy(rec + REC_HDR, payload, plen);
    wr32(rec + REC_HDR + plen, sbf_crc32(0, payload, plen));
    int rc = write_all(s->fd, rec, tot);
    free(rec);
    if (rc) {
        int e = errno;
        if (ftruncate(s->fd, (off_t)s->file_bytes) == 0) lseek(s->fd, (off_t)s->file_bytes, SEEK_SET);
        seterr(err, errlen, "write failed: %s", strerror(e));
        return -1;
    }
    s->file_bytes += tot;
    s->dirty = 1;
    if (sbf_now() - s->last_sync >= SBF_STORE_SYNC_SECONDS) return sbf_store_sync(s, err, errlen);
    return 0;
}

const char *sbf_store_get_setting(const sbf_store *s, const char *key) {
    for (int i = 0; i < s->nsettings; i++)
        if (strcmp(s->skey[i], key) == 0) return s->sval[i];
    return NULL;
}

int sbf_store_set_setting(sbf_store *s, const char *key, const char *value, char *err, size_t errlen) {
    size_t kl = strlen(key), vl = strlen(value);
    if (kl == 0 || kl > MAX_KEY || vl > MAX_VALUE) {
        seterr(err, errlen, "setting '%s' not storable", key);
        return -1;
    }
    const char *cur = sbf_store_get_setting(s, key);
    if (cur && strcmp(cur, value) == 0) return 0;
    if (!cur && s->nsettings == MAX_SETTINGS) {
        seterr(err, errlen, "too many settings");
        return -1;
    }
    unsigned char p[4 + MAX_KEY + MAX_VALUE];
    wr16(p, (uint16_t)kl);
    wr16(p + 2, (uint16_t)vl);
    memcpy(p + 4, key, kl);
    memcpy(p + 4 + kl, value, vl);
    if (append_record(s, REC_SETTING, p, (uint32_t)(4 + kl + vl), err, errlen)) return -1;
    if (set_setting_mem(s, key, kl, value, vl, REC_HDR + 4 + kl + vl + REC_TRAILER)) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* ---- path, identity and detection-settings rules (issue 21) ------------------------------------- */
/* The index (1..) of the SETTING "detect.N" holding the detection settings value, appended when new; 0
 * for the defaults (NULL or ""), -1 with a reason. */
static int detect_index(sbf_store *s, const char *value, char *err, size_t errlen) {
    if (!value || !*value) return 0;
    int n = 0;
    for (int i = 0; i < s->nsettings; i++) {
        if (strncmp(s->skey[i], SBF_SETTING_DETECT ".", sizeof SBF_SETTING_DETECT)) continue;
        n++;
        if (!strcmp(s->sval[i], value)) return atoi(s->skey[i] + sizeof SBF_SETTING_DETECT);
    }
    if (n >= 255) {
        seterr(err, errlen, "too many different detection settings in one database");
        return -1;
    }
    char key[MAX_KEY + 1];
    snprintf(key, sizeof key, SBF_SETTING_DETECT ".%d", n + 1);
    if (sbf_store_get_setting(s, key)) {
        seterr(err, errlen, "detection settings %s recorded twice", key);
        return -1;
    }
    return sbf_store_set_setting(s, key, value, err, errlen) ? -1 : n + 1;
}

const char *sbf_store_photo_detect(const sbf_store *s, const char *path) {
    if (!s->cap) return NULL;
    entry *e = find_slot(s, path, hash_path(path));
    if (!e->path || !e->live) return NULL;
    unsigned k = e->payload[3];
    if (!k) return "";
    char key[MAX_KEY + 1];
    snprintf(key, sizeof key, SBF_SETTING_DETECT ".%u", k);
    const char *v = sbf_store_get_setting(s, key);
    return v ? v : "?";
}

int sbf_store_rename(sbf_store *s, const char *from, const char *to, char *err, size_t errlen) {
    if (!strcmp(from, to) || !s->cap) return 0;
    entry *e = find_slot(s, from, hash_path(from));
    if (!e->path || !e->live) return 0;
    if (sbf_store_lookup(s, to, NULL, NULL)) return sbf_store_forget(s, from, err, errlen);
    size_t pl = strlen(to), opl = rd16(e->payload);
    if (pl == 0 || pl > MAX_PATH_BYTES) {
        seterr(err, errlen, "path length %zu not storable", pl);
        return -1;
    }
    size_t plen = (size_t)e->plen - opl + pl;
    unsigned char *p = malloc(plen);
    if (!p) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    memcpy(p, e->payload, PUT_FIXED);
    wr16(p, (uint16_t)pl);
    memcpy(p + PUT_FIXED, to, pl);
    memcpy(p + PUT_FIXED + pl, e->payload + PUT_FIXED + opl, e->plen - PUT_FIXED - opl);
    /* the new name first: a kill between the two records leaves both names, and the next run renames again */
    if (append_record(s, REC_PUT, p, (uint32_t)plen, err, errlen)) {
        free(p);
        return -1;
    }
    entry *ne = get_entry(s, to, pl, 1);
    if (!ne) {
        free(p);
        seterr(err, errlen, "out of memory");
        return -1;
    }
    entry_set(s, ne, p, (uint32_t)plen, p);
    return sbf_store_forget(s, from, err, errlen);
}

/* ---- the people state (issue 19) ------------------------------------------------------------------ */
const unsigned char *sbf_store_people(const sbf_store *s, size_t *len) {
    *len = s->has_people ? s->people_len : 0;
    return s->has_people ? s->people : NULL;
}

int sbf_store_put_people(sbf_store *s, const void *data, size_t len, char *err, size_t errlen) {
    if (len > MAX_PEOPLE_BYTES) {
        seterr(err, errlen, "people record too large (%zu bytes)", len);
        return -1;
    }
    unsigned char *copy = malloc(len ? len : 1);
    if (!copy) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    memcpy(copy, data, len);
    if (append_record(s, REC_PEOPLE, copy, (uint32_t)len, err, errlen)) {
        free(copy);
        return -1;
    }
    free(s->people_owned);
    s->people_owned = copy;
    s->people = copy;
    s->people_len = (uint32_t)len;
    s->has_people = 1;
    return 0;
}

int sbf_store_put(sbf_store *s, const sbf_photo_meta *m, int nfaces, const sbf_face_rec *faces, char *err,
                  size_t errlen) {
    size_t pl = strlen(m->path);
    if (pl == 0 || pl > MAX_PATH_BYTES) {
        seterr(err, errlen, "path length %zu not storable", pl);
        return -1;
    }
    if (nfaces < 0 || (unsigned)nfaces > MAX_FACES_PER_PHOTO) {
        seterr(err, errlen, "bad face count %d", nfaces);
        return -1;
    }
    int detect = detect_index(s, m->detect, err, errlen);
    if (detect < 0) return -1;
    int dtype = (s->flags & SBF_STORE_F16) ? 1 : 0;
    size_t fb = face_bytes(SBF_EMBED_DIM, dtype);
    size_t plen = PUT_FIXED + pl + (size_t)nfaces * fb;
    if (plen > 0xFFFFFFF0u) {
        seterr(err, errlen, "record too large");
        return -1;
    }
    unsigned char *p = malloc(plen);
    if (!p) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    wr16(p, (uint16_t)pl);
    p[2] = (unsigned char)dtype;
    p[3] = (unsigned char)detect;
    wr32(p + 4, (uint32_t)nfaces);
    wr64(p + 8, m->size);
    wr64(p + 16, m->mtime_ns);
    wr32(p + 24, (uint32_t)m->width);
    wr32(p + 28, (uint32_t)m->height);
    memcpy(p + PUT_FIXED, m->path, pl);
    unsigned char *q = p + PUT_FIXED + pl;
    for (int i = 0; i < nfaces; i++, q += fb) {
        const sbf_face_rec *f = &faces[i];
        wr32(q, (uint32_t)f->index);
        wr32(q + 4, (uint32_t)(int32_t)f->box.left);
        wr32(q + 8, (uint32_t)(int32_t)f->box.top);
        wr32(q + 12, (uint32_t)(int32_t)f->box.right);
        wr32(q + 16, (uint32_t)(int32_t)f->box.bottom);
        wr32(q + 20, (uint32_t)f->box.filter);
        memcpy(q + 24, &f->box.score, 8);
        memcpy(q + FACE_FIXED, f->landmarks, LM_BYTES);
        unsigned char *ep = q + FACE_FIXED + LM_BYTES;
        if (dtype) {
            for (int k = 0; k < SBF_EMBED_DIM; k++) wr16(ep + 2 * k, nn_f32_to_f16(f->emb[k]));
        } else {
            memcpy(ep, f->emb, sizeof f->emb);
        }
    }
    if (append_record(s, REC_PUT, p, (uint32_t)plen, err, errlen)) {
        free(p);
        return -1;
    }
    entry *e = get_entry(s, m->path, pl, 1);
    if (!e) {
        free(p);
        seterr(err, errlen, "out of memory");
        return -1;
    }
    entry_set(s, e, p, (uint32_t)plen, p);
    return 0;
}

int sbf_store_forget(sbf_store *s, const char *path, char *err, size_t errlen) {
    size_t pl = strlen(path);
    if (!s->cap) return 0;
    entry *e = find_slot(s, path, hash_path(path));
    if (!e->path || !e->live) return 0;
    unsigned char *p = malloc(4 + pl);
    if (!p) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    wr16(p, (uint16_t)pl);
    wr16(p + 2, 0);
    memcpy(p + 4, path, pl);
    int rc = append_record(s, REC_FORGET, p, (uint32_t)(4 + pl), err, errlen);
    free(p);
    if (rc) return -1;
    entry_kill(s, e);
    return 0;
}

static int cmp_entry_path(const void *a, const void *b) {
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    return strcmp(x->path, y->path);
}

static entry **sorted_live(const sbf_store *s) {
    entry **v = malloc((s->live ? s->live : 1) * sizeof *v);
    if (!v) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < s->cap; i++)
        if (s->tab[i].path && s->tab[i].live) v[k++] = &s->tab[i];
    qsort(v, k, sizeof *v, cmp_entry_path);
    return v;
}

int sbf_store_compact(sbf_store *s, char *err, size_t errlen) {
    if (s->fd < 0) {
        seterr(err, errlen, "database opened read-only");
        return -1;
    }
    char tmp[4200];
    tmp_name(tmp, sizeof tmp, s->path, "compact");
    entry **v = sorted_live(s);
    if (!v) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        seterr(err, errlen, "compaction: cannot create %s: %s", tmp, strerror(errno));
        free(v);
        return -1;
    }
    /* Buffered writing of header + live records. */
    size_t cap = 1 << 20, used = 0;
    unsigned char *out = malloc(cap);
    int bad = !out;
    unsigned long long total = FILE_HDR;
    if (!bad) {
        make_file_header(out);
        used = FILE_HDR;
    }
    for (int i = 0; i < s->nsettings && !bad; i++) { /* settings first (small: they fit the buffer) */
        size_t kl = strlen(s->skey[i]), vl = strlen(s->sval[i]), plen = 4 + kl + vl;
        unsigned char *q = out + used + REC_HDR;
        make_rec_header(out + used, REC_SETTING, (uint32_t)plen);
        wr16(q, (uint16_t)kl);
        wr16(q + 2, (uint16_t)vl);
        memcpy(q + 4, s->skey[i], kl);
        memcpy(q + 4 + kl, s->sval[i], vl);
        wr32(q + plen, sbf_crc32(0, q, plen));
        used += REC_HDR + plen + REC_TRAILER;
        total += REC_HDR + plen + REC_TRAILER;
    }
    if (!bad && s->has_people) { /* the people state: only the last record */
        size_t tot = REC_HDR + (size_t)s->people_len + REC_TRAILER;
        if (used + tot > cap) {
            if (write_all(fd, out, used)) bad = 1;
            used = 0;
            if (!bad && tot > cap) {
                unsigned char *n2 = realloc(out, tot);
                if (!n2) bad = 1;
                else {
                    out = n2;
                    cap = tot;
                }
            }
        }
        if (!bad) {
            make_rec_header(out + used, REC_PEOPLE, s->people_len);
            memcpy(out + used + REC_HDR, s->people, s->people_len);
            wr32(out + used + REC_HDR + s->people_len, sbf_crc32(0, s->people, s->people_len));
            used += tot;
            total += tot;
        }
    }
    for (size_t i = 0; i < s->live && !bad; i++) {
        entry *e = v[i];
        size_t tot = REC_HDR + (size_t)e->plen + REC_TRAILER;
        if (used + tot > cap) {
            if (write_all(fd, out, used)) {
                bad = 1;
                break;
            }
            used = 0;
            if (tot > cap) {
                unsigned char *n2 = realloc(out, tot);
                if (!n2) {
                    bad = 1;
                    break;
                }
                out = n2;
                cap = tot;
            }
        }
        make_rec_header(out + used, REC_PUT, e->plen);
        memcpy(out + used + REC_HDR, e->payload, e->plen);
        wr32(out + used + REC_HDR + e->plen, sbf_crc32(0, e->payload, e->plen));
        used += tot;
        total += tot;
    }
    if (!bad && used && write_all(fd, out, used)) bad = 1;
    free(out);
    free(v);
    if (bad || fsync(fd) != 0) {
        seterr(err, errlen, "compaction failed: %s", strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    /* Take the lock on the new file before it becomes visible, then swap it in. */
    if (flock(fd, LOCK_EX | LOCK_NB) != 0 || rename(tmp, s->path) != 0) {
        seterr(err, errlen, "compaction failed: %s", strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    fsync_dir_of(s->path);
    close(s->fd);
    lseek(fd, (off_t)total, SEEK_SET);
    s->fd = fd;
    s->file_bytes = total;
    s->dirty = 0;
    return 0;
}

static unsigned long long people_bytes(const sbf_store *s) {
    return s->has_people ? REC_HDR + (unsigned long long)s->people_len + REC_TRAILER : 0;
}

int sbf_store_maybe_compact(sbf_store *s, char *err, size_t errlen) {
    if (s->fd < 0) return 0;
    unsigned long long dead = s->file_bytes - FILE_HDR - s->live_bytes - s->setting_bytes - people_bytes(s);
    if (dead > 4096 && dead * 2 > s->file_bytes) return sbf_store_compact(s, err, errlen);
    return 0;
}

void sbf_store_get_stats(const sbf_store *s, sbf_store_stats *st) {
    st->photos = s->live;
    st->faces = s->live_faces;
    st->noface = s->live_noface;
    st->file_bytes = s->file_bytes;
    st->dead_bytes = s->file_bytes - FILE_HDR - s->live_bytes - s->setting_bytes - people_bytes(s);
    st->torn_bytes = s->torn_bytes;
}

void sbf_store_each_path(const sbf_store *s, void (*fn)(void *ctx, const char *path), void *ctx) {
    for (size_t i = 0; i < s->cap; i++)
        if (s->tab[i].path && s->tab[i].live) fn(ctx, s->tab[i].path);
}

static int under_prefix(const char *path, const char *prefix) {
    if (!prefix || !*prefix) return 1;
    size_t n = strlen(prefix);
    while (n > 1 && prefix[n - 1] == '/') n--;
    if (strncmp(path, prefix, n) != 0) return 0;
    return path[n] == 0 || path[n] == '/' || prefix[n - 1] == '/';
}

int sbf_store_forget_missing(sbf_store *s, const char *prefix, size_t *forgotten, char *err, size_t errlen) {
    size_t n = 0;
    entry **v = sorted_live(s);
    if (!v) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    size_t nl = s->live;
    int rc = 0;
    for (size_t i = 0; i < nl; i++) {
        if (!under_prefix(v[i]->path, prefix)) continue;
        struct stat st;
        if (lstat(v[i]->path, &st) == 0 || (errno != ENOENT && errno != ENOTDIR)) continue;
        char *p = strdup(v[i]->path);
        if (!p || sbf_store_forget(s, p, err, errlen)) {
            free(p);
            rc = -1;
            break;
        }
        free(p);
        n++;
    }
    free(v);
    if (forgotten) *forgotten = n;
    return rc;
}

/* ---- face set ---------------------------------------------------------------------------------- */
int sbf_faceset_alloc(sbf_faceset *fs, int nphotos, int nfaces, int dim) {
    memset(fs, 0, sizeof *fs);
    fs->dim = dim;
    fs->nphotos = nphotos;
    fs->nfaces = nfaces;
    size_t nf = nfaces > 0 ? (size_t)nfaces : 1, np = nphotos > 0 ? (size_t)nphotos : 1;
    fs->photos = calloc(np, sizeof *fs->photos);
    fs->face_photo = calloc(nf, sizeof(int));
    fs->face_index = calloc(nf, sizeof(int));
    fs->boxes = calloc(nf, sizeof(sbf_box));
    fs->landmarks = calloc(nf * SBF_LANDMARKS * 2, sizeof(float));
    size_t eb = (nf * (size_t)dim * sizeof(float) + 63) & ~(size_t)63;
    fs->emb = aligned_alloc(64, eb);
    if (!fs->photos || !fs->face_photo || !fs->face_index || !fs->boxes || !fs->landmarks || !fs->emb) {
        sbf_faceset_free(fs);
        return -1;
    }
    memset(fs->emb, 0, eb);
    return 0;
}

void sbf_faceset_free(sbf_faceset *fs) {
    if (fs->photos)
        for (int i = 0; i < fs->nphotos; i++) {
            free(fs->photos[i].path);
            free(fs->photos[i].stored);
        }
    free(fs->photos);
    free(fs->face_photo);
    free(fs->face_index);
    free(fs->boxes);
    free(fs->landmarks);
    free(fs->emb);
    memset(fs, 0, sizeof *fs);
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *sbf_store_base(const sbf_store *s, char *buf, size_t n) {
    const char *base = sbf_store_get_setting(s, SBF_SETTING_BASE);
    if (!base) return NULL;
    if (is_dir(base)) {
        snprintf(buf, n, "%s", base);
        return buf;
    }
    char dir[4096], real[PATH_MAX];
    dir_of(s->path, dir, sizeof dir);
    if (!realpath(dir, real) || strlen(real) >= n) return NULL;
    memcpy(buf, real, strlen(real) + 1);
    return buf;
}

int sbf_store_faceset(const sbf_store *s, sbf_faceset *fs, char *err, size_t errlen) {
    char bbuf[4096];
    const char *base = sbf_store_base(s, bbuf, sizeof bbuf);
    if (base && sbf_same_file(base, ".")) base = NULL;
    entry **v = sorted_live(s);
    if (!v || sbf_faceset_alloc(fs, (int)s->live, (int)s->live_faces, SBF_EMBED_DIM)) {
        free(v);
        seterr(err, errlen, "out of memory for %zu faces", s->live_faces);
        return -1;
    }
    int fi = 0;
    for (size_t i = 0; i < s->live; i++) {
        const unsigned char *p = v[i]->payload;
        sbf_photo *ph = &fs->photos[i];
        uint32_t pl = rd16(p), dtype = p[2], nf = rd32(p + 4);
        ph->path = base && v[i]->path[0] != '/' ? sbf_path_join(base, v[i]->path) : strdup(v[i]->path);
        ph->stored = strdup(v[i]->path);
        if (!ph->path || !ph->stored) {
            free(v);
            sbf_faceset_free(fs);
            seterr(err, errlen, "out of memory");
            return -1;
        }
        ph->size = rd64(p + 8);
        ph->mtime_ns = rd64(p + 16);
        ph->width = (int)rd32(p + 24);
        ph->height = (int)rd32(p + 28);
        ph->nfaces = (int)nf;
        ph->first_face = fi;
        const unsigned char *q = p + PUT_FIXED + pl;
        size_t fb = face_bytes(SBF_EMBED_DIM, (int)dtype);
        for (uint32_t k = 0; k < nf; k++, q += fb, fi++) {
            fs->face_photo[fi] = (int)i;
            fs->face_index[fi] = (int32_t)rd32(q);
            sbf_box *b = &fs->boxes[fi];
            b->left = (int32_t)rd32(q + 4);
            b->top = (int32_t)rd32(q + 8);
            b->right = (int32_t)rd32(q + 12);
            b->bottom = (int32_t)rd32(q + 16);
            b->filter = (int32_t)rd32(q + 20);
            memcpy(&b->score, q + 24, 8);
            memcpy(fs->landmarks + (size_t)fi * SBF_LANDMARKS * 2, q + FACE_FIXED, LM_BYTES);
            float *dst = fs->emb + (size_t)fi * SBF_EMBED_DIM;
            const unsigned char *ep = q + FACE_FIXED + LM_BYTES;
            if (dtype) {
                for (int d = 0; d < SBF_EMBED_DIM; d++) dst[d] = nn_f16_to_f32(rd16(ep + 2 * d));
            } else {
                memcpy(dst, ep, SBF_EMBED_DIM * sizeof(float));
            }
        }
    }
    free(v);
    return 0;
}
