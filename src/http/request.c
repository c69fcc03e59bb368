/* Read-only accessors over fd_request for handlers (any thread). */
#include "factord/http.h"
#include "server_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *fd_request_query(const fd_request *req, const char *key) {
    for (size_t i = 0; i < req->n_query; i++)
        if (strcmp(req->query[i].key, key) == 0) return req->query[i].value;
    return NULL;
}

int fd_request_flag(const fd_request *req, const char *key, int *out, fd_error *err) {
    const char *v = fd_request_query(req, key);
    *out = 0;
    if (!v || !strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no")) return 0;
    if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !*v) return (*out = 1), 0;
    return fd_error_set(err, 400, "bad_parameter", "%s=\"%.40s\": expected 1 or 0", key, v);
}

const char *fd_request_header(const fd_request *req, const char *name) {
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].key, name) == 0) return req->headers[i].value;
    return NULL;
}

/* Copies the media type at s (up to ';' or ','), trimmed and lower-cased; returns the end. */
static const char *media_type(const char *s, char *out, size_t cap) {
    size_t n = 0;
    while (*s == ' ' || *s == '\t') s++;
    for (; *s && *s != ';' && *s != ','; s++)
        if (!isspace((unsigned char)*s) && n + 1 < cap) out[n++] = (char)tolower((unsigned char)*s);
    if (cap) out[n < cap ? n : cap - 1] = '\0';
    return s;
}

void fd_media_type(const char *value, char *out, size_t cap) {
    if (cap == 0) return;
    out[0] = '\0';
    media_type(value, out, cap);
}

void fd_request_content_type(const fd_request *req, char *out, size_t cap) {
    const char *ct = fd_request_header(req, "content-type");
    if (cap == 0) return;
    out[0] = '\0';
    if (ct) media_type(ct, out, cap);
}

/* How well the Accept header takes `type`: its q value (x1000) and the specificity of the
 * range that matched (3 exact, 2 a "type/any" range, 1 the "any/any" range, 0 none),
 * and the position of that range in the list, for ties. */
typedef struct accept_fit {
    int q, specificity, position;
} accept_fit;

static int parse_q(const char *params, const char *end) {
    const char *q = params;
    while ((q = strstr(q, "q=")) != NULL && q < end) {
        if (q == params || q[-1] == ';' || q[-1] == ' ') {
            double v = strtod(q + 2, NULL);
            if (v < 0) v = 0;
            if (v > 1) v = 1;
            return (int)(v * 1000 + 0.5);
        }
        q += 2;
    }
    return 1000;
}

static accept_fit accept_fit_for(const char *accept, const char *type) {
    accept_fit best = {0, 0, 0};
    const char *slash = strchr(type, '/');
    size_t major = slash ? (size_t)(slash - type) : strlen(type);
    int position = 0;
    const char *s = accept;
    while (*s) {
        char range[128];
        const char *params = media_type(s, range, sizeof range), *end = strchr(params, ',');
        int spec = 0;
        if (!end) end = params + strlen(params);
        position++;
        if (strcmp(range, type) == 0) spec = 3;
        else if (strncmp(range, type, major) == 0 && strcmp(range + major, "/*") == 0) spec = 2;
        else if (strcmp(range, "*/*") == 0) spec = 1;
        if (spec > best.specificity) {
            best.specificity = spec;
            best.q = parse_q(params, end);
            best.position = position;
        }
        s = *end ? end + 1 : end;
    }
    return best;
}

int fd_request_accepts(const fd_request *req, const char *type) {
    const char *accept = fd_request_header(req, "accept");
    accept_fit want, json;
    if (!accept) return 0;
    want = accept_fit_for(accept, type);
    json = accept_fit_for(accept, "application/json");
    if (want.q == 0) return 0;
    if (want.q != json.q) return want.q > json.q;
    if (want.specificity != json.specificity) return want.specificity > json.specificity;
    return want.position < json.position;
}

static void kv_free(fd_kv *kv, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

void fd_request_release(fd_request *req) {
    for (int i = 0; i < req->n_params; i++) free(req->params[i]);
    kv_free(req->query, req->n_query);
    kv_free(req->headers, req->n_headers);
    free(req->body);
    memset(req, 0, sizeof *req);
}
