/* Cross-sectional preprocessing of one month (docs/design.md, as in the seed papers)
 * and the characteristic-managed portfolios built from it.
 *
 * Rank normalisation maps each characteristic, month by month, to (-1, 1):
 * z = 2 rank / (m + 1) - 1 over the m securities where it is known, ties sharing the
 * average of their ranks; a missing value becomes 0, which is the cross-sectional median
 * after ranking (median imputation). Pure functions on caller-owned buffers; thread-safe. */
#ifndef FACTORD_PREPROCESS_H
#define FACTORD_PREPROCESS_H

#include <stddef.h>

#include "factord/error.h"

/* Rank-normalises every column of x (n, p) row-major in place (NaN -> 0). Fails only when
 * scratch memory runs out (500 "out_of_memory"). */
int fd_preprocess_rank_normalize(double *x, size_t n, size_t p, fd_error *err);

/* Managed portfolio x (P) = (Z'Z)^{-1} Z' r for Z (n, P) row-major and r (n), by a Cholesky
 * solve. When Z'Z is singular (fewer securities than characteristics, a constant or
 * duplicated column; numerically: a squared Cholesky pivot below 1e-12 of its largest
 * diagonal entry) the solve uses Z'Z + lambda I with a tiny lambda (1e-8 times the mean
 * diagonal) instead, the minimum-norm-leaning ridge answer, and sets *ridged to 1 (else 0;
 * ridged may be NULL). 500 "out_of_memory" on allocation failure. */
int fd_preprocess_managed_portfolio(const double *z, const double *r, size_t n, size_t P,
                                    double *x, int *ridged, fd_error *err);

#endif
