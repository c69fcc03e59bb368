/* Route matching for the HTTP server. Patterns are absolute paths whose segments are either
 * literal or a `{name}` capture of exactly one non-empty segment ("/v1/panels/{month}").
 * HEAD matches GET routes. The tables the daemon serves are listed in fd_route_tables
 * (src/http/router.c). Pure functions: callable from any thread. */
#ifndef FACTORD_ROUTER_H
#define FACTORD_ROUTER_H

#include <stddef.h>

#include "factord/http.h"

typedef struct fd_route_match {
    const fd_route *route;        /* set when the status is 200 */
    char *params[FD_MAX_PARAMS];  /* malloc'd captures; fd_route_match_free releases them */
    int n_params;
    char allow[96];               /* 405: the methods the path accepts, "GET, HEAD, PUT" */
} fd_route_match;

/* NULL-terminated list of the daemon's route tables. */
extern const fd_route *const fd_route_tables[];

/* Debug-only routes (/v1/debug/sleep, /v1/debug/echo, /v1/debug/spool, /v1/debug/etag,
 * /v1/debug/late-write),
 * served only after fd_router_enable_debug(1)
 * (`factord serve` does so when FACTORD_DEBUG_ROUTES=1). Call before serving starts. */
extern const fd_route fd_routes_debug[];
void fd_router_enable_debug(int enabled);

/* Matches method and path against `tables` (NULL-terminated). Returns 200 with m->route
 * and the captures set, 404 when no pattern matches the path, 405 when patterns match the
 * path but none for this method (m->allow lists the ones that would), or 500 when the
 * captures cannot be allocated. The caller frees m with fd_route_match_free. */
int fd_router_match(const fd_route *const *tables, const char *method, const char *path,
                    fd_route_match *m);
/* fd_router_match over fd_route_tables, plus fd_routes_debug when enabled. */
int fd_router_match_app(const char *method, const char *path, fd_route_match *m);
void fd_route_match_free(fd_route_match *m);

#endif
