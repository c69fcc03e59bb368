/* Out-of-sample evaluation of a factor model, month by month (docs/metrics.md).
 *
 * An fd_eval accumulates test months in order. For month t (the return month) the caller
 * gives the period (z at t-1, r at t, mktcap at t-1, x_t) and the model's predictions
 * (fd_model_predict): the fitted returns rhat = alpha + beta' f_t with the realised factors,
 * and the expected returns er = alpha + beta' lambda_{t-1} with the factor mean known
 * before t. From these it derives:
 *   total R^2      1 - sum (r - rhat)^2 / sum r^2                  (stocks; uncentred)
 *   predictive R^2 1 - sum (r - er)^2 / sum r^2
 *   the same two for managed portfolios x_t, with fitted x = (Z'Z)^{-1} Z' rhat
 *   market-adjusted total R^2 (seed 001): denominator sum (r - MktRF_t)^2 over months with
 *     a stored MktRF
 *   decile strategies on the expected return er: equal- and value-weighted,
 *     long-short (top minus bottom) and long-only (top), with turnover and returns net of a
 *     proportional cost per unit of turnover
 *   monthly IC (Pearson) and rank IC (Spearman) of expected against realised returns.
 * Not thread-safe; one evaluator per evaluation. */
#ifndef FACTORD_EVAL_H
#define FACTORD_EVAL_H

#include <jansson.h>
#include <stddef.h>

#include "factord/dataset.h"
#include "factord/error.h"
#include "factord/model.h"

typedef struct fd_eval fd_eval;

typedef struct fd_eval_opts {
    int n_buckets;   /* decile sorts: 10 */
    double cost;     /* proportional cost per unit of turnover: 0.003 = 30 bp */
} fd_eval_opts;

int fd_eval_create(size_t K, size_t P, const fd_eval_opts *opts, fd_eval **out, fd_error *err);
void fd_eval_destroy(fd_eval *ev);

/* rhat, er (p->n) as above; mktrf: the month's market excess return (decimal) or NaN when
 * not stored. */
int fd_eval_add_month(fd_eval *ev, const fd_period *p, const double *rhat, const double *er,
                      double mktrf, fd_error *err);

/* Metrics so far: {"months","r2":{"total_r","pred_r","total_x","pred_x","total_r_mkt"},
 * "ic":{...},"strategies":{"ew_ls":{...},"ew_lo":..,"vw_ls":..,"vw_lo":..},
 * "concentration":{...},"warnings":[...]}, with NaN as null; concentration and its warnings
 * as eval_concentration.h describes. Caller owns the JSON. */
json_t *fd_eval_report(const fd_eval *ev);

/* Month by month, one object per month added: {"month", "n" (securities), "total_r2",
 * "pred_r2" (the month's own R^2 for stocks, definitions as above), "ic", "rank_ic",
 * "ew_ls", "ew_ls_net", "ew_lo", "ew_lo_net", "vw_ls", "vw_ls_net", "vw_lo", "vw_lo_net"
 * (strategy returns gross and net of costs)}, NaN as null. Caller owns the array. */
json_t *fd_eval_monthly(const fd_eval *ev);

/* Monthly returns of one strategy ("ew_ls", "ew_lo", "vw_ls", "vw_lo"), gross or net of
 * costs, for significance tests and correlations across models. NULL for an unknown name;
 * the array (one entry per month added) belongs to the evaluator. */
const double *fd_eval_strategy_returns(const fd_eval *ev, const char *name, int net,
                                       size_t *n);

/* Evaluates a fitted model on the test periods: month t is priced with its realised factors
 * (row t of F (test->T, K), or the model's own when F is NULL) and with row t of lambda
 * (test->T, K), the factor premium known before t (fd_lambda_estimate as of t-1, the same
 * lambda serving uses for expected returns made at t-1). mktrf (test->T) may be NULL. */
int fd_eval_model(const fd_model *m, const fd_dataset *test, const double *F,
                  const double *lambda, const double *mktrf, const fd_eval_opts *opts,
                  fd_eval **out, fd_error *err);

#endif
