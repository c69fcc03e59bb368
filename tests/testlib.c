#include "testlib.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

int tl_failed;
static char tl_tmp[256];

void tl_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    if (tl_failed) return;
    tl_failed = 1;
    printf("%s:%d: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static int tl_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static void tl_cleanup(void) {
    if (tl_tmp[0]) nftw(tl_tmp, tl_rm, 16, FTW_DEPTH | FTW_PHYS);
}

const char *tl_tmpdir(void) {
    if (!tl_tmp[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tl_tmp, sizeof tl_tmp, "%s/factord-test-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tl_tmp)) { perror("mkdtemp"); abort(); }
        atexit(tl_cleanup);
    }
    return tl_tmp;
}

/* Runs every case, or only those named on the command line. */
int tl_run(const tl_case *cases, int argc, char **argv) {
    int failures = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (const tl_case *c = cases; c->name; c++) {
        int wanted = argc < 2;
        for (int i = 1; i < argc; i++) if (strcmp(argv[i], c->name) == 0) wanted = 1;
        if (!wanted) continue;
        tl_failed = 0;
        c->fn();
        printf("%s %s\n", tl_failed ? "FAIL" : "PASS", c->name);
        failures += tl_failed;
    }
    return failures ? 1 : 0;
}
