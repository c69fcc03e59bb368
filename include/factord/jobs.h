/* The job manager: long-running work (training now, backtests later) on dedicated threads,
 * never on the libuv threadpool, so requests stay fast while models fit.
 *
 * The jobs table is the queue. fd_jobs_submit inserts a 'queued' row and wakes a worker;
 * each worker claims the oldest queued row of a kind it knows (one BEGIN IMMEDIATE
 * transaction), runs the kind's `run` function with an fd_job_ctx and records the outcome.
 * Workers also look at the table every second, so rows queued by another process (or left
 * behind by a restart) are picked up without a wake-up.
 *
 * States: queued -> running -> succeeded | failed | cancelled, and queued -> cancelled.
 * A run reports progress through fd_job_progress, which writes progress, the recent losses
 * and the heartbeat to the row at most every flush interval (each write a short BEGIN
 * IMMEDIATE transaction) and tells the run to stop once the job is cancelled or the manager
 * is stopping.
 *
 * Restart: fd_jobs_create re-queues rows a crash left 'running'; fd_jobs_destroy asks running
 * jobs to stop and puts them back to 'queued' instead of cancelling them. Either way the job
 * later runs again from the beginning, so a kind's run must be restartable: it writes its
 * output only in its final transaction (fd_job_succeed_tx), and training fits are
 * deterministic for a given seed, so a re-run yields the same version.
 *
 * Threads: fd_jobs_create/destroy on one thread (the daemon's main thread); submit, cancel
 * and the fd_store_job_* readers from any thread with the caller's own connection; the
 * fd_job_* context functions only on the worker running that job. Each worker opens its own
 * connection, so jobs never take connections from the request pool. */
#ifndef FACTORD_JOBS_H
#define FACTORD_JOBS_H

#include <jansson.h>
#include <stdint.h>

#include "factord/app.h"
#include "factord/error.h"
#include "factord/model.h"
#include "factord/store.h"

typedef struct fd_jobs fd_jobs;
typedef struct fd_job_ctx fd_job_ctx;

typedef struct fd_job_kind {
    const char *name; /* stored in jobs.kind: "train", "backtest" */
    /* Runs one job on a worker thread. params is the JSON given to fd_jobs_submit. Returns 0
     * after calling fd_job_succeed_tx inside its final write transaction, or -1 filling err
     * (the job then fails with err, or ends 'cancelled' / re-queued when it was told to
     * stop). */
    int (*run)(fd_job_ctx *ctx, const json_t *params, fd_error *err);
} fd_job_kind;

typedef struct fd_jobs_opts {
    const char *db_path;             /* each worker opens its own connection */
    int threads;                     /* workers, >= 1 */
    int blas_threads;                /* OpenBLAS threads set before every run; <= 0 leaves it */
    double flush_interval;           /* seconds between progress writes; <= 0 means 0.5 */
    const fd_job_kind *const *kinds; /* NULL-terminated; the manager keeps the pointers */
} fd_jobs_opts;

/* Re-queues jobs left 'running' by a crash and starts the workers. *out is destroyed with
 * fd_jobs_destroy. */
int fd_jobs_create(const fd_jobs_opts *opts, fd_jobs **out, fd_error *err);
/* Stops the workers: running jobs are told to stop and left 'queued' for the next start;
 * queued jobs stay queued. Joins every thread and frees the manager. NULL is a no-op. */
void fd_jobs_destroy(fd_jobs *jobs);

/* Queues a job of `kind` (400 "unknown_job_kind" if jobs is not NULL and does not know it)
 * for `model` (may be NULL) with `params` (not stolen), using the caller's connection db, and
 * wakes a worker. jobs may be NULL (a process without workers): the row waits for a daemon.
 * *out (may be NULL) receives the job as fd_store_job_get describes it. */
int fd_jobs_submit(fd_jobs *jobs, fd_db *db, const char *kind, const char *model,
                   const json_t *params, json_t **out, fd_error *err);

/* Cancels job id: a queued job becomes 'cancelled' at once; a running one is flagged
 * (cancel_requested) and its run is told to stop at its next progress report, after which
 * it ends 'cancelled' with no output written. 404 "no_job" if absent, 409 "job_finished" if it
 * already ended. jobs may be NULL: the flag is still stored and the worker, in whatever
 * process, sees it at its next progress write. *out (may be NULL) receives the job. */
int fd_jobs_cancel(fd_jobs *jobs, fd_db *db, int64_t id, json_t **out, fd_error *err);

/* Number of jobs this manager is running right now (for /metrics and tests). */
int fd_jobs_running(fd_jobs *jobs);

/* --- inside a run (worker thread only) --- */

int64_t fd_job_id(const fd_job_ctx *ctx);
/* The model the job was submitted for, or NULL. */
const char *fd_job_model(const fd_job_ctx *ctx);
/* The worker's own connection, held for the whole run; no transaction may be left open
 * across fd_job_progress calls. */
fd_db *fd_job_db(fd_job_ctx *ctx);
/* Records progress in [0, 1] and, when ev is not NULL, one loss point (the most recent
 * 1,000 are kept). Writes the row when the flush interval has passed. Returns non-zero when
 * the run must stop (cancelled or shutting down); model fits return it from their progress
 * callback. */
int fd_job_progress(fd_job_ctx *ctx, double progress, const fd_fit_event *ev);
/* Non-zero once the run has been told to stop. */
int fd_job_stopping(const fd_job_ctx *ctx);
/* Marks the job succeeded with `result` (not stolen) inside the transaction the caller holds
 * on fd_job_db(ctx), so the job's output and its success commit together. Fails with 409
 * "cancelled" when the job was told to stop, or when the row is no longer running. */
int fd_job_succeed_tx(fd_job_ctx *ctx, const json_t *result, fd_error *err);

/* --- `factord serve` glue (src/jobs/jobs_app.c) --- */

/* Creates the manager from app->cfg (db_path, training_threads, blas_threads) with every job
 * kind factord knows and stores it in app->jobs. Call once the store is open. */
int fd_jobs_start(fd_app *app, fd_error *err);
/* fd_jobs_destroy(app->jobs) and clears it; call after the HTTP server has stopped. */
void fd_jobs_stop(fd_app *app);

#endif
