/* The job manager (see factord/jobs.h): worker threads that claim queued job rows, run them
 * through their kind and record the outcome. The jobs table is the queue and the source of
 * truth; the manager's own state is only which worker runs which job and the stop flags. */
#include "factord/jobs.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "factord/json_write.h"
#include "factord/log.h"
#include "factord/store_models.h"
#include "job_metrics.h"

/* From OpenBLAS (libopenblas); declared here rather than pulling in one of the cblas.h
 * variants Debian ships. */
void openblas_set_num_threads(int num_threads);

#define JOBS_MAX_LOSSES 1000
#define JOBS_IDLE_POLL 1.0 /* seconds between looks at the table when nobody wakes us */

typedef struct jobs_worker {
    fd_jobs *mgr;
    pthread_t thread;
    int index;
    int64_t job_id;    /* the job this worker runs, 0 when idle; guarded by mgr->mu */
    atomic_int cancel; /* a client cancelled job_id */
} jobs_worker;

struct fd_jobs {
    char *db_path;
    int blas_threads;
    double flush_interval;
    const fd_job_kind *const *kinds;
    const char **kind_names; /* NULL-terminated, for claiming */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned wakeups;        /* submissions not yet looked at; guarded by mu */
    atomic_int stopping;
    atomic_int running;
    int n_workers;
    jobs_worker *workers;
};

struct fd_job_ctx {
    fd_jobs *mgr;
    jobs_worker *w;
    fd_db *db;
    int64_t id;
    const char *model;
    const char *kind;
    double progress;
    json_t *losses;          /* the most recent JOBS_MAX_LOSSES points */
    double last_flush;
    int db_cancel;           /* the row's cancel_requested, as last read */
    int succeeded;
};

static double mono_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static json_t *json_number_or_null(double x) { return isfinite(x) ? json_real(x) : json_null(); }

/* ---- context functions (worker thread) ---- */

int64_t fd_job_id(const fd_job_ctx *ctx) { return ctx->id; }
const char *fd_job_model(const fd_job_ctx *ctx) { return ctx->model; }
fd_db *fd_job_db(fd_job_ctx *ctx) { return ctx->db; }

int fd_job_stopping(const fd_job_ctx *ctx) {
    return atomic_load(&ctx->mgr->stopping) || atomic_load(&ctx->w->cancel) || ctx->db_cancel;
}

static void job_flush(fd_job_ctx *ctx) {
    fd_error err;
    char *losses = fd_json_dumps(ctx->losses, JSON_COMPACT);
    int cancel = 0;
    if (fd_store_job_heartbeat(ctx->db, ctx->id, ctx->progress, losses, &cancel, &err) == 0)
        ctx->db_cancel = cancel;
    else if (err.status == 503) /* a busy database delays the progress display, no more */
        fd_debug("job %lld: progress not recorded yet (store busy)", (long long)ctx->id);
    else
        fd_warn("job %lld: progress not recorded: %s", (long long)ctx->id, err.message);
    free(losses);
    ctx->last_flush = mono_now();
}

int fd_job_progress(fd_job_ctx *ctx, double progress, const fd_fit_event *ev) {
    if (isfinite(progress)) ctx->progress = progress < 0 ? 0 : progress > 1 ? 1 : progress;
    if (ev) {
        json_t *pt = json_object();
        json_object_set_new(pt, "member", json_integer(ev->member));
        json_object_set_new(pt, "epoch", json_integer(ev->epoch));
        json_object_set_new(pt, "train", json_number_or_null(ev->train_loss));
        json_object_set_new(pt, "valid", json_number_or_null(ev->valid_loss));
        json_array_append_new(ctx->losses, pt);
        fd_job_metrics_epoch(ctx->kind);
        if (json_array_size(ctx->losses) > JOBS_MAX_LOSSES) json_array_remove(ctx->losses, 0);
    }
    if (mono_now() - ctx->last_flush >= ctx->mgr->flush_interval) job_flush(ctx);
    return fd_job_stopping(ctx);
}

int fd_job_succeed_tx(fd_job_ctx *ctx, const json_t *result, fd_error *err) {
    if (fd_job_stopping(ctx))
        return fd_error_set(err, 409, "cancelled", "job %lld was cancelled", (long long)ctx->id);
    char *losses = fd_json_dumps(ctx->losses, JSON_COMPACT);
    int rc = fd_store_job_finish_tx(ctx->db, ctx->id, "succeeded", result, NULL, losses, err);
    free(losses);
    if (rc != 0) return -1;
    ctx->succeeded = 1;
    return 0;
}

/* ---- workers ---- */

static const fd_job_kind *find_kind(fd_jobs *m, const char *name) {
    for (size_t i = 0; m->kinds[i]; i++)
        if (strcmp(m->kinds[i]->name, name) == 0) return m->kinds[i];
    return NULL;
}

/* Records how a run ended. Retried briefly: a job left 'running' would only be re-run at the
 * next start. */
static void job_record_end(fd_job_ctx *ctx, const char *state, const fd_error *run_err) {
    char *losses = fd_json_dumps(ctx->losses, JSON_COMPACT);
    fd_error err;
    for (int attempt = 0; attempt < 5; attempt++) {
        if (fd_store_job_finish(ctx->db, ctx->id, state, NULL, run_err, losses, &err) == 0 ||
            err.status == 409)
            break;
        fd_warn("job %lld: recording state %s failed: %s", (long long)ctx->id, state,
                err.message);
        nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = 200000000L}, NULL);
    }
    free(losses);
}

static void job_run(jobs_worker *w, fd_db *db, fd_job_claim *claim) {
    fd_jobs *m = w->mgr;
    const fd_job_kind *kind = find_kind(m, claim->kind);
    fd_job_ctx ctx = {.mgr = m, .w = w, .db = db, .id = claim->id,
                      .model = claim->model[0] ? claim->model : NULL, .kind = claim->kind,
                      .losses = json_array(), .last_flush = mono_now()};
    fd_error err;
    double t0 = mono_now();
    const char *outcome = "succeeded";
    int rc;
    fd_error_clear(&err);
    pthread_mutex_lock(&m->mu);
    w->job_id = claim->id;
    atomic_store(&w->cancel, 0);
    pthread_mutex_unlock(&m->mu);
    atomic_fetch_add(&m->running, 1);
    fd_info("job %lld (%s%s%s) started on worker %d", (long long)ctx.id, claim->kind,
            ctx.model ? " " : "", ctx.model ? ctx.model : "", w->index);
    if (m->blas_threads > 0) openblas_set_num_threads(m->blas_threads);
    rc = kind->run(&ctx, claim->params, &err);
    if (!ctx.succeeded) {
        json_t *row = NULL;
        /* A cancel stored by another process since the last flush counts too. */
        if (!fd_job_stopping(&ctx) && fd_store_job_get(db, ctx.id, &row, NULL) == 0)
            ctx.db_cancel = json_is_true(json_object_get(row, "cancel_requested"));
        json_decref(row);
        if (atomic_load(&m->stopping)) {
            outcome = "requeued";
            job_record_end(&ctx, "queued", NULL);
            fd_info("job %lld stopped for shutdown; it re-runs at the next start",
                    (long long)ctx.id);
        } else if (fd_job_stopping(&ctx)) {
            outcome = "cancelled";
            job_record_end(&ctx, "cancelled", NULL);
            fd_info("job %lld cancelled", (long long)ctx.id);
        } else if (rc == 0) {
            job_record_end(&ctx, "succeeded", NULL);
        } else {
            outcome = "failed";
            job_record_end(&ctx, "failed", &err);
            fd_warn("job %lld failed: %s: %s", (long long)ctx.id, err.code, err.message);
        }
    } else {
        fd_info("job %lld succeeded in %.1f s", (long long)ctx.id, mono_now() - t0);
    }
    fd_job_metrics_finished(claim->kind, outcome, mono_now() - t0);
    atomic_fetch_sub(&m->running, 1);
    pthread_mutex_lock(&m->mu);
    w->job_id = 0;
    pthread_mutex_unlock(&m->mu);
    json_decref(ctx.losses);
}

/* Sleeps until a submission, a stop or the idle poll interval. */
static void worker_wait(fd_jobs *m) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)JOBS_IDLE_POLL;
    pthread_mutex_lock(&m->mu);
    while (!m->wakeups && !atomic_load(&m->stopping)) {
        if (pthread_cond_timedwait(&m->cv, &m->mu, &until) == ETIMEDOUT) break;
    }
    if (m->wakeups) m->wakeups--;
    pthread_mutex_unlock(&m->mu);
}

static void *worker_main(void *arg) {
    jobs_worker *w = arg;
    fd_jobs *m = w->mgr;
    fd_db *db = NULL;
    fd_error err;
    while (!atomic_load(&m->stopping)) {
        fd_job_claim claim;
        if (!db && fd_db_open(m->db_path, &db, &err) != 0) {
            fd_errorlog("jobs: worker %d cannot open the database: %s", w->index, err.message);
            db = NULL;
            worker_wait(m);
            continue;
        }
        if (fd_store_job_claim(db, m->kind_names, &claim, &err) != 0) {
            /* The store busy past the busy timeout is a long write elsewhere (an import):
             * normal, and the next look will do. Anything else is worth a warning. */
            if (err.status == 503)
                fd_debug("jobs: worker %d: store busy, claiming later: %s", w->index, err.message);
            else
                fd_warn("jobs: worker %d: claiming a job failed: %s", w->index, err.message);
            worker_wait(m);
            continue;
        }
        if (claim.id == 0) {
            worker_wait(m);
            continue;
        }
        job_run(w, db, &claim);
        json_decref(claim.params);
    }
    fd_db_close(db);
    return NULL;
}

/* ---- manager ---- */

static void jobs_free(fd_jobs *m) {
    free(m->workers);
    free(m->kind_names);
    free(m->db_path);
    free(m);
}

int fd_jobs_create(const fd_jobs_opts *opts, fd_jobs **out, fd_error *err) {
    fd_jobs *m;
    fd_db *db;
    fd_job_metrics_register();
    size_t n_kinds = 0;
    int requeued = 0;
    *out = NULL;
    if (opts->threads < 1)
        return fd_error_set(err, 400, "bad_config", "training_threads must be at least 1");
    while (opts->kinds[n_kinds]) n_kinds++;
    m = calloc(1, sizeof *m);
    if (!m) return fd_error_set(err, 500, "out_of_memory", "creating the job manager");
    m->db_path = strdup(opts->db_path);
    m->kind_names = calloc(n_kinds + 1, sizeof *m->kind_names);
    m->workers = calloc((size_t)opts->threads, sizeof *m->workers);
    if (!m->db_path || !m->kind_names || !m->workers) {
        jobs_free(m);
        return fd_error_set(err, 500, "out_of_memory", "creating the job manager");
    }
    for (size_t i = 0; i < n_kinds; i++) m->kind_names[i] = opts->kinds[i]->name;
    m->kinds = opts->kinds;
    m->blas_threads = opts->blas_threads;
    m->flush_interval = opts->flush_interval > 0 ? opts->flush_interval : 0.5;
    /* Nothing can be running yet: a 'running' row was orphaned by a crash or a kill. */
    if (fd_db_open(m->db_path, &db, err) != 0) {
        jobs_free(m);
        return -1;
    }
    if (fd_store_job_requeue_running(db, &requeued, err) != 0) {
        fd_db_close(db);
        jobs_free(m);
        return -1;
    }
    fd_db_close(db);
    if (requeued) fd_info("jobs: re-queued %d job(s) interrupted by a restart", requeued);
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    for (int i = 0; i < opts->threads; i++) {
        jobs_worker *w = &m->workers[i];
        w->mgr = m;
        w->index = i;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            m->n_workers = i;
            fd_jobs_destroy(m);
            return fd_error_set(err, 500, "thread_error", "cannot start training thread %d", i);
        }
    }
    m->n_workers = opts->threads;
    *out = m;
    return 0;
}

void fd_jobs_destroy(fd_jobs *m) {
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    atomic_store(&m->stopping, 1);
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    for (int i = 0; i < m->n_workers; i++) pthread_join(m->workers[i].thread, NULL);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    jobs_free(m);
}

int fd_jobs_running(fd_jobs *m) { return m ? atomic_load(&m->running) : 0; }

int fd_jobs_submit(fd_jobs *m, fd_db *db, const char *kind, const char *model,
                   const json_t *params, json_t **out, fd_error *err) {
    int64_t id;
    if (out) *out = NULL;
    if (m && !find_kind(m, kind))
        return fd_error_set(err, 400, "unknown_job_kind", "unknown job kind \"%s\"", kind);
    if (fd_store_job_insert(db, kind, model, params, &id, out, err) != 0) return -1;
    if (m) {
        pthread_mutex_lock(&m->mu);
        m->wakeups++;
        pthread_cond_signal(&m->cv);
        pthread_mutex_unlock(&m->mu);
    }
    return 0;
}

int fd_jobs_cancel(fd_jobs *m, fd_db *db, int64_t id, json_t **out, fd_error *err) {
    int was_running;
    if (out) *out = NULL;
    if (fd_store_job_cancel(db, id, &was_running, err) != 0) return -1;
    if (was_running && m) {
        pthread_mutex_lock(&m->mu);
        for (int i = 0; i < m->n_workers; i++)
            if (m->workers[i].job_id == id) atomic_store(&m->workers[i].cancel, 1);
        pthread_mutex_unlock(&m->mu);
    }
    return out ? fd_store_job_get(db, id, out, err) : 0;
}
