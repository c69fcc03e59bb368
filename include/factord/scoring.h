/* Scoring with a pinned model version (issue 4): the numbers behind the serving endpoints,
 * free of HTTP. Timing (docs/design.md): characteristics of month t give betas and
 * expected returns for month t+1; the factor realisation of month t uses characteristics
 * of t-1 and returns of t.
 *
 * lambda_t, the factor premium used for expected returns made at the end of month t, is
 * fd_lambda_estimate (factord/lambda.h) over the version's factor history: by default the
 * prevailing mean of every realisation known at t (stored training and validation rows,
 * then the realisations computed from the stored panels; months without panels are
 * skipped and counted). Thread-safe: functions only read the version (and its memo, under
 * its lock). */
#ifndef FACTORD_SCORING_H
#define FACTORD_SCORING_H

#include <jansson.h>

#include "factord/design_cache.h"
#include "factord/eval.h"
#include "factord/eval_portfolio.h"
#include "factord/lambda.h"
#include "factord/panel.h"
#include "factord/registry.h"
#include "factord/store.h"

/* The period contexts of version v (factord/context.h) read through the registry's cache of
 * months (held by the dataset while it lives). */
void fd_scoring_source(const fd_version *v, fd_db *db, fd_month *over, fd_month_source *src,
                       fd_store_source *state);

/* The forecast context of characteristics month `month` (every security of the month, in
 * panel row order): ctx is freed by the caller with fd_dataset_free. over (may be NULL): an
 * unstored month to use for `month` itself (inline scoring). 404 "no_panel"; 422
 * "missing_columns" naming the characteristics the month lacks. */
int fd_scoring_forecast(const fd_version *v, fd_db *db, const char *month, fd_month *over,
                        fd_dataset *ctx, fd_error *err);

/* beta (n, K) and, when alpha is not NULL, alpha (n) of every row of month m (the cached
 * month, held by the caller; n its rows); expected returns er (n) = alpha + beta lambda
 * (fd_model_predict). *beta, *alpha and *er malloc'd. */
int fd_scoring_cached_betas(const fd_version *v, fd_db *db, fd_month *m, double **beta,
                            double **alpha, fd_error *err);
int fd_scoring_cached_expected(const fd_version *v, fd_db *db, fd_month *m,
                               const double *lambda, double **beta, double **er,
                               fd_error *err);
/* The same for characteristics that are not stored (inline scoring): panel p dated
 * p->month, its history (if the model reads any) from the store. */
int fd_scoring_expected(const fd_version *v, fd_db *db, const fd_panel *p, const double *lambda,
                        double **beta, double **er, fd_error *err);

/* f (K): factor realisation of return month `month` from the stored panels the version's
 * context reads (month-L .. month; excess returns when the version was fitted on them and RF
 * is stored). 404 "no_panel" naming the missing month; 422 "no_returns", "no_overlap". */
int fd_scoring_factor(const fd_version *v, fd_db *db, const char *month, double *f,
                      fd_error *err);

/* The version's factor history up to month `until` (factord/lambda.h): its stored rows,
 * then every later month up to `until` (and the newest stored panel): the rows of `known`
 * (may be NULL) for the months it has, else the served realisation (fd_scoring_factor),
 * months without one recorded as skipped. h is initialised here; free it with
 * fd_factor_history_free. */
int fd_scoring_history(const fd_version *v, fd_db *db, const char *until,
                       const fd_factor_history *known, fd_factor_history *h, fd_error *err);
/* lambda (K) as of the end of `month` under estimator est, over fd_scoring_history. */
int fd_scoring_lambda(const fd_version *v, fd_db *db, const char *month,
                      fd_lambda_estimator est, double *lambda, fd_lambda_info *info,
                      fd_error *err);

/* Deciles of one month: buckets and weights from the expected returns, realised returns
 * when `next` (the cached month t+1, may be NULL) is given. JSON:
 * {"n","weighting","portfolios":[{"portfolio","members","return"}...],
 *  "long_short":{"return"},"long_only":{"return"},"securities":[{"id","er","portfolio",
 *  "weight"}...],"missing_mktcap"}. */
/* 0 when er (n) has at least n_buckets finite values to sort into n_buckets portfolios;
 * otherwise -1 with a 422 "too_few_securities" error saying how many there are. */
int fd_scoring_deciles_check(const double *er, size_t n, int n_buckets, fd_error *err);
json_t *fd_scoring_deciles_json(const fd_panel *p, const double *er,
                                const fd_month *next, int n_buckets,
                                fd_weighting how, size_t *missing_cap);

/* The sort behind fd_scoring_deciles_json and fd_scoring_decile_series: buckets (n) and
 * weights w (n) of p's securities on er, and bret
 * (nb) each bucket's return realised in t+1 (next's returns matched by id; NaN without
 * next or its returns). All arrays are the caller's. *missing_cap: securities without a
 * market cap under value weights (weight 0). -1 when out of memory. */
int fd_scoring_decile_sort(const fd_panel *p, const double *er, const fd_month *next,
                           int n_buckets, fd_weighting how, int *bucket, double *w,
                           double *bret, size_t *missing_cap);

/* Decile sorts at the end of each month t in from..to (characteristics of t, lambda_t of
 * estimator est) with the returns realised in t+1: {"model","version","from","to","n",
 * "weighting","months_skipped" (t without a panel, or t+1 without returns),"series":[{"month"
 * (t+1),"characteristics_month" (t),"securities","returns":[nb],"long_short","long_only",
 * "missing_mktcap","lambda"}...]}. 422 "no_mktcap" for value weights on a month without market caps,
 * 422 "too_few_securities" for a month with fewer securities than portfolios. */
int fd_scoring_decile_series(const fd_version *v, fd_db *db, fd_design_cache *cache,
                             const char *from, const char *to, int n_buckets,
                             fd_weighting how, fd_lambda_estimator est, json_t **out,
                             fd_error *err);

/* What an evaluation reports beyond fd_eval_opts. */
typedef struct fd_scoring_eval_opts {
    fd_eval_opts eval;          /* portfolios per sort, cost */
    fd_lambda_estimator lambda; /* the estimator of lambda */
    int importance;             /* add "importance" (fd_eval_importance) */
    int monthly;                /* add the month-by-month "series" (fd_eval_monthly) */
} fd_scoring_eval_opts;

/* Out-of-sample evaluation of version v on the return months from..to (docs/metrics.md):
 * the fd_eval report plus model, version, from, to, returns, in_sample_overlap (true when
 * from is not after the training window), "lambda" (the estimator and the lambdas of the
 * first and last test month), "importance" and "series" when asked. Test month t is priced
 * with lambda as of t-1, the same lambda fd_scoring_lambda gives /expected-returns at t-1
 * (one history, one estimator). *out is a new reference. */
int fd_scoring_evaluate(const fd_version *v, fd_db *db, const char *from, const char *to,
                        const fd_scoring_eval_opts *o, json_t **out, fd_error *err);

#endif
