/* One training run (see factord/train.h) and the "train" job kind built on it. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "factord/log.h"
#include "factord/store_models.h"
#include "factord/train.h"
#include "factord/dataset_load.h"
#include "factord/store_data.h"
#include "train_internal.h"

/* Share of the progress bar before the fit starts (loading data) and after it (statistics,
 * writing the version). */
#define TRAIN_PROGRESS_DATA 0.05
#define TRAIN_PROGRESS_FIT 0.90
#define TRAIN_COMMIT_TRIES 3

typedef struct train_run {
    const fd_train_hooks *hooks;
    fd_train_trace trace;
} train_run;

static double wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int report(train_run *run, double progress, const fd_fit_event *ev) {
    const fd_train_hooks *h = run->hooks;
    return h && h->progress ? h->progress(h->ctx, progress, ev) : 0;
}

static int fit_progress(void *ctx, const fd_fit_event *ev) {
    train_run *run = ctx;
    int members = ev->n_members > 0 ? ev->n_members : 1;
    double within = ev->max_epochs > 0 ? (double)ev->epoch / ev->max_epochs : 1.0;
    run->trace.last = *ev;
    run->trace.have_last = 1;
    run->trace.events++;
    if (within > 1) within = 1;
    return report(run, TRAIN_PROGRESS_DATA +
                           TRAIN_PROGRESS_FIT * ((double)ev->member + within) / members,
                  ev);
}

static int stopped(fd_error *err) {
    return fd_error_set(err, 409, "cancelled", "training was cancelled");
}

/* The version's spec: everything needed to rebuild inputs the way the fit saw them. */
static json_t *version_spec(const json_t *model, const fd_dataset *train) {
    json_t *names = json_array();
    for (size_t j = 0; j < train->P; j++) json_array_append_new(names, json_string(train->col_names[j]));
    return json_pack("{s:O,s:O,s:I,s:O,s:O,s:o,s:b,s:b,s:O,s:O}", "kind",
                     json_object_get(model, "kind"), "k", json_object_get(model, "k"), "P",
                     (json_int_t)train->P, "hyper", json_object_get(model, "hyper"), "columns",
                     json_object_get(model, "columns"), "col_names", names, "add_constant",
                     json_is_true(json_object_get(model, "add_constant")), "excess_returns",
                     json_is_true(json_object_get(model, "excess_returns")), "observed",
                     json_object_get(model, "observed"), "macro", json_object_get(model, "macro"));
}

/* The model's context spec, with the selection fixed before any data is read: the declared
 * columns, or every column of the panel of from-1 (the first month the fit reads), so the
 * model can be created (and say how much history it needs) before the datasets are built. */
static int context_spec(fd_db *db, const json_t *mj, const char *from, json_t **resolved,
                        fd_context_spec *cs, fd_error *err) {
    json_t *cols = json_object_get(mj, "columns");
    char prev[FD_MONTH_LEN];
    *resolved = json_deep_copy(mj);
    if (!*resolved) return fd_error_set(err, 500, "out_of_memory", "model spec");
    if (!json_is_array(cols) || json_array_size(cols) == 0) {
        fd_month_add(from, -1, prev);
        if (fd_store_panel_columns(db, prev, &cols, err) != 0) return -1;
        json_object_set_new(*resolved, "columns", cols);
    }
    return fd_context_spec_from_json(*resolved, 1, cs, err);
}

/* Writes the version and runs the commit hook in one transaction; retried when the store is
 * busy, since losing a finished fit to a momentary lock would waste it. */
static int write_version(fd_db *db, const fd_version_write *vw, const fd_train_hooks *hooks,
                         json_t **out, fd_error *err) {
    for (int attempt = 1;; attempt++) {
        json_t *vj = NULL;
        int version = 0;
        if (fd_db_begin(db, err) == 0) {
            if (fd_store_version_insert_tx(db, vw, &version, err) == 0 &&
                fd_store_version_get(db, vw->model, version, &vj, err) == 0 &&
                (!hooks || !hooks->commit || hooks->commit(hooks->ctx, db, vj, err) == 0) &&
                fd_db_commit(db, err) == 0) {
                *out = vj;
                return 0;
            }
            fd_db_rollback(db);
            json_decref(vj);
        }
        if (!err || err->status != 503 || attempt >= TRAIN_COMMIT_TRIES) return -1;
        fd_warn("training %s: store busy writing the version, retrying", vw->model);
    }
}

/* 1 if characteristics a < b hold the same normalised value for every security in every
 * period, with their indices: a linear model cannot tell such columns apart. */
static int identical_columns(const fd_dataset *ds, size_t *a, size_t *b) {
    for (size_t j = 0; j < ds->P; j++) {
        for (size_t k = j + 1; k < ds->P; k++) {
            int same = 1;
            for (size_t t = 0; t < ds->T && same; t++) {
                const fd_period *p = &ds->periods[t];
                for (size_t i = 0; i < p->n && same; i++)
                    same = p->z[i * ds->P + j] == p->z[i * ds->P + k];
            }
            if (same) {
                *a = j;
                *b = k;
                return 1;
            }
        }
    }
    return 0;
}

/* 1 if characteristic j takes one value for every security in every period (after rank
 * normalisation: no cross-sectional variation, e.g. zero-trade days among large caps). */
static int constant_column(const fd_dataset *ds, size_t j) {
    for (size_t t = 0; t < ds->T; t++) {
        const fd_period *p = &ds->periods[t];
        for (size_t i = 1; i < p->n; i++)
            if (p->z[i * ds->P + j] != p->z[j]) return 0;
    }
    return 1;
}

/* Turns a singular fit into an error that names the characteristics to drop. */
static void explain_singular(const fd_dataset *train, fd_error *err) {
    size_t a, b;
    if (!err || strcmp(err->code, "singular") != 0) return;
    for (size_t j = 0; j < train->P; j++) {
        if (strcmp(train->col_names[j], "const") == 0 || !constant_column(train, j)) continue;
        fd_error_set(err, 422, "constant_characteristic",
                     "characteristic \"%s\" has no cross-sectional variation in any training "
                     "month (it is the same for every security), which this linear model cannot "
                     "use: declare the model with \"columns\" leaving it out",
                     train->col_names[j]);
        return;
    }
    if (!identical_columns(train, &a, &b)) return;
    fd_error_set(err, 422, "collinear_characteristics",
                 "characteristics \"%s\" and \"%s\" are identical after rank normalisation in "
                 "every training month (e.g. betasq when every beta is positive), which this "
                 "linear model cannot separate: declare the model with \"columns\" leaving one "
                 "out", train->col_names[a], train->col_names[b]);
}

int fd_train_run(fd_db *db, const char *model, const fd_train_windows *w,
                 const fd_train_hooks *hooks, json_t **version, fd_error *err) {
    train_run run = {.hooks = hooks};
    fd_dataset train, valid;
    fd_dataset_stats dstats = {0};
    /* The job's thread budget is what OpenBLAS is set to (blas_threads, set by the job
     * manager or `factord train --blas-threads`): CA fits split batches across that many
     * threads of their own. */
    fd_fit_opts fo = {fit_progress, &run, openblas_get_num_threads()};
    const fd_model_ops *ops;
    json_t *mj = NULL, *resolved = NULL, *stats = NULL, *spec = NULL, *vj = NULL;
    fd_context_spec cs = {0};
    fd_model *m = NULL;
    fd_factor_history hist;
    double t0;
    void *blob = NULL;
    size_t blob_len = 0;
    int rc = -1;
    fd_factor_history_init(&hist, 0);
    fd_dataset_init(&train);
    fd_dataset_init(&valid);
    if (version) *version = NULL;
    if (fd_store_model_get(db, model, &mj, err) != 0) return -1;
    ops = fd_model_kind(json_string_value(json_object_get(mj, "kind")));
    if (!ops) {
        fd_error_set(err, 422, "unknown_kind", "model %s has kind \"%s\", which this build "
                     "does not know", model, json_string_value(json_object_get(mj, "kind")));
        goto out;
    }
    if (fd_train_windows_check(db, w, err) != 0) goto out;
    if (report(&run, 0, NULL)) goto cancelled;
    if (context_spec(db, mj, w->train_from, &resolved, &cs, err) != 0) goto out;
    {
        fd_model_dims dims = {cs.n_columns + (cs.add_constant ? 1 : 0),
                              (size_t)json_integer_value(json_object_get(mj, "k")),
                              cs.n_observed, cs.n_macro};
        if (ops->create(&dims, json_object_get(mj, "hyper"), &m, err) != 0) goto out;
    }
    cs.history = m->history;
    if (fd_dataset_load(db, &cs, w->train_from, w->train_to, &train, &dstats, err) ||
        (w->valid_from[0] && fd_dataset_load(db, &cs, w->valid_from, w->valid_to, &valid, NULL,
                                             err)))
        goto out;
    if (report(&run, TRAIN_PROGRESS_DATA, NULL)) goto cancelled;
    t0 = wall_seconds();
    if (ops->fit(m, &train, valid.T ? &valid : NULL, &fo, err) != 0) {
        explain_singular(&train, err);
        goto out;
    }
    run.trace.fit_seconds = wall_seconds() - t0;
    if (report(&run, TRAIN_PROGRESS_DATA + TRAIN_PROGRESS_FIT, NULL)) goto cancelled;
    {
        fd_lambda_windows lw; /* "" validation window when there is none */
        memcpy(lw.train_from, w->train_from, FD_MONTH_LEN);
        memcpy(lw.train_to, w->train_to, FD_MONTH_LEN);
        memcpy(lw.valid_from, w->valid_from, FD_MONTH_LEN);
        memcpy(lw.valid_to, w->valid_to, FD_MONTH_LEN);
        if (fd_train_fit_stats(m, &train, valid.T ? &valid : NULL, &lw, &run.trace, &hist,
                               &stats, err))
            goto out;
    }
    json_object_set_new(stats, "excess_periods", json_integer((json_int_t)dstats.n_excess));
    json_object_set_new(stats, "dropped", json_integer((json_int_t)dstats.n_dropped));
    if (ops->save(m, &blob, &blob_len, err) != 0) goto out;
    spec = version_spec(resolved, &train);
    {
        fd_version_write vw = {
            .model = model, .spec = spec, .train_from = w->train_from, .train_to = w->train_to,
            .valid_from = w->valid_from[0] ? w->valid_from : NULL,
            .valid_to = w->valid_from[0] ? w->valid_to : NULL, .fit_stats = stats,
            .weights = blob, .weights_len = blob_len, .factors = hist.F, .T = hist.T,
            .K = m->K, .months = (const char (*)[FD_MONTH_LEN])hist.months,
            .job_id = hooks ? hooks->job_id : 0};
        if (report(&run, 1.0, NULL)) goto cancelled;
        if (write_version(db, &vw, hooks, &vj, err) != 0) goto out;
    }
    fd_info("trained %s version %lld on %s..%s (%zu periods, %.1f s fit)", model,
            (long long)json_integer_value(json_object_get(vj, "version")), w->train_from,
            w->train_to, train.T, run.trace.fit_seconds);
    if (version) *version = vj;
    else json_decref(vj);
    rc = 0;
    goto out;
cancelled:
    stopped(err);
out:
    fd_model_destroy(m);
    fd_dataset_free(&train);
    fd_dataset_free(&valid);
    fd_context_spec_free(&cs);
    json_decref(resolved);
    json_decref(mj);
    json_decref(stats);
    json_decref(spec);
    fd_factor_history_free(&hist);
    free(blob);
    return rc;
}

/* ---- the "train" job kind ---- */

static int job_progress(void *ctx, double progress, const fd_fit_event *ev) {
    return fd_job_progress(ctx, progress, ev);
}

static int job_commit(void *ctx, fd_db *db, const json_t *version, fd_error *err) {
    json_t *result = json_pack("{s:O,s:O}", "model", json_object_get(version, "model"),
                               "version", json_object_get(version, "version"));
    int rc;
    (void)db; /* the job's own connection, which fd_job_succeed_tx writes through */
    rc = fd_job_succeed_tx(ctx, result, err);
    json_decref(result);
    return rc;
}

static int train_job_run(fd_job_ctx *ctx, const json_t *params, fd_error *err) {
    fd_train_windows w;
    fd_train_hooks hooks = {job_progress, job_commit, ctx, fd_job_id(ctx)};
    if (!fd_job_model(ctx))
        return fd_error_set(err, 422, "bad_job", "train job %lld names no model",
                            (long long)fd_job_id(ctx));
    if (fd_train_windows_parse(params, &w, err) != 0) return -1;
    return fd_train_run(fd_job_db(ctx), fd_job_model(ctx), &w, &hooks, NULL, err);
}

const fd_job_kind fd_job_kind_train = {"train", train_job_run};
