/* src/cmd_align.c — the 'align' verb (placeholder until its issue lands: says so, exits non-zero). */
#include <stdio.h>
#include "src/cli.h"
#include "src/verbs.h"

int sbf_cmd_align(int argc, char **argv) {
    static const sbf_opt opts[] = {{0}};
    static const sbf_cmd_spec spec = {"align", "align [OPTIONS] IMAGE... -o DIR", "Write aligned 160x160 face crops as PNG.", "Not available in this build yet.", opts, 0, -1};
    int npos; char **pos;
    (void)argc;
    if (argc > 1) {
        int rc = sbf_parse(&spec, 2, (char *[]){argv[0], argv[1], NULL}, &npos, &pos);
        if (rc == 1) return 0;
    }
    fprintf(stderr, "sortbyface align: not available in this build yet\n");
    return 2;
}
