/* src/cmd_people.c — the verbs about people (one file: they share how a face and a person are named):
 *   people        list them (number, name, faces, photos, folder; --json)
 *   name          give a person a name (a name someone has: the two merge)
 *   merge         one person's faces join another's
 *   is / is-not   a face (or with is-not every face of a photo) is / is not a given person
 *   corrections   list the corrections the database keeps (--json)
 *   withdraw      take corrections back
 * A face is named by its photo (any spelling of the path embed stored, or a file sort placed in the managed
 * folder) and --face N (0-based, as in clusters.tsv) when the photo holds several; a person by number
 * ("3", "Person 0003") or name.  The changes are stored at once; the next sort moves the files. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "src/cli.h"
#include "src/output.h"
#include "src/people.h"
#include "src/store.h"
#include "src/util.h"
#include "src/verbs.h"

#define NONE32 0xffffffffu

/* One run of a people verb. */
typedef struct {
    const char *verb, *db;
    int write;
    sbf_store *store;
    sbf_faceset fs;
    sbf_people pp;
    uint32_t *fid; /* per face of fs */
    char err[1024];
} pv_run;

static void pv_free(pv_run *r) {
    sbf_store_close(r->store);
    sbf_people_free(&r->pp);
    sbf_faceset_free(&r->fs);
    free(r->fid);
}

/* The database, its faces and people, the faces' identities.  3 on failure (said). */
static int pv_load(pv_run *r) {
    struct stat st;
    sbf_people_init(&r->pp);
    if (stat(r->db, &st) != 0) {
        sbf_db_open_error(r->db, strerror(errno));
        return 3;
    }
    r->store = sbf_store_open(r->db, r->write ? SBF_STORE_WRITE : SBF_STORE_READ, r->err, sizeof r->err);
    if (!r->store) {
        sbf_db_open_error(r->db, r->err);
        return 3;
    }
    if (sbf_store_faceset(r->store, &r->fs, r->err, sizeof r->err) ||
        sbf_people_load(&r->pp, r->store, r->err, sizeof r->err)) {
        sbf_file_error(r->db, r->err);
        return 3;
    }
    if (!(r->fid = calloc((size_t)r->fs.nfaces + 1, sizeof *r->fid)) || sbf_people_sync_faces(&r->pp, &r->fs, r->fid)) {
        sbf_error("out of memory");
        return 3;
    }
    return 0;
}

static int pv_save(pv_run *r) {
    if (sbf_people_save(&r->pp, r->store, r->err, sizeof r->err)) {
        sbf_file_error(r->db, r->err);
        return 3;
    }
    return 0;
}

static const char *person_label(const sbf_person *p, char *buf, size_t n) {
    if (p->name) snprintf(buf, n, "person %u (%s)", p->number, p->name);
    else snprintf(buf, n, "person %u", p->number);
    return buf;
}

/* The person arg names, or NULL after a one-line error. */
static sbf_person *pv_person(pv_run *r, const char *arg) {
    sbf_person *p = sbf_people_lookup(&r->pp, arg);
    if (!p) fprintf(stderr, "sortbyface %s: no person '%s' (sortbyface people lists them)\n", r->verb, arg);
    return p;
}

/* The photo arg names: an index into fs, and *fid the face it was placed for when arg is a file in the
 * managed folder (else 0).  -1 after a one-line error. */
static int pv_photo(pv_run *r, const char *arg, uint32_t *placed_fid) {
    *placed_fid = 0;
    const sbf_faceset *fs = &r->fs;
    for (int p = 0; p < fs->nphotos; p++) /* as spelled */
        if (!strcmp(fs->photos[p].path, arg) || (fs->photos[p].stored && !strcmp(fs->photos[p].stored, arg))) return p;
    char real[PATH_MAX], dir[PATH_MAX];
    const char *slash = strrchr(arg, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - arg) : 1, slash ? arg : ".");
    if (slash == arg) snprintf(dir, sizeof dir, "/");
    /* a file sort placed: its path in the managed folder */
    if (r->pp.outdir && realpath(dir, real)) {
        size_t ol = strlen(r->pp.outdir);
        if (!strncmp(real, r->pp.outdir, ol) && (real[ol] == '/' || !real[ol])) {
            char rel[PATH_MAX * 2];
            snprintf(rel, sizeof rel, "%s%s%s", real[ol] ? real + ol + 1 : "", real[ol] ? "/" : "",
                     slash ? slash + 1 : arg);
            for (int k = 0; k < r->pp.nplaced; k++) {
                const sbf_placed *e = &r->pp.placed[k];
                if (!e->rel || strcmp(e->rel, rel) || e->src == NONE32 || !e->fid) continue;
                for (int p = 0; p < fs->nphotos; p++) {
                    const char *sp = fs->photos[p].stored ? fs->photos[p].stored : fs->photos[p].path;
                    if (!strcmp(sp, r->pp.paths[e->src])) {
                        *placed_fid = e->fid;
                        return p;
                    }
                }
            }
            fprintf(stderr, "sortbyface %s: %s: not a photo sort placed in %s\n", r->verb, arg, r->pp.outdir);
            return -1;
        }
    }
    /* another spelling of a photo (same file) */
    struct stat st, ps;
    if (stat(arg, &st) != 0) {
        fprintf(stderr, "sortbyface %s: %s: %s\n", r->verb, arg, strerror(errno));
        return -1;
    }
    for (int p = 0; p < fs->nphotos; p++)
        if (fs->photos[p].size == (long long)st.st_size && stat(fs->photos[p].path, &ps) == 0 &&
            ps.st_dev == st.st_dev && ps.st_ino == st.st_ino)
            return p;
    fprintf(stderr, "sortbyface %s: %s: not in %s (embed it first)\n", r->verb, arg, r->db);
    return -1;
}

/* The faces meant: face_opt (-1: not given) of photo p, the placed one, the only one, or (all = 1) every one.
 * Returns the count written to fids (room for the photo's faces), or -1 after a one-line error. */
static int pv_faces(pv_run *r, const char *arg, int p, int face_opt, uint32_t placed_fid, int all, uint32_t *fids) {
    const sbf_photo *ph = &r->fs.photos[p];
    if (ph->nfaces == 0) {
        fprintf(stderr, "sortbyface %s: %s: no face was found in it\n", r->verb, arg);
        return -1;
    }
    if (face_opt >= 0) {
        for (int f = ph->first_face; f < ph->first_face + ph->nfaces; f++)
            if (r->fs.face_index[f] == face_opt) {
                fids[0] = r->fid[f];
                return 1;
            }
        fprintf(stderr, "sortbyface %s: %s: no face %d (it holds %d: 0 to %d, as in clusters.tsv)\n", r->verb, arg,
                face_opt, ph->nfaces, ph->nfaces - 1);
        return -1;
    }
    if (placed_fid) {
        fids[0] = placed_fid;
        return 1;
    }
    if (ph->nfaces == 1 || all) {
        for (int k = 0; k < ph->nfaces; k++) fids[k] = r->fid[ph->first_face + k];
        return ph->nfaces;
    }
    fprintf(stderr, "sortbyface %s: %s holds %d faces; say which with --face N (0 to %d, as in clusters.tsv)\n",
            r->verb, arg, ph->nfaces, ph->nfaces - 1);
    return -1;
}

static int parse(const sbf_cmd_spec *spec, int argc, char **argv, char ***pos, int *npos) {
    int rc = sbf_parse(spec, argc, argv, npos, pos);
    return rc == 1 ? SBF_VERB_DONE : rc;
}

#define DB_OPT(r)                                                                                                      \
    { "db", NULL, SBF_OPT_STRING, &(r).db, "FILE", "embeddings database (default " SBF_DEFAULT_DB ")" }
#define AFTER "The change is stored at once; the next 'sortbyface sort' updates the folders."

/* The start of a listing verb (people, corrections): --db and --json parsed, the database loaded.  0 to go on,
 * else the exit status (help printed: SBF_VERB_DONE, returned as 0 by the caller). */
static int list_start(pv_run *r, int *json, const char *usage, const char *summary, const char *details,
                      const char *json_help, int argc, char **argv) {
    const sbf_opt opts[] = {DB_OPT(*r), {"json", NULL, SBF_OPT_FLAG, json, NULL, json_help}, {0}};
    const sbf_cmd_spec spec = {r->verb, usage, summary, details, opts, 0, 0};
    int rc, npos;
    char **pos = NULL;
    if ((rc = parse(&spec, argc, argv, &pos, &npos))) return rc;
    free(pos);
    if ((rc = pv_load(r))) pv_free(r);
    return rc;
}

/* ---- people ---------------------------------------------------------------------------------------- */
int sbf_cmd_people(int argc, char **argv) {
    pv_run r = {.verb = "people", .db = SBF_DEFAULT_DB};
    int json = 0, rc;
    if ((rc = list_start(
             &r, &json, "people [--db FILE] [--json]", "List the people the database keeps.",
             "One line per person: number, name, faces, photos and folder in the managed output folder (hidden\n"
             "people have none; people with fewer than --min-faces faces share " SBF_UNKNOWN_FOLDER
             "/).  Named people first,\n"
             "then by number, then the people of " SBF_UNKNOWN_FOLDER
             "/ and the hidden ones.  --json: {\"number\", \"name\"\n"
             "(null when none), \"faces\", \"photos\", \"folder\" (null when hidden), \"hidden\", \"unknown\"} per "
             "line.",
             "one JSON object per person and line", argc, argv)))
        return rc == SBF_VERB_DONE ? 0 : rc;
    sbf_people_view v;
    if (sbf_people_view_build(&r.pp, &r.fs, r.fid, r.pp.min_faces, &v)) {
        sbf_error("out of memory");
        pv_free(&r);
        return 3;
    }
    if (!json && v.n) printf("%6s  %-24s %6s %7s  %s\n", "number", "name", "faces", "photos", "folder");
    for (int i = 0; i < v.n; i++) {
        const sbf_view_person *q = &v.people[i];
        if (json) {
            printf("{\"number\":%u,\"name\":", q->number);
            if (q->name) sbf_json_string(stdout, q->name);
            else fputs("null", stdout);
            printf(",\"faces\":%d,\"photos\":%d,\"folder\":", q->nfaces, q->nphotos);
            if (q->folder[0]) sbf_json_string(stdout, q->folder);
            else fputs("null", stdout);
            printf(",\"hidden\":%s,\"unknown\":%s}\n", q->hidden ? "true" : "false", q->unknown ? "true" : "false");
        } else {
            char folder[600];
            snprintf(folder, sizeof folder, "%s%s", q->folder[0] ? q->folder : "(hidden)", q->folder[0] ? "/" : "");
            printf("%6u  %-24s %6d %7d  %s\n", q->number, q->name ? q->name : "-", q->nfaces, q->nphotos, folder);
        }
    }
    if (!json) {
        if (!v.n) printf("no people yet (run 'sortbyface sort')\n");
        if (v.unsorted) printf("%d face%s not sorted yet (run 'sortbyface sort')\n", v.unsorted, sbf_s(v.unsorted));
    }
    sbf_people_view_free(&v);
    pv_free(&r);
    return 0;
}

/* ---- name ------------------------------------------------------------------------------------------ */
int sbf_cmd_name(int argc, char **argv) {
    pv_run r = {.verb = "name", .db = SBF_DEFAULT_DB, .write = 1};
    int clear = 0, rc, npos;
    char **pos = NULL;
    const sbf_opt opts[] = {
        DB_OPT(r), {"clear", NULL, SBF_OPT_FLAG, &clear, NULL, "take the person's name away (no NAME)"}, {0}};
    const sbf_cmd_spec spec = {
        "name",
        "name [--db FILE] PERSON NAME  |  name --clear PERSON",
        "Give a person a name: their folder becomes NAME.",
        "PERSON is a number (3, 'Person 0003') or the current name.  Names are unique: a name another person\n"
        "has merges PERSON into that person (said so).  A name is a folder name: not empty, no '/', no control\n"
        "characters, not starting with '.', not '" SBF_UNKNOWN_FOLDER
        "' nor 'Person N'.  Renaming a person's folder in the\n"
        "managed output does the same.  " AFTER,
        opts,
        1,
        2};
    if ((rc = parse(&spec, argc, argv, &pos, &npos))) return rc == SBF_VERB_DONE ? 0 : rc;
    if (npos != (clear ? 1 : 2)) {
        fprintf(stderr, "sortbyface name: %s\nusage: sortbyface %s\n",
                clear ? "--clear takes PERSON only" : "give PERSON and NAME", spec.usage);
        free(pos);
        return 2;
    }
    const char *who = pos[0], *name = clear ? NULL : pos[1];
    const char *why = name ? sbf_people_name_invalid(name) : NULL;
    if (why) {
        fprintf(stderr, "sortbyface name: '%s': %s\n", name, why);
        free(pos);
        return 2;
    }
    if ((rc = pv_load(&r))) {
        free(pos);
        pv_free(&r);
        return rc;
    }
    sbf_person *p = pv_person(&r, who);
    char a[300], b[300];
    if (!p) rc = 1;
    else if (clear) {
        free(p->name);
        p->name = NULL;
        printf("person %u has no name now\n", p->number);
        rc = pv_save(&r);
    } else if (p->name && !strcmp(p->name, name)) {
        printf("%s already has that name\n", person_label(p, a, sizeof a));
    } else {
        sbf_person *q = sbf_people_by_name(&r.pp, name);
        if (q) {
            person_label(p, a, sizeof a);
            person_label(q, b, sizeof b);
            uint32_t id = sbf_people_merge(&r.pp, p->number, q->number, SBF_FROM_VERB);
            if (!id) {
                sbf_error("out of memory");
                rc = 3;
            } else {
                printf("%s is named '%s' like %s: the two are merged into person %u (correction %u; 'sortbyface "
                       "withdraw %u' "
                       "parts them again)\n",
                       a, name, b, q->number, id, id);
                rc = pv_save(&r);
            }
        } else {
            char *c = strdup(name);
            if (!c) {
                sbf_error("out of memory");
                rc = 3;
            } else {
                free(p->name);
                p->name = c;
                printf("person %u is named '%s'\n", p->number, name);
                rc = pv_save(&r);
            }
        }
    }
    free(pos);
    pv_free(&r);
    return rc;
}

/* ---- merge ----------------------------------------------------------------------------------------- */
int sbf_cmd_merge(int argc, char **argv) {
    pv_run r = {.verb = "merge", .db = SBF_DEFAULT_DB, .write = 1};
    int rc, npos;
    char **pos = NULL;
    const sbf_opt opts[] = {DB_OPT(r), {0}};
    const sbf_cmd_spec spec = {
        "merge",
        "merge [--db FILE] PERSON INTO",
        "The faces of PERSON join INTO: the two are one person.",
        "INTO keeps its number and name (it takes PERSON's name when it has none); PERSON's number leads to INTO\n"
        "from then on.  The merge is a correction: 'sortbyface withdraw ID' parts them again.  " AFTER,
        opts,
        2,
        2};
    if ((rc = parse(&spec, argc, argv, &pos, &npos))) return rc == SBF_VERB_DONE ? 0 : rc;
    if ((rc = pv_load(&r))) {
        free(pos);
        pv_free(&r);
        return rc;
    }
    sbf_person *p = pv_person(&r, pos[0]), *q = p ? pv_person(&r, pos[1]) : NULL;
    char a[300], b[300];
    if (!p || !q) rc = 1;
    else if (p == q) {
        fprintf(stderr, "sortbyface merge: '%s' and '%s' are the same person\n", pos[0], pos[1]);
        rc = 1;
    } else {
        person_label(p, a, sizeof a);
        person_label(q, b, sizeof b);
        int *c = sbf_people_counts(&r.pp);
        int nf = c ? c[p->number] : 0;
        free(c);
        uint32_t into = q->number, id = sbf_people_merge(&r.pp, p->number, q->number, SBF_FROM_VERB);
        if (!id) {
            sbf_error("out of memory");
            rc = 3;
        } else {
            printf("%s (%d face%s) merged into %s, now person %u (correction %u)\n", a, nf, sbf_s(nf), b, into, id);
            rc = pv_save(&r);
        }
    }
    free(pos);
    pv_free(&r);
    return rc;
}

/* ---- is / is-not ----------------------------------------------------------------------------------- */
static int is_verb(int argc, char **argv, int positive) {
    pv_run r = {.verb = positive ? "is" : "is-not", .db = SBF_DEFAULT_DB, .write = 1};
    int face = -1, rc, npos;
    char **pos = NULL;
    const sbf_opt opts[] = {
        DB_OPT(r),
        {"face", NULL, SBF_OPT_INT, &face, "N", "the face (0-based, as in clusters.tsv) when the photo holds several"},
        {0}};
    const sbf_cmd_spec spec_is = {
        "is",
        "is [--db FILE] PHOTO [--face N] PERSON",
        "Say that a face is PERSON: it stays with them on every later sort.",
        "PHOTO: the photo as embed stored it (any spelling of its path) or a file sort placed in the managed\n"
        "folder (then the face it was placed for).  PERSON: a number, 'Person 0003' or a name; a new name makes\n"
        "a new person of that name.  Two faces of one photo are never one person: the other faces of PHOTO\n"
        "cannot be PERSON then.  Moving the photo into that person's folder does the same.  'sortbyface\n"
        "corrections' lists it, 'withdraw' takes it back.  " AFTER,
        opts,
        2,
        2};
    const sbf_cmd_spec spec_not = {
        "is-not",
        "is-not [--db FILE] PHOTO [--face N] PERSON",
        "Say that a face (or every face of PHOTO) is not PERSON.",
        "PHOTO: the photo as embed stored it (any spelling of its path) or a file sort placed in the managed\n"
        "folder (then the face it was placed for); without --face, every face of the photo.  PERSON: a number,\n"
        "'Person 0003' or a name.  Deleting the photo from that person's folder does the same.  'sortbyface\n"
        "corrections' lists it, 'withdraw' takes it back.  " AFTER,
        opts,
        2,
        2};
    if ((rc = parse(positive ? &spec_is : &spec_not, argc, argv, &pos, &npos))) return rc == SBF_VERB_DONE ? 0 : rc;
    if (face < -1 || face > 100000) {
        fprintf(stderr, "sortbyface %s: --face must be 0 or more (got %d)\n", r.verb, face);
        free(pos);
        return 2;
    }
    if ((rc = pv_load(&r))) {
        free(pos);
        pv_free(&r);
        return rc;
    }
    uint32_t pfid = 0, *fids = NULL;
    int p = pv_photo(&r, pos[0], &pfid), nf = -1;
    if (p >= 0 && (fids = malloc(((size_t)r.fs.photos[p].nfaces + 1) * sizeof *fids)))
        nf = pv_faces(&r, pos[0], p, face, pfid, !positive, fids);
    sbf_person *who = NULL;
    int made = 0;
    if (nf > 0) {
        who = sbf_people_lookup(&r.pp, pos[1]);
        if (!who && positive && !sbf_people_name_invalid(pos[1])) {
            who = sbf_people_new_person(&r.pp, pos[1]);
            made = who != NULL;
        }
        if (!who) fprintf(stderr, "sortbyface %s: no person '%s' (sortbyface people lists them)\n", r.verb, pos[1]);
    }
    if (nf <= 0 || !who) rc = 1;
    else {
        char a[300], note[PATH_MAX + 40];
        person_label(who, a, sizeof a);
        const sbf_photo *ph = &r.fs.photos[p];
        snprintf(note, sizeof note, "%s", ph->stored ? ph->stored : ph->path);
        /* two faces of one photo are never one person: another face of the photo that is PERSON by a correction */
        if (positive)
            for (int k = 0; k < r.pp.ncorr && !rc; k++) {
                const sbf_correction *c = &r.pp.corr[k];
                if (c->kind != SBF_CORR_IS || c->person != who->number) continue;
                for (uint32_t j = 0; j < c->nfids && !rc; j++)
                    for (int f = ph->first_face; f < ph->first_face + ph->nfaces; f++)
                        if (r.fid[f] == c->fids[j] && r.fid[f] != fids[0]) {
                            fprintf(
                                stderr,
                                "sortbyface is: face %d of %s is %s already (correction %u); two faces of one photo "
                                "are never one person: withdraw that first\n",
                                r.fs.face_index[f], pos[0], a, c->id);
                            rc = 1;
                        }
            }
        if (!rc) {
            uint32_t id = sbf_people_correct(&r.pp, positive ? SBF_CORR_IS : SBF_CORR_ISNOT, SBF_FROM_VERB, who->number,
                                             0, note, fids, (uint32_t)nf);
            if (!id) {
                sbf_error("out of memory");
                rc = 3;
            } else {
                if (made) printf("new person %u named '%s'\n", who->number, pos[1]);
                for (int k = 0; k < nf; k++) {
                    const sbf_known_face *kf = sbf_people_face(&r.pp, fids[k]);
                    printf("face %d of ", kf ? kf->index : 0);
                    sbf_tsv_escape(stdout, note);
                    printf(" %s %s (correction %u)\n", positive ? "is" : "is not", a, id);
                }
                rc = pv_save(&r);
            }
        }
    }
    free(fids);
    free(pos);
    pv_free(&r);
    return rc;
}
int sbf_cmd_is(int argc, char **argv) { return is_verb(argc, argv, 1); }
int sbf_cmd_is_not(int argc, char **argv) { return is_verb(argc, argv, 0); }

/* ---- corrections ----------------------------------------------------------------------------------- */
static const char *kind_name(int k) {
    switch (k) {
    case SBF_CORR_IS: return "is";
    case SBF_CORR_ISNOT: return "is-not";
    case SBF_CORR_IGNORE: return "ignore";
    case SBF_CORR_HIDE: return "hide";
    case SBF_CORR_MERGE: return "merge";
    }
    return "?";
}

/* "face 1 of lib/x.jpg" for a face of the state. */
static void face_text(const sbf_people *pp, uint32_t fid, FILE *out) {
    const sbf_known_face *kf = sbf_people_face(pp, fid);
    if (!kf) {
        fprintf(out, "a face no longer in the database");
        return;
    }
    fprintf(out, "face %d of ", kf->index);
    sbf_tsv_escape(out, pp->paths[kf->path]);
}

static void describe(const sbf_people *pp, const sbf_correction *c, FILE *out) {
    const sbf_person *p = sbf_people_person(pp, c->person);
    char a[300];
    if (p) person_label(p, a, sizeof a);
    else snprintf(a, sizeof a, "person %u", c->person);
    switch (c->kind) {
    case SBF_CORR_IS:
    case SBF_CORR_ISNOT:
        for (uint32_t j = 0; j < c->nfids; j++) {
            if (j) fputs(", ", out);
            face_text(pp, c->fids[j], out);
        }
        fprintf(out, " %s %s", c->kind == SBF_CORR_IS ? "is" : "is not", a);
        break;
    case SBF_CORR_IGNORE:
        fprintf(out, "%u face%s never placed (", c->nfids, sbf_s(c->nfids));
        for (uint32_t j = 0; j < c->nfids && j < 3; j++) {
            if (j) fputs(", ", out);
            face_text(pp, c->fids[j], out);
        }
        fprintf(out, "%s)", c->nfids > 3 ? ", ..." : "");
        break;
    case SBF_CORR_HIDE: fprintf(out, "%s is hidden", a); break;
    case SBF_CORR_MERGE:
        fprintf(out, "person %u (%u face%s) merged into %s", c->other, c->nfids, sbf_s(c->nfids), a);
        break;
    }
}

int sbf_cmd_corrections(int argc, char **argv) {
    pv_run r = {.verb = "corrections", .db = SBF_DEFAULT_DB};
    int json = 0, rc;
    if ((rc = list_start(
             &r, &json, "corrections [--db FILE] [--json]", "List the corrections the database keeps, oldest first.",
             "Each line: its id (for 'sortbyface withdraw ID'), when, where it came from (a verb, or an edit of the\n"
             "managed folder), and what it says.  --json: {\"id\", \"time\" (seconds since 1970), \"kind\" (is, "
             "is-not,\n"
             "ignore, hide, merge), \"from\" (verb, folder), \"person\", \"other\" (merge: the person merged), "
             "\"note\",\n"
             "\"faces\": [{\"path\", \"face\"}]} per line.",
             "one JSON object per correction and line", argc, argv)))
        return rc == SBF_VERB_DONE ? 0 : rc;
    for (int k = 0; k < r.pp.ncorr; k++) {
        const sbf_correction *c = &r.pp.corr[k];
        if (json) {
            printf("{\"id\":%u,\"time\":%lld,\"kind\":\"%s\",\"from\":\"%s\",\"person\":%u,\"other\":%u,\"note\":",
                   c->id, (long long)c->time, kind_name(c->kind), c->source == SBF_FROM_FOLDER ? "folder" : "verb",
                   c->person, c->other);
            sbf_json_string(stdout, c->note ? c->note : "");
            printf(",\"faces\":[");
            for (uint32_t j = 0; j < c->nfids; j++) {
                const sbf_known_face *kf = sbf_people_face(&r.pp, c->fids[j]);
                printf("%s{\"path\":", j ? "," : "");
                if (kf) sbf_json_string(stdout, r.pp.paths[kf->path]);
                else fputs("null", stdout);
                printf(",\"face\":%d}", kf ? kf->index : -1);
            }
            printf("]}\n");
        } else {
            char when[32];
            time_t t = (time_t)c->time;
            struct tm tm;
            strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime_r(&t, &tm));
            printf("%4u  %s  %-6s  ", c->id, when, c->source == SBF_FROM_FOLDER ? "folder" : "verb");
            describe(&r.pp, c, stdout);
            putchar('\n');
        }
    }
    if (!json && !r.pp.ncorr) printf("no corrections\n");
    pv_free(&r);
    return 0;
}

/* ---- withdraw -------------------------------------------------------------------------------------- */
int sbf_cmd_withdraw(int argc, char **argv) {
    pv_run r = {.verb = "withdraw", .db = SBF_DEFAULT_DB, .write = 1};
    int rc, npos;
    char **pos = NULL;
    const sbf_opt opts[] = {DB_OPT(r), {0}};
    const sbf_cmd_spec spec = {
        "withdraw",
        "withdraw [--db FILE] ID...",
        "Take corrections back (ids as 'sortbyface corrections' lists them).",
        "The faces of a withdrawn is / is-not go back to what the clustering says; a withdrawn hide shows the\n"
        "person again, a withdrawn merge gives the merged person their faces back.  " AFTER,
        opts,
        1,
        -1};
    if ((rc = parse(&spec, argc, argv, &pos, &npos))) return rc == SBF_VERB_DONE ? 0 : rc;
    uint32_t *ids = malloc((size_t)npos * sizeof *ids);
    for (int i = 0; ids && i < npos; i++) {
        char *end;
        unsigned long v = strtoul(pos[i], &end, 10);
        if (!*pos[i] || *end || v == 0 || v > 0xffffffffu) {
            fprintf(stderr,
                    "sortbyface withdraw: '%s' is not a correction id (a number 'sortbyface corrections' lists)\n",
                    pos[i]);
            free(ids);
            free(pos);
            return 2;
        }
        ids[i] = (uint32_t)v;
    }
    if (!ids || (rc = pv_load(&r))) {
        free(ids);
        free(pos);
        pv_free(&r);
        return ids ? rc : 3;
    }
    int done = 0;
    for (int i = 0; i < npos; i++) {
        const sbf_correction *c = NULL;
        for (int k = 0; k < r.pp.ncorr; k++)
            if (r.pp.corr[k].id == ids[i]) c = &r.pp.corr[k];
        if (!c) {
            fprintf(stderr, "sortbyface withdraw: no correction %u (sortbyface corrections lists them)\n", ids[i]);
            rc = 1;
            continue;
        }
        printf("withdrew correction %u: ", ids[i]);
        describe(&r.pp, c, stdout);
        putchar('\n');
        sbf_people_withdraw(&r.pp, ids[i]);
        done++;
    }
    if (done) {
        int s = pv_save(&r);
        if (s) rc = s;
    }
    free(ids);
    free(pos);
    pv_free(&r);
    return rc;
}
