/* Benchmark factors: PUT /v1/factors and GET /v1/factors.
 *
 * PUT ?units=percent|decimal&format=french|csv|json. Without format: application/json is
 * JSON; text/csv (or text/plain, as browsers and curl -T send) is a raw Ken French file or
 * a clean CSV, told apart by the first line. Units are required for CSV and raw French (a
 * missing units parameter is a 400 saying so); JSON carries "units" in the body.
 * GET ?from=YYYY-MM&to=YYYY-MM answers decimals as JSON, or CSV when the client prefers it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/app.h"
#include "factord/french.h"
#include "factord/http.h"
#include "factord/store_data.h"

typedef enum { FMT_FRENCH, FMT_CSV, FMT_JSON } body_format;
static const char *const format_names[] = {"french", "csv", "json"};

static int pick_format(fd_request *req, body_format *fmt, fd_error *err) {
    const char *f = fd_request_query(req, "format");
    char ct[128];
    if (f) {
        for (int i = 0; i < 3; i++)
            if (strcmp(f, format_names[i]) == 0) return (*fmt = (body_format)i), 0;
        return fd_error_set(err, 400, "bad_format",
                            "unknown format \"%.40s\": expected french, csv or json", f);
    }
    fd_request_content_type(req, ct, sizeof ct);
    if (strcmp(ct, "application/json") == 0) {
        *fmt = FMT_JSON;
    } else if (strcmp(ct, "text/csv") == 0 || strcmp(ct, "application/csv") == 0) {
        *fmt = fd_french_is_raw(req->body, req->body_len) ? FMT_FRENCH : FMT_CSV;
    } else {
        return fd_error_set(err, 415, "unsupported_media_type",
                            "Content-Type \"%.60s\" is not accepted: use text/csv (raw Ken French "
                            "or clean CSV) or application/json, or say ?format=",
                            ct[0] ? ct : "(none)");
    }
    return 0;
}

static int parse_factors(fd_request *req, body_format fmt, fd_factor_table *t, fd_error *err) {
    const char *u = fd_request_query(req, "units");
    fd_units units = FD_UNITS_UNSET;
    if ((u || fmt != FMT_JSON) && fd_units_parse(u, &units, err) != 0) return -1;
    if (fmt == FMT_JSON) return fd_french_parse_json(req->body, req->body_len, units, t, err);
    if (fmt == FMT_FRENCH) return fd_french_parse_raw(req->body, req->body_len, units, t, err);
    return fd_french_parse_csv(req->body, req->body_len, units, t, err);
}

static json_t *summary(const fd_factor_table *t, body_format fmt) {
    json_t *names = json_array();
    size_t missing = 0;
    for (size_t j = 0; j < t->n_factors; j++) json_array_append_new(names, json_string(t->names[j]));
    for (size_t i = 0; i < t->n_months * t->n_factors; i++) missing += isnan(t->values[i]) != 0;
    return json_pack("{s:I,s:o,s:s,s:s,s:I,s:s}", "months", (json_int_t)t->n_months, "factors",
                     names, "first", t->months[0], "last", t->months[t->n_months - 1], "missing",
                     (json_int_t)missing, "format", format_names[fmt]);
}

static void put_factors(fd_request *req, fd_response *resp) {
    fd_error err;
    fd_factor_table t;
    body_format fmt = FMT_CSV;
    fd_factor_table_init(&t);
    int rc = 0;
    if (!req->body || req->body_len == 0)
        rc = fd_error_set(&err, 400, "empty_body", "the request has no body");
    if (rc == 0) rc = pick_format(req, &fmt, &err);
    if (rc == 0) rc = parse_factors(req, fmt, &t, &err);
    if (rc == 0) {
        fd_db *db = fd_app_db_acquire(req->app, &err);
        rc = db ? fd_store_factors_put(db, &t, format_names[fmt], &err) : -1;
        if (db) fd_app_db_release(req->app, db);
    }
    if (rc == 0)
        fd_response_json(resp, 200, summary(&t, fmt));
    else
        fd_response_from_error(resp, &err);
    fd_factor_table_free(&t);
}

static void get_factors(fd_request *req, fd_response *resp) {
    const char *from = fd_request_query(req, "from"), *to = fd_request_query(req, "to");
    fd_error err;
    fd_factor_table t;
    fd_factor_table_init(&t);
    char *body = NULL;
    size_t len = 0;
    int csv = fd_request_accepts(req, "text/csv"), rc = 0;
    if (from && fd_month_parse(from, NULL, NULL, &err) != 0) rc = fd_error_prefix(&err, "from");
    if (rc == 0 && to && fd_month_parse(to, NULL, NULL, &err) != 0) rc = fd_error_prefix(&err, "to");
    if (rc == 0) {
        fd_db *db = fd_app_db_acquire(req->app, &err);
        rc = db ? fd_store_factors_get(db, from, to, &t, &err) : -1;
        if (db) fd_app_db_release(req->app, db);
    }
    if (rc == 0)
        rc = csv ? fd_factors_write_csv(&t, &body, &len, &err)
                 : fd_factors_write_json(&t, &body, &len, &err);
    if (rc == 0)
        fd_response_text(resp, 200, csv ? "text/csv" : "application/json", body, len);
    else
        fd_response_from_error(resp, &err);
    fd_factor_table_free(&t);
}

const fd_route fd_routes_factors[] = {
    {"PUT", "/v1/factors", put_factors, 0},
    {"GET", "/v1/factors", get_factors, 0},
    {NULL, NULL, NULL, 0},
};
