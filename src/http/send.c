/* Turning an fd_response into a libmicrohttpd response, or into the bytes of a whole
 * answer for the direct writer (direct.c), with the headers every answer carries;
 * conditional GETs (If-None-Match) are handled here once for every handler. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/textbuf.h"
#include "policy.h"
#include "server_internal.h"

/* 1 if an If-None-Match list ("a", W/"b", *) names the entity tag (weak comparison,
 * as RFC 9110 asks for If-None-Match). */
static int etag_matches(const char *list, const char *etag) {
    const char *tag = strncmp(etag, "W/", 2) == 0 ? etag + 2 : etag;
    size_t len = strlen(tag);
    const char *s = list;
    while (*s) {
        size_t n;
        while (*s == ' ' || *s == '\t' || *s == ',') s++;
        if (*s == '*') return 1;
        if (strncmp(s, "W/", 2) == 0) s += 2;
        n = strcspn(s, ",");
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
        if (n == len && strncmp(s, tag, len) == 0) return 1;
        s += strcspn(s, ",");
    }
    return 0;
}

typedef void (*header_fn)(void *ctx, const char *name, const char *value);

/* Applies the policy's headers and the conditional GET to resp; returns the status to send
 * (304 when If-None-Match names the ETag, the body then dropped). */
static int prepare(fd_server *srv, struct MHD_Connection *connection, fd_response *resp) {
    const char *inm = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "If-None-Match");
    fd_policy_decorate(&srv->app->cfg,
                       MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Origin"), resp);
    if (resp->status == 200 && resp->etag[0] && inm && etag_matches(inm, resp->etag)) {
        free(resp->body);
        resp->body = NULL;
        resp->body_len = 0;
        return 304;
    }
    return resp->status;
}

/* Every header an answer carries, in one place for both ways of sending it. */
static void each_header(fd_server *srv, const fd_response *resp, int status,
                        const char *request_id, const char *allow, header_fn fn, void *ctx) {
#define PUT(name, value)                            \
    do {                                            \
        const char *v_ = (value);                   \
        if (v_ && *v_) fn(ctx, (name), v_);         \
    } while (0)
    if (status != 304 && status != 204)
        PUT(MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type ? resp->content_type : "application/json");
    PUT(MHD_HTTP_HEADER_ETAG, resp->etag);
    PUT(MHD_HTTP_HEADER_LOCATION, resp->location);
    PUT(MHD_HTTP_HEADER_CACHE_CONTROL, resp->cache_control);
    PUT("X-Request-Id", request_id);
    for (size_t i = 0; i < resp->n_headers; i++) PUT(resp->headers[i].key, resp->headers[i].value);
    if (status == 405) PUT(MHD_HTTP_HEADER_ALLOW, allow);
    /* While draining, tell keep-alive clients to reconnect elsewhere. */
    if (atomic_load(&srv->app->draining)) PUT(MHD_HTTP_HEADER_CONNECTION, "close");
#undef PUT
}

static void add_mhd_header(void *ctx, const char *name, const char *value) {
    MHD_add_response_header(ctx, name, value);
}

int fd_send_response(fd_server *srv, struct MHD_Connection *connection, fd_response *resp,
                     const char *request_id, const char *allow) {
    struct MHD_Response *r;
    int status = prepare(srv, connection, resp);
    enum MHD_Result queued;
    if (resp->body)
        r = MHD_create_response_from_buffer(resp->body_len, resp->body, MHD_RESPMEM_MUST_FREE);
    else
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!r) {
        fd_response_release(resp);
        return 0;
    }
    resp->body = NULL; /* libmicrohttpd frees it now */
    resp->body_len = 0;
    each_header(srv, resp, status, request_id, allow, add_mhd_header, r);
    queued = MHD_queue_response(connection, (unsigned)status, r);
    MHD_destroy_response(r);
    return queued == MHD_YES ? status : 0;
}

static void put_text_header(void *ctx, const char *name, const char *value) {
    fd_textbuf_puts(ctx, name);
    fd_textbuf_puts(ctx, ": ");
    fd_textbuf_puts(ctx, value);
    fd_textbuf_puts(ctx, "\r\n");
}

char *fd_serialize_response(fd_server *srv, struct MHD_Connection *connection,
                            fd_response *resp, const char *request_id, const char *allow,
                            int *status, size_t *len) {
    fd_textbuf b;
    char line[96];
    const char *reason;
    *status = prepare(srv, connection, resp);
    reason = MHD_get_reason_phrase_for((unsigned)*status);
    fd_textbuf_init(&b);
    snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", *status, reason && *reason ? reason : "-");
    fd_textbuf_puts(&b, line);
    each_header(srv, resp, *status, request_id, allow, put_text_header, &b);
    snprintf(line, sizeof line, "Content-Length: %zu\r\nConnection: close\r\n\r\n",
             resp->body ? resp->body_len : 0);
    fd_textbuf_puts(&b, line);
    if (resp->body) fd_textbuf_put(&b, resp->body, resp->body_len);
    fd_response_release(resp);
    if (b.oom) {
        fd_textbuf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data;
}
