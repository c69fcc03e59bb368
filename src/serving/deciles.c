/* Decile sorts of a pinned version (scoring.h): one month's sort with the returns realised
 * in the next month, and the series of such sorts over a range of months. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/scoring.h"

int fd_scoring_decile_sort(const fd_panel *p, const double *er, const fd_month *next,
                           int nb, fd_weighting how, int *bucket, double *w, double *bret,
                           size_t *missing_cap) {
    const fd_panel *np = next ? fd_month_panel(next) : NULL;
    size_t n = p->n_rows;
    double *r1 = malloc((n ? n : 1) * sizeof *r1);
    if (!r1) return -1;
    fd_portfolio_buckets(er, n, nb, bucket);
    *missing_cap = fd_portfolio_weights(bucket, n, nb, how, p->mktcap, w);
    /* Realised returns of month t+1, matched by id. */
    for (size_t i = 0; i < n; i++) {
        long j = np && np->ret ? fd_month_row(next, p->ids[i]) : -1;
        r1[i] = j >= 0 ? np->ret[j] : NAN;
    }
    fd_portfolio_bucket_returns(bucket, w, r1, n, nb, bret);
    if (!np || !np->ret)
        for (int b = 0; b < nb; b++) bret[b] = NAN;
    free(r1);
    return 0;
}

static json_t *num(double x) { return isfinite(x) ? json_real(x) : json_null(); }

/* One month's entry: the sort at the end of `month` (characteristics of t, lambda_t) and
 * the returns of t+1. 1 when the month is skipped (no panel at t, or t+1 has no returns). */
static int series_month(const fd_version *v, fd_db *db, fd_design_cache *cache,
                        const char *month, int nb, fd_weighting how, fd_lambda_estimator est,
                        json_t *series, fd_error *err) {
    fd_month *cm = NULL, *next = NULL;
    char next_month[FD_MONTH_LEN];
    double *lambda = malloc(v->K * sizeof *lambda), *beta = NULL, *er = NULL, *bret = NULL;
    double *w = NULL;
    int *bucket = NULL, rc = -1;
    json_t *rets;
    size_t missing_cap, n;
    fd_lambda_info li;
    fd_month_add(month, 1, next_month);
    if (!lambda) goto oom;
    if (fd_design_cache_get(cache, db, month, &cm, err) ||
        fd_design_cache_get(cache, db, next_month, &next, NULL) || !fd_month_panel(next)->ret) {
        rc = cm || err->status == 404 ? 1 : -1; /* a month without a panel is skipped */
        goto done;
    }
    n = fd_month_panel(cm)->n_rows;
    if (how == FD_WEIGHT_VALUE && !fd_month_panel(cm)->mktcap) {
        fd_error_set(err, 422, "no_mktcap", "value weights need a mktcap column in the panel "
                     "of %s", month);
        goto done;
    }
    if (fd_scoring_lambda(v, db, month, est, lambda, &li, err) ||
        fd_scoring_cached_expected(v, db, cm, lambda, &beta, &er, err))
        goto done;
    if (fd_scoring_deciles_check(er, n, nb, err)) {
        fd_error_prefix(err, "the panel of %s", month);
        goto done;
    }
    bucket = malloc((n ? n : 1) * sizeof *bucket);
    w = malloc((n ? n : 1) * sizeof *w);
    bret = malloc((size_t)nb * sizeof *bret);
    if (!bucket || !w || !bret ||
        fd_scoring_decile_sort(fd_month_panel(cm), er, next, nb, how, bucket, w, bret,
                               &missing_cap))
        goto oom;
    rets = json_array();
    for (int b = 0; b < nb; b++) json_array_append_new(rets, num(bret[b]));
    const char *partial = fd_month_panel(next)->partial_through;
    json_array_append_new(series, json_pack("{s:s,s:s,s:I,s:o,s:o,s:o,s:I,s:o,s:s?}", "month",
                                            next_month, "characteristics_month", month,
                                            "securities", (json_int_t)n, "returns", rets,
                                            "long_short", num(bret[nb - 1] - bret[0]),
                                            "long_only", num(bret[nb - 1]), "missing_mktcap",
                                            (json_int_t)missing_cap, "lambda",
                                            fd_lambda_info_json(&li, lambda, v->K),
                                            "partial_through", partial[0] ? partial : NULL));
    rc = 0;
    goto done;
oom:
    fd_error_set(err, 500, "out_of_memory", "deciles of %s", month);
done:
    fd_month_release(cm);
    fd_month_release(next);
    free(lambda);
    free(beta);
    free(er);
    free(bucket);
    free(w);
    free(bret);
    return rc;
}

int fd_scoring_decile_series(const fd_version *v, fd_db *db, fd_design_cache *cache,
                             const char *from, const char *to, int nb, fd_weighting how,
                             fd_lambda_estimator est, json_t **out, fd_error *err) {
    json_t *series = json_array();
    char m[FD_MONTH_LEN];
    int span = fd_month_diff(from, to);
    size_t skipped = 0;
    *out = NULL;
    snprintf(m, sizeof m, "%s", from);
    for (int i = 0; i <= span; i++, fd_month_add(m, 1, m)) {
        int rc = series_month(v, db, cache, m, nb, how, est, series, err);
        if (rc < 0) {
            json_decref(series);
            return -1;
        }
        skipped += (size_t)rc;
    }
    *out = json_pack("{s:s,s:i,s:s,s:s,s:i,s:s,s:I,s:o}", "model", v->model, "version",
                     v->version, "from", from, "to", to, "n", nb, "weighting",
                     how == FD_WEIGHT_VALUE ? "value" : "equal", "months_skipped",
                     (json_int_t)skipped, "series", series);
    return 0;
}
