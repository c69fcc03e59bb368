/* The dashboard: GET /ui (the page), GET /ui/{file} (its script and style, embedded in the
 * binary from src/http/ui/, see ui_assets.h) and GET /ui/chart.js, Debian's Chart.js
 * (package libjs-chart.js) read from where Debian installs it, never a copy of our own.
 * The page holds no data: it calls the API from the browser, with the bearer token the
 * user types in, so these routes need none. Assets carry an ETag (304 on If-None-Match). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/http.h"
#include "factord/ui_assets.h"

/* Debian's libjs-chart.js (3.x): the UMD build, which defines window.Chart. */
#define FD_CHARTJS_PATH "/usr/share/javascript/chart.js/chart.min.js"
#define FD_CHARTJS_MAX (16u << 20) /* refuse to serve anything larger */

static const fd_ui_asset *asset_named(const char *name) {
    for (size_t i = 0; i < fd_ui_assets_count; i++)
        if (strcmp(fd_ui_assets[i].name, name) == 0) return &fd_ui_assets[i];
    return NULL;
}

/* "ui-<FNV-1a 64 of the bytes>". */
static void etag_of(const char *data, size_t len, char *out, size_t cap) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)data[i]) * 1099511628211ULL;
    snprintf(out, cap, "\"ui-%016llx\"", (unsigned long long)h);
}

/* Answers body (taken, malloc'd) with its ETag, or 304 when the client has it already. */
static void answer(fd_request *req, fd_response *resp, const char *type, char *body, size_t len,
                   const char *cache) {
    const char *inm = fd_request_header(req, "if-none-match");
    etag_of(body, len, resp->etag, sizeof resp->etag);
    snprintf(resp->cache_control, sizeof resp->cache_control, "%s", cache);
    if (inm && strcmp(inm, resp->etag) == 0) {
        free(body);
        resp->status = 304;
        return;
    }
    fd_response_text(resp, 200, type, body, len);
}

static void send_asset(fd_request *req, fd_response *resp, const char *name) {
    const fd_ui_asset *a = asset_named(name);
    char *body;
    if (!a) {
        fd_response_error(resp, 404, "not_found", "no dashboard file \"%.64s\"", name);
        return;
    }
    if (!(body = malloc(a->len + 1))) {
        fd_response_error(resp, 500, "out_of_memory", "dashboard file %s", name);
        return;
    }
    memcpy(body, a->data, a->len + 1);
    answer(req, resp, a->content_type, body, a->len, "no-cache");
}

/* Inline: the page is a copy of a few kilobytes of static data. */
static void ui_page(fd_request *req, fd_response *resp) { send_asset(req, resp, "index.html"); }

/* Reads Chart.js from disk (on a worker: a file read). *data malloc'd. */
static int read_chartjs(char **data, size_t *len, fd_error *err) {
    FILE *f = fopen(FD_CHARTJS_PATH, "rb");
    long size;
    *data = NULL;
    if (!f)
        return fd_error_set(err, errno == ENOENT ? 404 : 500, "chartjs_missing",
                            "%s: %s (the dashboard's charts need Debian's libjs-chart.js: "
                            "apt-get install libjs-chart.js)", FD_CHARTJS_PATH, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        (unsigned long)size > FD_CHARTJS_MAX || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return fd_error_set(err, 500, "chartjs_unreadable", "%s: cannot size the file",
                            FD_CHARTJS_PATH);
    }
    *data = malloc((size_t)size + 1);
    if (!*data || fread(*data, 1, (size_t)size, f) != (size_t)size) {
        free(*data);
        *data = NULL;
        fclose(f);
        return fd_error_set(err, 500, "chartjs_unreadable", "%s: short read", FD_CHARTJS_PATH);
    }
    fclose(f);
    *len = (size_t)size;
    return 0;
}

static void ui_file(fd_request *req, fd_response *resp) {
    const char *name = req->params[0];
    char *data;
    size_t len = 0;
    fd_error err;
    if (strcmp(name, "chart.js") != 0) {
        send_asset(req, resp, name);
        return;
    }
    if (read_chartjs(&data, &len, &err)) {
        fd_response_from_error(resp, &err);
        return;
    }
    data[len] = '\0';
    answer(req, resp, "text/javascript; charset=utf-8", data, len, "max-age=3600");
}

const fd_route fd_routes_ui[] = {
    {"GET", "/ui", ui_page, FD_ROUTE_INLINE},
    {"GET", "/ui/", ui_page, FD_ROUTE_INLINE},
    {"GET", "/ui/{file}", ui_file, FD_ROUTE_WORKER},
    {NULL, NULL, NULL, 0},
};
