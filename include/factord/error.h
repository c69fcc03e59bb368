/* fd_error: an error a caller (and in the end an HTTP client) can act on.
 *
 * Convention across factord: functions return 0 on success and -1 on failure, filling the
 * caller's fd_error (which may be NULL when the caller does not care). `status` is the HTTP
 * status the failure maps to (400 bad input, 404 absent, 409 conflict, 413 too large,
 * 415 wrong content type, 422 well-formed but unusable, 500 internal, 503 unavailable);
 * `code` is a stable snake_case identifier; `message` names the line or field at fault.
 * The struct is plain data owned by the caller (usually on its stack). */
#ifndef FACTORD_ERROR_H
#define FACTORD_ERROR_H

typedef struct fd_error {
    int status;
    char code[40];
    char message[512];
} fd_error;

/* Fills err (if not NULL) and returns -1, so `return fd_error_set(...)` reads naturally. */
int fd_error_set(fd_error *err, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prefixes err->message with the formatted context ("line 12: ..."); returns -1. */
int fd_error_prefix(fd_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fd_error_clear(fd_error *err);

#endif
