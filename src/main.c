/* src/main.c — the sortbyface command: global help/version and verb dispatch. */
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "src/verbs.h"

#define SBF_VERSION "0.1.0"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} verbs[] = {
    {"embed", sbf_cmd_embed, "find, align and embed every face under a folder into the database (embedder.py)"},
    {"sort", sbf_cmd_sort, "sort the faces into one folder per person, and keep it up to date (sort_images.py)"},
    {"find", sbf_cmd_find, "copy every photo of the person in ME.jpg into a folder (get_individual.py)"},
    {"detect", sbf_cmd_detect, "print the faces (boxes, scores, landmarks) found in images, as JSON lines"},
    {"align", sbf_cmd_align, "write the aligned 160x160 face crops the network sees, as PNG"},
    {"represent", sbf_cmd_represent, "print FaceNet embeddings of the faces in images, as JSON lines"},
    {"info", sbf_cmd_info, "what a database holds (and a checksum health check); --faces dumps every face"},
    {"people", sbf_cmd_people, "list the people: number, name, faces, photos, folder (--json)"},
    {"name", sbf_cmd_name, "give a person a name (their folder is the name)"},
    {"merge", sbf_cmd_merge, "one person's faces join another's"},
    {"is", sbf_cmd_is, "say that a face is a given person"},
    {"is-not", sbf_cmd_is_not, "say that a face (or every face of a photo) is not a given person"},
    {"corrections", sbf_cmd_corrections, "list the corrections kept (from these verbs and from edits of the folder)"},
    {"withdraw", sbf_cmd_withdraw, "take a correction back"},
};
#define NVERBS (sizeof verbs / sizeof verbs[0])

static void usage(FILE *out) {
    fprintf(out, "usage: sortbyface VERB [OPTIONS] ...\n\n"
                 "Sorts a photo collection by the people in it: finds every face (dlib's HOG detector), aligns it\n"
                 "(dlib's 68-point landmarks), embeds it with FaceNet and clusters faces with Chinese Whispers.\n\n"
                 "verbs:\n");
    for (size_t i = 0; i < NVERBS; i++) fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out,
            "\ntypical use:\n"
            "  sortbyface embed -src photos/     # builds embeddings.db (incremental)\n"
            "  sortbyface sort                   # writes Sorted-pictures/Person 0001, ..., and keeps it up to date\n"
            "  sortbyface find -src me.jpg -dest me/\n\n"
            "'sortbyface VERB --help' describes each verb.  --version prints the version.\n");
}

int main(int argc, char **argv) {
#ifdef __GLIBC__
    /* Buffers of 256 KiB and more (decoded photos, detector pyramids, crop batches) come from mmap and go
     * back to the system when freed.  glibc otherwise raises this threshold after the first such free and
     * serves them from the heaps, whose free holes then pile up: embed over lfw-dev peaked at 400-505 MB
     * RSS with 62 MB of live heap, and at 216 MB with this, for about 8 % more time (docs/MEASUREMENTS.md,
     * "Memory"; a 1 MiB threshold was worse: 739 MB). */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *v = argv[1];
    if (!strcmp(v, "--help") || !strcmp(v, "-help") || !strcmp(v, "-h") || !strcmp(v, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(v, "--version") || !strcmp(v, "-version") || !strcmp(v, "-V")) {
        printf("sortbyface " SBF_VERSION "\n");
        return 0;
    }
    for (size_t i = 0; i < NVERBS; i++)
        if (!strcmp(v, verbs[i].name)) return verbs[i].fn(argc - 1, argv + 1);
    if (v[0] == '-') fprintf(stderr, "sortbyface: unknown option '%s' (options go after the verb)\n", v);
    else fprintf(stderr, "sortbyface: unknown verb '%s'\n", v);
    fprintf(stderr, "usage: sortbyface VERB [OPTIONS] ... (verbs: embed sort find detect align represent info people "
                    "name merge is is-not corrections withdraw; see 'sortbyface --help')\n");
    return 2;
}
