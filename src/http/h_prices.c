/* Daily bars and the panels built from them:
 *   PUT  /v1/prices                  CSV ticker,date,open,high,low,close,volume (streamed to
 *                                    a spool file), upserted all at once (store_prices.h);
 *   GET  /v1/prices                  what is stored (rows, first and last date);
 *   POST /v1/panels/build?from=YYYY-MM&to=YYYY-MM[&outliers=cap|drop|keep&max_abs_ret=x]
 *                                    202 and a job that builds monthly panels from the stored
 *                                    bars (docs/characteristics.md; outliers: docs/outliers.md).
 * Bad input is a 4xx naming the line or parameter and stores nothing. */
#include <stdlib.h>
#include <string.h>

#include "factord/app.h"
#include "factord/build_job.h"
#include "factord/http.h"
#include "factord/store_prices.h"

static int csv_content_type(const fd_request *req) {
    char type[64];
    fd_request_content_type(req, type, sizeof type);
    return type[0] == '\0' || strcmp(type, "text/csv") == 0 ||
           strcmp(type, "application/csv") == 0;
}

static json_t *extent_json(const fd_prices_extent *ext) {
    return json_pack("{s:I,s:s?,s:s?}", "rows", (json_int_t)ext->rows, "first_date",
                     ext->first_date[0] ? ext->first_date : NULL, "last_date",
                     ext->last_date[0] ? ext->last_date : NULL);
}

static void prices_put(fd_request *req, fd_response *resp) {
    fd_error err;
    fd_bars *bars;
    fd_db *db;
    int rc;
    if (!csv_content_type(req)) {
        fd_response_error(resp, 415, "unsupported_media_type",
                          "PUT /v1/prices takes text/csv (ticker,date,open,high,low,close,"
                          "volume)");
        return;
    }
    if (req->body_len == 0) {
        fd_response_error(resp, 400, "empty_body",
                          "empty body: expected CSV ticker,date,open,high,low,close,volume");
        return;
    }
    if (!(bars = fd_bars_new())) {
        fd_response_error(resp, 500, "out_of_memory", "out of memory");
        return;
    }
    if (req->body_path) rc = fd_bars_read_file(bars, req->body_path, &err);
    else rc = fd_bars_read_buffer(bars, req->body, req->body_len, &err);
    if (rc == 0 && !(db = fd_app_db_acquire(req->app, &err))) rc = -1;
    if (rc == 0) {
        fd_prices_extent ext;
        rc = fd_store_prices_put(db, bars, &err);
        if (rc == 0) rc = fd_store_prices_extent(db, &ext, &err);
        fd_app_db_release(req->app, db);
        if (rc == 0) {
            fd_bars_summary sum;
            fd_bars_summarize(bars, &sum);
            json_t *doc = fd_bars_summary_json(&sum);
            if (doc) json_object_set_new(doc, "stored", extent_json(&ext));
            fd_response_json(resp, 200, doc);
        }
    }
    if (rc != 0) fd_response_from_error(resp, &err);
    fd_bars_free(bars);
}

static void prices_get(fd_request *req, fd_response *resp) {
    fd_error err;
    fd_prices_extent ext;
    fd_db *db = fd_app_db_acquire(req->app, &err);
    if (!db) {
        fd_response_from_error(resp, &err);
        return;
    }
    if (fd_store_prices_extent(db, &ext, &err) != 0) fd_response_from_error(resp, &err);
    else fd_response_json(resp, 200, extent_json(&ext));
    fd_app_db_release(req->app, db);
}

/* 422 "no_bars" when no bar is stored at all, so the common mistake is answered at once
 * (a range without bars fails the job with the same error: finding out costs a scan). */
static int check_some_bars(fd_db *db, fd_error *err) {
    int any;
    if (fd_store_prices_any(db, &any, err) != 0) return -1;
    if (!any)
        return fd_error_set(err, 422, "no_bars", "no daily bars to build panels from: PUT "
                            "/v1/prices first");
    return 0;
}

/* Queues the build as a job (factord/build_job.h): 202 with the job, whose result holds the
 * build's counts once it has succeeded. */
static void panels_build(fd_request *req, fd_response *resp) {
    fd_daily_opts opts;
    json_t *params = NULL, *job = NULL;
    fd_error err;
    fd_db *db = NULL;
    if (fd_build_params_parse(fd_request_query(req, "from"), fd_request_query(req, "to"),
                              fd_request_query(req, "outliers"),
                              fd_request_query(req, "max_abs_ret"), &opts, &err) != 0 ||
        !(db = fd_app_db_acquire(req->app, &err)) || check_some_bars(db, &err) != 0 ||
        !(params = fd_build_params_json(&opts)) ||
        fd_jobs_submit(req->app->jobs, db, "build_panels", NULL, params, &job, &err) != 0) {
        if (db && !params && err.status == 0)
            fd_error_set(&err, 500, "out_of_memory", "the build's parameters");
        fd_response_from_error(resp, &err);
    } else {
        snprintf(resp->location, sizeof resp->location, "/v1/jobs/%lld",
                 (long long)json_integer_value(json_object_get(job, "id")));
        fd_response_json(resp, 202, json_pack("{s:o}", "job", job));
    }
    if (db) fd_app_db_release(req->app, db);
    json_decref(params);
}

const fd_route fd_routes_prices[] = {
    {"PUT", "/v1/prices", prices_put, FD_ROUTE_SPOOL},
    {"GET", "/v1/prices", prices_get, FD_ROUTE_WORKER},
    {"POST", "/v1/panels/build", panels_build, FD_ROUTE_WORKER},
    {NULL, NULL, NULL, 0},
};
