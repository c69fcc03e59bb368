/* Health and operations: /livez (the loop answers), /readyz (the daemon can serve: a
 * pooled database connection, migrations current, not draining) and /metrics (Prometheus
 * text exposition format 0.0.4). */
#include <stdio.h>
#include <stdlib.h>

#include "factord/app.h"
#include "factord/http.h"
#include "factord/registry.h"
#include "factord/server.h"
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

static void metrics(fd_request *req, fd_response *resp) {
    static const char *const classes[] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};
    fd_http_counters c;
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) {
        fd_response_error(resp, 500, "internal", "out of memory");
        return;
    }
    fd_http_counters_get(&c);
    fputs("# HELP factord_http_requests_total HTTP requests answered, by status class.\n"
          "# TYPE factord_http_requests_total counter\n", out);
    for (int i = 1; i <= 5; i++)
        fprintf(out, "factord_http_requests_total{code=\"%s\"} %llu\n", classes[i],
                c.by_class[i]);
    fprintf(out,
            "# HELP factord_http_request_timeouts_total Requests answered 503 by their deadline.\n"
            "# TYPE factord_http_request_timeouts_total counter\n"
            "factord_http_request_timeouts_total %llu\n"
            "# HELP factord_http_requests_in_flight Requests received and not yet completed.\n"
            "# TYPE factord_http_requests_in_flight gauge\n"
            "factord_http_requests_in_flight %ld\n"
            "# HELP factord_uptime_seconds Seconds since the server started listening.\n"
            "# TYPE factord_uptime_seconds gauge\n"
            "factord_uptime_seconds %.3f\n"
            "# HELP factord_draining 1 while the server drains before stopping.\n"
            "# TYPE factord_draining gauge\n"
            "factord_draining %d\n",
            c.timeouts, c.in_flight, c.uptime, atomic_load(&req->app->draining) ? 1 : 0);
    if (req->app->registry) {
        size_t loaded, live;
        fd_registry_counts(req->app->registry, &loaded, &live);
        fprintf(out,
                "# HELP factord_model_versions_loaded Model versions ready in memory.\n"
                "# TYPE factord_model_versions_loaded gauge\n"
                "factord_model_versions_loaded %zu\n"
                "# HELP factord_model_versions_live Version objects alive, incl. retired ones "
                "still held by requests.\n"
                "# TYPE factord_model_versions_live gauge\n"
                "factord_model_versions_live %zu\n",
                loaded, live);
    }
    if (fclose(out) != 0) {
        free(text);
        fd_response_error(resp, 500, "internal", "out of memory");
        return;
    }
    fd_response_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    snprintf(resp->cache_control, sizeof resp->cache_control, "no-store");
}

const fd_route fd_routes_health[] = {
    {"GET", "/livez", livez, FD_ROUTE_INLINE},
    {"GET", "/readyz", readyz, FD_ROUTE_WORKER},
    {"GET", "/metrics", metrics, FD_ROUTE_INLINE},
    {NULL, NULL, NULL, 0},
};
