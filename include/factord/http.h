/* The HTTP layer's contract with handlers.
 *
 * The server (src/http/server.c) runs libmicrohttpd in external-epoll mode on the libuv
 * loop. For every request it buffers the body (up to the configured limit; 413 before
 * reading when Content-Length is larger), copies the headers and query arguments into an
 * fd_request, matches a route and calls the handler:
 *   - FD_ROUTE_INLINE: on the loop thread (only for trivial handlers such as /livez);
 *   - default: on a libuv worker thread with the connection suspended, under a deadline;
 *   - FD_ROUTE_SPOOL: like the default, but the body is streamed to a temporary file
 *     (constant memory, no body limit beyond the configured spool limit) and the handler
 *     receives its path in body_path instead of body.
 * The handler fills the fd_response; the server sends it and frees both.
 * Handlers must not touch libmicrohttpd or libuv objects. */
#ifndef FACTORD_HTTP_H
#define FACTORD_HTTP_H

#include <jansson.h>
#include <stddef.h>

#include "factord/clock.h"
#include "factord/error.h"

typedef struct fd_app fd_app;

typedef struct fd_kv {
    char *key;   /* header names lower-case */
    char *value;
} fd_kv;

#define FD_MAX_PARAMS 4

typedef struct fd_request {
    const char *method;          /* "GET", "PUT", ... */
    const char *path;            /* URL path without the query string */
    char *params[FD_MAX_PARAMS]; /* path captures in pattern order ({month}, {name}, ...) */
    int n_params;
    fd_kv *query;                /* (n_query) decoded query arguments */
    size_t n_query;
    fd_kv *headers;              /* (n_headers) */
    size_t n_headers;
    char *body;                  /* NUL-terminated body (buffered routes), or NULL if empty */
    size_t body_len;
    const char *body_path;       /* FD_ROUTE_SPOOL: file holding the body; removed afterwards */
    fd_app *app;
    /* fd_now() value after which the work should give up. The loop thread may bring it
     * forward while the handler runs (the client went away, the drain ran out of time), so
     * long work re-reads it: see fd_request_expired. */
    _Atomic double deadline;
} fd_request;

#define FD_RESPONSE_MAX_HEADERS 16

typedef struct fd_response {
    int status;
    const char *content_type; /* static string; NULL means application/json */
    char *body;               /* malloc'd, owned by the response */
    size_t body_len;
    char etag[80];            /* sent as ETag when not empty */
    char location[256];       /* sent as Location when not empty */
    char cache_control[64];   /* sent as Cache-Control when not empty */
    fd_kv headers[FD_RESPONSE_MAX_HEADERS]; /* more headers (fd_response_header), owned */
    size_t n_headers;
} fd_response;

typedef void (*fd_handler_fn)(fd_request *req, fd_response *resp);

enum { FD_ROUTE_WORKER = 0, FD_ROUTE_INLINE = 1, FD_ROUTE_SPOOL = 2 };

typedef struct fd_route {
    const char *method;  /* NULL terminates a route table */
    const char *pattern; /* "/v1/panels/{month}": {x} captures one path segment */
    fd_handler_fn fn;
    unsigned flags;
} fd_route;

const char *fd_request_query(const fd_request *req, const char *key);   /* NULL if absent */
/* A boolean query flag (?force=1): 1, true or yes -> 1; absent, 0, false or no -> 0;
 * anything else -1 with a 400 "bad_parameter" error. */
int fd_request_flag(const fd_request *req, const char *key, int *out, fd_error *err);
const char *fd_request_header(const fd_request *req, const char *name); /* case-insensitive */
/* Media type of Content-Type without parameters, lower-case ("text/csv"), or "" if none. */
void fd_request_content_type(const fd_request *req, char *out, size_t cap);
/* The media type of a Content-Type value without parameters, trimmed and lower-cased. */
void fd_media_type(const char *value, char *out, size_t cap);
/* 1 if the Accept header prefers `type` (e.g. "text/csv") over JSON. */
int fd_request_accepts(const fd_request *req, const char *type);

/* Response builders; each replaces any body already set. */
void fd_response_json(fd_response *resp, int status, json_t *doc); /* steals doc */
void fd_response_text(fd_response *resp, int status, const char *content_type, char *body,
                      size_t len); /* takes ownership of body */
/* {"error":{"code":...,"message":...}} */
void fd_response_error(fd_response *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void fd_response_from_error(fd_response *resp, const fd_error *err);
/* Sets a response header (both strings copied), replacing an earlier value of the same name
 * (case-insensitive). Values with CR or LF are refused. Returns -1 when the response has
 * FD_RESPONSE_MAX_HEADERS already, on a bad value or out of memory. Headers survive the
 * builders above, so set them once the answer is known to be a success. */
int fd_response_header(fd_response *resp, const char *name, const char *value);
const char *fd_response_get_header(const fd_response *resp, const char *name); /* or NULL */

/* Route tables, one per resource file (src/http/h_*.c), each ending in {NULL}. The router
 * (src/http/router.c) lists them in fd_route_tables. */
extern const fd_route fd_routes_health[];
extern const fd_route fd_routes_metrics[]; /* src/http/h_metrics.c */
extern const fd_route fd_routes_openapi[]; /* src/http/h_openapi.c: GET /openapi.json */
extern const fd_route fd_routes_models[]; /* src/http/h_models.c */
extern const fd_route fd_routes_jobs[];   /* src/http/h_jobs.c */
extern const fd_route fd_routes_panels[];  /* src/http/h_panels.c */
extern const fd_route fd_routes_factors[]; /* src/http/h_factors.c */
extern const fd_route fd_routes_import[];  /* src/http/h_import.c */
extern const fd_route fd_routes_prices[]; /* src/http/h_prices.c */
extern const fd_route fd_routes_score[];      /* src/http/h_score.c */
extern const fd_route fd_routes_labels[];     /* src/http/h_labels.c */
extern const fd_route fd_routes_evaluation[]; /* src/http/h_evaluation.c */
extern const fd_route fd_routes_backtests[];  /* src/http/h_backtests.c: backtests, compare */
extern const fd_route fd_routes_ui[];         /* src/http/h_ui.c: the dashboard at /ui */

#endif
