/* The conditional autoencoder's network: see include/factord/ca_net.h. */
#include "factord/ca_net.h"

#include <stdlib.h>
#include <string.h>

#include "factord/nn.h"

void fd_ca_net_layout(fd_ca_net *net, size_t P, size_t K, size_t n_hidden,
                      const size_t *hidden) {
    size_t at = 0, L = n_hidden;
    memset(net, 0, sizeof *net);
    net->P = P;
    net->K = K;
    net->n_hidden = L;
    net->width[0] = P;
    net->max_hidden = 1;
    for (size_t l = 0; l < L; l++) {
        net->width[l + 1] = hidden[l];
        if (hidden[l] > net->max_hidden) net->max_hidden = hidden[l];
    }
    net->width[L + 1] = K;
    /* Weights first, so one penalty call covers them all. */
    for (size_t l = 0; l <= L; l++) {
        net->w[l] = at;
        at += net->width[l + 1] * net->width[l];
    }
    net->fw = at;
    at += K * P;
    net->n_weights = at;
    net->b_out = at;
    at += K;
    net->fb = at;
    at += K;
    for (size_t l = 0; l < L; l++) {
        net->gamma[l] = at;
        at += hidden[l];
        net->beta[l] = at;
        at += hidden[l];
    }
    net->n_train = at;
    for (size_t l = 0; l < L; l++) {
        net->run_mean[l] = at;
        at += hidden[l];
        net->run_var[l] = at;
        at += hidden[l];
    }
    net->n_total = at;
}

void fd_ca_net_init(const fd_ca_net *net, double *params, fd_rng *rng) {
    size_t L = net->n_hidden;
    for (size_t l = 0; l <= L; l++)
        fd_linear_init(params + net->w[l], l == L ? params + net->b_out : NULL, net->width[l],
                       net->width[l + 1], rng);
    fd_linear_init(params + net->fw, params + net->fb, net->P, net->K, rng);
    for (size_t l = 0; l < net->n_hidden; l++)
        for (size_t c = 0; c < net->width[l + 1]; c++) {
            params[net->gamma[l] + c] = 1.0;
            params[net->beta[l] + c] = 0.0;
            params[net->run_mean[l] + c] = 0.0;
            params[net->run_var[l] + c] = 1.0;
        }
}

#define NN_T double
#define NN_FN(name) fd_##name
#include "ca_net_typed.inc"
#undef NN_T
#undef NN_FN
#define NN_T float
#define NN_FN(name) fd_##name##_f32
#include "ca_net_typed.inc"
#undef NN_T
#undef NN_FN
