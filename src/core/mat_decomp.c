/* LAPACK's dsyev and dpotrf behind row-major interfaces (see factord/mat_decomp.h). */
#include "factord/mat_decomp.h"

#include <stdlib.h>
#include <string.h>

extern void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
                   double *w, double *work, const int *lwork, int *info);
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);

int fd_mat_sym_eig(const double *A, size_t n, double *w, double *V) {
    int in = (int)n, lwork = -1, info = 0;
    double query = 0, *a, *work, *wa;
    if (n == 0) return 0;
    /* A symmetric matrix reads the same in either storage order, so A goes to LAPACK as is;
     * on return row i of `a` (row-major view) is the eigenvector of the i-th smallest value. */
    a = malloc(n * n * sizeof *a + n * sizeof *wa);
    if (!a) return -1;
    wa = a + n * n;
    memcpy(a, A, n * n * sizeof *a);
    dsyev_("V", "U", &in, a, &in, wa, &query, &lwork, &info);
    if (info != 0) {
        free(a);
        return -1;
    }
    lwork = (int)query;
    work = malloc((size_t)lwork * sizeof *work);
    if (!work) {
        free(a);
        return -1;
    }
    dsyev_("V", "U", &in, a, &in, wa, work, &lwork, &info);
    free(work);
    if (info != 0) {
        free(a);
        return -1;
    }
    for (size_t j = 0; j < n; j++) {
        size_t src = n - 1 - j; /* descending order */
        w[j] = wa[src];
        for (size_t r = 0; r < n; r++) V[r * n + j] = a[src * n + r];
    }
    free(a);
    return 0;
}

int fd_mat_cholesky_upper(const double *A, size_t n, double *R) {
    int in = (int)n, info = 0;
    if (n == 0) return 0;
    /* Row-major upper R is column-major lower L = R', so ask LAPACK for "L" in its own
     * layout: A = L L' = R' R. */
    memcpy(R, A, n * n * sizeof *R);
    dpotrf_("L", &in, R, &in, &info);
    if (info != 0) return -1;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) R[i * n + j] = 0.0;
    return 0;
}
