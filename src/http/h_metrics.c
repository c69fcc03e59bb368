/* GET /metrics: Prometheus text exposition format 0.0.4, inline on the loop thread so a
 * scrape is answered even when every worker is busy: nothing here touches SQLite (the job
 * counts are a snapshot store_refresh.c re-reads every second). The families are listed in
 * docs/observability.md:
 * the build, HTTP by route, scoring by model and version, model versions in memory, jobs
 * by state, training durations and epochs (src/jobs), the database's size, the process,
 * and whatever subsystems registered (metrics.h: collectors and caches). */
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "factord/app.h"
#include "factord/http.h"
#include "factord/metrics.h"
#include "factord/registry.h"
#include "factord/server.h"
#include "factord/store_models.h"
#include "server_internal.h"

static void build_info(fd_metrics_out *o) {
    char lab[512] = "";
    fd_metrics_label(lab, sizeof lab, "version", fd_build_version());
    fd_metrics_label(lab, sizeof lab, "commit", fd_build_commit());
    fd_metrics_label(lab, sizeof lab, "sqlite", sqlite3_libversion());
    fd_metrics_label(lab, sizeof lab, "libmicrohttpd", MHD_get_version());
    fd_metrics_label(lab, sizeof lab, "libuv", uv_version_string());
    fd_metrics_label(lab, sizeof lab, "jansson", JANSSON_VERSION);
    fd_metrics_label(lab, sizeof lab, "libsodium", sodium_version_string());
    fd_metrics_family(o, "factord_build_info", "gauge",
                      "Always 1; the labels say which factord and libraries are running.");
    fd_metrics_sample(o, "factord_build_info", lab, 1);
}

static void server_state(fd_metrics_out *o, fd_app *app) {
    fd_http_counters c;
    fd_http_counters_get(&c);
    fd_metrics_family(o, "factord_http_request_timeouts_total", "counter",
                      "Requests answered 503 by their deadline.");
    fd_metrics_sample(o, "factord_http_request_timeouts_total", NULL, (double)c.timeouts);
    fd_metrics_family(o, "factord_http_requests_in_flight", "gauge",
                      "Requests received and not yet completed.");
    fd_metrics_sample(o, "factord_http_requests_in_flight", NULL, (double)c.in_flight);
    fd_metrics_family(o, "factord_uptime_seconds", "gauge",
                      "Seconds since the server started listening.");
    fd_metrics_sample(o, "factord_uptime_seconds", NULL, c.uptime);
    fd_metrics_family(o, "factord_draining", "gauge",
                      "1 while the server drains before stopping.");
    fd_metrics_sample(o, "factord_draining", NULL, atomic_load(&app->draining) ? 1 : 0);
    if (app->registry) {
        size_t loaded, live;
        fd_registry_counts(app->registry, &loaded, &live);
        fd_metrics_family(o, "factord_model_versions_loaded", "gauge",
                          "Model versions ready in memory.");
        fd_metrics_sample(o, "factord_model_versions_loaded", NULL, (double)loaded);
        fd_metrics_family(o, "factord_model_versions_live", "gauge",
                          "Version objects alive, incl. retired ones still held by requests.");
        fd_metrics_sample(o, "factord_model_versions_live", NULL, (double)live);
    }
}

/* The job counts {"kind": {"state": n}} as last read (guarded by jobs_mu). */
static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *jobs_counts;

int fd_metrics_jobs_refresh(fd_db *db, fd_error *err) {
    json_t *counts, *old;
    if (fd_store_job_state_counts(db, &counts, err) != 0) return -1;
    pthread_mutex_lock(&jobs_mu);
    old = jobs_counts;
    jobs_counts = counts;
    pthread_mutex_unlock(&jobs_mu);
    json_decref(old);
    return 0;
}

/* factord_jobs{kind,state}: every state of every kind seen, zeros included. */
static void jobs_by_state(fd_metrics_out *o) {
    json_t *counts, *per;
    const char *kind;
    pthread_mutex_lock(&jobs_mu);
    counts = jobs_counts ? json_deep_copy(jobs_counts) : json_object();
    pthread_mutex_unlock(&jobs_mu);
    /* The kinds a fresh database has no rows for still get their zeros. */
    if (!json_object_get(counts, "train")) json_object_set_new(counts, "train", json_object());
    if (!json_object_get(counts, "backtest"))
        json_object_set_new(counts, "backtest", json_object());
    fd_metrics_family(o, "factord_jobs", "gauge",
                      "Job rows by kind and state (read from the store every second).");
    json_object_foreach(counts, kind, per) {
        for (int i = 0; fd_job_state_name(i); i++) {
            char lab[256] = "";
            fd_metrics_label(lab, sizeof lab, "kind", kind);
            fd_metrics_label(lab, sizeof lab, "state", fd_job_state_name(i));
            fd_metrics_sample(o, "factord_jobs", lab,
                              (double)json_integer_value(json_object_get(per, fd_job_state_name(i))));
        }
    }
    json_decref(counts);
}

/* factord_db_size_bytes{file="main"|"wal"}: the database and its write-ahead log. */
static void db_size(fd_metrics_out *o, const char *path) {
    static const char *const files[] = {"main", "wal"};
    static const char *const suffix[] = {"", "-wal"};
    fd_metrics_family(o, "factord_db_size_bytes", "gauge",
                      "Size of the SQLite database file and of its write-ahead log.");
    for (int i = 0; i < 2; i++) {
        char name[600], lab[64] = "";
        struct stat st;
        snprintf(name, sizeof name, "%s%s", path, suffix[i]);
        fd_metrics_label(lab, sizeof lab, "file", files[i]);
        fd_metrics_sample(o, "factord_db_size_bytes", lab,
                          stat(name, &st) == 0 ? (double)st.st_size : 0);
    }
}

static void metrics(fd_request *req, fd_response *resp) {
    fd_metrics_out o;
    fd_textbuf_init(&o.buf);
    build_info(&o);
    server_state(&o, req->app);
    fd_http_metrics_write(&o);
    jobs_by_state(&o);
    db_size(&o, req->app->cfg.db_path);
    fd_metrics_process(&o);
    fd_metrics_collect(&o);
    if (o.buf.oom) {
        fd_textbuf_free(&o.buf);
        fd_response_error(resp, 500, "out_of_memory", "metrics page");
        return;
    }
    fd_response_text(resp, 200, "text/plain; version=0.0.4; charset=utf-8", o.buf.data,
                     o.buf.len);
    snprintf(resp->cache_control, sizeof resp->cache_control, "no-store");
}

const fd_route fd_routes_metrics[] = {
    {"GET", "/metrics", metrics, FD_ROUTE_INLINE},
    {NULL, NULL, NULL, 0},
};
