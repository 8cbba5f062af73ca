/* src/verbs.h — the entry point of each verb (argv[0] is the verb name); one file src/cmd_<verb>.c each.
 * Exit status: 0 ok, 1 some inputs failed or nothing matched, 2 usage error, 3 fatal (model, database). */
#ifndef SRC_VERBS_H
#define SRC_VERBS_H
int sbf_cmd_embed(int argc, char **argv);
int sbf_cmd_sort(int argc, char **argv);
int sbf_cmd_find(int argc, char **argv);
int sbf_cmd_detect(int argc, char **argv);
int sbf_cmd_represent(int argc, char **argv);
int sbf_cmd_align(int argc, char **argv);
int sbf_cmd_info(int argc, char **argv);
#endif
