/* Response builders for handlers (any thread; a response belongs to one request). */
#include "factord/http.h"
#include "factord/json_write.h"
#include "factord/text.h"
#include "server_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void set_body(fd_response *resp, int status, const char *content_type, char *body,
                     size_t len) {
    free(resp->body);
    resp->status = status;
    resp->content_type = content_type;
    resp->body = body;
    resp->body_len = len;
}

/* The error document for when even building a response fails: a static copy, so an
 * allocation failure still gets a well-formed answer. */
static void set_internal_error(fd_response *resp) {
    static const char doc[] =
        "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory building the response\"}}";
    char *copy = malloc(sizeof doc);
    if (copy) memcpy(copy, doc, sizeof doc);
    set_body(resp, 500, NULL, copy, copy ? sizeof doc - 1 : 0);
}

void fd_response_json(fd_response *resp, int status, json_t *doc) {
    char *text = doc ? fd_json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(doc);
    if (!text) {
        set_internal_error(resp);
        return;
    }
    set_body(resp, status, NULL, text, strlen(text));
}

void fd_response_text(fd_response *resp, int status, const char *content_type, char *body,
                      size_t len) {
    set_body(resp, status, content_type, body, len);
}

/* Messages quote client input, which may not be UTF-8 (or was cut mid-character by the
 * buffer size); JSON strings must be, so every byte of a malformed sequence becomes '?'. */
static void utf8_sanitize(char *s) {
    size_t left = strlen(s);
    while (left > 0) {
        size_t ok = fd_utf8_valid_prefix(s, left);
        s += ok;
        left -= ok;
        if (left > 0) {
            *s++ = '?';
            left--;
        }
    }
}

static void response_verror(fd_response *resp, int status, const char *code, const char *fmt,
                            va_list ap) {
    char message[1024];
    vsnprintf(message, sizeof message, fmt, ap);
    utf8_sanitize(message);
    fd_response_json(resp, status,
                     json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message));
}

void fd_response_error(fd_response *resp, int status, const char *code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    response_verror(resp, status, code, fmt, ap);
    va_end(ap);
}

void fd_response_from_error(fd_response *resp, const fd_error *err) {
    int status = err->status >= 400 && err->status <= 599 ? err->status : 500;
    fd_response_error(resp, status, err->code[0] ? err->code : "internal", "%s", err->message);
}

const char *fd_response_get_header(const fd_response *resp, const char *name) {
    for (size_t i = 0; i < resp->n_headers; i++)
        if (strcasecmp(resp->headers[i].key, name) == 0) return resp->headers[i].value;
    return NULL;
}

int fd_response_header(fd_response *resp, const char *name, const char *value) {
    char *copy;
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) return -1;
    for (size_t i = 0; i < resp->n_headers; i++) {
        if (strcasecmp(resp->headers[i].key, name) != 0) continue;
        if (!(copy = strdup(value))) return -1;
        free(resp->headers[i].value);
        resp->headers[i].value = copy;
        return 0;
    }
    if (resp->n_headers == FD_RESPONSE_MAX_HEADERS) return -1;
    resp->headers[resp->n_headers].key = strdup(name);
    resp->headers[resp->n_headers].value = strdup(value);
    if (!resp->headers[resp->n_headers].key || !resp->headers[resp->n_headers].value) {
        free(resp->headers[resp->n_headers].key);
        free(resp->headers[resp->n_headers].value);
        return -1;
    }
    resp->n_headers++;
    return 0;
}

void fd_response_release(fd_response *resp) {
    for (size_t i = 0; i < resp->n_headers; i++) {
        free(resp->headers[i].key);
        free(resp->headers[i].value);
    }
    free(resp->body);
    memset(resp, 0, sizeof *resp);
}
