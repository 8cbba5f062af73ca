/* tests/helpers/testdir.h — owns the unit tests' scratch folder: a fresh /tmp/sbf-TAG-XXXXXX made before a
 * group of tests and removed after it, even when a test left parts of it unreadable. */
#ifndef TESTS_HELPERS_TESTDIR_H
#define TESTS_HELPERS_TESTDIR_H
#include <stdio.h>
#include <stdlib.h>

/* Makes the folder into dir (n bytes); 0, or -1 when it cannot be made (a cmocka setup failure). */
static inline int testdir_make(char *dir, size_t n, const char *tag) {
    snprintf(dir, n, "/tmp/sbf-%s-XXXXXX", tag);
    return mkdtemp(dir) ? 0 : -1;
}
/* Removes it and everything in it; 0, or -1 (a cmocka teardown failure). */
static inline int testdir_remove(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", dir, dir);
    return system(cmd) == 0 ? 0 : -1;
}
#endif
