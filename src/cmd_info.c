/* src/cmd_info.c — the 'info' inspection verb: what a database holds (counts, size, dead space), with
 * --faces every face as a JSON line (path, face index, box, score, landmarks, embedding), with --no-face
 * the photos in which no face was found. */
#include <stdio.h>
#include <stdlib.h>
#include "src/cli.h"
#include "src/output.h"
#include "src/pipeline.h"
#include "src/store.h"
#include "src/util.h"
#include "src/verbs.h"

int sbf_cmd_info(int argc, char **argv) {
    const char *db = SBF_DEFAULT_DB;
    int faces = 0, no_emb = 0, noface = 0;
    const sbf_opt opts[] = {
        {"db", NULL, SBF_OPT_STRING, &db, "FILE", "database to inspect (default embeddings.db)"},
        {"faces", NULL, SBF_OPT_FLAG, &faces, NULL, "print every face as a JSON line"},
        {"no-embeddings", NULL, SBF_OPT_FLAG, &no_emb, NULL, "with --faces: leave the 512 numbers out"},
        {"no-face", NULL, SBF_OPT_FLAG, &noface, NULL, "list the photos in which no face was found, one path a line"},
        {0},
    };
    const sbf_cmd_spec spec = {
        "info",
        "info [--db FILE] [--faces [--no-embeddings] | --no-face]",
        "Prints what the database holds: photos, faces, file size, space held by replaced records.",
        "It also names the alignment rule and the FaceNet model (float32 or int8) the embeddings were made with.\n"
        "The database is read-only here (no lock is taken) and every record's checksum is verified, so\n"
        "this is also a health check: a damaged database gives an error naming the byte offset (exit 3).\n"
        "--faces prints one line per face, photos in path order:\n"
        "  "
        "{\"path\":P,\"face\":I,\"box\":[l,t,r,b],\"score\":S,\"width\":W,\"height\":H,\"landmarks\":[[x,y],...],"
        "\"embedding\":[...]}\n"
        "P is the path as it opens from here; a byte of a file name that is not UTF-8 is written \\udcXX (XX the\n"
        "byte), Python's surrogateescape: json.loads(line)[\"path\"].encode(\"utf-8\", \"surrogateescape\") gives\n"
        "the name's bytes back.  --no-face prints one path a line, with tab, newline, carriage return and\n"
        "backslash written \\t, \\n, \\r, \\\\ (as clusters.tsv).",
        opts,
        0,
        0};
    int npos;
    char **pos = NULL;
    int rc = sbf_parse(&spec, argc, argv, &npos, &pos);
    free(pos);
    if (rc) return rc == 1 ? 0 : rc;
    char err[512];
    sbf_store *st = sbf_store_open(db, SBF_STORE_READ, err, sizeof err);
    if (!st) {
        sbf_db_open_error(db, err);
        return 3;
    }
    sbf_store_stats ss;
    sbf_store_get_stats(st, &ss);
    if (!faces && !noface) {
        int recorded, mrecorded;
        const char *al = sbf_pipeline_db_rule(st, &recorded);
        const char *model = sbf_pipeline_db_model_name(st, &mrecorded);
        char bbuf[4096];
        const char *base = sbf_store_base(st, bbuf, sizeof bbuf);
        printf("%s: %zu photo%s, %zu face%s, %zu with no face, %llu bytes (%llu in replaced records%s); alignment "
               "%s%s; model %s%s%s%s\n",
               db, ss.photos, sbf_s((long long)ss.photos), ss.faces, sbf_s((long long)ss.faces), ss.noface,
               ss.file_bytes, ss.dead_bytes, ss.torn_bytes ? "; an interrupted last record is ignored" : "",
               al ? al : "not yet chosen", al && !recorded ? " (not recorded)" : "", model ? model : "not yet chosen",
               model && !mrecorded ? " (not recorded)" : "", base ? "; relative paths start in " : "",
               base ? base : "");
        sbf_store_close(st);
        return 0;
    }
    sbf_faceset fs;
    if (sbf_store_faceset(st, &fs, err, sizeof err)) {
        sbf_file_error(db, err);
        sbf_store_close(st);
        return 3;
    }
    sbf_store_close(st);
    for (int p = 0; noface && p < fs.nphotos; p++) {
        if (fs.photos[p].nfaces) continue;
        sbf_tsv_escape(stdout, fs.photos[p].path);
        putchar('\n');
    }
    for (int i = 0; faces && i < fs.nfaces; i++) {
        const sbf_photo *ph = &fs.photos[fs.face_photo[i]];
        const sbf_box *b = &fs.boxes[i];
        fputs("{\"path\":", stdout);
        sbf_json_string(stdout, ph->path);
        printf(",\"face\":%d,\"box\":[%ld,%ld,%ld,%ld],\"score\":", fs.face_index[i], b->left, b->top, b->right,
               b->bottom);
        sbf_json_float(stdout, b->score);
        printf(",\"width\":%d,\"height\":%d,\"landmarks\":[", ph->width, ph->height);
        for (int k = 0; k < SBF_LANDMARKS; k++) {
            printf(k ? ",[" : "[");
            sbf_json_float(stdout, fs.landmarks[(size_t)i * 2 * SBF_LANDMARKS + 2 * k]);
            putchar(',');
            sbf_json_float(stdout, fs.landmarks[(size_t)i * 2 * SBF_LANDMARKS + 2 * k + 1]);
            putchar(']');
        }
        putchar(']');
        if (!no_emb) {
            fputs(",\"embedding\":[", stdout);
            for (int k = 0; k < fs.dim; k++) {
                if (k) putchar(',');
                sbf_json_float(stdout, fs.emb[(size_t)i * fs.dim + k]);
            }
            putchar(']');
        }
        puts("}");
    }
    sbf_faceset_free(&fs);
    return 0;
}
