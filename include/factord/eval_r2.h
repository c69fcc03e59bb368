/* Uncentred R^2 of factor models (Kelly, Pruitt, Su 2019; docs/metrics.md):
 *   total       1 - sum (r - beta' f_t - alpha)^2 / sum r^2     with the realised f_t
 *   predictive  the same with f_t replaced by lambda_t, the factor mean known before t
 * for stock returns r_t and for the managed portfolios x_t = (Z'Z)^{-1} Z' r_t (whose fitted
 * value is the managed portfolio of the fitted returns). Fitted values are fd_model_predict's
 * (alpha + beta' f; alpha zero for every model without an intercept).
 *
 * fd_r2_accumulate adds one period to running sums, so rolling out-of-sample evaluations
 * can stitch windows; fd_r2_total / fd_r2_pred do a whole dataset. Thread-safe for distinct
 * sums (models are read-only once fitted). */
#ifndef FACTORD_EVAL_R2_H
#define FACTORD_EVAL_R2_H

#include <stddef.h>

#include "factord/dataset.h"
#include "factord/model.h"

typedef struct fd_r2_sums {
    double sse, sst;     /* stocks: sum (r - rhat)^2, sum r^2 */
    double sse_x, sst_x; /* managed portfolios: sum |x - xhat|^2, sum |x|^2 */
    size_t n_obs;        /* security-periods */
} fd_r2_sums;

/* rhat (p->n) = alpha + beta f for f (K): fd_model_predict. */
int fd_r2_fitted(const fd_model *m, const fd_period *p, const double *f, double *rhat,
                 fd_error *err);
/* Adds period p priced with factors f (K) to acc (zero-initialise it first). */
int fd_r2_accumulate(const fd_model *m, const fd_period *p, const double *f, fd_r2_sums *acc,
                     fd_error *err);
/* 1 - sse / sst; NaN when sst is 0. */
double fd_r2_value(double sse, double sst);

/* Factor realisations F (T, K) row-major of every period of ds (the model's factors op). */
int fd_r2_factor_series(const fd_model *m, const fd_dataset *ds, double *F, fd_error *err);
/* Total R^2 over ds with F (T, K), or with the realised factors when F is NULL. */
int fd_r2_total(const fd_model *m, const fd_dataset *ds, const double *F, fd_r2_sums *out,
                fd_error *err);
/* Predictive R^2 over ds with lambda (T, K): row t is the factor mean used for period t. */
int fd_r2_pred(const fd_model *m, const fd_dataset *ds, const double *lambda, fd_r2_sums *out,
               fd_error *err);

#endif
