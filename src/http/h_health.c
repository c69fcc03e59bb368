/* Health: /livez (the loop answers) and /readyz (the daemon can serve: a pooled database
 * connection, migrations current, not draining). /metrics is h_metrics.c. */
#include <stdio.h>
#include <stdlib.h>

#include "factord/app.h"
#include "factord/http.h"
#include "factord/store.h"

/* Inline on the loop thread: answering at all is the proof of liveness. */
static void livez(fd_request *req, fd_response *resp) {
    (void)req;
    fd_response_json(resp, 200, json_pack("{s:s}", "status", "ok"));
    snprintf(resp->cache_control, sizeof resp->cache_control, "no-store");
}

/* On a worker: acquiring a connection may wait on the pool. */
static void readyz(fd_request *req, fd_response *resp) {
    fd_app *app = req->app;
    fd_error err;
    fd_db *db;
    int have, want;
    snprintf(resp->cache_control, sizeof resp->cache_control, "no-store");
    if (atomic_load(&app->draining)) {
        fd_response_error(resp, 503, "draining", "the server is shutting down");
        return;
    }
    db = fd_app_db_acquire(app, &err);
    if (!db) {
        fd_response_error(resp, 503, "db_unavailable", "no database connection: %s", err.message);
        return;
    }
    have = fd_db_schema_version(db);
    want = fd_db_binary_schema_version();
    fd_app_db_release(app, db);
    if (have != want) {
        fd_response_error(resp, 503, "migrations_pending",
                          "database schema version %d, this binary needs %d", have, want);
        return;
    }
    fd_response_json(resp, 200, json_pack("{s:s,s:i}", "status", "ready", "schema_version", have));
}

const fd_route fd_routes_health[] = {
    {"GET", "/livez", livez, FD_ROUTE_INLINE},
    {"GET", "/readyz", readyz, FD_ROUTE_WORKER},
    {NULL, NULL, NULL, 0},
};
