/* Request policy, checked by the server before a request's body is read (conn.c calls
 * fd_policy_check once routing is done) and on every answer (fd_policy_decorate):
 *
 *   Host        the Host header's name must be in allowed_hosts (default the loopback
 *               names; the listen address counts too): 421 "host_not_allowed". This is
 *               what stops a DNS-rebinding page from talking to a loopback listener.
 *   OPTIONS     answered here: a CORS preflight from an origin in cors_origins gets 204
 *               with the allowed methods and headers; one from any other origin 403
 *               "origin_not_allowed"; a plain OPTIONS 204 with Allow.
 *   Origin      a write (POST, PUT, PATCH, DELETE) whose Origin is neither the request's
 *               own Host (a page the daemon served) nor in cors_origins is refused 403
 *               "origin_not_allowed" (browsers send Origin on every cross-site write;
 *               command-line clients send none).
 *   auth        with auth = required, every route but the open ones (route_rules.c) needs
 *               "Authorization: Bearer <token>": 401 "unauthorized" when missing, malformed,
 *               unknown or revoked, 403 "insufficient_scope" when the token lacks the
 *               route's scope, both with WWW-Authenticate.
 *   Content-Type a write carrying a body must declare a media type its route accepts (415
 *               "unsupported_media_type"); the CORS-safelisted types a cross-site form can
 *               send (text/plain, form encodings) are accepted by no route.
 *
 * Loop thread (reads the app's config and auth snapshot). */
#ifndef FACTORD_HTTP_POLICY_H
#define FACTORD_HTTP_POLICY_H

#include "factord/app.h"
#include "factord/http.h"

/* Which scope a route needs and which bodies it takes: one row per route of the router's
 * tables (a unit test holds the two together). */
typedef struct fd_route_rule {
    const char *method;
    const char *pattern;
    unsigned scope;            /* FD_SCOPE_* the route needs; 0 = open to anyone */
    const char *content_types; /* writes: accepted media types, "a,b"; NULL: not checked */
} fd_route_rule;

extern const fd_route_rule fd_route_rules[]; /* ends with {NULL} */
/* The rule of a route (method and pattern), or NULL when the table lacks it (such routes
 * need admin). */
const fd_route_rule *fd_route_rule_for(const char *method, const char *pattern);

typedef struct fd_policy_in {
    const char *method;
    const char *path;
    int route_status;         /* fd_router_match's answer: 200, 404, 405 */
    const fd_route *route;    /* when route_status is 200 */
    const char *allow;        /* for 405 and OPTIONS: the methods the path accepts */
    int has_body;             /* Content-Length > 0 or chunked */
    /* Request header by name (case-insensitive), NULL when absent. */
    const char *(*header)(void *ctx, const char *name);
    void *ctx;
} fd_policy_in;

/* Returns 0 to go on with the request, or the status of the answer it wrote into resp
 * (error document and headers). *who (65 bytes) receives the authenticated token's name,
 * or "" when none. */
int fd_policy_check(fd_app *app, const fd_policy_in *in, fd_response *resp, char who[65]);

/* Adds the CORS headers an answer to a request from `origin` (NULL when none) carries. */
void fd_policy_decorate(const fd_config *cfg, const char *origin, fd_response *resp);

/* 1 if `name` (a Host header's host part, no port or brackets) is allowed by cfg. */
int fd_policy_host_allowed(const fd_config *cfg, const char *name, size_t len);
/* 1 if `origin` is listed in cfg->cors_origins. */
int fd_policy_origin_allowed(const fd_config *cfg, const char *origin);

#endif
