/* The route tables the daemon serves, and path matching.
 *
 * To add a resource: write src/http/h_<resource>.c with a table
 *     const fd_route fd_routes_<resource>[] = {{"GET", "/v1/<resource>", handler, 0}, ...,
 *                                             {NULL, NULL, NULL, 0}};
 * declare it in include/factord/http.h next to fd_routes_health, and add one line
 * `fd_routes_<resource>,` to fd_route_tables below (only tables that exist, so the tree
 * keeps linking). Earlier tables win when two patterns match the same path. */
#include "factord/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const fd_route *const fd_route_tables[] = {
    fd_routes_health,
    fd_routes_metrics,
    fd_routes_openapi,
    fd_routes_models,
    fd_routes_jobs,
    fd_routes_prices,
    fd_routes_panels,
    fd_routes_factors,
    fd_routes_import,
    fd_routes_score,
    fd_routes_labels,
    fd_routes_evaluation,
    fd_routes_backtests,
    fd_routes_ui,
    NULL,
};

static int debug_enabled;

void fd_router_enable_debug(int enabled) { debug_enabled = enabled; }

typedef struct capture {
    const char *start;
    size_t len;
} capture;

/* 1 if path fits pattern; captures point into path. */
static int pattern_match(const char *pattern, const char *path, capture caps[FD_MAX_PARAMS],
                         int *n_caps) {
    const char *p = pattern, *s = path;
    *n_caps = 0;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t len = strcspn(s, "/");
            if (!close || len == 0 || *n_caps == FD_MAX_PARAMS) return 0;
            caps[*n_caps].start = s;
            caps[*n_caps].len = len;
            (*n_caps)++;
            p = close + 1;
            s += len;
        } else if (*p++ != *s++) {
            return 0;
        }
    }
    return *p == '\0' && *s == '\0';
}

static int method_fits(const char *route_method, const char *method) {
    return strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

static void allow_add(char *allow, size_t cap, const char *method) {
    size_t n = strlen(method), used = strlen(allow);
    for (const char *a = allow; (a = strstr(a, method)) != NULL; a += n)
        if ((a == allow || a[-1] == ' ') && (a[n] == ',' || a[n] == '\0')) return;
    if (used + n + 3 < cap) snprintf(allow + used, cap - used, "%s%s", used ? ", " : "", method);
}

int fd_router_match(const fd_route *const *tables, const char *method, const char *path,
                    fd_route_match *m) {
    capture caps[FD_MAX_PARAMS];
    int n_caps, path_known = 0;
    memset(m, 0, sizeof *m);
    for (const fd_route *const *t = tables; *t; t++) {
        for (const fd_route *r = *t; r->method; r++) {
            if (!pattern_match(r->pattern, path, caps, &n_caps)) continue;
            path_known = 1;
            if (!method_fits(r->method, method)) {
                allow_add(m->allow, sizeof m->allow, r->method);
                if (strcmp(r->method, "GET") == 0) allow_add(m->allow, sizeof m->allow, "HEAD");
                continue;
            }
            for (int i = 0; i < n_caps; i++) {
                m->params[i] = strndup(caps[i].start, caps[i].len);
                if (!m->params[i]) {
                    fd_route_match_free(m);
                    return 500;
                }
                m->n_params = i + 1;
            }
            m->route = r;
            m->allow[0] = '\0';
            return 200;
        }
    }
    return path_known ? 405 : 404;
}

int fd_router_match_app(const char *method, const char *path, fd_route_match *m) {
    int status = fd_router_match(fd_route_tables, method, path, m);
    if (status == 404 && debug_enabled) {
        const fd_route *const debug_tables[] = {fd_routes_debug, NULL};
        status = fd_router_match(debug_tables, method, path, m);
    }
    return status;
}

void fd_route_match_free(fd_route_match *m) {
    for (int i = 0; i < m->n_params; i++) free(m->params[i]);
    memset(m, 0, sizeof *m);
}
