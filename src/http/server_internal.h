/* Internals shared by the server's files (server.c: loop, signals, drain, reload; conn.c:
 * one request's life; send.c: turning an fd_response into a libmicrohttpd response;
 * stats.c: counters). Everything here runs on the loop thread unless it says otherwise. */
#ifndef FACTORD_SERVER_INTERNAL_H
#define FACTORD_SERVER_INTERNAL_H

#include <microhttpd.h>
#include <uv.h>

#include "factord/app.h"
#include "factord/http.h"
#include "factord/metrics.h"
#include "factord/server.h"

typedef struct fd_conn fd_conn;
typedef struct fd_server fd_server;

/* store_refresh.c: refreshes what the loop serves from memory (tokens, job counts) from
 * the store every second, on a worker; loop thread. */
typedef struct fd_store_refresher {
    fd_app *app;
    uv_timer_t timer;
    uv_work_t work;
    int started, stopped, busy;
    int failing; /* worker only: the last refresh failed (logged once) */
} fd_store_refresher;

void fd_store_refresher_start(fd_store_refresher *r, uv_loop_t *loop, fd_app *app);
/* Queues a refresh now unless one is running (SIGHUP). */
void fd_store_refresher_now(fd_store_refresher *r);
/* Closes the timer; a refresh in flight finishes on its own. */
void fd_store_refresher_stop(fd_store_refresher *r);

/* h_metrics.c: re-reads the job counts by kind and state that /metrics serves (worker). */
int fd_metrics_jobs_refresh(fd_db *db, fd_error *err);

/* sock.c: one TCP connection (libmicrohttpd's socket context); loop thread only. */
typedef struct fd_sock {
    fd_server *srv;
    struct MHD_Connection *mhd;
    int fd;                      /* the connection's socket, owned by libmicrohttpd */
    struct fd_sock *prev, *next; /* in srv->socks */
    double wait_since;           /* the wait for a request's headers began (open, last end) */
    double window_start;         /* the current body-progress window began */
    size_t window_bytes;         /* body bytes received in it */
    unsigned long requests;      /* requests completed on the connection */
    unsigned url_nul : 1;        /* the request line being parsed decoded a %00 */
    unsigned in_request : 1;     /* headers complete, request not yet completed */
    unsigned in_body : 1;        /* its body is still arriving */
    unsigned cut : 1;            /* shut down by a deadline or the drain; closing */
} fd_sock;

typedef struct fd_direct fd_direct;

struct fd_server {
    fd_app *app;
    const fd_server_opts *opts;
    uv_loop_t loop;
    struct MHD_Daemon *mhd;     /* NULL once stopped */
    uv_poll_t poll;             /* on libmicrohttpd's epoll fd */
    uv_timer_t mhd_timer;       /* re-armed from MHD_get_timeout() after every MHD_run() */
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t drain_timer;     /* polls for the end of the drain */
    double drain_deadline;      /* fd_now() after which the drain stops waiting */
    fd_conn *conns;             /* every live request, for shutdown */
    fd_store_refresher refresher;
    fd_sock *socks;             /* every open connection */
    size_t n_socks;
    unsigned long long n_refused; /* connections refused past max_connections */
    uv_timer_t sweep_timer;     /* fd_sock_sweep */
    unsigned request_prefix;    /* random, so request ids differ across restarts */
    unsigned long long next_request;
};

/* server.c: runs libmicrohttpd and re-arms its timer; a no-op once the daemon is stopped. */
void fd_server_kick(fd_server *srv);

/* conn.c: the libmicrohttpd callbacks (cls is the fd_server). */
enum MHD_Result fd_conn_access(void *cls, struct MHD_Connection *connection, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **con_cls);
void fd_conn_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                       enum MHD_RequestTerminationCode toe);
/* Brings the deadline of every request running on a worker forward to now (drain_timeout
 * passed): long work stops at its next check. */
void fd_conn_abandon_all(fd_server *srv);
/* Answers 503 to every request still waiting on a worker and resumes it (shutdown). */
void fd_conn_abort_suspended(fd_server *srv);

/* sock.c: MHD_OPTION_NOTIFY_CONNECTION (cls is the fd_server) and
 * MHD_OPTION_UNESCAPE_CALLBACK (fd_url_unescape, noting a %00 on the connection). */
void fd_sock_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                    enum MHD_ConnectionNotificationCode toe);
size_t fd_sock_unescape(void *cls, struct MHD_Connection *connection, char *s);
/* The connection's fd_sock, or NULL (none could be allocated). */
fd_sock *fd_sock_of(struct MHD_Connection *connection);
/* conn.c reports a request's phases (sock may be NULL): headers complete (with_body when
 * a body follows), body bytes received, body complete or refused, request completed. */
void fd_sock_request_begin(fd_sock *sock, int with_body);
void fd_sock_body_bytes(fd_sock *sock, size_t n);
void fd_sock_body_done(fd_sock *sock);
void fd_sock_request_end(fd_sock *sock);
/* The connections' deadlines and missed ends (see sock.c). */
#define FD_SOCK_SWEEP_MS 1000
void fd_sock_sweep(fd_server *srv);

/* direct.c: answers written to the socket itself (see direct.c). */
/* One non-blocking write of a small error answer (Retry-After when retry_after > 0),
 * then the socket is shut down both ways; libmicrohttpd closes it on its next turn. */
void fd_direct_refuse(int fd, int status, const char *code, const char *message,
                      int retry_after);
/* 1 when the client has shut its side (or closed): reading gives end of input. */
int fd_direct_peer_closed(int fd);
/* Writes bytes[0..len) (taken) as the client reads them, then shuts the write side and
 * calls done(ctx); NULL (bytes freed) when it cannot start. fd_direct_cancel stops it
 * without calling done (the connection is being torn down). */
fd_direct *fd_direct_write(uv_loop_t *loop, int fd, char *bytes, size_t len,
                           void (*done)(void *ctx), void *ctx);
void fd_direct_cancel(fd_direct *d);

/* send.c: queues resp on the connection, adding the generic headers (X-Request-Id,
 * Content-Type, ETag, Location, Cache-Control, Allow when `allow` is not empty, the
 * response's own headers, CORS headers (policy.h) and Connection: close while draining) and answering 304 when If-None-Match matches the
 * ETag. Takes the body from resp. Returns the status sent, or 0 if libmicrohttpd refused. */
int fd_send_response(fd_server *srv, struct MHD_Connection *connection, fd_response *resp,
                     const char *request_id, const char *allow);
/* The same answer as the whole bytes of an HTTP/1.1 response with Connection: close, for
 * the direct writer; takes the body from resp, sets *status. NULL when out of memory. */
char *fd_serialize_response(fd_server *srv, struct MHD_Connection *connection,
                            fd_response *resp, const char *request_id, const char *allow,
                            int *status, size_t *len);

/* request.c: frees what an fd_request owns (params, query, headers, body). */
void fd_request_release(fd_request *req);
void fd_response_release(fd_response *resp);

/* http_metrics.c: per-route counts and latency, per model/version scoring counts.
 * fd_http_metrics_request is called once per completed request (loop thread; route NULL
 * when none matched, status 0 when no answer was sent), fd_http_metrics_model by scoring
 * handlers (any thread), fd_http_metrics_write by the scrape. */
void fd_http_metrics_init(void);
void fd_http_metrics_request(const fd_route *route, int status, double seconds);
void fd_http_metrics_model(const char *model, int version, const char *endpoint);
void fd_http_metrics_write(fd_metrics_out *o);

/* access_log.c: one access log line (loop thread). */
typedef struct fd_access_entry {
    const char *method, *path;         /* path decoded (encoded again in the line) */
    const char *query;                 /* fd_access_query's text, "" when none */
    int status;                        /* 0 when no answer was sent */
    size_t bytes;                      /* body bytes sent */
    double seconds;
    const char *client;                /* "127.0.0.1:50312" */
    const char *request_id;
    const char *token;                 /* the token's name, "" without auth */
    const char *note;                  /* NULL, or " (why)" appended in text mode */
} fd_access_entry;
void fd_access_log(const fd_access_entry *e);
/* The request's query arguments percent-encoded again ("a=1&b=x%20y"), malloc'd; NULL when
 * there are none or memory ran out. */
char *fd_access_query(struct MHD_Connection *connection);
/* The peer's address as "1.2.3.4:port" or "[::1]:port" ("-" when unknown). */
void fd_access_client(struct MHD_Connection *connection, char *out, size_t cap);

/* stats.c (atomics; any thread). */
void fd_stats_start(void);
void fd_stats_request_begin(void);
void fd_stats_request_end(void);
long fd_stats_in_flight(void);
void fd_stats_timeout(void);

#endif
