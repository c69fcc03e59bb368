/* Elementwise activations: see include/factord/nn.h. */
#include "factord/nn.h"

#include <math.h>

void fd_relu_forward(double *y, const double *x, size_t count) {
    for (size_t i = 0; i < count; i++) y[i] = x[i] > 0.0 ? x[i] : 0.0;
}

void fd_relu_backward(double *dx, const double *dy, const double *y, size_t count) {
    for (size_t i = 0; i < count; i++) dx[i] = y[i] > 0.0 ? dy[i] : 0.0;
}

void fd_tanh_forward(double *y, const double *x, size_t count) {
    for (size_t i = 0; i < count; i++) y[i] = tanh(x[i]);
}

void fd_tanh_backward(double *dx, const double *dy, const double *y, size_t count) {
    for (size_t i = 0; i < count; i++) dx[i] = dy[i] * (1.0 - y[i] * y[i]);
}
