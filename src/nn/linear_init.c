/* PyTorch's default initialisation of a linear layer: see include/factord/nn.h. Always in
 * double: a float training run converts the same draws, so both precisions start alike. */
#include "factord/nn.h"

#include <math.h>

void fd_linear_init(double *W, double *b, size_t in, size_t out, fd_rng *rng) {
    double bound = 1.0 / sqrt((double)in);
    for (size_t i = 0; i < out * in; i++) W[i] = bound * (2.0 * fd_rng_uniform(rng) - 1.0);
    for (size_t o = 0; b && o < out; o++) b[o] = bound * (2.0 * fd_rng_uniform(rng) - 1.0);
}
