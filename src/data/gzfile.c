/* A stdio FILE over zlib's gzFile (factord/gzfile.h): glibc's fopencookie gives the parsers
 * their usual FILE while zlib decompresses (or, for a plain file, passes bytes through). */
#include "factord/gzfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

typedef struct gz_cookie {
    gzFile gz;
    fd_error *read_err;
    char name[256];
} gz_cookie;

static ssize_t gz_cookie_read(void *c, char *buf, size_t size) {
    gz_cookie *k = c;
    unsigned want = size > (1u << 30) ? 1u << 30 : (unsigned)size;
    int got = gzread(k->gz, buf, want), zerr = Z_OK;
    if (got > 0) return got;
    const char *msg = gzerror(k->gz, &zerr);
    /* At the end, Z_BUF_ERROR means the last gzip member was cut short. */
    if (got == 0 && zerr == Z_OK) return 0;
    fd_error_set(k->read_err, 400, "bad_gzip", "%s: bad gzip data (%s)", k->name,
                 msg && *msg ? msg : "read error");
    errno = EIO;
    return -1;
}

static int gz_cookie_close(void *c) {
    gz_cookie *k = c;
    int rc = gzclose(k->gz);
    free(k);
    return rc == Z_OK || rc == Z_BUF_ERROR ? 0 : -1; /* BUF_ERROR: reported by the read */
}

FILE *fd_gzfile_open(const char *path, fd_error *read_err, fd_error *err) {
    static const cookie_io_functions_t io = {gz_cookie_read, NULL, NULL, gz_cookie_close};
    gz_cookie *k = calloc(1, sizeof *k);
    fd_error_clear(read_err);
    if (!k) {
        fd_error_set(err, 500, "out_of_memory", "opening %s", path);
        return NULL;
    }
    snprintf(k->name, sizeof k->name, "%s", strcmp(path, "-") == 0 ? "standard input" : path);
    k->read_err = read_err;
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : -1;
    k->gz = fd >= 0 ? gzdopen(fd, "rb") : strcmp(path, "-") == 0 ? NULL : gzopen(path, "rb");
    if (!k->gz) {
        if (fd >= 0) close(fd);
        fd_error_set(err, 404, "no_file", "cannot open %s: %s", k->name, strerror(errno));
        free(k);
        return NULL;
    }
    gzbuffer(k->gz, 1 << 17);
    FILE *f = fopencookie(k, "rb", io);
    if (!f) {
        gzclose(k->gz);
        free(k);
        fd_error_set(err, 500, "out_of_memory", "opening %s", path);
    }
    return f;
}
