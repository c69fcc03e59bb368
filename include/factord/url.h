/* The request target as factord reads it: percent-decoding (libmicrohttpd calls
 * fd_url_unescape for the path and for every query key and value) and the checks every
 * request passes before it is routed. Pure functions; thread-safe. */
#ifndef FACTORD_URL_H
#define FACTORD_URL_H

#include <stddef.h>

#include "factord/error.h"

/* Decodes %HH escapes in place (a '%' not followed by two hex digits stays as it is) and
 * returns the new length. A decoded NUL byte (%00) is kept in the text (so the length
 * counts it) and sets *nul to 1: the caller must refuse the request, since every later
 * reader would see the text cut short. */
size_t fd_url_unescape(char *s, int *nul);

/* A decoded path: valid UTF-8 without control characters (text.h), at most
 * FD_URL_MAX_PATH bytes. 0, or -1 with a 400 "bad_path" naming what is wrong. */
#define FD_URL_MAX_PATH 2048
int fd_url_check_path(const char *path, fd_error *err);

/* One decoded query key or value, the same rules (400 "bad_query"); an empty value is
 * fine. */
int fd_url_check_query(const char *key, const char *value, fd_error *err);

#endif
