/* Monthly panels: PUT/GET/DELETE /v1/panels/{month} and GET /v1/panels.
 *
 * PUT takes CSV (text/csv) or JSON (application/json) as panel_io.h describes and replaces
 * the month atomically, warning about returns beyond 100% (docs/outliers.md); GET answers JSON (columnar, NaN as null) or CSV when the client
 * prefers text/csv, optionally only ?ids=A,B. Handlers run on worker threads. */
#include <stdlib.h>
#include <string.h>

#include "factord/app.h"
#include "factord/http.h"
#include "factord/outliers.h"
#include "factord/panel_build.h"
#include "factord/panel_io.h"
#include "factord/store_data.h"

/* 1 if content type `ct` is one of the CSV spellings clients send. */
static int is_csv_type(const char *ct) {
    return strcmp(ct, "text/csv") == 0 || strcmp(ct, "application/csv") == 0;
}

static int parse_body(fd_request *req, const char *month, fd_panel *p, fd_error *err) {
    char ct[128];
    fd_request_content_type(req, ct, sizeof ct);
    if (!req->body || req->body_len == 0)
        return fd_error_set(err, 400, "empty_body", "the request has no body: send the month "
                                                    "as text/csv or application/json");
    if (is_csv_type(ct)) return fd_panel_parse_csv(req->body, req->body_len, month, p, err);
    if (strcmp(ct, "application/json") == 0)
        return fd_panel_parse_json(req->body, req->body_len, month, p, err);
    return fd_error_set(err, 415, "unsupported_media_type",
                        "Content-Type \"%.60s\" is not accepted: use text/csv or application/json",
                        ct[0] ? ct : "(none)");
}

/* Writes the month inside one BEGIN IMMEDIATE transaction, noting whether it replaced one. */
static int store_month(fd_db *db, const fd_panel *p, int *replaced, fd_error *err) {
    char (*months)[FD_MONTH_LEN] = NULL;
    size_t n = 0;
    if (fd_db_begin(db, err) != 0) return -1;
    if (fd_store_panel_months(db, &months, &n, err) != 0) goto fail;
    *replaced = 0;
    for (size_t i = 0; i < n && !*replaced; i++) *replaced = strcmp(months[i], p->month) == 0;
    free(months);
    if (fd_store_panel_write(db, p, err) != 0) goto fail;
    return fd_db_commit(db, err);
fail:
    fd_db_rollback(db);
    return -1;
}

/* warnings: the outlier check's (stolen). */
static json_t *summary(const fd_panel *p, int replaced, json_t *warnings) {
    json_t *names = json_array();
    for (size_t j = 0; j < p->n_cols; j++) json_array_append_new(names, json_string(p->col_names[j]));
    return json_pack("{s:s,s:I,s:I,s:o,s:I,s:b,s:b,s:b,s:o}", "month", p->month, "rows",
                     (json_int_t)p->n_rows, "columns", (json_int_t)p->n_cols, "column_names",
                     names, "missing", (json_int_t)fd_panel_missing_cells(p), "has_ret",
                     p->ret != NULL, "has_mktcap", p->mktcap != NULL, "replaced", replaced,
                     "warnings", warnings);
}

/* The pushed month's returns beyond the outlier threshold (100%) as a warning; they are
 * stored as given (docs/outliers.md). */
static json_t *outlier_warnings(const fd_panel *p) {
    static const fd_outlier_policy check = {FD_OUTLIER_KEEP, 0};
    fd_outlier_log log;
    json_t *warnings = json_array();
    fd_outlier_log_init(&log, &check);
    fd_outlier_check_panel(&log, p);
    if (warnings) fd_outlier_warn(&log, warnings);
    fd_outlier_log_free(&log);
    return warnings;
}

static void put_panel(fd_request *req, fd_response *resp) {
    const char *month = req->params[0];
    fd_error err;
    fd_panel p;
    fd_panel_init(&p);
    int replaced = 0;
    if (fd_month_parse(month, NULL, NULL, &err) != 0 || parse_body(req, month, &p, &err) != 0) {
        fd_panel_free(&p);
        fd_response_from_error(resp, &err);
        return;
    }
    fd_db *db = fd_app_db_acquire(req->app, &err);
    int rc = db ? store_month(db, &p, &replaced, &err) : -1;
    if (db) fd_app_db_release(req->app, db);
    if (rc == 0)
        fd_response_json(resp, 200, summary(&p, replaced, outlier_warnings(&p)));
    else
        fd_response_from_error(resp, &err);
    fd_panel_free(&p);
}

static void get_panel(fd_request *req, fd_response *resp) {
    const char *month = req->params[0], *ids = fd_request_query(req, "ids");
    fd_error err;
    fd_panel p, sel;
    fd_panel_init(&p);
    fd_panel_init(&sel);
    char *body = NULL;
    size_t len = 0;
    int csv = fd_request_accepts(req, "text/csv");
    int rc = fd_month_parse(month, NULL, NULL, &err);
    if (rc == 0) {
        fd_db *db = fd_app_db_acquire(req->app, &err);
        rc = db ? fd_store_panel_get(db, month, &p, &err) : -1;
        if (db) fd_app_db_release(req->app, db);
    }
    if (rc == 0 && ids) rc = fd_panel_select_ids(&p, ids, &sel, &err);
    const fd_panel *out = ids ? &sel : &p;
    if (rc == 0)
        rc = csv ? fd_panel_write_csv(out, &body, &len, &err)
                 : fd_panel_write_json(out, &body, &len, &err);
    if (rc == 0)
        fd_response_text(resp, 200, csv ? "text/csv" : "application/json", body, len);
    else
        fd_response_from_error(resp, &err);
    fd_panel_free(&p);
    fd_panel_free(&sel);
}

static void delete_panel(fd_request *req, fd_response *resp) {
    const char *month = req->params[0];
    fd_error err;
    int rc = fd_month_parse(month, NULL, NULL, &err);
    if (rc == 0) {
        fd_db *db = fd_app_db_acquire(req->app, &err);
        rc = db ? fd_store_panel_delete(db, month, &err) : -1;
        if (db) fd_app_db_release(req->app, db);
    }
    if (rc == 0)
        fd_response_json(resp, 200, json_pack("{s:s,s:b}", "month", month, "deleted", 1));
    else
        fd_response_from_error(resp, &err);
}

static void list_panels(fd_request *req, fd_response *resp) {
    fd_error err;
    json_t *list = NULL;
    fd_db *db = fd_app_db_acquire(req->app, &err);
    int rc = db ? fd_store_panel_list(db, &list, &err) : -1;
    if (db) fd_app_db_release(req->app, db);
    if (rc == 0)
        fd_response_json(resp, 200, json_pack("{s:o}", "panels", list));
    else
        fd_response_from_error(resp, &err);
}

const fd_route fd_routes_panels[] = {
    {"GET", "/v1/panels", list_panels, 0},
    {"PUT", "/v1/panels/{month}", put_panel, 0},
    {"GET", "/v1/panels/{month}", get_panel, 0},
    {"DELETE", "/v1/panels/{month}", delete_panel, 0},
    {NULL, NULL, NULL, 0},
};
