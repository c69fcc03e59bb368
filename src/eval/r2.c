/* Uncentred total and predictive R^2 (see factord/eval_r2.h). */
#include "factord/eval_r2.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/preprocess.h"

int fd_r2_fitted(const fd_model *m, const fd_period *p, const double *f, double *rhat,
                 fd_error *err) {
    return fd_model_predict(m, p, f, 1, rhat, NULL, err);
}

int fd_r2_accumulate(const fd_model *m, const fd_period *p, const double *f, fd_r2_sums *acc,
                     fd_error *err) {
    size_t n = p->n, P = m->P;
    double *rhat = malloc((n + 2 * P + 1) * sizeof *rhat), *xhat, *x;
    if (!rhat) return fd_error_set(err, 500, "out_of_memory", "R^2 of %s", p->month);
    xhat = rhat + n;
    x = xhat + P;
    if (fd_r2_fitted(m, p, f, rhat, err) != 0) goto fail;
    for (size_t i = 0; i < n; i++) {
        double e = p->r[i] - rhat[i];
        acc->sse += e * e;
        acc->sst += p->r[i] * p->r[i];
    }
    acc->n_obs += n;
    /* The fitted managed portfolio is the managed portfolio of the fitted returns. */
    if (fd_preprocess_managed_portfolio(p->z, rhat, n, P, xhat, NULL, err) != 0) goto fail;
    if (p->x) memcpy(x, p->x, P * sizeof *x);
    else if (fd_preprocess_managed_portfolio(p->z, p->r, n, P, x, NULL, err) != 0) goto fail;
    for (size_t j = 0; j < P; j++) {
        double e = x[j] - xhat[j];
        acc->sse_x += e * e;
        acc->sst_x += x[j] * x[j];
    }
    free(rhat);
    return 0;
fail:
    free(rhat);
    return -1;
}

double fd_r2_value(double sse, double sst) { return sst > 0 ? 1.0 - sse / sst : NAN; }

int fd_r2_factor_series(const fd_model *m, const fd_dataset *ds, double *F, fd_error *err) {
    for (size_t t = 0; t < ds->T; t++)
        if (fd_model_factors(m, &ds->periods[t], F + t * m->K, err) != 0) return -1;
    return 0;
}

/* R^2 sums over ds with row t of rows (T, K) as period t's factors. */
static int r2_over(const fd_model *m, const fd_dataset *ds, const double *rows, fd_r2_sums *out,
                   fd_error *err) {
    memset(out, 0, sizeof *out);
    for (size_t t = 0; t < ds->T; t++)
        if (fd_r2_accumulate(m, &ds->periods[t], rows + t * m->K, out, err) != 0) return -1;
    return 0;
}

int fd_r2_total(const fd_model *m, const fd_dataset *ds, const double *F, fd_r2_sums *out,
                fd_error *err) {
    double *own = NULL;
    int rc;
    if (!F) {
        own = malloc((ds->T * m->K + 1) * sizeof *own);
        if (!own) return fd_error_set(err, 500, "out_of_memory", "factor series");
        if (fd_r2_factor_series(m, ds, own, err) != 0) {
            free(own);
            return -1;
        }
        F = own;
    }
    rc = r2_over(m, ds, F, out, err);
    free(own);
    return rc;
}

int fd_r2_pred(const fd_model *m, const fd_dataset *ds, const double *lambda, fd_r2_sums *out,
               fd_error *err) {
    return r2_over(m, ds, lambda, out, err);
}
