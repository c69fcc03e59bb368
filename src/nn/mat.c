/* Row-major BLAS and LAPACK wrappers: see include/factord/mat.h. */
#include "factord/mat.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK's Fortran entry points (in libopenblas; no lapacke on the build machine). */
extern void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda,
                   double *b, const int *ldb, int *info);
extern void dgesv_(const int *n, const int *nrhs, double *a, const int *lda, int *ipiv,
                   double *b, const int *ldb, int *info);

void fd_mat_mul_nn(double *C, const double *A, const double *B, size_t m, size_t n, size_t k,
                   double alpha, double beta) {
    if (m == 0 || n == 0) return;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, alpha, A,
                (int)(k ? k : 1), B, (int)n, beta, C, (int)n);
}

void fd_mat_mul_nt(double *C, const double *A, const double *B, size_t m, size_t n, size_t k,
                   double alpha, double beta) {
    if (m == 0 || n == 0) return;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, alpha, A,
                (int)(k ? k : 1), B, (int)(k ? k : 1), beta, C, (int)n);
}

void fd_mat_mul_tn(double *C, const double *A, const double *B, size_t m, size_t n, size_t k,
                   double alpha, double beta) {
    if (m == 0 || n == 0) return;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)n, (int)k, alpha, A,
                (int)m, B, (int)n, beta, C, (int)n);
}

void fd_mat_vec(double *y, const double *A, const double *x, size_t m, size_t n, double alpha,
                double beta) {
    if (m == 0) return;
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)m, (int)n, alpha, A, (int)(n ? n : 1), x, 1,
                beta, y, 1);
}

void fd_mat_vec_t(double *y, const double *A, const double *x, size_t m, size_t n,
                  double alpha, double beta) {
    if (n == 0) return;
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)m, (int)n, alpha, A, (int)n, x, 1, beta, y, 1);
}

void fd_mat_col_sums(double *out, const double *A, size_t m, size_t n, double beta) {
    for (size_t j = 0; j < n; j++) out[j] *= beta;
    for (size_t i = 0; i < m; i++) {
        const double *row = A + i * n;
        for (size_t j = 0; j < n; j++) out[j] += row[j];
    }
}

double fd_vec_dot(const double *a, const double *b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Row-major (n, nrhs) to column-major, i.e. a transpose; a no-op copy when nrhs == 1. */
static void transpose(double *dst, const double *src, size_t rows, size_t cols) {
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) dst[j * rows + i] = src[i * cols + j];
}

int fd_mat_solve_spd(double *A, double *B, size_t n, size_t nrhs) {
    int in = (int)n, ir = (int)nrhs, info = 0;
    double *Bc;
    if (n == 0 || nrhs == 0) return 0;
    /* A is symmetric, so its row-major storage is already column-major; only B needs it,
     * and a single right-hand side reads the same in both (no copy: IPCA solves thousands of
     * small systems per fit). */
    if (nrhs == 1) {
        dposv_("L", &in, &ir, A, &in, B, &in, &info);
        return info == 0 ? 0 : -1;
    }
    Bc = malloc(n * nrhs * sizeof *Bc);
    if (!Bc) return -1;
    transpose(Bc, B, n, nrhs);
    dposv_("L", &in, &ir, A, &in, Bc, &in, &info);
    if (info == 0) transpose(B, Bc, nrhs, n);
    free(Bc);
    return info == 0 ? 0 : -1;
}

int fd_mat_solve(double *A, double *B, size_t n, size_t nrhs) {
    int in = (int)n, ir = (int)nrhs, info = 0;
    double *Ac, *Bc;
    int *ipiv;
    if (n == 0 || nrhs == 0) return 0;
    Ac = malloc(n * n * sizeof *Ac);
    Bc = malloc(n * nrhs * sizeof *Bc);
    ipiv = malloc(n * sizeof *ipiv);
    if (!Ac || !Bc || !ipiv) {
        free(Ac); free(Bc); free(ipiv);
        return -1;
    }
    transpose(Ac, A, n, n);
    transpose(Bc, B, n, nrhs);
    dgesv_(&in, &ir, Ac, &in, ipiv, Bc, &in, &info);
    if (info == 0) {
        transpose(B, Bc, nrhs, n);
        transpose(A, Ac, n, n);
    }
    free(Ac); free(Bc); free(ipiv);
    return info == 0 ? 0 : -1;
}
