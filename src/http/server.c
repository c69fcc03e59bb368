/* The loop: libmicrohttpd in external epoll mode under one uv_poll_t, its timer, and the
 * signals. Signal handlers only act on the loop thread (libuv delivers them there), so
 * drain and reload never race with request processing.
 *
 * Drain (SIGTERM/SIGINT): draining = 1 so /readyz answers 503, STOPPING=1, the listening
 * socket is closed (MHD_quiesce_daemon), keep-alive clients are told Connection: close,
 * and a timer waits for the requests in flight, at most
 * drain_timeout. Past it, uploads still arriving are cut off, requests waiting on a worker
 * are answered 503 and their deadlines brought forward (fd_conn_abandon_all: running work
 * stops at its next deadline check, and nothing commits after), then the daemon stops,
 * every handle is closed and uv_run() returns once the last worker has come back. The
 * systemd unit's TimeoutStopSec (45 s) covers drain_timeout (30 s) plus that last part. A
 * second signal stops at once. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "factord/config.h"
#include "factord/membudget.h"
#include "factord/log.h"
#include "factord/notify.h"
#include "server_internal.h"

/* From OpenBLAS (pthread build); declared here to avoid depending on which cblas.h the
 * alternatives system points at. */
void openblas_set_num_threads(int num_threads);

#define DRAIN_POLL_MS 20
#define IDLE_TIMEOUT_S 60
#define CAP_SLACK 64

void fd_server_apply_settings(const fd_config *cfg) {
    fd_mem_set_total_limit(cfg->memory_limit);
    fd_log_level level;
    if (fd_log_parse_level(cfg->log_level, &level) == 0) fd_log_set_level(level);
    fd_log_set_json(strcmp(cfg->log_format, "json") == 0);
    openblas_set_num_threads(cfg->blas_threads);
}

static void on_mhd_timer(uv_timer_t *timer) { fd_server_kick(timer->data); }

static void on_sweep(uv_timer_t *timer) { fd_sock_sweep(timer->data); }

void fd_server_kick(fd_server *srv) {
    MHD_UNSIGNED_LONG_LONG ms;
    if (!srv->mhd) return;
    MHD_run(srv->mhd);
    if (MHD_get_timeout(srv->mhd, &ms) == MHD_YES)
        uv_timer_start(&srv->mhd_timer, on_mhd_timer, (uint64_t)ms, 0);
    else
        uv_timer_stop(&srv->mhd_timer);
}

static void on_poll(uv_poll_t *poll, int status, int events) {
    (void)events;
    if (status < 0) fd_warn("poll on the HTTP epoll fd: %s", uv_strerror(status));
    fd_server_kick(poll->data);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap) {
    char buf[512];
    size_t n;
    (void)cls;
    vsnprintf(buf, sizeof buf, fmt, ap);
    n = strlen(buf);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) buf[--n] = '\0';
    /* conn.c refuses a connection this way only after logging why (or after answering it
     * directly), and the connection cap's refusals are counted in sock.c. */
    if (strstr(buf, "Application reported internal error") ||
        strstr(buf, "reached connection limit"))
        fd_debug("libmicrohttpd: %s", buf);
    else
        fd_warn("libmicrohttpd: %s", buf);
}

static void close_handle(uv_handle_t *h) {
    if (h->type != UV_UNKNOWN_HANDLE && !uv_is_closing(h)) uv_close(h, NULL);
}

/* Stops the daemon and closes the server's handles; uv_run() then returns as soon as the
 * workers still running have reported back. */
static void server_shutdown(fd_server *srv) {
    if (!srv->mhd) return;
    fd_conn_abort_suspended(srv);
    /* The poll watcher must go before libmicrohttpd closes the fd it watches. */
    close_handle((uv_handle_t *)&srv->poll);
    MHD_stop_daemon(srv->mhd);
    srv->mhd = NULL;
    close_handle((uv_handle_t *)&srv->mhd_timer);
    close_handle((uv_handle_t *)&srv->drain_timer);
    close_handle((uv_handle_t *)&srv->sweep_timer);
    close_handle((uv_handle_t *)&srv->sig_term);
    close_handle((uv_handle_t *)&srv->sig_int);
    close_handle((uv_handle_t *)&srv->sig_hup);
    fd_store_refresher_stop(&srv->refresher);
    fd_info("stopped");
}

static void on_drain_tick(uv_timer_t *timer) {
    fd_server *srv = timer->data;
    long left = fd_stats_in_flight();
    if (left == 0) {
        server_shutdown(srv);
    } else if (fd_now() >= srv->drain_deadline) {
        fd_warn("drain_timeout (%g s) passed with %ld request(s) in flight: uploads still "
                "arriving are cut off and running work stops at its next deadline check",
                srv->app->cfg.drain_timeout, left);
        fd_conn_abandon_all(srv);
        server_shutdown(srv);
    }
}

static void on_stop_signal(uv_signal_t *sig, int signum) {
    fd_server *srv = sig->data;
    MHD_socket listen_fd;
    if (atomic_exchange(&srv->app->draining, 1)) {
        fd_warn("signal %d while draining: stopping now", signum);
        server_shutdown(srv);
        return;
    }
    fd_info("signal %d: draining %ld request(s) in flight, then stopping", signum,
            fd_stats_in_flight());
    if (fd_notify("STOPPING=1\nSTATUS=draining") != 0)
        fd_warn("sd_notify STOPPING: %s", strerror(errno));
    listen_fd = MHD_quiesce_daemon(srv->mhd);
    if (listen_fd != MHD_INVALID_SOCKET) close(listen_fd);
    srv->drain_deadline = fd_now() + srv->app->cfg.drain_timeout;
    uv_timer_start(&srv->drain_timer, on_drain_tick, 0, DRAIN_POLL_MS);
}

static void on_hup(uv_signal_t *sig, int signum) {
    fd_server *srv = sig->data;
    fd_config next, merged;
    fd_error err;
    char changed[256], restart[256];
    int n_changed, n_restart;
    (void)signum;
    if (!srv->opts->reload) {
        fd_warn("SIGHUP: started without --config, nothing to reload");
        return;
    }
    fd_notifyf("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading the config",
               fd_notify_monotonic_usec());
    fd_store_refresher_now(&srv->refresher);
    merged = srv->app->cfg;
    /* The rules across keys must hold for what would be in force: restart-only keys keep
     * their current values. */
    if (srv->opts->reload(srv->opts->reload_ud, &next, &err) != 0 ||
        (fd_config_apply_reloadable(&merged, &next), fd_config_check(&merged, &err)) != 0) {
        fd_errorlog("reload failed, keeping the current config: %s", err.message);
        fd_notify("READY=1\nSTATUS=reload failed; serving with the previous config");
        return;
    }
    n_changed = fd_config_diff(&srv->app->cfg, &next, 1, changed, sizeof changed);
    n_restart = fd_config_diff(&srv->app->cfg, &next, 0, restart, sizeof restart);
    /* Logged under the level in force when the operator sent SIGHUP. */
    fd_info("config reloaded; changed: %s", n_changed ? changed : "nothing");
    if (n_restart)
        fd_warn("config reload: %s changed but only take(s) effect after a restart", restart);
    fd_config_apply_reloadable(&srv->app->cfg, &next);
    fd_server_apply_settings(&srv->app->cfg);
    fd_notify("READY=1\nSTATUS=serving");
}

/* Start-up takes a while (migrations); a SIGTERM or SIGHUP meanwhile must not kill the
 * process with the default action, so it is noted here and re-sent once the loop's own
 * handlers exist. Blocking would not do: threads started before main (OpenBLAS's) would
 * take the signal instead. */
static const int deferred_signals[] = {SIGTERM, SIGINT, SIGHUP};
#define N_DEFERRED 3
static atomic_int deferred_pending[N_DEFERRED];

static void note_signal(int signum) {
    for (int i = 0; i < N_DEFERRED; i++)
        if (deferred_signals[i] == signum) atomic_store(&deferred_pending[i], 1);
}

void fd_server_defer_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = note_signal;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < N_DEFERRED; i++) sigaction(deferred_signals[i], &sa, NULL);
}

static int start_daemon(fd_server *srv, fd_error *err) {
    const fd_config *cfg = &srv->app->cfg;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    struct sockaddr *addr;
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    memset(&v4, 0, sizeof v4);
    memset(&v6, 0, sizeof v6);
    if (inet_pton(AF_INET, cfg->listen_addr, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons((uint16_t)cfg->port);
        addr = (struct sockaddr *)&v4;
    } else if (inet_pton(AF_INET6, cfg->listen_addr, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons((uint16_t)cfg->port);
        addr = (struct sockaddr *)&v6;
        flags |= MHD_USE_IPv6;
    } else {
        return fd_error_set(err, 400, "bad_config", "listen: '%s' is not an IP address",
                            cfg->listen_addr);
    }
    srv->mhd = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, fd_conn_access, srv, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_logger, NULL, MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_NOTIFY_COMPLETED,
        fd_conn_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
        /* Room beyond the cap, so the connections past it hear why (sock.c) before MHD
         * itself refuses any more. */
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections + CAP_SLACK,
        MHD_OPTION_NOTIFY_CONNECTION, fd_sock_notify, srv, MHD_OPTION_UNESCAPE_CALLBACK,
        fd_sock_unescape, NULL, MHD_OPTION_END);
    if (!srv->mhd)
        return fd_error_set(err, 500, "listen_failed",
                            "cannot listen on %s port %d (see the libmicrohttpd message above)",
                            cfg->listen_addr, cfg->port);
    return 0;
}

static int write_port_file(const char *path, int port, fd_error *err) {
    char tmp[4096];
    FILE *f;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0) {
        int e = errno;
        if (f) unlink(tmp);
        return fd_error_set(err, 500, "port_file", "cannot write %s: %s", tmp, strerror(e));
    }
    /* Renamed into place so a reader never sees a half-written file. */
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return fd_error_set(err, 500, "port_file", "cannot rename %s: %s", tmp, strerror(e));
    }
    return 0;
}

static void init_handles(fd_server *srv, int epoll_fd) {
    uv_poll_init(&srv->loop, &srv->poll, epoll_fd);
    uv_timer_init(&srv->loop, &srv->mhd_timer);
    uv_timer_init(&srv->loop, &srv->drain_timer);
    uv_timer_init(&srv->loop, &srv->sweep_timer);
    uv_signal_init(&srv->loop, &srv->sig_term);
    uv_signal_init(&srv->loop, &srv->sig_int);
    uv_signal_init(&srv->loop, &srv->sig_hup);
    srv->poll.data = srv->mhd_timer.data = srv->drain_timer.data = srv->sweep_timer.data = srv;
    srv->sig_term.data = srv->sig_int.data = srv->sig_hup.data = srv;
    uv_poll_start(&srv->poll, UV_READABLE, on_poll);
    uv_timer_start(&srv->sweep_timer, on_sweep, FD_SOCK_SWEEP_MS, FD_SOCK_SWEEP_MS);
    uv_signal_start(&srv->sig_term, on_stop_signal, SIGTERM);
    uv_signal_start(&srv->sig_int, on_stop_signal, SIGINT);
    uv_signal_start(&srv->sig_hup, on_hup, SIGHUP);
    fd_store_refresher_start(&srv->refresher, &srv->loop, srv->app);
    /* Signals that came during start-up (fd_server_defer_signals), delivered now. */
    for (int i = 0; i < N_DEFERRED; i++)
        if (atomic_exchange(&deferred_pending[i], 0)) kill(getpid(), deferred_signals[i]);
}

int fd_server_run(fd_app *app, const fd_server_opts *opts, fd_error *err) {
    fd_server srv;
    const union MHD_DaemonInfo *info;
    int port, rc;
    memset(&srv, 0, sizeof srv);
    srv.app = app;
    srv.opts = opts;
    if (getrandom(&srv.request_prefix, sizeof srv.request_prefix, GRND_NONBLOCK) < 0)
        srv.request_prefix = (unsigned)getpid();
    rc = uv_loop_init(&srv.loop);
    if (rc != 0) return fd_error_set(err, 500, "loop", "uv_loop_init: %s", uv_strerror(rc));
    if (start_daemon(&srv, err) != 0) {
        uv_loop_close(&srv.loop);
        return -1;
    }
    info = MHD_get_daemon_info(srv.mhd, MHD_DAEMON_INFO_EPOLL_FD);
    init_handles(&srv, info->epoll_fd);
    port = MHD_get_daemon_info(srv.mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
    if (opts->port_file && write_port_file(opts->port_file, port, err) != 0) {
        server_shutdown(&srv);
        uv_run(&srv.loop, UV_RUN_DEFAULT);
        uv_loop_close(&srv.loop);
        return -1;
    }
    fd_stats_start();
    fd_info(strchr(app->cfg.listen_addr, ':') ? "listening on http://[%s]:%d"
                                              : "listening on http://%s:%d",
            app->cfg.listen_addr, port);
    if (fd_notifyf("READY=1\nSTATUS=listening on port %d", port) != 0)
        fd_warn("sd_notify READY: %s", strerror(errno));
    fd_server_kick(&srv);
    uv_run(&srv.loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&srv.loop);
    if (rc != 0) fd_warn("uv_loop_close: %s", uv_strerror(rc));
    return 0;
}
