/* The fit statistics of a fitted model on its training and validation datasets. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "factord/eval_r2.h"
#include "train_internal.h"

/* Bytes for a (T, K) matrix of doubles, at least one cell so malloc never returns NULL for an
 * empty one. */
static size_t cells_bytes(size_t T, size_t K) { return (T * K > 0 ? T * K : 1) * sizeof(double); }

static json_t *number_or_null(double x) { return isfinite(x) ? json_real(x) : json_null(); }

static json_t *r2_json(const fd_r2_sums *tot, const fd_r2_sums *pred, size_t periods) {
    json_t *j = json_object();
    json_object_set_new(j, "periods", json_integer((json_int_t)periods));
    json_object_set_new(j, "observations", json_integer((json_int_t)tot->n_obs));
    json_object_set_new(j, "total_r2", number_or_null(fd_r2_value(tot->sse, tot->sst)));
    json_object_set_new(j, "pred_r2", number_or_null(fd_r2_value(pred->sse, pred->sst)));
    json_object_set_new(j, "total_r2_x", number_or_null(fd_r2_value(tot->sse_x, tot->sst_x)));
    json_object_set_new(j, "pred_r2_x", number_or_null(fd_r2_value(pred->sse_x, pred->sst_x)));
    return j;
}

/* lambda rows (T, K) of the periods of ds: row t is the estimate as of the month before. */
static int lambda_rows(const fd_factor_history *h, const fd_dataset *ds, fd_lambda_estimator est,
                       const fd_lambda_windows *w, double *rows, fd_lambda_info *last,
                       fd_error *err) {
    for (size_t t = 0; t < ds->T; t++) {
        char asof[FD_MONTH_LEN];
        fd_month_add(ds->periods[t].month, -1, asof);
        if (est == FD_LAMBDA_TRAINING) snprintf(asof, sizeof asof, "%s", w->train_to);
        if (fd_lambda_estimate(h, asof, est, w, rows + t * h->K, last, err) != 0) return -1;
    }
    return 0;
}

/* R^2 of ds priced with its rows of h (realised) and with lambda rows of estimator est. */
static int r2_block(const fd_model *m, const fd_dataset *ds, const double *F,
                    const fd_factor_history *h, fd_lambda_estimator est,
                    const fd_lambda_windows *w, json_t **out, fd_error *err) {
    double *lambda = malloc(cells_bytes(ds->T, m->K)); /* (T, K) */
    fd_r2_sums tot = {0}, pred = {0};
    fd_lambda_info li;
    int rc = -1;
    if (!lambda) return fd_error_set(err, 500, "out_of_memory", "fit statistics");
    if (lambda_rows(h, ds, est, w, lambda, &li, err) == 0 &&
        fd_r2_total(m, ds, F, &tot, err) == 0 && fd_r2_pred(m, ds, lambda, &pred, err) == 0) {
        *out = r2_json(&tot, &pred, ds->T);
        json_object_set_new(*out, "lambda", fd_lambda_info_json(&li, NULL, 0));
        rc = 0;
    }
    free(lambda);
    return rc;
}

int fd_train_fit_stats(const fd_model *m, const fd_dataset *train, const fd_dataset *valid,
                       const fd_lambda_windows *w, const fd_train_trace *trace,
                       fd_factor_history *hist, json_t **stats, fd_error *err) {
    size_t K = m->K, T = train->T, Tv = valid ? valid->T : 0;
    double *F = malloc(cells_bytes(T + Tv, K)); /* (T + Tv, K): training, then validation */
    json_t *in_sample = NULL, *valid_json = NULL;
    *stats = NULL;
    fd_factor_history_init(hist, K);
    if (!F) return fd_error_set(err, 500, "out_of_memory", "fit statistics");
    if (fd_r2_factor_series(m, train, F, err) != 0 ||
        (Tv && fd_r2_factor_series(m, valid, F + T * K, err) != 0))
        goto fail;
    for (size_t t = 0; t < T + Tv; t++)
        if (fd_factor_history_push(hist, (t < T ? train->periods[t] : valid->periods[t - T]).month,
                                   F + t * K, err) != 0)
            goto fail;
    /* In sample, Kelly et al.'s convention: the training-window mean; on the validation block
     * the prevailing mean known before each month (what serving would have used). */
    if (r2_block(m, train, F, hist, FD_LAMBDA_TRAINING, w, &in_sample, err) != 0 ||
        (Tv && r2_block(m, valid, F + T * K, hist, FD_LAMBDA_PREVAILING, w, &valid_json, err)))
        goto fail;
    *stats = json_object();
    json_object_set_new(*stats, "in_sample", in_sample);
    json_object_set_new(*stats, "valid", valid_json ? valid_json : json_null());
    json_object_set_new(*stats, "train_loss",
                        number_or_null(trace->have_last ? trace->last.train_loss : NAN));
    json_object_set_new(*stats, "valid_loss",
                        number_or_null(trace->have_last ? trace->last.valid_loss : NAN));
    json_object_set_new(*stats, "epochs", json_integer(trace->events));
    json_object_set_new(*stats, "members",
                        json_integer(trace->have_last ? trace->last.n_members : 1));
    json_object_set_new(*stats, "fit_seconds", json_real(trace->fit_seconds));
    free(F);
    return 0;
fail:
    json_decref(in_sample);
    free(F);
    fd_factor_history_free(hist);
    return -1;
}
