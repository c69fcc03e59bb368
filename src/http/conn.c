/* One request's life on the loop thread, from libmicrohttpd's first call to its
 * completion notice:
 *
 *   first call      route it; 404/405, or 413 when Content-Length is over the limit, are
 *                   answered at once, before any of the body is read;
 *   body chunks     buffered (or spooled to a temp file for FD_ROUTE_SPOOL), the limit
 *                   enforced again for chunked bodies;
 *   last call       copy method, path, query and headers into an fd_request, then run the
 *                   handler inline, or suspend the connection and queue it on the libuv
 *                   threadpool with a deadline timer;
 *   after the work  (or the deadline, whichever is first) resume and MHD_run(); the
 *                   re-entered handler queues the response. A late result is discarded:
 *                   the fd_conn lives until both libmicrohttpd and the worker are done.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "body_decode.h"
#include "factord/log.h"
#include "factord/membudget.h"
#include "factord/router.h"
#include "factord/spool.h"
#include "factord/store.h"
#include "factord/url.h"
#include "policy.h"
#include "server_internal.h"

/* Beyond this much unread excess a chunked upload is cut off rather than drained. */
#define DISCARD_SLACK ((size_t)16 << 20)

struct fd_conn {
    fd_server *srv;
    struct MHD_Connection *mhd;
    fd_conn *prev, *next;      /* in srv->conns */
    double started;
    char request_id[72];
    char who[65];              /* name of the token that authenticated it, or "" */
    char *query;               /* the query string for the access log (fd_access_query) */
    size_t sent_bytes;         /* body bytes of the answer queued */
    char method[16];
    char *path;
    fd_route_match match;
    size_t limit;              /* body_limit, or spool_limit for spooled routes */
    size_t received;
    int too_large;
    int mem_refused;           /* FD_MEM_OVER_*: buffering the body ran into a budget */
    fd_mem_account mem;        /* this request's memory budget (membudget.h) */
    size_t body_charged;       /* bytes of body buffer charged to it */
    char *body;                /* buffered routes */
    size_t body_cap;
    int spool_fd;              /* spooled routes, -1 otherwise */
    char *spool_path;
    int spool_errno;
    fd_body_plan body_plan;    /* what the body is, decided before reading it */
    fd_body_decoder *decoder;  /* gzip bodies; NULL otherwise */
    int decode_failed;         /* the body was not gzip */
    atomic_int commit_gate;    /* GATE_*: the worker committed, or the deadline answered */
    double timeout;            /* request_timeout at dispatch */
    fd_request req;
    fd_response work_resp;     /* written by the worker thread only */
    fd_response resp;          /* what the loop thread sends */
    int status;                /* status queued; 0 until then */
    uv_work_t work;
    uv_timer_t deadline;
    fd_direct *direct;         /* writing the answer itself (the client half-closed) */
    unsigned timer_init : 1, work_pending : 1, suspended : 1, ready : 1, mhd_done : 1;
    unsigned written_direct : 1; /* the answer went out through direct.c */
};

static void conn_free_memory(uv_handle_t *handle) { free(handle->data); }

/* The spool file goes as soon as the handler is done with it, before the answer is sent. */
static void spool_remove(fd_conn *conn) {
    if (conn->spool_fd >= 0) close(conn->spool_fd);
    conn->spool_fd = -1;
    if (conn->spool_path) unlink(conn->spool_path);
    free(conn->spool_path);
    conn->spool_path = NULL;
    conn->req.body_path = NULL;
}

static void conn_free(fd_conn *conn) {
    if (conn->prev) conn->prev->next = conn->next;
    else conn->srv->conns = conn->next;
    if (conn->next) conn->next->prev = conn->prev;
    spool_remove(conn);
    fd_body_decoder_free(conn->decoder);
    free(conn->path);
    free(conn->query);
    free(conn->body);
    fd_route_match_free(&conn->match);
    fd_request_release(&conn->req);
    fd_mem_account_close(&conn->mem);
    fd_response_release(&conn->work_resp);
    fd_response_release(&conn->resp);
    if (conn->timer_init) {
        conn->deadline.data = conn;
        uv_close((uv_handle_t *)&conn->deadline, conn_free_memory);
    } else {
        free(conn);
    }
}

/* A client's own X-Request-Id is kept when it is short and plain; otherwise one is made. */
static void assign_request_id(fd_conn *conn) {
    const char *given =
        MHD_lookup_connection_value(conn->mhd, MHD_HEADER_KIND, "X-Request-Id");
    size_t n = given ? strlen(given) : 0;
    if (n > 0 && n < 64 && strspn(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789-_.:") == n) {
        memcpy(conn->request_id, given, n + 1);
        return;
    }
    snprintf(conn->request_id, sizeof conn->request_id, "%08x-%llx", conn->srv->request_prefix,
             ++conn->srv->next_request);
}

static enum MHD_Result conn_send(fd_conn *conn) {
    conn->sent_bytes = strcmp(conn->method, "HEAD") == 0 ? 0 : conn->resp.body_len;
    fd_sock_body_done(fd_sock_of(conn->mhd)); /* answered: whatever body is left is moot */
    conn->status = fd_send_response(conn->srv, conn->mhd, &conn->resp, conn->request_id,
                                     conn->match.allow);
    return conn->status ? MHD_YES : MHD_NO;
}

static enum MHD_Result conn_answer_error(fd_conn *conn, int status, const char *code,
                                         const char *message) {
    fd_response_error(&conn->resp, status, code, "%s", message);
    return conn_send(conn);
}

/* The answer to a request that ran into a memory budget (FD_MEM_OVER_*). */
static void mem_refusal(fd_response *resp, int why, const fd_config *cfg) {
    if (why == FD_MEM_OVER_REQUEST) {
        fd_response_error(resp, 413, "request_too_large", "handling this request needs more "
                          "than request_memory_limit (%zu bytes) of memory: send a smaller body "
                          "(CSV needs far less than JSON)", cfg->request_memory_limit);
        return;
    }
    fd_response_error(resp, 503, "memory_busy", "the requests in flight hold memory_limit "
                      "(%zu bytes) between them; try again shortly", cfg->memory_limit);
    fd_response_header(resp, "Retry-After", "5");
}

/* Reserves the body buffer of a Content-Length body at once, at its exact size (growing it
 * by doubling could hold twice the body); 0, or the budget it ran into. */
static int reserve_body(fd_conn *conn, unsigned long long n) {
    int why;
    if (n == 0 || conn->spool_fd >= 0 || conn->decoder) return FD_MEM_OK;
    if ((why = fd_mem_charge(&conn->mem, (size_t)n + 1)) != FD_MEM_OK) return why;
    conn->body_charged = (size_t)n + 1;
    if ((conn->body = malloc((size_t)n + 1)) != NULL) conn->body_cap = (size_t)n + 1;
    return FD_MEM_OK;
}

static int open_spool(fd_conn *conn) {
    conn->spool_errno = fd_spool_create(&conn->srv->app->cfg, &conn->spool_path, &conn->spool_fd);
    return conn->spool_errno ? -1 : 0;
}

/* 1 if the request announces a body (Content-Length > 0 or chunked). */
static int has_body(struct MHD_Connection *mhd) {
    const char *length = MHD_lookup_connection_value(mhd, MHD_HEADER_KIND, "Content-Length");
    return (length && strspn(length, "0") != strlen(length)) ||
           MHD_lookup_connection_value(mhd, MHD_HEADER_KIND, "Transfer-Encoding") != NULL;
}

/* Answers found before the body (conn->resp): with a body announced they are sent at once,
 * so it is never read (libmicrohttpd then closes the connection); without one they wait
 * for the last call, which keeps the connection alive. */
static enum MHD_Result conn_early_answer(fd_conn *conn) {
    conn->ready = 1;
    return has_body(conn->mhd) ? conn_send(conn) : MHD_YES;
}

static enum MHD_Result conn_early_error(fd_conn *conn, int status, const char *code,
                                        const char *message) {
    fd_response_error(&conn->resp, status, code, "%s", message);
    return conn_early_answer(conn);
}

static const char *conn_header(void *ctx, const char *name) {
    fd_conn *conn = ctx;
    return MHD_lookup_connection_value(conn->mhd, MHD_HEADER_KIND, name);
}

/* The request policy (policy.h: Host, OPTIONS, Origin, bearer token, Content-Type), before
 * any of the body is read. Returns 1 when it answered (into conn->resp). */
static int conn_policy(fd_conn *conn, int route_status) {
    fd_policy_in in = {conn->method, conn->path, route_status, conn->match.route,
                       conn->match.allow, has_body(conn->mhd), conn_header, conn};
    return fd_policy_check(conn->srv->app, &in, &conn->resp, conn->who) != 0;
}

typedef struct query_check {
    fd_error *err;
    int failed;
} query_check;

static enum MHD_Result check_query_kv(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value) {
    query_check *q = cls;
    (void)kind;
    if (fd_url_check_query(key, value ? value : "", q->err) == 0) return MHD_YES;
    q->failed = 1;
    return MHD_NO;
}

/* The request target before routing: no %00 anywhere, a path and query arguments of valid
 * text (url.h). 0, or -1 with err filled. */
static int check_target(fd_conn *conn, fd_error *err) {
    fd_sock *sock = fd_sock_of(conn->mhd);
    query_check q = {err, 0};
    if (sock && sock->url_nul) {
        sock->url_nul = 0;
        return fd_error_set(err, 400, "bad_url", "the URL holds an encoded NUL byte (%%00)");
    }
    if (fd_url_check_path(conn->path, err) != 0) return -1;
    MHD_get_connection_values(conn->mhd, MHD_GET_ARGUMENT_KIND, check_query_kv, &q);
    return q.failed ? -1 : 0;
}

static enum MHD_Result conn_begin(fd_conn *conn) {
    const fd_config *cfg = &conn->srv->app->cfg;
    const char *length;
    char msg[512];
    fd_error err;
    int status;
    if (check_target(conn, &err) != 0)
        return conn_early_error(conn, err.status, err.code, err.message);
    status = fd_router_match_app(conn->method, conn->path, &conn->match);
    if (status != 500 && conn_policy(conn, status)) return conn_early_answer(conn);
    if (status == 404) {
        snprintf(msg, sizeof msg, "no resource at %.300s", conn->path);
        return conn_early_error(conn, 404, "not_found", msg);
    }
    if (status == 405) {
        snprintf(msg, sizeof msg, "%s is not allowed on %.300s (allowed: %s)", conn->method,
                 conn->path, conn->match.allow);
        return conn_early_error(conn, 405, "method_not_allowed", msg);
    }
    if (status != 200) return conn_answer_error(conn, 500, "internal", "out of memory");
    if (has_body(conn->mhd) &&
        fd_body_plan_make(conn_header(conn, "Content-Type"),
                          conn_header(conn, "Content-Encoding"), &conn->body_plan, msg,
                          sizeof msg) != 0)
        return conn_early_error(conn, 415, "unsupported_media_type", msg);
    if (conn->body_plan.gzip && !(conn->decoder = fd_body_decoder_new()))
        return conn_answer_error(conn, 500, "internal", "out of memory");
    conn->limit = conn->match.route->flags & FD_ROUTE_SPOOL ? cfg->spool_limit : cfg->body_limit;
    length = MHD_lookup_connection_value(conn->mhd, MHD_HEADER_KIND, "Content-Length");
    if (length) {
        char *end;
        unsigned long long n;
        errno = 0;
        n = strtoull(length, &end, 10);
        if (errno == 0 && *end == '\0' && n > conn->limit) {
            snprintf(msg, sizeof msg, "request body of %llu bytes exceeds the limit of %zu bytes",
                     n, conn->limit);
            return conn_answer_error(conn, 413, "body_too_large", msg);
        }
    }
    if ((conn->match.route->flags & FD_ROUTE_SPOOL) && open_spool(conn) != 0) {
        snprintf(msg, sizeof msg, "cannot create a spool file for the body: %s",
                 strerror(conn->spool_errno));
        return conn_answer_error(conn, 500, "spool_failed", msg);
    }
    if (length && (status = reserve_body(conn, strtoull(length, NULL, 10))) != FD_MEM_OK) {
        mem_refusal(&conn->resp, status, cfg);
        return conn_send(conn);
    }
    return MHD_YES;
}

static int write_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static enum MHD_Result conn_take_body(fd_conn *conn, const char *data, size_t len) {
    conn->received += len;
    if (conn->received > conn->limit) {
        conn->too_large = 1;
        return conn->received - conn->limit > DISCARD_SLACK ? MHD_NO : MHD_YES;
    }
    if (conn->mem_refused) return MHD_YES; /* answered at the end; nothing more is kept */
    if (conn->spool_fd >= 0) {
        if (!conn->spool_errno && write_all(conn->spool_fd, data, len) != 0)
            conn->spool_errno = errno;
        return MHD_YES;
    }
    if (conn->received + 1 > conn->body_cap) {
        size_t cap = conn->body_cap ? conn->body_cap : 64 * 1024;
        char *grown;
        while (cap < conn->received + 1) cap *= 2;
        if (cap > conn->limit + 1) cap = conn->limit + 1;
        if (cap > conn->body_charged) {
            int why = fd_mem_charge(&conn->mem, cap - conn->body_charged);
            if (why != FD_MEM_OK) {
                conn->mem_refused = why;
                return MHD_YES;
            }
            conn->body_charged = cap;
        }
        grown = realloc(conn->body, cap);
        if (!grown) return MHD_NO;
        conn->body = grown;
        conn->body_cap = cap;
    }
    memcpy(conn->body + conn->received - len, data, len);
    conn->body[conn->received] = '\0';
    return MHD_YES;
}

/* The decoder's sink: stops it as soon as the decompressed body passes the limit. */
static int take_decoded(void *ctx, const char *data, size_t len) {
    fd_conn *conn = ctx;
    return conn_take_body(conn, data, len) == MHD_YES && !conn->too_large ? 0 : -1;
}

/* A chunk as it came off the wire: decompressed first when the body is gzip. Past the limit
 * (or after bad gzip) the compressed bytes are only counted, never inflated. */
static enum MHD_Result conn_take_upload(fd_conn *conn, const char *data, size_t len) {
    if (!conn->decoder || conn->too_large || conn->decode_failed)
        return conn_take_body(conn, data, len);
    int rc = fd_body_decoder_feed(conn->decoder, data, len, take_decoded, conn);
    if (rc < 0) conn->decode_failed = 1;
    return rc > 0 && !conn->too_large ? MHD_NO : MHD_YES;
}

typedef struct kv_collect {
    fd_kv *kv;
    size_t n, cap;
    int lower, failed;
} kv_collect;

static enum MHD_Result collect_kv(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value) {
    kv_collect *c = cls;
    (void)kind;
    if (c->n == c->cap) return MHD_NO;
    c->kv[c->n].key = strdup(key);
    c->kv[c->n].value = strdup(value ? value : "");
    if (!c->kv[c->n].key || !c->kv[c->n].value) {
        free(c->kv[c->n].key);
        free(c->kv[c->n].value);
        c->failed = 1;
        return MHD_NO;
    }
    if (c->lower)
        for (char *p = c->kv[c->n].key; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    c->n++;
    return MHD_YES;
}

static int copy_values(struct MHD_Connection *mhd, enum MHD_ValueKind kind, int lower,
                       fd_kv **out, size_t *n_out) {
    int count = MHD_get_connection_values(mhd, kind, NULL, NULL);
    kv_collect c = {NULL, 0, count > 0 ? (size_t)count : 0, lower, 0};
    *out = NULL;
    *n_out = 0;
    if (c.cap == 0) return 0;
    c.kv = calloc(c.cap, sizeof *c.kv);
    if (!c.kv) return -1;
    MHD_get_connection_values(mhd, kind, collect_kv, &c);
    *out = c.kv;
    *n_out = c.n;
    return c.failed ? -1 : 0;
}

static int build_request(fd_conn *conn) {
    fd_request *req = &conn->req;
    req->method = conn->method;
    req->path = conn->path;
    for (int i = 0; i < conn->match.n_params; i++) req->params[i] = conn->match.params[i];
    req->n_params = conn->match.n_params;
    conn->match.n_params = 0; /* moved into req */
    req->app = conn->srv->app;
    req->deadline = fd_now() + conn->timeout;
    if (conn->spool_fd >= 0) {
        req->body_path = conn->spool_path;
        req->body_len = conn->received;
    } else if (conn->received > 0) {
        req->body = conn->body;
        req->body_len = conn->received;
        conn->body = NULL;
    }
    if (copy_values(conn->mhd, MHD_GET_ARGUMENT_KIND, 0, &req->query, &req->n_query) != 0 ||
        copy_values(conn->mhd, MHD_HEADER_KIND, 1, &req->headers, &req->n_headers) != 0)
        return -1;
    fd_body_plan_apply(&conn->body_plan, req);
    return 0;
}

static void conn_resume_mhd(fd_conn *conn) {
    conn->suspended = 0;
    MHD_resume_connection(conn->mhd);
    fd_server_kick(conn->srv);
}

static void on_direct_done(void *ctx) {
    fd_conn *conn = ctx;
    conn->direct = NULL;
    conn_resume_mhd(conn); /* libmicrohttpd now reads the end of input and closes */
}

/* A client that shut its side while its request ran would lose the answer: libmicrohttpd
 * reads the end of input before writing a resumed connection's answer (direct.c). Such an
 * answer is written directly; 1 when that started. */
static int conn_answer_half_closed(fd_conn *conn) {
    fd_sock *sock = fd_sock_of(conn->mhd);
    char *bytes;
    size_t len;
    int status;
    if (!sock || !fd_direct_peer_closed(sock->fd)) return 0;
    bytes = fd_serialize_response(conn->srv, conn->mhd, &conn->resp, conn->request_id,
                                  conn->match.allow, &status, &len);
    if (!bytes) return 0;
    conn->direct = fd_direct_write(&conn->srv->loop, sock->fd, bytes, len, on_direct_done, conn);
    if (!conn->direct) return 0;
    conn->status = status;
    conn->written_direct = 1;
    return 1;
}

static void conn_resume(fd_conn *conn) {
    conn->ready = 1;
    if (conn_answer_half_closed(conn)) return; /* resumed once written */
    conn_resume_mhd(conn);
}

/* A request whose deadline passed is answered 503 and must then change nothing; one whose
 * handler committed must get its real answer. The gate decides which happened first: the
 * worker's commit hook (fd_db_guard_commits) moves it OPEN -> COMMITTED, the deadline and
 * the shutdown OPEN -> CLOSED, and neither can undo the other. */
enum { GATE_OPEN, GATE_COMMITTED, GATE_CLOSED };

static int gate_allows_commit(void *ctx) { /* worker thread */
    int open = GATE_OPEN;
    return atomic_compare_exchange_strong((atomic_int *)ctx, &open, GATE_COMMITTED) ||
                   open == GATE_COMMITTED
               ? 0
               : -1;
}

static int gate_close(fd_conn *conn) { /* loop thread; 0 when the handler has committed */
    int open = GATE_OPEN;
    return atomic_compare_exchange_strong(&conn->commit_gate, &open, GATE_CLOSED) ||
           open == GATE_CLOSED;
}

static void on_deadline(uv_timer_t *timer) {
    fd_conn *conn = timer->data;
    if (!conn->suspended || !gate_close(conn)) return;
    fd_stats_timeout();
    fd_response_error(&conn->resp, 503, "timeout",
                      "the request did not finish within its deadline of %g s", conn->timeout);
    conn_resume(conn);
}

/* Past this peak a request's freed memory is handed back to the system at its end: glibc
 * keeps it in the worker's arena otherwise, and one 60 MB JSON body left 1 GB resident. */
#define TRIM_AFTER_BYTES ((size_t)32 << 20)

/* Runs the handler with the request's memory budget entered; a handler that ran into it
 * is answered for that, whatever it made of its failed allocation. */
static void run_handler(fd_conn *conn, fd_response *resp) {
    int why;
    fd_mem_enter(&conn->mem);
    conn->match.route->fn(&conn->req, resp);
    fd_mem_leave();
    if ((why = atomic_load(&conn->mem.exceeded)) != FD_MEM_OK) {
        fd_response_release(resp);
        mem_refusal(resp, why, &conn->srv->app->cfg);
    }
    if (atomic_load(&conn->mem.peak) > TRIM_AFTER_BYTES) malloc_trim(0);
}

static void work_run(uv_work_t *work) {
    fd_conn *conn = work->data;
    fd_db_guard_commits(gate_allows_commit, &conn->commit_gate);
    run_handler(conn, &conn->work_resp);
    fd_db_guard_commits(NULL, NULL);
}

static void work_done(uv_work_t *work, int status) {
    fd_conn *conn = work->data;
    (void)status;
    conn->work_pending = 0;
    spool_remove(conn);
    if (conn->mhd_done) {
        conn_free(conn);
        return;
    }
    if (conn->ready) { /* the deadline answered already: drop the late result */
        fd_response_release(&conn->work_resp);
        return;
    }
    uv_timer_stop(&conn->deadline);
    conn->resp = conn->work_resp;
    memset(&conn->work_resp, 0, sizeof conn->work_resp);
    if (conn->resp.status == 0)
        fd_response_error(&conn->resp, 500, "internal", "the handler produced no response");
    conn_resume(conn);
}

static enum MHD_Result conn_dispatch(fd_conn *conn) {
    char msg[256];
    if (conn->too_large) {
        snprintf(msg, sizeof msg, "request body exceeds the limit of %zu bytes", conn->limit);
        return conn_answer_error(conn, 413, "body_too_large", msg);
    }
    if (conn->mem_refused) {
        mem_refusal(&conn->resp, conn->mem_refused, &conn->srv->app->cfg);
        return conn_send(conn);
    }
    if (conn->decoder && (conn->decode_failed || fd_body_decoder_finish(conn->decoder) != 0))
        return conn_answer_error(conn, 400, "bad_gzip",
                                 conn->decode_failed ? "the body is not valid gzip data"
                                                     : "the gzip body ends before its end");
    if (conn->spool_errno) {
        snprintf(msg, sizeof msg, "cannot spool the body: %s", strerror(conn->spool_errno));
        return conn_answer_error(conn, 500, "spool_failed", msg);
    }
    conn->timeout = conn->match.route->flags & FD_ROUTE_SPOOL ? conn->srv->app->cfg.import_timeout
                                                               : conn->srv->app->cfg.request_timeout;
    if (build_request(conn) != 0)
        return conn_answer_error(conn, 500, "internal", "out of memory copying the request");
    if (conn->match.route->flags & FD_ROUTE_INLINE) {
        run_handler(conn, &conn->resp);
        spool_remove(conn);
        if (conn->resp.status == 0)
            fd_response_error(&conn->resp, 500, "internal", "the handler produced no response");
        return conn_send(conn);
    }
    conn->work.data = conn;
    if (uv_queue_work(&conn->srv->loop, &conn->work, work_run, work_done) != 0)
        return conn_answer_error(conn, 503, "unavailable", "cannot queue the request");
    conn->work_pending = 1;
    uv_timer_init(&conn->srv->loop, &conn->deadline);
    conn->timer_init = 1;
    conn->deadline.data = conn;
    uv_timer_start(&conn->deadline, on_deadline, (uint64_t)(conn->timeout * 1000.0 + 0.5), 0);
    MHD_suspend_connection(conn->mhd);
    conn->suspended = 1;
    return MHD_YES;
}

static fd_conn *conn_new(fd_server *srv, struct MHD_Connection *mhd, const char *url,
                         const char *method) {
    fd_conn *conn = calloc(1, sizeof *conn);
    if (!conn) return NULL;
    conn->path = strdup(url);
    if (!conn->path) {
        free(conn);
        return NULL;
    }
    conn->srv = srv;
    conn->mhd = mhd;
    conn->spool_fd = -1;
    conn->started = fd_now();
    fd_mem_account_init(&conn->mem, srv->app->cfg.request_memory_limit);
    snprintf(conn->method, sizeof conn->method, "%s", method);
    assign_request_id(conn);
    conn->query = fd_access_query(mhd);
    conn->next = srv->conns;
    if (srv->conns) srv->conns->prev = conn;
    srv->conns = conn;
    fd_stats_request_begin();
    return conn;
}

enum MHD_Result fd_conn_access(void *cls, struct MHD_Connection *connection, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **con_cls) {
    fd_conn *conn = *con_cls;
    (void)version;
    if (!conn) {
        conn = conn_new(cls, connection, url, method);
        if (!conn) return MHD_NO;
        *con_cls = conn;
        fd_sock_request_begin(fd_sock_of(connection), has_body(connection));
        return conn_begin(conn);
    }
    if (*upload_data_size) {
        size_t len = *upload_data_size;
        *upload_data_size = 0;
        fd_sock_body_bytes(fd_sock_of(connection), len);
        return conn->status || conn->ready ? MHD_YES : conn_take_upload(conn, upload_data, len);
    }
    fd_sock_body_done(fd_sock_of(connection));
    if (conn->written_direct) return MHD_NO; /* answered already: libmicrohttpd closes */
    if (conn->status) return MHD_YES;
    if (conn->ready) return conn_send(conn);
    return conn_dispatch(conn);
}

void fd_conn_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                       enum MHD_RequestTerminationCode toe) {
    fd_conn *conn = *con_cls;
    char client[64];
    int sent = conn && conn->status &&
               (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK || conn->written_direct);
    double seconds;
    (void)cls;
    if (!conn) return;
    *con_cls = NULL;
    fd_sock_request_end(fd_sock_of(connection));
    seconds = fd_now() - conn->started;
    fd_access_client(connection, client, sizeof client);
    fd_access_log(&(fd_access_entry){conn->method, conn->path, conn->query ? conn->query : "",
                                     conn->status, sent ? conn->sent_bytes : 0, seconds, client,
                                     conn->request_id, conn->who,
                                     conn->written_direct ? " (written directly: the client "
                                                            "had shut its side)"
                                     : sent ? NULL
                                            : " (connection closed before the response was sent)"});
    fd_http_metrics_request(conn->match.route, sent ? conn->status : 0, seconds);
    fd_stats_request_end();
    conn->mhd_done = 1;
    if (!conn->work_pending) conn_free(conn);
}

void fd_conn_abandon_all(fd_server *srv) {
    double now = fd_now();
    for (fd_conn *conn = srv->conns; conn; conn = conn->next)
        if (conn->work_pending) atomic_store(&conn->req.deadline, now);
}

void fd_conn_abort_suspended(fd_server *srv) {
    for (fd_conn *conn = srv->conns; conn; conn = conn->next) {
        if (conn->direct) { /* stop writing before libmicrohttpd closes the socket */
            fd_direct_cancel(conn->direct);
            conn->direct = NULL;
            conn_resume_mhd(conn);
            continue;
        }
        if (!conn->suspended || !gate_close(conn)) continue;
        fd_response_error(&conn->resp, 503, "shutting_down",
                          "the server stopped before the request finished");
        conn->ready = 1;
        conn->suspended = 0;
        MHD_resume_connection(conn->mhd);
    }
    fd_server_kick(srv);
}
