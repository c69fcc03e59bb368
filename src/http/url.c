/* Percent-decoding and request-target checks (url.h). */
#include "factord/url.h"

#include <stdio.h>
#include <string.h>

#include "factord/text.h"

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

size_t fd_url_unescape(char *s, int *nul) {
    char *out = s;
    for (const char *in = s; *in;) {
        int hi, lo;
        if (in[0] == '%' && (hi = hex_value(in[1])) >= 0 && (lo = hex_value(in[2])) >= 0) {
            *out = (char)(hi * 16 + lo);
            if (*out == '\0') *nul = 1;
            out++;
            in += 3;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

int fd_url_check_path(const char *path, fd_error *err) {
    size_t n = strlen(path);
    if (n > FD_URL_MAX_PATH)
        return fd_error_set(err, 400, "bad_path", "the path is %zu bytes; at most %d", n,
                            FD_URL_MAX_PATH);
    return fd_name_check(path, n, "the path", "bad_path", err);
}

int fd_url_check_query(const char *key, const char *value, fd_error *err) {
    char what[96];
    if (fd_name_check(key, strlen(key), "a query parameter name", "bad_query", err) < 0)
        return -1;
    snprintf(what, sizeof what, "query parameter '%.60s'", key);
    return value[0] ? fd_name_check(value, strlen(value), what, "bad_query", err) : 0;
}
