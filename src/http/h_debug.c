/* Debug-only routes for testing drain, deadlines, body limits and spooling; the router
 * serves them only when `factord serve` runs with FACTORD_DEBUG_ROUTES=1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "factord/http.h"
#include "factord/router.h"

#define MAX_SLEEP_MS 60000

/* GET /v1/debug/sleep?ms=N: occupies a worker for N ms, deliberately ignoring the
 * request's deadline so tests can see a late result being discarded. */
static void debug_sleep(fd_request *req, fd_response *resp) {
    const char *text = fd_request_query(req, "ms");
    char *end;
    long ms;
    struct timespec ts;
    errno = 0;
    ms = text ? strtol(text, &end, 10) : -1;
    if (!text || errno || *end || ms < 0 || ms > MAX_SLEEP_MS) {
        fd_response_error(resp, 400, "bad_parameter", "ms: expected an integer from 0 to %d",
                          MAX_SLEEP_MS);
        return;
    }
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
    fd_response_json(resp, 200, json_pack("{s:i}", "slept_ms", (int)ms));
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
    fd_response_json(resp, 200, json_pack("{s:I,s:I}", "bytes", (json_int_t)req->body_len,
                                          "file_bytes", (json_int_t)st.st_size));
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
    {NULL, NULL, NULL, 0},
};
