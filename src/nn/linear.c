/* Fully connected layer: see include/factord/nn.h. Each pass is one or two dgemm calls over
 * the whole batch. */
#include "factord/mat.h"
#include "factord/nn.h"

#include <math.h>

void fd_linear_forward(double *y, const double *x, const double *W, const double *b, size_t n,
                       size_t in, size_t out) {
    if (!b) {
        fd_mat_mul_nt(y, x, W, n, out, in, 1.0, 0.0); /* (n, out) = (n, in) (out, in)' */
        return;
    }
    /* Broadcast the bias into y, then let dgemm add x W' on top (beta = 1). */
    for (size_t i = 0; i < n; i++)
        for (size_t o = 0; o < out; o++) y[i * out + o] = b[o];
    fd_mat_mul_nt(y, x, W, n, out, in, 1.0, 1.0); /* (n, out) += (n, in) (out, in)' */
}

void fd_linear_backward(double *dx, double *dW, double *db, const double *dy, const double *x,
                        const double *W, size_t n, size_t in, size_t out) {
    if (dx) fd_mat_mul_nn(dx, dy, W, n, in, out, 1.0, 0.0); /* (n, in) = (n, out) (out, in) */
    fd_mat_mul_tn(dW, dy, x, out, in, n, 1.0, 1.0);         /* (out, in) += (n, out)' (n, in) */
    if (db) fd_mat_col_sums(db, dy, n, out, 1.0);            /* (out) += sums over rows */
}

void fd_linear_init(double *W, double *b, size_t in, size_t out, fd_rng *rng) {
    double bound = 1.0 / sqrt((double)in);
    for (size_t i = 0; i < out * in; i++) W[i] = bound * (2.0 * fd_rng_uniform(rng) - 1.0);
    for (size_t o = 0; b && o < out; o++) b[o] = bound * (2.0 * fd_rng_uniform(rng) - 1.0);
}
