/* The HTTP server: one libuv loop owning signals, timers and libmicrohttpd (external epoll
 * mode under a uv_poll_t; see http.h for what handlers see).
 *
 * fd_server_run blocks on the calling thread, which becomes the loop thread, until SIGTERM
 * or SIGINT has drained the server: /readyz turns 503, the listening socket closes, the
 * requests in flight finish (bounded by request_timeout) and every handle is freed.
 * SIGHUP calls opts->reload for a fresh config and applies its reloadable keys
 * (all-or-nothing). Readiness, reload and stop are announced with fd_notify. */
#ifndef FACTORD_SERVER_H
#define FACTORD_SERVER_H

#include "factord/app.h"
#include "factord/error.h"

/* Builds the config a reload should apply (file re-read plus command-line overrides). */
typedef int (*fd_server_reload_fn)(void *ud, fd_config *out, fd_error *err);

typedef struct fd_server_opts {
    const char *port_file;     /* if not NULL, the bound port is written there */
    fd_server_reload_fn reload; /* NULL: SIGHUP only logs that there is nothing to reload */
    void *reload_ud;
} fd_server_opts;

/* Serves app until drained; returns 0, or -1 when it could not start (err filled). The
 * app (config, pool) is the caller's; the server reads and, on reload, updates app->cfg. */
int fd_server_run(fd_app *app, const fd_server_opts *opts, fd_error *err);

/* Call first thing in `factord serve`: SIGTERM, SIGINT and SIGHUP received before the
 * loop runs are held and handled once it does, rather than killing the process. */
void fd_server_defer_signals(void);

/* Applies the process-wide effects of a config: log level and OpenBLAS threads. Called at
 * start-up and after every successful reload (loop thread). */
void fd_server_apply_settings(const fd_config *cfg);

/* Process-wide request counters for /metrics; updated with atomics by the loop thread,
 * readable from any thread. */
typedef struct fd_http_counters {
    unsigned long long timeouts;    /* requests answered 503 by their deadline */
    long in_flight;                 /* requests received and not yet completed */
    double uptime;                  /* seconds since the server started */
} fd_http_counters;

void fd_http_counters_get(fd_http_counters *out);

#endif
