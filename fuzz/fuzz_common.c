/* fuzz/fuzz_common.c — temp-file helpers shared by the fuzz harnesses (see fuzz/fuzz.h). */
#define _FILE_OFFSET_BITS 64 /* readdir on 32-bit ARM under qemu (see tests/test_fuzz_regress.c) */
#include "fuzz/fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fuzz_dir[512];

static void fuzz_cleanup(void) {
    if (!fuzz_dir[0]) return;
    DIR *d = opendir(fuzz_dir);
    if (d) {
        struct dirent *de;
        char p[1100];
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", fuzz_dir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(fuzz_dir);
    fuzz_dir[0] = 0;
}

const char *sbf_fuzz_tmpdir(void) {
    if (fuzz_dir[0]) return fuzz_dir;
    const char *base = getenv("TMPDIR");
    struct stat st;
    memset(&st, 0, sizeof st); /* (MSan does not see glibc 2.36's stat fill it) */
    if (!base || !*base)
        base =
            (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0) ? "/dev/shm" : "/tmp";
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/sbf-fuzz-XXXXXX", base);
    if (!mkdtemp(fuzz_dir)) {
        fprintf(stderr, "fuzz: cannot create a temp folder under %s: %s\n", base, strerror(errno));
        abort();
    }
    atexit(fuzz_cleanup);
    return fuzz_dir;
}

const char *sbf_fuzz_write_tmp(const char *name, const uint8_t *data, size_t size) {
    static char path[1100];
    snprintf(path, sizeof path, "%s/%s", sbf_fuzz_tmpdir(), name);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "fuzz: cannot create %s: %s\n", path, strerror(errno));
        abort();
    }
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
            abort();
        }
        done += (size_t)w;
    }
    close(fd);
    return path;
}
