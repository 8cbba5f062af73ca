/* src/cli.h — owns command-line handling: the verb table, option parsing (both "-src" seed style and
 * "--src"/"--src=" style), per-verb --help text, and the exit-status conventions (0 ok, 1 some
 * inputs failed, 2 usage error). */
#ifndef SRC_CLI_H
#define SRC_CLI_H

typedef enum { SBF_OPT_FLAG, SBF_OPT_INT, SBF_OPT_DOUBLE, SBF_OPT_STRING } sbf_opt_kind;

typedef struct {
    const char *name;  /* long name without dashes, e.g. "src" */
    const char *alias; /* optional second name (e.g. "o"), or NULL */
    sbf_opt_kind kind;
    void *dest;          /* int* for FLAG/INT, double* for DOUBLE, const char** for STRING */
    const char *metavar; /* e.g. "DIR" */
    const char *help;    /* one line; include the default */
} sbf_opt;

typedef struct {
    const char *verb;
    const char *usage;    /* e.g. "detect [OPTIONS] IMAGE..." */
    const char *summary;  /* one line */
    const char *details;  /* optional paragraph shown in --help */
    const sbf_opt *opts;  /* terminated by {0} */
    int min_pos, max_pos; /* positional argument count bounds (max -1 = unbounded) */
} sbf_cmd_spec;

/* Parses argv (argv[0] is the verb).  Accepts --name V, --name=V, -name V, -name=V, and single-letter
 * aliases.  Positional arguments are collected into *pos (pointers into argv).  "--" ends options.
 * Returns 0 to proceed, 1 when --help was printed (exit 0), 2 on a usage error (message printed). */
int sbf_parse(const sbf_cmd_spec *spec, int argc, char **argv, int *npos, char ***pos);
void sbf_print_verb_help(const sbf_cmd_spec *spec, FILE *out);

/* The one validation of numeric flags shared by every verb: --threads, --processes, --min-face, --max-pixels,
 * --upsample, --itr, --threshold, --adjust-threshold, --face and --min-faces have one range whichever verb takes them;
 * sbf_parse checks each as it is read.  0, or 2 after a one-line usage error naming the verb. */
int sbf_check_flag(const char *verb, const char *name, double v);
/* Integer/double flag value checks, printing a usage error and returning 2 on failure. */
int sbf_check_range_int(const char *verb, const char *name, int v, int lo, int hi);
int sbf_check_range_double(const char *verb, const char *name, double v, double lo, double hi);

#endif
