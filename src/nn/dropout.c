/* Inverted dropout with an explicit mask: see include/factord/nn.h. Keeping the mask apart
 * from the pass lets gradient checks hold it fixed. */
#include "factord/nn.h"

void fd_dropout_mask(double *mask, size_t count, double rate, fd_rng *rng) {
    double keep = 1.0 / (1.0 - rate);
    for (size_t i = 0; i < count; i++) mask[i] = fd_rng_uniform(rng) < rate ? 0.0 : keep;
}

void fd_dropout_forward(double *y, const double *x, const double *mask, size_t count) {
    for (size_t i = 0; i < count; i++) y[i] = x[i] * mask[i];
}

void fd_dropout_backward(double *dx, const double *dy, const double *mask, size_t count) {
    for (size_t i = 0; i < count; i++) dx[i] = dy[i] * mask[i];
}
