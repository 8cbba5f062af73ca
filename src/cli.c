/* src/cli.c — option parsing and per-verb help. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "src/cli.h"

static const sbf_opt *find_opt(const sbf_opt *opts, const char *name, size_t len) {
    for (const sbf_opt *o = opts; o && o->name; o++) {
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) return o;
        if (o->alias && strlen(o->alias) == len && strncmp(o->alias, name, len) == 0) return o;
    }
    return NULL;
}

static int usage_error(const sbf_cmd_spec *spec, const char *fmt, const char *arg) {
    fprintf(stderr, "sortbyface %s: ", spec->verb);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: sortbyface %s (see 'sortbyface %s --help')\n", spec->usage, spec->verb);
    return 2;
}

/* The one range of each numeric flag, whichever verb takes it (checked as the flag is read). */
static const struct {
    const char *name;
    double lo, hi;
} ranges[] = {
    {"threads", 0, 256},                  /* 0: all cores; the thread pool's limit */
    {"processes", 0, 256},                /* embed's alias of --threads */
    {"min-face", 0, 1000000},             /* pixels; 0: every size */
    {"max-pixels", 100000, 2147483647.0}, /* at least 0.1 megapixel (a 316x316 photo) */
    {"upsample", 0, 3},                   /* as embed's and find's --upsample N|auto */
    {"itr", 1, 100000},
    {"threshold", -1, 1}, /* a cosine similarity */
    {"adjust-threshold", -5, 5},
    {"face", 0, 100000},       /* a face index, as in clusters.tsv */
    {"min-faces", 1, 1000000}, /* sort: faces a person needs for a folder of their own */
};

int sbf_check_flag(const char *verb, const char *name, double v) {
    for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++) {
        if (strcmp(ranges[i].name, name) || (v >= ranges[i].lo && v <= ranges[i].hi)) continue;
        fprintf(stderr, "sortbyface %s: --%s must be between %.15g and %.15g (got %.15g)\n", verb, name, ranges[i].lo,
                ranges[i].hi, v);
        return 2;
    }
    return 0;
}

static int set_value(const sbf_cmd_spec *spec, const sbf_opt *o, const char *v) {
    char *end;
    switch (o->kind) {
    case SBF_OPT_INT: {
        errno = 0;
        long x = strtol(v, &end, 10);
        if (!*v || *end || errno || x < -2147483647L || x > 2147483647L) {
            char msg[200];
            snprintf(msg, sizeof msg, "--%s expects a whole number, got '%%s'", o->name);
            return usage_error(spec, msg, v);
        }
        *(int *)o->dest = (int)x;
        return sbf_check_flag(spec->verb, o->name, (double)x);
    }
    case SBF_OPT_DOUBLE: {
        errno = 0;
        double x = strtod(v, &end);
        if (!*v || *end || errno || x != x) {
            char msg[200];
            snprintf(msg, sizeof msg, "--%s expects a number, got '%%s'", o->name);
            return usage_error(spec, msg, v);
        }
        *(double *)o->dest = x;
        return sbf_check_flag(spec->verb, o->name, x);
    }
    case SBF_OPT_STRING: *(const char **)o->dest = v; return 0;
    case SBF_OPT_LIST: {
        sbf_opt_list *l = o->dest;
        if (l->n == SBF_OPT_LIST_MAX) {
            char msg[200];
            snprintf(msg, sizeof msg, "--%s may be given at most %d times ('%%s' is one more)", o->name,
                     SBF_OPT_LIST_MAX);
            return usage_error(spec, msg, v);
        }
        l->v[l->n++] = v;
        return 0;
    }
    case SBF_OPT_FLAG: break;
    }
    return 0;
}

int sbf_parse(const sbf_cmd_spec *spec, int argc, char **argv, int *npos, char ***pos) {
    char **p = calloc((size_t)argc + 1, sizeof *p);
    int n = 0, only_pos = 0;
    if (!p) {
        fprintf(stderr, "sortbyface: out of memory\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == 0) {
            p[n++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        const char *name = a + 1 + (a[1] == '-');
        if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0) {
            sbf_print_verb_help(spec, stdout);
            free(p);
            return 1;
        }
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const sbf_opt *o = find_opt(spec->opts, name, len);
        if (!o) {
            free(p);
            return usage_error(spec, "unknown option '%s'", a);
        }
        int rc;
        if (o->kind == SBF_OPT_FLAG) {
            if (eq) {
                free(p);
                return usage_error(spec, "option '%s' takes no value", a);
            }
            *(int *)o->dest = 1;
            continue;
        }
        if (eq) rc = set_value(spec, o, eq + 1);
        else if (i + 1 < argc) rc = set_value(spec, o, argv[++i]);
        else {
            free(p);
            return usage_error(spec, "option '%s' needs a value", a);
        }
        if (rc) {
            free(p);
            return rc;
        }
    }
    if (n < spec->min_pos) {
        free(p);
        return usage_error(spec, "%s", spec->min_pos == 1 && n == 0 ? "missing argument" : "too few arguments");
    }
    if (spec->max_pos >= 0 && n > spec->max_pos) {
        const char *extra = p[spec->max_pos];
        free(p);
        return usage_error(spec, "unexpected argument '%s'", extra);
    }
    *npos = n;
    *pos = p;
    return 0;
}

void sbf_print_verb_help(const sbf_cmd_spec *spec, FILE *out) {
    fprintf(out, "usage: sortbyface %s\n\n%s\n", spec->usage, spec->summary);
    if (spec->details) fprintf(out, "\n%s\n", spec->details);
    fprintf(out, "\noptions (also accepted with a single dash, e.g. -%s):\n",
            spec->opts && spec->opts->name ? spec->opts->name : "src");
    for (const sbf_opt *o = spec->opts; o && o->name; o++) {
        char left[96];
        int k = snprintf(left, sizeof left, "  --%s", o->name);
        if (o->alias) k += snprintf(left + k, sizeof left - (size_t)k, ", -%s", o->alias);
        if (o->kind != SBF_OPT_FLAG) snprintf(left + k, sizeof left - (size_t)k, " %s", o->metavar ? o->metavar : "X");
        fprintf(out, "%-28s %s\n", left, o->help ? o->help : "");
    }
    fprintf(out, "  %-26s %s\n", "--help", "show this help");
}

int sbf_check_range_int(const char *verb, const char *name, int v, int lo, int hi) {
    if (v >= lo && v <= hi) return 0;
    fprintf(stderr, "sortbyface %s: --%s must be between %d and %d (got %d)\n", verb, name, lo, hi, v);
    return 2;
}

int sbf_check_range_double(const char *verb, const char *name, double v, double lo, double hi) {
    if (v >= lo && v <= hi) return 0;
    fprintf(stderr, "sortbyface %s: --%s must be between %g and %g (got %g)\n", verb, name, lo, hi, v);
    return 2;
}
