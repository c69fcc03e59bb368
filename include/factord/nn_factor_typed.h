/* The typed half of the fd_nn factor layers (see factord/nn_factor.h, which includes this
 * file twice): fd_NAME for double, fd_NAME_f32 for float. No include guard on purpose;
 * include factord/nn_factor.h, never this file. */

/* ---- the instrumented factor f (K) of one month: loadings B (n, K), returns r (n) ----
 * Returns -1 when B' B + rho I is singular (B of rank below K with ridge 0, or B = 0: a
 * Cholesky pivot below 1e-12 of the mean diagonal of B'B), 0 otherwise. work:
 * fd_factor_ls_work_count(K). */
int FD_TYPED_FN(factor_ls_forward)(FD_TYPED_T *f, double *work, const FD_TYPED_T *B,
                                   const FD_TYPED_T *r, size_t n, size_t K, double ridge);
/* From df (K): with g = (B'B + rho I)^{-1} df,
 *   dB += r g' - B (g f' + f g') - (2 ridge / K) (g . f) B,   dr = B g (overwritten; NULL:
 *   skipped). f is the forward pass's. Returns -1 as the forward pass would. */
int FD_TYPED_FN(factor_ls_backward)(FD_TYPED_T *dB, FD_TYPED_T *dr, double *work,
                                    const FD_TYPED_T *df, const FD_TYPED_T *f,
                                    const FD_TYPED_T *B, const FD_TYPED_T *r, size_t n, size_t K,
                                    double ridge);

/* ---- orthogonality: weight sum_{j != k} corr(F_j, F_k)^2 over F (T, K), months by rows ----
 * Returns the penalty and, when dF (T, K) is not NULL, adds its gradient there. A factor
 * without variance over the T months has no correlation (its terms are 0, no gradient);
 * T < 2 gives 0. work: fd_orthogonality_work_count(K). */
double FD_TYPED_FN(orthogonality_penalty)(FD_TYPED_T *dF, double *work, const FD_TYPED_T *F,
                                          size_t T, size_t K, double weight);

/* ---- deviation: weight ||B - Z Gamma||^2 / ||B||^2 for one month ----
 * B (n, K) loadings, Z (n, P) characteristics, Gamma (P, K). Returns the penalty; dB (n, K)
 * and dGamma (P, K) accumulate its gradient (either may be NULL). B = 0 gives 0 (no
 * gradient). work: (n, K) of the element type (the residual). */
double FD_TYPED_FN(deviation_penalty)(FD_TYPED_T *dB, FD_TYPED_T *dGamma, FD_TYPED_T *work,
                                      const FD_TYPED_T *B, const FD_TYPED_T *Z,
                                      const FD_TYPED_T *Gamma, size_t n, size_t P, size_t K,
                                      double weight);
