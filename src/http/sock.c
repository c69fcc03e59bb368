/* One TCP connection's state beside libmicrohttpd's (its "socket context"): created when
 * a connection is accepted, freed when it closes, listed in srv->socks. Requests on the
 * connection come and go (conn.c); what belongs to the connection itself lives here. */
#include <stdlib.h>

#include "factord/url.h"
#include "server_internal.h"

void fd_sock_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                    enum MHD_ConnectionNotificationCode toe) {
    fd_server *srv = cls;
    fd_sock *sock = *socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!(sock = calloc(1, sizeof *sock))) return; /* the connection lives without one */
        sock->srv = srv;
        sock->mhd = connection;
        sock->fd = info ? info->connect_fd : -1;
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
