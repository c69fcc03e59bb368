/* Elementwise activations: see include/factord/nn.h.
 *
 * ReLU selects with a bit mask instead of a branch: signs of pre-activations are close to
 * random, and a mispredicted branch per element made ReLU the most expensive step of CA
 * training. The mask keeps x where x > 0 and gives +0 elsewhere (NaN included), exactly
 * what `x > 0 ? x : 0` gives. */
#include "factord/nn.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* v where keep, else +0.0. */
static inline double select_or_zero(double v, int keep) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    bits &= -(uint64_t)keep;
    memcpy(&v, &bits, sizeof v);
    return v;
}

void fd_relu_forward(double *y, const double *x, size_t count) {
    for (size_t i = 0; i < count; i++) y[i] = select_or_zero(x[i], x[i] > 0.0);
}

void fd_relu_backward(double *dx, const double *dy, const double *y, size_t count) {
    for (size_t i = 0; i < count; i++) dx[i] = select_or_zero(dy[i], y[i] > 0.0);
}

void fd_tanh_forward(double *y, const double *x, size_t count) {
    for (size_t i = 0; i < count; i++) y[i] = tanh(x[i]);
}

void fd_tanh_backward(double *dx, const double *dy, const double *y, size_t count) {
    for (size_t i = 0; i < count; i++) dx[i] = dy[i] * (1.0 - y[i] * y[i]);
}
