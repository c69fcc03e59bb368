/* fd_nn factor layers of seed 002 (NeurIF): the instrumented factor of a month by cross-
 * sectional least squares of its returns on the loadings, differentiated through the K x K
 * solve, and the two penalties that identify and discipline the factors and loadings:
 *
 *   factor       f_t = (B_t' B_t + rho I)^{-1} B_t' r_t,   rho = ridge tr(B_t' B_t) / K
 *   orthogonality  sum_{j != k} C_jk^2, C the correlation matrix of the factors F (T, K) of T
 *                months (the training months of a batch)
 *   deviation    || B_t - Z_{t-1} Gamma ||_F^2 / || B_t ||_F^2, Gamma (P, K) learned jointly
 *
 * Why the ridge is relative and the deviation a ratio: the least-squares fit B_t f_t is the
 * projection of r_t on the span of B_t, unchanged when B_t is multiplied by any invertible
 * K x K matrix, a scalar included. A penalty on ||B_t - Z Gamma||^2 itself would then be won
 * by shrinking B_t and Gamma towards zero at no cost to the fit; the ratio (the share of the
 * loadings that is not a linear function of the characteristics, 0 to 1 at Gamma = 0) and a
 * ridge proportional to tr(B'B) are both unchanged by that scale, so neither can be gamed by
 * it. ridge = 0 is the plain solve (B_t of full column rank needed).
 *
 * Same conventions as factord/nn.h: caller-provided buffers, gradients of inputs that are
 * parameters or shared (B, Gamma, F) ACCUMULATE, pure functions safe from any thread on
 * distinct buffers. The K x K algebra is double in both precisions (work is double). */
#ifndef FACTORD_NN_FACTOR_H
#define FACTORD_NN_FACTOR_H

#include <stddef.h>

/* double work the factor solve needs: K (K + 1). */
size_t fd_factor_ls_work_count(size_t K);
/* double work of the orthogonality penalty: 2 K^2 + 2 K. */
size_t fd_orthogonality_work_count(size_t K);

#define FD_TYPED_HEADER "factord/nn_factor_typed.h"
#include "factord/typed_twice.h"

#endif
