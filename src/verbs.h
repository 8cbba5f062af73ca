/* src/verbs.h — the entry point of each verb (argv[0] is the verb name); one file src/cmd_<verb>.c each (the
 * people verbs share src/cmd_people.c).
 * Exit status: 0 ok, 1 some inputs failed or nothing matched, 2 usage error, 3 fatal (model, database).
 * embed, sort and find run as a table of phases over one run struct (e.g. sort: arguments, load, cluster,
 * write, report); a phase returns 0 to go on, or the exit status to end with after a one-line message (or
 * SBF_VERB_DONE), and the run is freed once, after the last phase run, whichever way it ended. */
#ifndef SRC_VERBS_H
#define SRC_VERBS_H
/* A phase's answer that ends the verb with status 0 before its last phase (e.g. after --help). */
#define SBF_VERB_DONE (-1)
int sbf_cmd_embed(int argc, char **argv);
int sbf_cmd_sort(int argc, char **argv);
int sbf_cmd_find(int argc, char **argv);
int sbf_cmd_detect(int argc, char **argv);
int sbf_cmd_represent(int argc, char **argv);
int sbf_cmd_align(int argc, char **argv);
int sbf_cmd_info(int argc, char **argv);
/* The people verbs (src/cmd_people.c, one file: they share how faces and people are named). */
int sbf_cmd_people(int argc, char **argv);
int sbf_cmd_name(int argc, char **argv);
int sbf_cmd_merge(int argc, char **argv);
int sbf_cmd_is(int argc, char **argv);
int sbf_cmd_is_not(int argc, char **argv);
int sbf_cmd_corrections(int argc, char **argv);
int sbf_cmd_withdraw(int argc, char **argv);
#endif
