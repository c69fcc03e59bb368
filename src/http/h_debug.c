/* Debug-only routes for testing drain, deadlines, commits past a deadline, body limits and
 * spooling; the router serves them only when `factord serve` runs with
 * FACTORD_DEBUG_ROUTES=1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "factord/app.h"
#include "factord/http.h"
#include "factord/router.h"
#include "factord/store_data.h"

#define MAX_SLEEP_MS 60000

/* Sleeps ?ms=N milliseconds, deliberately ignoring the request's deadline; -1 after a 400
 * for a bad N. */
static int sleep_ms_param(fd_request *req, fd_response *resp) {
    const char *text = fd_request_query(req, "ms");
    char *end;
    long ms;
    struct timespec ts;
    errno = 0;
    ms = text ? strtol(text, &end, 10) : -1;
    if (!text || errno || *end || ms < 0 || ms > MAX_SLEEP_MS) {
        fd_response_error(resp, 400, "bad_parameter", "ms: expected an integer from 0 to %d",
                          MAX_SLEEP_MS);
        return -1;
    }
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    return (int)ms;
}

/* GET /v1/debug/sleep?ms=N: occupies a worker for N ms, so tests can see a late result
 * being discarded. */
static void debug_sleep(fd_request *req, fd_response *resp) {
    int ms = sleep_ms_param(req, resp);
    if (ms >= 0) fd_response_json(resp, 200, json_pack("{s:i}", "slept_ms", ms));
}

/* POST /v1/debug/late-write?ms=N&month=M: sleeps N ms, then stores a one-row panel for
 * month M in one transaction, as a slow write handler would: past the deadline the commit
 * must be refused (fd_db_guard_commits), so the 503 the client got stays true. */
static void debug_late_write(fd_request *req, fd_response *resp) {
    const char *month = fd_request_query(req, "month");
    char *id = "X", *col = "x";
    double value = 1.0, ret = 0.0;
    fd_panel p = {.n_rows = 1, .n_cols = 1, .ids = &id, .col_names = &col, .values = &value,
                  .ret = &ret};
    fd_error err;
    if (!month || fd_month_parse(month, NULL, NULL, &err) != 0) {
        fd_response_error(resp, 400, "bad_parameter", "month: expected YYYY-MM");
        return;
    }
    snprintf(p.month, sizeof p.month, "%s", month);
    if (sleep_ms_param(req, resp) < 0) return;
    fd_db *db = fd_app_db_acquire(req->app, &err);
    int rc = db ? fd_db_begin(db, &err) : -1;
    if (rc == 0 && (rc = fd_store_panel_write(db, &p, &err)) == 0) rc = fd_db_commit(db, &err);
    else if (db) fd_db_rollback(db);
    if (db) fd_app_db_release(req->app, db);
    if (rc == 0) fd_response_json(resp, 200, json_pack("{s:s}", "written", month));
    else fd_response_from_error(resp, &err);
}

/* POST /v1/debug/echo: reports the size of the buffered body (body-limit tests). */
static void debug_echo(fd_request *req, fd_response *resp) {
    fd_response_json(resp, 200, json_pack("{s:I,s:b}", "bytes", (json_int_t)req->body_len,
                                          "terminated", !req->body || req->body[req->body_len] == 0));
}

/* PUT /v1/debug/spool: reports the size of the spooled body as found on disk. */
static void debug_spool(fd_request *req, fd_response *resp) {
    struct stat st;
    if (!req->body_path || stat(req->body_path, &st) != 0) {
        fd_response_error(resp, 500, "internal", "no spool file");
        return;
    }
    fd_response_json(resp, 200, json_pack("{s:I,s:I,s:s}", "bytes", (json_int_t)req->body_len,
                                          "file_bytes", (json_int_t)st.st_size, "path",
                                          req->body_path));
}

/* GET /v1/debug/etag?tag=x: a response carrying ETag "x" (conditional GET tests). */
static void debug_etag(fd_request *req, fd_response *resp) {
    const char *tag = fd_request_query(req, "tag");
    if (!tag || strlen(tag) > 64 || strchr(tag, '"')) {
        fd_response_error(resp, 400, "bad_parameter", "tag: expected up to 64 characters");
        return;
    }
    fd_response_json(resp, 200, json_pack("{s:s}", "tag", tag));
    snprintf(resp->etag, sizeof resp->etag, "\"%s\"", tag);
    snprintf(resp->cache_control, sizeof resp->cache_control, "max-age=60");
}

const fd_route fd_routes_debug[] = {
    {"GET", "/v1/debug/etag", debug_etag, FD_ROUTE_INLINE},
    {"GET", "/v1/debug/sleep", debug_sleep, FD_ROUTE_WORKER},
    {"POST", "/v1/debug/echo", debug_echo, FD_ROUTE_WORKER},
    {"PUT", "/v1/debug/spool", debug_spool, FD_ROUTE_SPOOL},
    {"POST", "/v1/debug/late-write", debug_late_write, FD_ROUTE_WORKER},
    {NULL, NULL, NULL, 0},
};
