/* Turning an fd_response into a libmicrohttpd response with the headers every answer
 * carries; conditional GETs (If-None-Match) are handled here once for every handler. */
#include <stdlib.h>
#include <string.h>

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

static void add_header(struct MHD_Response *r, const char *name, const char *value) {
    if (value && *value) MHD_add_response_header(r, name, value);
}

int fd_send_response(fd_server *srv, struct MHD_Connection *connection, fd_response *resp,
                     const char *request_id, const char *allow) {
    const char *inm = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "If-None-Match");
    struct MHD_Response *r;
    int status = resp->status;
    enum MHD_Result queued;
    fd_policy_decorate(&srv->app->cfg,
                       MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Origin"), resp);
    if (status == 200 && resp->etag[0] && inm && etag_matches(inm, resp->etag)) {
        status = 304;
        free(resp->body);
        resp->body = NULL;
        resp->body_len = 0;
    }
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
    if (status != 304 && status != 204)
        add_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                   resp->content_type ? resp->content_type : "application/json");
    add_header(r, MHD_HTTP_HEADER_ETAG, resp->etag);
    add_header(r, MHD_HTTP_HEADER_LOCATION, resp->location);
    add_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, resp->cache_control);
    add_header(r, "X-Request-Id", request_id);
    for (size_t i = 0; i < resp->n_headers; i++)
        add_header(r, resp->headers[i].key, resp->headers[i].value);
    if (status == 405) add_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    /* While draining, tell keep-alive clients to reconnect elsewhere. */
    if (atomic_load(&srv->app->draining)) add_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    queued = MHD_queue_response(connection, (unsigned)status, r);
    MHD_destroy_response(r);
    return queued == MHD_YES ? status : 0;
}
