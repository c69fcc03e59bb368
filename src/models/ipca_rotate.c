/* IPCA's identification conventions (Kelly, Pruitt, Su 2019, as bkelly-lab/ipca applies them
 * after every ALS step): a rotation of (Gamma, F) that leaves the fit Z Gamma [f; 1] unchanged
 * and makes Gamma_beta'Gamma_beta = I, F'F diagonal with descending entries, every factor's
 * mean positive and, with an intercept, Gamma_alpha orthogonal to Gamma_beta. */
#include <stddef.h>

#include "factord/mat.h"
#include "factord/mat_decomp.h"
#include "ipca_internal.h"

/* Flips factors with a negative mean, and their Gamma_beta columns. */
static void flip_signs(size_t L, size_t K, size_t Kt, size_t T, double *Gn, double *Fn) {
    for (size_t k = 0; k < K; k++) {
        double mean = 0;
        for (size_t t = 0; t < T; t++) mean += Fn[t * K + k];
        if (mean >= 0) continue;
        for (size_t t = 0; t < T; t++) Fn[t * K + k] = -Fn[t * K + k];
        for (size_t l = 0; l < L; l++) Gn[l * Kt + k] = -Gn[l * Kt + k];
    }
}

/* Gb -> Gb R1^{-1} R2 and f -> R2' R1 f with Gb'Gb = R1'R1 and R2 the eigenvectors of
 * R1 F'F R1' (descending); then signs; then ga -> (I - Gb Gb') ga with f -> f + Gb'ga. */
int fd_ipca_rotate(size_t L, size_t K, size_t T, int intercept, double *Gn, double *Fn,
                   double *work) {
    size_t Kt = K + (intercept ? 1 : 0);
    double *GtG = work, *R1 = GtG + K * K, *FtF = R1 + K * K, *S = FtF + K * K;
    double *R2 = S + K * K, *tmp = R2 + K * K, *w = tmp + K * K, *y = w + K, *X = y + K;
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < K; j++) {
            double s = 0;
            for (size_t l = 0; l < L; l++) s += Gn[l * Kt + k] * Gn[l * Kt + j];
            GtG[k * K + j] = s;
        }
    if (fd_mat_cholesky_upper(GtG, K, R1) != 0) return -1;
    fd_mat_mul_tn(FtF, Fn, Fn, K, K, T, 1.0, 0.0);
    fd_mat_mul_nn(tmp, R1, FtF, K, K, K, 1.0, 0.0);
    fd_mat_mul_nt(S, tmp, R1, K, K, K, 1.0, 0.0);
    if (fd_mat_sym_eig(S, K, w, R2) != 0) return -1;
    /* X (L, K) = Gb R1^{-1}, row by row by forward substitution on R1 upper. */
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < K; k++) {
            double s = Gn[l * Kt + k];
            for (size_t j = 0; j < k; j++) s -= X[l * K + j] * R1[j * K + k];
            X[l * K + k] = s / R1[k * K + k];
        }
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t j = 0; j < K; j++) s += X[l * K + j] * R2[j * K + k];
            Gn[l * Kt + k] = s;
        }
    /* f_t -> R2' R1 f_t. */
    for (size_t t = 0; t < T; t++) {
        double *f = Fn + t * K;
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t j = k; j < K; j++) s += R1[k * K + j] * f[j];
            y[k] = s;
        }
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t j = 0; j < K; j++) s += R2[j * K + k] * y[j];
            f[k] = s;
        }
    }
    flip_signs(L, K, Kt, T, Gn, Fn);
    if (!intercept) return 0;
    /* c = Gb'ga moves into the factors (Z Gb c is priced by f + c), leaving ga orthogonal. */
    for (size_t k = 0; k < K; k++) {
        double c = 0;
        for (size_t l = 0; l < L; l++) c += Gn[l * Kt + k] * Gn[l * Kt + K];
        y[k] = c;
    }
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < K; k++) Gn[l * Kt + K] -= Gn[l * Kt + k] * y[k];
    for (size_t t = 0; t < T; t++)
        for (size_t k = 0; k < K; k++) Fn[t * K + k] += y[k];
    flip_signs(L, K, Kt, T, Gn, Fn);
    return 0;
}
