/* The "backtest" job kind (see factord/backtest.h): one refit per window through
 * fd_train_run, each committed together with its window record, then the stitch, committed
 * together with the job's success. A restarted job begins at the first window not yet
 * recorded. */
#include <stdlib.h>
#include <string.h>

#include "backtest_internal.h"
#include "factord/log.h"

/* Share of the progress bar taken by the refits; the stitch takes the rest. */
#define BACKTEST_FIT_SHARE 0.95
#define BACKTEST_COMMIT_TRIES 3

typedef struct backtest_run {
    fd_job_ctx *ctx;
    int64_t id;
    const fd_backtest_spec *spec;
    const fd_backtest_window *windows;
    size_t n, current;
} backtest_run;

static int fit_progress(void *arg, double progress, const fd_fit_event *ev) {
    backtest_run *run = arg;
    return fd_job_progress(run->ctx, BACKTEST_FIT_SHARE * ((double)run->current + progress) /
                                         (double)run->n,
                           ev);
}

static int stitch_progress(void *arg, double done) {
    backtest_run *run = arg;
    return fd_job_progress(run->ctx, BACKTEST_FIT_SHARE + (1 - BACKTEST_FIT_SHARE) * done, NULL);
}

/* Inside the transaction writing the window's version: evaluate its test months and record
 * the window, so version and window commit (or roll back) together. */
static int window_commit(void *arg, fd_db *db, const json_t *version, fd_error *err) {
    backtest_run *run = arg;
    const fd_backtest_window *w = &run->windows[run->current];
    fd_eval_opts opts = {run->spec->n_buckets, run->spec->cost};
    fd_backtest_window_result res;
    int v = (int)json_integer_value(json_object_get(version, "version")), rc;
    if (fd_backtest_window_evaluate(db, run->spec->name, v, w, &opts, &res, err) != 0)
        return fd_error_prefix(err, "window %d test %s..%s", w->idx, w->test_from, w->test_to);
    rc = fd_store_backtest_window_insert_tx(db, run->id, w, &res, err);
    fd_backtest_window_result_free(&res);
    return rc;
}

/* Writes the stitched result and the job's success in one transaction, retried when the
 * store is busy (the refits are already safe; only this last write would be lost). */
static int finish(backtest_run *run, const fd_report_entry *e, fd_error *err) {
    fd_db *db = fd_job_db(run->ctx);
    json_t *result = json_pack("{s:I,s:s,s:I,s:I}", "backtest", (json_int_t)run->id, "model",
                               run->spec->name, "windows", (json_int_t)run->n, "months",
                               (json_int_t)e->T);
    int rc = -1;
    for (int attempt = 1; attempt <= BACKTEST_COMMIT_TRIES; attempt++) {
        if (fd_db_begin(db, err) == 0) {
            if (fd_store_backtest_finish_tx(db, e, err) == 0 &&
                fd_job_succeed_tx(run->ctx, result, err) == 0 && fd_db_commit(db, err) == 0) {
                rc = 0;
                break;
            }
            fd_db_rollback(db);
        }
        if (!err || err->status != 503) break;
        fd_warn("backtest %lld: store busy writing the result, retrying", (long long)run->id);
    }
    json_decref(result);
    return rc;
}

static int run_windows(backtest_run *run, size_t done, fd_error *err) {
    fd_db *db = fd_job_db(run->ctx);
    fd_train_hooks hooks = {fit_progress, window_commit, run, fd_job_id(run->ctx)};
    for (size_t i = done; i < run->n; i++) {
        const fd_backtest_window *w = &run->windows[i];
        run->current = i;
        if (fd_job_progress(run->ctx, BACKTEST_FIT_SHARE * (double)i / (double)run->n, NULL))
            return fd_error_set(err, 409, "cancelled", "backtest %lld was cancelled",
                                (long long)run->id);
        if (fd_train_run(db, run->spec->name, &w->fit, &hooks, NULL, err) != 0)
            return fd_error_prefix(err, "window %zu (train %s..%s)", i, w->fit.train_from,
                                   w->fit.train_to);
        fd_info("backtest %lld: window %zu/%zu done (test %s..%s)", (long long)run->id, i + 1,
                run->n, w->test_from, w->test_to);
    }
    return 0;
}

static int backtest_job_run(fd_job_ctx *ctx, const json_t *params, fd_error *err) {
    fd_backtest_spec spec;
    fd_backtest_window *windows = NULL;
    fd_report_entry result;
    backtest_run run = {.ctx = ctx, .id = fd_job_id(ctx), .spec = &spec};
    size_t n = 0, done = 0;
    int rc = -1;
    memset(&result, 0, sizeof result);
    if (fd_backtest_spec_parse(params, &spec, err) != 0) goto out;
    if (!spec.start[0] || !spec.end[0]) {
        fd_error_set(err, 422, "bad_job", "backtest job %lld: start and end are not resolved",
                     (long long)run.id);
        goto out;
    }
    if (fd_backtest_plan(&spec, &windows, &n, err) != 0) goto out;
    run.windows = windows;
    run.n = n;
    /* The submitter records the backtest after queueing the job; a worker quicker than it
     * records it here, from the same spec. */
    if (fd_store_backtest_create(fd_job_db(ctx), run.id, &spec, n, err) != 0 ||
        fd_store_backtest_windows_done(fd_job_db(ctx), run.id, &done, err) != 0)
        goto out;
    if (done > 0 && done < n)
        fd_info("backtest %lld: resuming at window %zu of %zu", (long long)run.id, done + 1, n);
    if (run_windows(&run, done, err) != 0) goto out;
    if (fd_backtest_stitch(fd_job_db(ctx), run.id, &spec, n, stitch_progress, &run, &result,
                           err) != 0 ||
        finish(&run, &result, err) != 0)
        goto out;
    fd_info("backtest %lld (%s): %zu windows, %zu test months stitched", (long long)run.id,
            spec.name, n, result.T);
    rc = 0;
out:
    fd_report_entry_free(&result);
    free(windows);
    fd_backtest_spec_free(&spec);
    return rc;
}

const fd_job_kind fd_job_kind_backtest = {"backtest", backtest_job_run};
