/* Decile (n-tile) portfolios sorted on expected returns, their weights, realised returns
 * and turnover (docs/metrics.md; used by the decile endpoint and the backtests).
 *
 * Conventions (documented in docs/metrics.md):
 * - Buckets: securities with a finite expected return are ranked (ties averaged) and put in
 *   bucket floor((rank - 1) * nb / m), m = number ranked; bucket nb-1 holds the highest
 *   expected returns. Tied securities always share a bucket. A month with fewer ranked
 *   securities than buckets is not sorted (every bucket -1, returns NaN).
 * - Equal weights: 1 / (securities in the bucket). Value weights: mktcap / bucket total over
 *   the securities with a positive finite mktcap; the others get weight 0 and are counted.
 * - Realised return of a bucket: sum w r / sum w over its members with a finite return
 *   (a member without a next-month return is dropped and the rest renormalised).
 * - Long-short = top bucket minus bottom bucket; long-only = top bucket.
 * Pure functions over caller buffers; thread-safe. */
#ifndef FACTORD_EVAL_PORTFOLIO_H
#define FACTORD_EVAL_PORTFOLIO_H

#include <stddef.h>

typedef enum { FD_WEIGHT_EQUAL = 0, FD_WEIGHT_VALUE = 1 } fd_weighting;

/* bucket (n): 0..nb-1, or -1 (no expected return, or month not sorted). Returns the number
 * of securities sorted (0 when the month has fewer than nb). */
size_t fd_portfolio_buckets(const double *er, size_t n, int nb, int *bucket);

/* weight (n): within-bucket weights summing to 1 per non-empty bucket, 0 for excluded
 * securities. mktcap (n) is required for value weights (may be NULL for equal). Returns the
 * number of sorted securities that got weight 0 for lack of a market cap. */
size_t fd_portfolio_weights(const int *bucket, size_t n, int nb, fd_weighting how,
                            const double *mktcap, double *weight);

/* out (nb): realised bucket returns; NaN for an empty bucket or one without any return. */
void fd_portfolio_bucket_returns(const int *bucket, const double *weight, const double *ret,
                                 size_t n, int nb, double *out);

/* One leg of a strategy for turnover: the securities held, their weights (signed or not)
 * and the returns they then realised over the holding month (NaN counts as 0). */
typedef struct fd_leg {
    size_t n;
    const char *const *ids; /* (n) */
    const double *w;        /* (n) */
    const double *r;        /* (n) realised over the month held; may be NULL for the newest */
} fd_leg;

/* Turnover from `prev` (drifted by its realised returns) to `cur`:
 *   sum_i | w_cur_i - w_prev_i (1 + r_i) / (1 + sum_j w_prev_j r_j) |
 * over the union of ids. prev NULL = building from cash (sum |w_cur|). NaN on OOM. */
double fd_portfolio_turnover(const fd_leg *prev, const fd_leg *cur);

#endif
