/* Bulk import: POST (or PUT) /v1/import?units=decimal|percent with a long CSV body
 * `id,date,ret,mktcap,...` for many months (bulk_import.h). The route is FD_ROUTE_SPOOL:
 * the server streams the body to a temporary file and the import reads it in chunks, so a
 * 200 MB upload never sits in memory. units applies to `ret` and defaults to decimal.
 * All months are written in one transaction: the answer is all-or-nothing. Returns beyond
 * 100% are stored as given and listed under "warnings" (docs/outliers.md). */
#include <string.h>

#include "factord/app.h"
#include "factord/bulk_import.h"
#include "factord/http.h"

static void import_long_csv(fd_request *req, fd_response *resp) {
    const char *u = fd_request_query(req, "units");
    fd_units units = FD_UNITS_DECIMAL;
    fd_import_result res;
    fd_error err;
    char ct[128];
    memset(&res, 0, sizeof res);
    fd_request_content_type(req, ct, sizeof ct);
    int rc = 0;
    if (u && fd_units_parse(u, &units, &err) != 0) rc = -1;
    if (rc == 0 && ct[0] && strcmp(ct, "text/csv") != 0 && strcmp(ct, "application/csv") != 0)
        rc = fd_error_set(&err, 415, "unsupported_media_type",
                          "Content-Type \"%.60s\" is not accepted: send the long CSV as text/csv",
                          ct);
    if (rc == 0 && (!req->body_path || req->body_len == 0))
        rc = fd_error_set(&err, 400, "empty_body", "the request has no body");
    if (rc == 0) {
        fd_db *db = fd_app_db_acquire(req->app, &err);
        rc = db ? fd_bulk_import_file(db, req->body_path, units, &req->deadline, &res, &err) : -1;
        if (db) fd_app_db_release(req->app, db);
    }
    if (rc != 0) {
        fd_response_from_error(resp, &err);
        return;
    }
    json_t *names = json_array(), *warnings = json_array();
    for (size_t j = 0; j < res.n_cols; j++) json_array_append_new(names, json_string(res.col_names[j]));
    if (warnings) fd_outlier_warn(&res.outliers, warnings);
    fd_response_json(resp, 200,
                     json_pack("{s:I,s:I,s:I,s:o,s:I,s:b,s:b,s:s,s:s,s:s,s:o}", "months",
                               (json_int_t)res.months, "rows", (json_int_t)res.rows, "columns",
                               (json_int_t)res.n_cols, "column_names", names, "missing",
                               (json_int_t)res.missing, "has_ret", res.has_ret, "has_mktcap",
                               res.has_mktcap, "first", res.first, "last", res.last, "units",
                               units == FD_UNITS_PERCENT ? "percent" : "decimal", "warnings",
                               warnings));
    fd_import_result_free(&res);
}

const fd_route fd_routes_import[] = {
    {"POST", "/v1/import", import_long_csv, FD_ROUTE_SPOOL},
    {"PUT", "/v1/import", import_long_csv, FD_ROUTE_SPOOL},
    {NULL, NULL, NULL, 0},
};
