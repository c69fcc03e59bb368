/* Batch normalisation over rows (PyTorch's BatchNorm1d): see include/factord/nn.h.
 *
 * The per-feature sums run over column blocks of BLOCK features with small stack
 * accumulators: each row's block is contiguous in the row-major layout, and no scratch
 * buffer is needed from the caller. */
#include "factord/nn.h"

#include <math.h>

#define BLOCK 64

void fd_batchnorm_forward_train(double *y, double *xhat, double *rstd, double *run_mean,
                                double *run_var, const double *x, const double *gamma,
                                const double *beta, size_t n, size_t C, int relu) {
    double inv_n = 1.0 / (double)n;
    for (size_t c0 = 0; c0 < C; c0 += BLOCK) {
        size_t w = C - c0 < BLOCK ? C - c0 : BLOCK;
        double mean[BLOCK] = {0}, var[BLOCK] = {0}, shift[BLOCK];
        /* One pass over the data for both moments, on values shifted by the first row: the
         * shift keeps E[d^2] - E[d]^2 from cancelling when the mean is large relative to the
         * spread. */
        for (size_t c = 0; c < w; c++) shift[c] = x[c0 + c];
        for (size_t i = 0; i < n; i++) {
            const double *row = x + i * C + c0;
            for (size_t c = 0; c < w; c++) {
                double d = row[c] - shift[c];
                mean[c] += d;
                var[c] += d * d;
            }
        }
        for (size_t c = 0; c < w; c++) {
            double m = mean[c] * inv_n;
            var[c] = fmax(var[c] * inv_n - m * m, 0.0);
            mean[c] = shift[c] + m;
        }
        for (size_t c = 0; c < w; c++) {
            rstd[c0 + c] = 1.0 / sqrt(var[c] + FD_BN_EPS);
            if (run_mean)
                run_mean[c0 + c] = (1.0 - FD_BN_MOMENTUM) * run_mean[c0 + c] +
                                   FD_BN_MOMENTUM * mean[c];
            if (run_var)
                run_var[c0 + c] = (1.0 - FD_BN_MOMENTUM) * run_var[c0 + c] +
                                  FD_BN_MOMENTUM * var[c] * (double)n / (double)(n - 1);
        }
        for (size_t i = 0; i < n; i++) {
            const double *row = x + i * C + c0;
            double *h = xhat + i * C + c0, *out = y + i * C + c0;
            for (size_t c = 0; c < w; c++) {
                h[c] = (row[c] - mean[c]) * rstd[c0 + c];
                out[c] = gamma[c0 + c] * h[c] + beta[c0 + c];
            }
            if (relu) fd_relu_forward(out, out, w);
        }
    }
}

void fd_batchnorm_backward(double *dx, double *dgamma, double *dbeta, double *dy,
                           const double *xhat, const double *rstd, const double *gamma,
                           const double *relu_y, size_t n, size_t C) {
    /* With g = gamma dy: dx = rstd (g - mean(g) - xhat mean(g xhat)). The row sums of dy and
     * dy xhat give both the parameter gradients and those two means. */
    double inv_n = 1.0 / (double)n;
    for (size_t c0 = 0; c0 < C; c0 += BLOCK) {
        size_t w = C - c0 < BLOCK ? C - c0 : BLOCK;
        double s[BLOCK] = {0}, sx[BLOCK] = {0}, a[BLOCK], b[BLOCK], k[BLOCK];
        for (size_t i = 0; i < n; i++) {
            double *g = dy + i * C + c0;
            const double *h = xhat + i * C + c0;
            if (relu_y) fd_relu_backward(g, g, relu_y + i * C + c0, w);
            for (size_t c = 0; c < w; c++) {
                s[c] += g[c];
                sx[c] += g[c] * h[c];
            }
        }
        for (size_t c = 0; c < w; c++) {
            dgamma[c0 + c] += sx[c];
            dbeta[c0 + c] += s[c];
            /* dx = k dy - a - b xhat, folded per feature. */
            k[c] = gamma[c0 + c] * rstd[c0 + c];
            a[c] = k[c] * s[c] * inv_n;
            b[c] = k[c] * sx[c] * inv_n;
        }
        for (size_t i = 0; i < n; i++) {
            const double *g = dy + i * C + c0, *h = xhat + i * C + c0;
            double *d = dx + i * C + c0;
            for (size_t c = 0; c < w; c++) d[c] = k[c] * g[c] - a[c] - b[c] * h[c];
        }
    }
}

void fd_batchnorm_forward_infer(double *y, const double *x, const double *gamma,
                                const double *beta, const double *run_mean,
                                const double *run_var, size_t n, size_t C) {
    for (size_t c0 = 0; c0 < C; c0 += BLOCK) {
        size_t w = C - c0 < BLOCK ? C - c0 : BLOCK;
        double scale[BLOCK], shift[BLOCK];
        for (size_t c = 0; c < w; c++) {
            scale[c] = gamma[c0 + c] / sqrt(run_var[c0 + c] + FD_BN_EPS);
            shift[c] = beta[c0 + c] - scale[c] * run_mean[c0 + c];
        }
        for (size_t i = 0; i < n; i++) {
            const double *row = x + i * C + c0;
            double *out = y + i * C + c0;
            for (size_t c = 0; c < w; c++) out[c] = scale[c] * row[c] + shift[c];
        }
    }
}
