/* Backtests (docs/backtests.md): POST /v1/backtests (-> 202 + the backtest, run by a job of
 * kind "backtest" with the same id), GET /v1/backtests, GET /v1/backtests/{id} (id or name),
 * its stitched evaluation and monthly returns (JSON, or CSV by Accept), and
 * GET /v1/compare?backtests=1,2,3 laying several out like the seed study's tables. Every
 * handler runs on a worker thread with a pooled connection; the backtest itself runs on the
 * job manager's threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/app.h"
#include "factord/backtest.h"
#include "factord/http.h"
#include "factord/report.h"
#include "factord/store_backtests.h"

/* The request body as a JSON object (400 "bad_json"; 415 for another declared type). */
static int request_json(const fd_request *req, json_t **out, fd_error *err) {
    json_error_t je;
    char type[64];
    fd_request_content_type(req, type, sizeof type);
    *out = NULL;
    if (type[0] && strcmp(type, "application/json") != 0)
        return fd_error_set(err, 415, "unsupported_media_type", "Content-Type %s: expected "
                            "application/json", type);
    if (req->body_len == 0)
        return fd_error_set(err, 400, "bad_json", "empty body: expected a backtest object");
    if (!(*out = json_loadb(req->body, req->body_len, 0, &je)))
        return fd_error_set(err, 400, "bad_json", "line %d, column %d: %s", je.line, je.column,
                            je.text);
    return 0;
}

/* Answers CSV when the client asks for it, JSON otherwise; takes doc and b. */
static void answer(fd_request *req, fd_response *resp, json_t *doc, fd_textbuf *b) {
    if (b && fd_request_accepts(req, "text/csv")) {
        json_decref(doc);
        if (b->oom) {
            fd_textbuf_free(b);
            fd_response_error(resp, 500, "out_of_memory", "CSV answer");
            return;
        }
        fd_response_text(resp, 200, "text/csv", b->data, b->len);
        return;
    }
    if (b) fd_textbuf_free(b);
    fd_response_json(resp, 200, doc);
}

static void backtests_create(fd_request *req, fd_response *resp) {
    json_t *body = NULL, *bt = NULL;
    fd_error err;
    fd_db *db = NULL;
    if (request_json(req, &body, &err) != 0 || !(db = fd_app_db_acquire(req->app, &err)) ||
        fd_backtest_submit(req->app->jobs, db, body, &bt, &err) != 0) {
        fd_response_from_error(resp, &err);
    } else {
        snprintf(resp->location, sizeof resp->location, "/v1/backtests/%lld",
                 (long long)json_integer_value(json_object_get(bt, "id")));
        fd_response_json(resp, 202, json_pack("{s:o}", "backtest", bt));
    }
    if (db) fd_app_db_release(req->app, db);
    json_decref(body);
}

static void backtests_list(fd_request *req, fd_response *resp) {
    json_t *list;
    fd_error err;
    fd_db *db = fd_app_db_acquire(req->app, &err);
    if (!db || fd_store_backtest_list(db, &list, &err) != 0) fd_response_from_error(resp, &err);
    else fd_response_json(resp, 200, json_pack("{s:o}", "backtests", list));
    if (db) fd_app_db_release(req->app, db);
}

static void backtests_get(fd_request *req, fd_response *resp) {
    json_t *bt;
    fd_error err;
    int64_t id;
    fd_db *db = fd_app_db_acquire(req->app, &err);
    if (!db || fd_store_backtest_resolve(db, req->params[0], &id, &err) != 0 ||
        fd_backtest_get(db, id, &bt, &err) != 0)
        fd_response_from_error(resp, &err);
    else fd_response_json(resp, 200, json_pack("{s:o}", "backtest", bt));
    if (db) fd_app_db_release(req->app, db);
}

/* Loads the finished backtest {id} into e; answers the error itself on failure. */
static int load_result(fd_request *req, fd_response *resp, fd_report_entry *e) {
    fd_error err;
    int64_t id;
    int rc = -1;
    fd_db *db = fd_app_db_acquire(req->app, &err);
    memset(e, 0, sizeof *e);
    if (db && fd_store_backtest_resolve(db, req->params[0], &id, &err) == 0 &&
        fd_store_backtest_result(db, id, e, &err) == 0)
        rc = 0;
    else fd_response_from_error(resp, &err);
    if (db) fd_app_db_release(req->app, db);
    return rc;
}

static void backtests_evaluation(fd_request *req, fd_response *resp) {
    fd_report_entry e;
    fd_textbuf b;
    if (load_result(req, resp, &e) != 0) return;
    fd_textbuf_init(&b);
    fd_report_flatten_csv(e.report, &b);
    answer(req, resp, json_incref(e.report), &b);
    fd_report_entry_free(&e);
}

static void backtests_returns(fd_request *req, fd_response *resp) {
    fd_report_entry e;
    fd_textbuf b;
    json_t *rows;
    if (load_result(req, resp, &e) != 0) return;
    rows = json_array();
    for (size_t t = 0; t < e.T; t++) {
        json_t *row = json_pack("{s:s,s:i}", "month", e.months[t], "window", e.window[t]);
        for (int s = 0; s < FD_REPORT_N_SERIES; s++) {
            double v = e.series[t * FD_REPORT_N_SERIES + s];
            json_object_set_new(row, fd_report_series_names[s], isfinite(v) ? json_real(v) : json_null());
        }
        json_array_append_new(rows, row);
    }
    fd_textbuf_init(&b);
    fd_report_returns_csv(&e, &b);
    answer(req, resp, json_pack("{s:I,s:s,s:o}", "backtest", (json_int_t)e.id, "name", e.name,
                                "returns", rows),
           &b);
    fd_report_entry_free(&e);
}

static int compare_opts(fd_request *req, fd_db *db, fd_compare_opts *o, fd_error *err) {
    const char *base = fd_request_query(req, "base"), *rows = fd_request_query(req, "rows");
    memset(o, 0, sizeof *o);
    o->strategy = fd_request_query(req, "strategy");
    if (rows && strcmp(rows, "name") != 0 && strcmp(rows, "kind") != 0)
        return fd_error_set(err, 400, "bad_parameter", "rows: expected \"kind\" or \"name\"");
    o->rows_by_name = rows && strcmp(rows, "name") == 0;
    if (base && fd_store_backtest_resolve(db, base, &o->base, err) != 0)
        return fd_error_prefix(err, "base");
    return 0;
}

static void compare(fd_request *req, fd_response *resp) {
    const char *list = fd_request_query(req, "backtests"), *table = fd_request_query(req, "table");
    fd_report_entry *e = NULL;
    fd_compare_opts opts;
    json_t *cmp = NULL;
    fd_textbuf b;
    fd_error err;
    size_t n = 0;
    fd_db *db = fd_app_db_acquire(req->app, &err);
    fd_textbuf_init(&b);
    if (!db || compare_opts(req, db, &opts, &err) != 0 ||
        fd_store_backtest_results(db, list, &e, &n, &err) != 0 ||
        fd_report_compare(e, n, &opts, &cmp, &err) != 0)
        goto fail;
    if (table) {
        if (fd_report_csv_table(cmp, table, &b, &err) != 0) goto fail;
    } else {
        fd_report_csv_long(cmp, &b);
    }
    answer(req, resp, cmp, &b);
    cmp = NULL;
    goto done;
fail:
    fd_textbuf_free(&b);
    fd_response_from_error(resp, &err);
done:
    json_decref(cmp);
    for (size_t i = 0; i < n; i++) fd_report_entry_free(&e[i]);
    free(e);
    if (db) fd_app_db_release(req->app, db);
}

const fd_route fd_routes_backtests[] = {
    {"POST", "/v1/backtests", backtests_create, 0},
    {"GET", "/v1/backtests", backtests_list, 0},
    {"GET", "/v1/backtests/{id}", backtests_get, 0},
    {"GET", "/v1/backtests/{id}/evaluation", backtests_evaluation, 0},
    {"GET", "/v1/backtests/{id}/returns", backtests_returns, 0},
    {"GET", "/v1/compare", compare, 0},
    {NULL, NULL, NULL, 0},
};
