/* One TCP connection's state beside libmicrohttpd's (its "socket context"): created when
 * a connection is accepted, freed when it closes, listed in srv->socks. Requests on the
 * connection come and go (conn.c); what belongs to the connection itself lives here:
 *
 *   the cap       past max_connections a new connection is answered 503 (Retry-After)
 *                 and closed at once;
 *   deadlines     a request's line and headers must arrive within header_timeout of the
 *                 connection opening or its previous request ending (an idle keep-alive
 *                 connection is closed then too, silently); a body must keep up
 *                 body_min_rate over every BODY_WINDOW_S; either miss is answered 408
 *                 and the connection closed. Both defeat
 *                 slowloris clients, which send a byte every few seconds and so never trip
 *                 libmicrohttpd's idle timeout;
 *   missed ends   libmicrohttpd 0.9.75 treats a short read as "socket drained", so when a
 *                 client's FIN arrives with its last bytes it may never read the end of
 *                 input; the sweep peeks and shuts such sockets so they close (and an
 *                 abandoned upload frees its spool) instead of waiting out the idle timeout.
 *
 * fd_sock_sweep runs every SWEEP_MS on the loop thread (server.c). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "factord/log.h"
#include "factord/url.h"
#include "server_internal.h"

#define BODY_WINDOW_S 10.0

void fd_sock_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                    enum MHD_ConnectionNotificationCode toe) {
    fd_server *srv = cls;
    fd_sock *sock = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        int fd = info ? info->connect_fd : -1;
        if (srv->n_socks >= (size_t)srv->app->cfg.max_connections) {
            char msg[128];
            snprintf(msg, sizeof msg, "the server has its %d connections open; try again later",
                     srv->app->cfg.max_connections);
            if (srv->n_refused++ % 1000 == 0)
                fd_warn("connection cap: %d connections open, refusing more (%llu so far)",
                        srv->app->cfg.max_connections, srv->n_refused);
            fd_direct_refuse(fd, 503, "too_many_connections", msg, 1);
            return;
        }
        if (!(sock = calloc(1, sizeof *sock))) return; /* the connection lives without one */
        sock->srv = srv;
        sock->mhd = connection;
        sock->fd = fd;
        sock->wait_since = fd_now();
        sock->next = srv->socks;
        if (srv->socks) srv->socks->prev = sock;
        srv->socks = sock;
        srv->n_socks++;
        *socket_context = sock;
        return;
    }
    if (!sock) return;
    if (sock->prev) sock->prev->next = sock->next;
    else srv->socks = sock->next;
    if (sock->next) sock->next->prev = sock->prev;
    srv->n_socks--;
    free(sock);
    *socket_context = NULL;
}

fd_sock *fd_sock_of(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

size_t fd_sock_unescape(void *cls, struct MHD_Connection *connection, char *s) {
    int nul = 0;
    size_t n = fd_url_unescape(s, &nul);
    fd_sock *sock;
    (void)cls;
    if (nul && (sock = fd_sock_of(connection)) != NULL) sock->url_nul = 1;
    return n;
}

void fd_sock_request_begin(fd_sock *sock, int with_body) {
    if (!sock) return;
    sock->in_request = 1;
    sock->in_body = with_body != 0;
    sock->window_start = fd_now();
    sock->window_bytes = 0;
}

void fd_sock_body_bytes(fd_sock *sock, size_t n) {
    if (sock) sock->window_bytes += n;
}

void fd_sock_body_done(fd_sock *sock) {
    if (sock) sock->in_body = 0;
}

void fd_sock_request_end(fd_sock *sock) {
    if (!sock) return;
    sock->in_request = sock->in_body = 0;
    sock->requests++;
    sock->wait_since = fd_now();
}

/* Bytes waiting unread on the socket: 0 at the end of input, -1 for none (or an error). */
static long pending_bytes(int fd) {
    char buf[1];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    return n >= 0 ? (long)n : -1;
}

static void cut_off(fd_sock *sock, const char *code, const char *why) {
    sock->cut = 1;
    fd_info("closing a connection: %s", why);
    fd_direct_refuse(sock->fd, 408, code, why, 0);
}

static void sweep_one(fd_sock *sock, const fd_config *cfg, double now) {
    char why[160];
    long pending;
    if (sock->cut || sock->fd < 0) return;
    if (!sock->in_request) {
        pending = pending_bytes(sock->fd);
        if (pending == 0) { /* the end of input libmicrohttpd missed */
            shutdown(sock->fd, SHUT_RDWR);
            sock->cut = 1;
        } else if (now - sock->wait_since > cfg->header_timeout) {
            /* After an answer this is an idle keep-alive connection: closed without a word,
             * since a client about to reuse it would take a 408 for its next answer. */
            if (sock->requests > 0 && pending < 0) {
                shutdown(sock->fd, SHUT_RDWR);
                sock->cut = 1;
                return;
            }
            snprintf(why, sizeof why, "the request's line and headers did not arrive within "
                     "header_timeout (%g s)", cfg->header_timeout);
            cut_off(sock, "header_timeout", why);
        }
        return;
    }
    if (!sock->in_body) return;
    if (pending_bytes(sock->fd) == 0) { /* input ended mid-body: it can never complete */
        shutdown(sock->fd, SHUT_RDWR);
        sock->cut = 1;
        return;
    }
    if (now - sock->window_start < BODY_WINDOW_S) return;
    if (cfg->body_min_rate &&
        (double)sock->window_bytes < (double)cfg->body_min_rate * (now - sock->window_start)) {
        snprintf(why, sizeof why, "the body arrived at %.0f bytes/s over %.0f s, slower than "
                 "body_min_rate (%zu bytes/s)", (double)sock->window_bytes /
                 (now - sock->window_start), now - sock->window_start, cfg->body_min_rate);
        cut_off(sock, "body_too_slow", why);
        return;
    }
    sock->window_start = now;
    sock->window_bytes = 0;
}

void fd_sock_sweep(fd_server *srv) {
    double now = fd_now();
    for (fd_sock *sock = srv->socks; sock; sock = sock->next) sweep_one(sock, &srv->app->cfg, now);
    fd_server_kick(srv);
}
