/* Which scope each route needs and which request bodies it takes (policy.h). The README's
 * "Authentication" table is this one; tests/unit/test_policy.c checks that every route of
 * the router has exactly one row here and every row a route.
 *
 * Scopes: open (0) for the probes and the API description; read for every GET and for
 * scoring a body (POST .../score changes nothing); ingest for data writes; train for
 * declaring, training, importing versions, backtests and cancelling jobs; admin for what
 * changes what production is served or destroys history (labels, retire, delete model). */
#include <string.h>

#include "factord/tokens.h"
#include "policy.h"

#define JSON "application/json"
#define CSV "text/csv,application/csv"
/* Uploads of CSV files also take them gzipped as they are (src/http/body_decode.h). */
#define CSV_FILE CSV ",application/gzip,application/x-gzip"

const fd_route_rule fd_route_rules[] = {
    {"GET", "/livez", 0, NULL},
    {"GET", "/readyz", 0, NULL},
    {"GET", "/metrics", FD_SCOPE_READ, NULL},
    {"GET", "/openapi.json", 0, NULL},

    {"GET", "/v1/panels", FD_SCOPE_READ, NULL},
    {"GET", "/v1/panels/{month}", FD_SCOPE_READ, NULL},
    {"PUT", "/v1/panels/{month}", FD_SCOPE_INGEST, CSV_FILE "," JSON},
    {"DELETE", "/v1/panels/{month}", FD_SCOPE_INGEST, NULL},
    {"POST", "/v1/panels/build", FD_SCOPE_INGEST, JSON},
    {"GET", "/v1/factors", FD_SCOPE_READ, NULL},
    /* ?format= names the body's format, so a raw download may say octet-stream. */
    {"PUT", "/v1/factors", FD_SCOPE_INGEST, CSV_FILE "," JSON ",application/octet-stream"},
    {"GET", "/v1/prices", FD_SCOPE_READ, NULL},
    {"PUT", "/v1/prices", FD_SCOPE_INGEST, CSV_FILE},
    {"POST", "/v1/import", FD_SCOPE_INGEST, CSV_FILE},
    {"PUT", "/v1/import", FD_SCOPE_INGEST, CSV_FILE},

    {"GET", "/v1/models", FD_SCOPE_READ, NULL},
    {"POST", "/v1/models", FD_SCOPE_TRAIN, JSON},
    {"GET", "/v1/models/{model}", FD_SCOPE_READ, NULL},
    {"DELETE", "/v1/models/{model}", FD_SCOPE_ADMIN, NULL},
    {"POST", "/v1/models/{model}/train", FD_SCOPE_TRAIN, JSON},
    {"GET", "/v1/models/{model}/versions", FD_SCOPE_READ, NULL},
    {"GET", "/v1/models/{model}/versions/{version}", FD_SCOPE_READ, NULL},
    {"GET", "/v1/models/{model}/versions/{version}/artifact", FD_SCOPE_READ, NULL},
    {"POST", "/v1/models/{model}/versions", FD_SCOPE_TRAIN,
     "application/vnd.factord.artifact,application/octet-stream"},
    {"POST", "/v1/models/{model}/versions/{version}/retire", FD_SCOPE_ADMIN, JSON},
    {"GET", "/v1/models/{model}/labels", FD_SCOPE_READ, NULL},
    {"PUT", "/v1/models/{model}/labels/{label}", FD_SCOPE_ADMIN, JSON},
    {"DELETE", "/v1/models/{model}/labels/{label}", FD_SCOPE_ADMIN, NULL},
    {"GET", "/v1/jobs", FD_SCOPE_READ, NULL},
    {"GET", "/v1/jobs/{id}", FD_SCOPE_READ, NULL},
    {"DELETE", "/v1/jobs/{id}", FD_SCOPE_TRAIN, NULL},

    {"GET", "/v1/models/{model}/betas", FD_SCOPE_READ, NULL},
    {"GET", "/v1/models/{model}/factors", FD_SCOPE_READ, NULL},
    {"GET", "/v1/models/{model}/expected-returns", FD_SCOPE_READ, NULL},
    {"GET", "/v1/models/{model}/deciles", FD_SCOPE_READ, NULL},
    {"POST", "/v1/models/{model}/score", FD_SCOPE_READ, "text/csv," JSON},
    {"GET", "/v1/models/{model}/evaluation", FD_SCOPE_READ, NULL},

    {"POST", "/v1/backtests", FD_SCOPE_TRAIN, JSON},
    {"GET", "/v1/backtests", FD_SCOPE_READ, NULL},
    {"GET", "/v1/backtests/{id}", FD_SCOPE_READ, NULL},
    {"GET", "/v1/backtests/{id}/evaluation", FD_SCOPE_READ, NULL},
    {"GET", "/v1/backtests/{id}/returns", FD_SCOPE_READ, NULL},
    {"GET", "/v1/compare", FD_SCOPE_READ, NULL},

    /* The dashboard's static files: open, the page asks for a token and sends it itself. */
    {"GET", "/ui", 0, NULL},
    {"GET", "/ui/", 0, NULL},
    {"GET", "/ui/{file}", 0, NULL},

    /* Served only with FACTORD_DEBUG_ROUTES=1; bodies unchecked (tests send raw bytes). */
    {"GET", "/v1/debug/etag", FD_SCOPE_ADMIN, NULL},
    {"GET", "/v1/debug/sleep", FD_SCOPE_ADMIN, NULL},
    {"POST", "/v1/debug/echo", FD_SCOPE_ADMIN, NULL},
    {"PUT", "/v1/debug/spool", FD_SCOPE_ADMIN, NULL},
    {"POST", "/v1/debug/late-write", FD_SCOPE_ADMIN, NULL},
    {NULL, NULL, 0, NULL},
};

const fd_route_rule *fd_route_rule_for(const char *method, const char *pattern) {
    for (const fd_route_rule *r = fd_route_rules; r->method; r++)
        if (strcmp(r->method, method) == 0 && strcmp(r->pattern, pattern) == 0) return r;
    return NULL;
}
