/* fd_app: the daemon's process-wide state, created by `factord serve` and handed to every
 * handler through fd_request.app. Owned by main; lives until the loop has stopped. */
#ifndef FACTORD_APP_H
#define FACTORD_APP_H

#include <stdatomic.h>
#include <stddef.h>

#include "factord/error.h"
#include "factord/store.h"

typedef struct fd_config {
    char listen_addr[64];    /* "127.0.0.1" */
    int port;                /* 0 = ephemeral (the chosen port is logged) */
    char db_path[512];
    char log_level[16];      /* debug|info|warn|error */
    int worker_threads;      /* libuv threadpool size (UV_THREADPOOL_SIZE) */
    size_t body_limit;       /* bytes; larger bodies get 413 */
    size_t spool_limit;      /* bytes for streamed bulk imports */
    char spool_dir[512];     /* where streamed bodies are spooled; "" = $TMPDIR or /tmp */
    double request_timeout;  /* seconds before a suspended request answers 503 */
    double import_timeout;   /* the same for streamed (spooled) bulk uploads */
    int max_connections;     /* open connections at once; more are answered 503 and closed */
    double header_timeout;   /* seconds for a request's line and headers to arrive */
    size_t body_min_rate;    /* bytes/s a body must keep up over each 10 s window; 0 = off */
    double drain_timeout;    /* seconds SIGTERM waits for requests in flight */
    size_t memory_limit;     /* bytes all requests in flight may hold (membudget.h); 0 = off */
    size_t request_memory_limit; /* bytes one request may hold */
    int blas_threads;        /* OpenBLAS threads */
    int training_threads;    /* concurrent training jobs */
    char auth[16];           /* "required" (bearer tokens) or "off" (loopback only) */
    char allowed_hosts[512]; /* comma-separated Host names accepted ("*": any) */
    char cors_origins[1024]; /* comma-separated origins allowed cross-origin; "" = CORS off */
    char log_format[8];      /* access and daemon log lines: "text" or "json" */
} fd_config;

struct fd_app {
    fd_config cfg;          /* current config; replaced whole on reload (loop thread) */
    fd_db_pool *db;         /* connections for handlers and jobs */
    atomic_int draining;    /* set on SIGTERM: /readyz answers 503 */
    void *jobs;             /* job manager (src/jobs), opaque here */
    void *registry;         /* model registry (src/serving/registry.c), opaque here */
    struct fd_auth *auth;   /* token snapshot (auth.h); NULL in processes that serve none */
};
typedef struct fd_app fd_app;

/* Convenience for handlers: a pooled connection; fills a 503 error when none can be had. */
fd_db *fd_app_db_acquire(fd_app *app, fd_error *err);
void fd_app_db_release(fd_app *app, fd_db *db);

#endif
