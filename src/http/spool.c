/* Spool files on disk for streamed request bodies (spool.h). */
#include "factord/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPOOL_PREFIX "factord-spool-"

const char *fd_spool_dir(const fd_config *cfg, char *buf, size_t cap) {
    const char *dir = cfg->spool_dir[0] ? cfg->spool_dir : getenv("TMPDIR");
    snprintf(buf, cap, "%s", dir && *dir ? dir : "/tmp");
    return buf;
}

/* "factord-spool-<16 hex>-": FNV-1a of the database's real path (the path as configured
 * when it cannot be resolved), so every spelling of one database gives one tag. */
static void spool_stem(const fd_config *cfg, char out[64]) {
    char real[PATH_MAX];
    const char *path = realpath(cfg->db_path, real) ? real : cfg->db_path;
    uint64_t h = 1469598103934665603ull;
    for (const char *c = path; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ull;
    snprintf(out, 64, SPOOL_PREFIX "%016llx-", (unsigned long long)h);
}

int fd_spool_create(const fd_config *cfg, char **path, int *fd) {
    char dir[sizeof cfg->spool_dir + 16], stem[64];
    int e;
    spool_stem(cfg, stem);
    if (asprintf(path, "%s/%sXXXXXX", fd_spool_dir(cfg, dir, sizeof dir), stem) < 0) {
        *path = NULL;
        return ENOMEM;
    }
    if ((*fd = mkostemp(*path, O_CLOEXEC)) >= 0) return 0;
    e = errno;
    free(*path);
    *path = NULL;
    return e;
}

int fd_spool_sweep(const fd_config *cfg, size_t *files, unsigned long long *bytes,
                   fd_error *err) {
    char dir[sizeof cfg->spool_dir + 16], stem[64], path[PATH_MAX];
    struct dirent *e;
    DIR *d;
    *files = 0;
    *bytes = 0;
    spool_stem(cfg, stem);
    if (!(d = opendir(fd_spool_dir(cfg, dir, sizeof dir)))) {
        if (errno == ENOENT) return 0; /* no directory, no leftovers (uploads will say) */
        return fd_error_set(err, 500, "spool_dir", "cannot read the spool directory %s: %s",
                            dir, strerror(errno));
    }
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (strncmp(e->d_name, stem, strlen(stem)) != 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || unlink(path) != 0) continue;
        (*files)++;
        *bytes += (unsigned long long)st.st_size;
    }
    closedir(d);
    return 0;
}
