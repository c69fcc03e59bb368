/* Losses and weight penalties: see include/factord/nn.h. */
#include "factord/nn.h"

#include <math.h>

double fd_loss_mse(double *dpred, const double *pred, const double *target, size_t n) {
    double sum = 0.0, scale = 2.0 / (double)n;
    for (size_t i = 0; i < n; i++) {
        double e = pred[i] - target[i];
        sum += e * e;
        if (dpred) dpred[i] = scale * e;
    }
    return sum / (double)n;
}

double fd_loss_huber(double *dpred, const double *pred, const double *target, size_t n,
                     double delta) {
    double sum = 0.0, inv_n = 1.0 / (double)n;
    for (size_t i = 0; i < n; i++) {
        double e = pred[i] - target[i], a = fabs(e);
        if (a <= delta) {
            sum += 0.5 * e * e;
            if (dpred) dpred[i] = e * inv_n;
        } else {
            sum += delta * (a - 0.5 * delta);
            if (dpred) dpred[i] = (e > 0.0 ? delta : -delta) * inv_n;
        }
    }
    return sum * inv_n;
}

double fd_penalty_l1(double *dw, const double *w, size_t count, double lambda) {
    double sum = 0.0;
    for (size_t i = 0; i < count; i++) {
        sum += fabs(w[i]);
        if (dw) dw[i] += w[i] > 0.0 ? lambda : (w[i] < 0.0 ? -lambda : 0.0);
    }
    return lambda * sum;
}

double fd_penalty_l2(double *dw, const double *w, size_t count, double lambda) {
    double sum = 0.0;
    for (size_t i = 0; i < count; i++) {
        sum += w[i] * w[i];
        if (dw) dw[i] += 2.0 * lambda * w[i];
    }
    return lambda * sum;
}
