#include "factord/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int fd_error_set(fd_error *err, int status, const char *code, const char *fmt, ...) {
    va_list ap;
    if (!err) return -1;
    err->status = status;
    snprintf(err->code, sizeof err->code, "%s", code);
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

int fd_error_prefix(fd_error *err, const char *fmt, ...) {
    char prefix[256];
    size_t pl, ol, cap = sizeof err->message;
    va_list ap;
    if (!err) return -1;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Shift the old message right and put "prefix: " in front, truncating the tail. */
    pl = strlen(prefix) + 2;
    ol = strlen(err->message);
    if (ol > cap - 1 - pl) ol = cap - 1 - pl;
    memmove(err->message + pl, err->message, ol);
    memcpy(err->message, prefix, pl - 2);
    memcpy(err->message + pl - 2, ": ", 2);
    err->message[pl + ol] = '\0';
    return -1;
}

void fd_error_clear(fd_error *err) {
    if (!err) return;
    err->status = 0;
    err->code[0] = '\0';
    err->message[0] = '\0';
}
