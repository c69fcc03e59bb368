/* The fit statistics of a fitted model on its training and validation datasets. */
#include <math.h>
#include <stdlib.h>
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

/* R^2 on the validation block: lambda for month t is the mean of the in-sample factors and
 * every validation factor realised before t. */
static int valid_r2(const fd_model *m, const fd_dataset *valid, const double *F, size_t T0,
                    json_t **out, fd_error *err) {
    size_t K = m->K, T = valid->T;
    double *Fv = malloc(cells_bytes(T, K));     /* (T, K) */
    double *lambda = malloc(cells_bytes(T, K)); /* (T, K) */
    double *sum = calloc(K, sizeof *sum);
    fd_r2_sums tot = {0}, pred = {0};
    int rc = -1;
    if (!Fv || !lambda || !sum) {
        fd_error_set(err, 500, "out_of_memory", "validation statistics");
        goto out;
    }
    if (fd_r2_factor_series(m, valid, Fv, err) != 0) goto out;
    for (size_t t = 0; t < T0; t++)
        for (size_t k = 0; k < K; k++) sum[k] += F[t * K + k];
    for (size_t t = 0; t < T; t++) {
        for (size_t k = 0; k < K; k++) {
            lambda[t * K + k] = sum[k] / (double)(T0 + t);
            sum[k] += Fv[t * K + k];
        }
    }
    if (fd_r2_total(m, valid, Fv, &tot, err) != 0 || fd_r2_pred(m, valid, lambda, &pred, err) != 0)
        goto out;
    *out = r2_json(&tot, &pred, T);
    rc = 0;
out:
    free(Fv);
    free(lambda);
    free(sum);
    return rc;
}

int fd_train_fit_stats(const fd_model *m, const fd_dataset *train, const fd_dataset *valid,
                       const fd_train_trace *trace, double **F, json_t **stats,
                       fd_error *err) {
    size_t K = m->K, T = train->T;
    double *lambda = NULL, *mean = calloc(K, sizeof *mean);
    fd_r2_sums tot = {0}, pred = {0};
    json_t *in_sample, *valid_json = NULL;
    *stats = NULL;
    *F = malloc(cells_bytes(T, K));     /* (T, K) */
    lambda = malloc(cells_bytes(T, K)); /* (T, K), every row the mean */
    if (!*F || !lambda || !mean) {
        fd_error_set(err, 500, "out_of_memory", "fit statistics");
        goto fail;
    }
    if (fd_r2_factor_series(m, train, *F, err) != 0) goto fail;
    for (size_t t = 0; t < T; t++)
        for (size_t k = 0; k < K; k++) mean[k] += (*F)[t * K + k] / (double)T;
    for (size_t t = 0; t < T; t++) memcpy(lambda + t * K, mean, K * sizeof *mean);
    if (fd_r2_total(m, train, *F, &tot, err) != 0 || fd_r2_pred(m, train, lambda, &pred, err) != 0)
        goto fail;
    if (valid && valid->T && valid_r2(m, valid, *F, T, &valid_json, err) != 0) goto fail;
    in_sample = r2_json(&tot, &pred, T);
    json_object_set_new(in_sample, "lambda", json_string("in-sample factor mean"));
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
    free(lambda);
    free(mean);
    return 0;
fail:
    free(*F);
    *F = NULL;
    free(lambda);
    free(mean);
    return -1;
}
