/* Statistics of monthly strategy-return series and cross-sections (docs/metrics.md).
 *
 * Every function ignores NaN entries (pairwise for two series) and returns NaN when the
 * statistic is undefined (too few observations, zero volatility): callers report NaN as
 * JSON null. Pure functions; thread-safe. Monthly inputs; "annualised" means x12 for means
 * and x sqrt(12) for Sharpe-type ratios. */
#ifndef FACTORD_EVAL_STATS_H
#define FACTORD_EVAL_STATS_H

#include <stddef.h>

/* Mean and sample standard deviation (n-1) over the non-NaN entries; *count may be NULL. */
void fd_stats_mean_sd(const double *x, size_t n, double *mean, double *sd, size_t *count);
/* sqrt(12) mean / sd. */
double fd_stats_sharpe(const double *x, size_t n);
/* sqrt(12) mean / downside deviation, downside deviation = sqrt(mean(min(x,0)^2)). */
double fd_stats_sortino(const double *x, size_t n);
/* Largest peak-to-trough loss of the compounded wealth path prod(1 + x), as a positive
 * fraction (0.25 = a 25% drawdown); 0 when wealth never falls. */
double fd_stats_max_drawdown(const double *x, size_t n);
/* Annualised mean (12 mean) / maximum drawdown; NaN when there is no drawdown. */
double fd_stats_calmar(const double *x, size_t n);
/* Mean over sd/sqrt(count): the t-statistic of the mean. */
double fd_stats_tstat(const double *x, size_t n);
/* Pearson and Spearman (ranks, ties averaged) correlations over the pairs where both are
 * finite. */
double fd_stats_pearson(const double *x, const double *y, size_t n);
double fd_stats_spearman(const double *x, const double *y, size_t n);
/* Ranks 1..m of the finite entries with ties averaged; NaN entries get NaN. Returns m. */
size_t fd_stats_rank(const double *x, size_t n, double *rank);

/* Jobson-Korkie test of equal Sharpe ratios with Memmel's (2003) correction, on the months
 * where both series are finite:
 *   z = (SR_a - SR_b) / sqrt(theta),
 *   theta = (2 - 2 rho + (SR_a^2 + SR_b^2 - 2 SR_a SR_b rho^2) / 2) / T
 * with monthly (not annualised) Sharpe ratios and rho the correlation of a and b. */
typedef struct fd_jk_result {
    size_t months;
    double sharpe_a, sharpe_b; /* monthly */
    double rho;
    double z;
    double p_two_sided;        /* H1: SR_a != SR_b */
    double p_one_sided;        /* H1: SR_a > SR_b */
} fd_jk_result;
void fd_stats_jobson_korkie(const double *a, const double *b, size_t n, fd_jk_result *out);

/* Standard normal CDF. */
double fd_stats_norm_cdf(double x);

#endif
