/* Answers written straight to a connection's socket, for the moments libmicrohttpd cannot
 * send one itself:
 *   - a connection cut off before its request is complete (408 at the header or body
 *     deadline, 503 past the connection cap): fd_direct_refuse, one non-blocking write of a
 *     small answer, then the socket is shut down and libmicrohttpd closes it;
 *   - a client that half-closed its side before its answer was ready: libmicrohttpd 0.9.75
 *     reads the end of input before it writes a resumed connection's answer, and drops the
 *     answer, so the server writes it (fd_direct_write, as fast as the client reads), then
 *     lets libmicrohttpd close the connection.
 * Loop thread only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "factord/log.h"
#include "server_internal.h"

#define DIRECT_TIMEOUT_MS 30000 /* a client that reads nothing for this long is given up */

void fd_direct_refuse(int fd, int status, const char *code, const char *message,
                      int retry_after) {
    char body[512], head[256], retry[48] = "";
    int n, m;
    const char *reason = MHD_get_reason_phrase_for((unsigned)status);
    fd_response r;
    memset(&r, 0, sizeof r);
    fd_response_error(&r, status, code, "%s", message);
    n = snprintf(body, sizeof body, "%.*s", (int)r.body_len, r.body ? r.body : "");
    fd_response_release(&r);
    if (retry_after > 0) snprintf(retry, sizeof retry, "Retry-After: %d\r\n", retry_after);
    m = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                 "Content-Length: %d\r\nConnection: close\r\n%s\r\n", status,
                 reason && *reason ? reason : "-", n, retry);
    if (fd >= 0 && send(fd, head, (size_t)m, MSG_NOSIGNAL | MSG_DONTWAIT | MSG_MORE) == m)
        (void)send(fd, body, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (fd >= 0) shutdown(fd, SHUT_RDWR);
}

int fd_direct_peer_closed(int fd) {
    char c;
    return fd >= 0 && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

struct fd_direct {
    uv_poll_t poll;
    uv_timer_t timer;
    char *bytes;
    size_t len, sent;
    int fd, closing;
    void (*done)(void *ctx);
    void *ctx;
};

static void direct_free(uv_handle_t *h) {
    fd_direct *d = h->data;
    if (--d->closing == 0) {
        free(d->bytes);
        free(d);
    }
}

/* Stops both handles; done() runs first unless cancelled. */
static void direct_finish(fd_direct *d, int call_done) {
    if (d->closing) return;
    d->closing = 2;
    if (d->fd >= 0) shutdown(d->fd, SHUT_WR);
    uv_close((uv_handle_t *)&d->poll, direct_free);
    uv_close((uv_handle_t *)&d->timer, direct_free);
    if (call_done && d->done) d->done(d->ctx);
}

static void on_writable(uv_poll_t *poll, int status, int events) {
    fd_direct *d = poll->data;
    (void)events;
    while (status == 0 && d->sent < d->len) {
        ssize_t n = send(d->fd, d->bytes + d->sent, d->len - d->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            d->sent += (size_t)n;
            uv_timer_again(&d->timer);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return; /* wait for room */
        if (n < 0 && errno == EINTR) continue;
        break; /* the client is gone for good */
    }
    direct_finish(d, 1);
}

static void on_direct_timeout(uv_timer_t *timer) {
    fd_direct *d = timer->data;
    fd_warn("gave up writing an answer to a half-closed client after %d s (%zu of %zu bytes)",
            DIRECT_TIMEOUT_MS / 1000, d->sent, d->len);
    direct_finish(d, 1);
}

fd_direct *fd_direct_write(uv_loop_t *loop, int fd, char *bytes, size_t len,
                           void (*done)(void *ctx), void *ctx) {
    fd_direct *d = calloc(1, sizeof *d);
    if (!d || uv_poll_init_socket(loop, &d->poll, fd) != 0) {
        free(d);
        free(bytes);
        return NULL;
    }
    uv_timer_init(loop, &d->timer);
    d->poll.data = d->timer.data = d;
    d->fd = fd;
    d->bytes = bytes;
    d->len = len;
    d->done = done;
    d->ctx = ctx;
    uv_timer_start(&d->timer, on_direct_timeout, DIRECT_TIMEOUT_MS, DIRECT_TIMEOUT_MS);
    uv_poll_start(&d->poll, UV_WRITABLE, on_writable);
    return d;
}

void fd_direct_cancel(fd_direct *d) {
    if (d) direct_finish(d, 0);
}
