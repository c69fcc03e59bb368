/* Matrix decompositions the factor models need beyond factord/mat.h's products and solvers:
 * the symmetric eigendecomposition (PCA, IPCA's start and its rotation to the identification
 * conventions) and the Cholesky factor itself (IPCA's Gamma_beta' Gamma_beta = R' R).
 *
 * Row-major doubles, shapes in each prototype. Both wrap LAPACK (OpenBLAS ships it) and
 * return -1 when LAPACK fails or scratch memory runs out, 0 otherwise, without an fd_error:
 * the caller knows what the matrix means and words the error. Pure functions of their
 * arguments: safe from any thread on distinct outputs. */
#ifndef FACTORD_MAT_DECOMP_H
#define FACTORD_MAT_DECOMP_H

#include <stddef.h>

/* Eigendecomposition of a symmetric A (n, n) (only its values are read, it is not
 * modified): eigenvalues w (n) in DESCENDING order and V (n, n) whose column j is the unit
 * eigenvector of w[j]. Eigenvector signs are LAPACK's (callers impose their own). */
int fd_mat_sym_eig(const double *A, size_t n, double *w, double *V);

/* Upper-triangular R (n, n) with A = R' R for a symmetric positive definite A (n, n) of
 * which only the upper triangle is read; the strictly lower part of R is zero. Returns -1
 * when A is not positive definite. */
int fd_mat_cholesky_upper(const double *A, size_t n, double *R);

#endif
