/* Adam, with PyTorch's update order and bias correction: see include/factord/nn.h. */
#include "factord/nn.h"

#include <math.h>

void fd_adam_step(fd_adam *opt, double *param, const double *grad, double *m, double *v,
                  size_t count) {
    opt->t++;
    double c1 = 1.0 - pow(opt->beta1, (double)opt->t);
    double c2 = 1.0 - pow(opt->beta2, (double)opt->t);
    double step = opt->lr / c1, sqrt_c2 = sqrt(c2);
    for (size_t i = 0; i < count; i++) {
        double g = grad[i];
        m[i] = opt->beta1 * m[i] + (1.0 - opt->beta1) * g;
        v[i] = opt->beta2 * v[i] + (1.0 - opt->beta2) * g * g;
        /* PyTorch: p -= lr/c1 * m / (sqrt(v)/sqrt(c2) + eps). */
        param[i] -= step * m[i] / (sqrt(v[i]) / sqrt_c2 + opt->eps);
    }
}
