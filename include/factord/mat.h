/* fd_mat: thin row-major wrappers over CBLAS and LAPACK, with the shapes in the names.
 *
 * Every matrix is a dense row-major double array; each prototype states its shape. The
 * products are one BLAS call each, so callers should hand them whole batches rather than
 * loop over rows. The solvers take scratch copies where LAPACK's column-major layout needs
 * a transpose, and report singular or indefinite systems with -1 (no fd_error: the caller
 * knows what the system means and words the error). Pure functions of their arguments:
 * safe from any thread on distinct outputs. */
#ifndef FACTORD_MAT_H
#define FACTORD_MAT_H

#include <stddef.h>

/* C (m, n) = alpha * A (m, k) B (k, n) + beta * C */
void fd_mat_mul_nn(double *C, const double *A, const double *B, size_t m, size_t n, size_t k,
                   double alpha, double beta);
/* C (m, n) = alpha * A (m, k) B' where B is (n, k), + beta * C */
void fd_mat_mul_nt(double *C, const double *A, const double *B, size_t m, size_t n, size_t k,
                   double alpha, double beta);
/* C (m, n) = alpha * A' B where A is (k, m) and B is (k, n), + beta * C */
void fd_mat_mul_tn(double *C, const double *A, const double *B, size_t m, size_t n, size_t k,
                   double alpha, double beta);
/* y (m) = alpha * A (m, n) x (n) + beta * y */
void fd_mat_vec(double *y, const double *A, const double *x, size_t m, size_t n, double alpha,
                double beta);
/* y (n) = alpha * A' x where A is (m, n) and x is (m), + beta * y */
void fd_mat_vec_t(double *y, const double *A, const double *x, size_t m, size_t n,
                  double alpha, double beta);
/* out (n) = beta * out + column sums of A (m, n). */
void fd_mat_col_sums(double *out, const double *A, size_t m, size_t n, double beta);
/* Dot product of two (n) vectors. */
double fd_vec_dot(const double *a, const double *b, size_t n);

/* Solves A X = B for symmetric positive definite A (n, n) (Cholesky, LAPACK dposv).
 * A is overwritten with its factor, B (n, nrhs) with X. Returns -1 when A is not positive
 * definite (or scratch memory ran out), 0 otherwise. */
int fd_mat_solve_spd(double *A, double *B, size_t n, size_t nrhs);
/* Solves A X = B for a general square A (n, n) (LU with partial pivoting, LAPACK dgesv).
 * A is overwritten, B (n, nrhs) receives X. Returns -1 when A is singular (or scratch memory
 * ran out), 0 otherwise. */
int fd_mat_solve(double *A, double *B, size_t n, size_t nrhs);

#endif
