/* The conditional autoencoder's network: see include/factord/ca_net.h. */
#include "factord/ca_net.h"

#include <stdlib.h>
#include <string.h>

#include "factord/mat.h"
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

void fd_ca_net_betas(const fd_ca_net *net, const double *params, const double *z, size_t n,
                     double *beta, double *buf_a, double *buf_b) {
    const double *in = z;
    size_t L = net->n_hidden;
    for (size_t l = 0; l < L; l++) {
        double *out = (l % 2 == 0) ? buf_a : buf_b;
        size_t h = net->width[l + 1];
        fd_linear_forward(out, in, params + net->w[l], NULL, n, net->width[l], h);
        fd_batchnorm_forward_infer(out, out, params + net->gamma[l], params + net->beta[l],
                                   params + net->run_mean[l], params + net->run_var[l], n, h);
        fd_relu_forward(out, out, n * h);
        in = out;
    }
    fd_linear_forward(beta, in, params + net->w[L], params + net->b_out, n, net->width[L],
                      net->K);
}

void fd_ca_net_factors(const fd_ca_net *net, const double *params, const double *x, size_t B,
                       double *f) {
    fd_linear_forward(f, x, params + net->fw, params + net->fb, B, net->P, net->K);
}

void fd_ca_predict(double *pred, const double *beta, const double *f, const size_t *off,
                   size_t B, size_t K) {
    for (size_t p = 0; p < B; p++)
        for (size_t i = off[p]; i < off[p + 1]; i++)
            pred[i] = fd_vec_dot(beta + i * K, f + p * K, K);
}

int fd_ca_work_alloc(fd_ca_work *w, const fd_ca_net *net, size_t cap_rows, size_t cap_periods,
                     int with_dropout) {
    size_t P = net->P, K = net->K, total = 0, at = 0;
    memset(w, 0, sizeof *w);
    /* Two passes over the same list: count, then carve. */
    for (int pass = 0; pass < 2; pass++) {
#define CARVE(ptr, count) do { if (pass) (ptr) = w->block + at; at += (count); } while (0)
        at = 0;
        CARVE(w->z, cap_rows * P);
        CARVE(w->r, cap_rows);
        CARVE(w->x, cap_periods * P);
        CARVE(w->f, cap_periods * K);
        CARVE(w->df, cap_periods * K);
        for (size_t l = 0; l < net->n_hidden; l++) {
            size_t h = net->width[l + 1];
            CARVE(w->pre[l], cap_rows * h);
            CARVE(w->xhat[l], cap_rows * h);
            CARVE(w->rstd[l], h);
            CARVE(w->relu[l], cap_rows * h);
            if (with_dropout) {
                CARVE(w->mask[l], cap_rows * h);
                CARVE(w->drop[l], cap_rows * h);
            }
        }
        CARVE(w->beta, cap_rows * K);
        CARVE(w->dbeta, cap_rows * K);
        CARVE(w->pred, cap_rows);
        CARVE(w->dpred, cap_rows);
        CARVE(w->ga, cap_rows * net->max_hidden);
        CARVE(w->gb, cap_rows * net->max_hidden);
#undef CARVE
        if (!pass) {
            total = at;
            w->block = malloc(total * sizeof *w->block);
            w->off = malloc((cap_periods + 1) * sizeof *w->off);
            if (!w->block || !w->off) {
                fd_ca_work_free(w);
                return -1;
            }
        }
    }
    w->cap_rows = cap_rows;
    w->cap_periods = cap_periods;
    fd_ca_work_clear(w);
    return 0;
}

void fd_ca_work_free(fd_ca_work *w) {
    free(w->block);
    free(w->off);
    memset(w, 0, sizeof *w);
}

void fd_ca_work_clear(fd_ca_work *w) {
    w->n_rows = 0;
    w->n_periods = 0;
    w->off[0] = 0;
}

void fd_ca_work_add_period(fd_ca_work *w, const fd_ca_net *net, const double *z,
                           const double *r, const double *x, size_t n) {
    memcpy(w->z + w->n_rows * net->P, z, n * net->P * sizeof *z);
    memcpy(w->r + w->n_rows, r, n * sizeof *r);
    memcpy(w->x + w->n_periods * net->P, x, net->P * sizeof *x);
    w->n_rows += n;
    w->n_periods++;
    w->off[w->n_periods] = w->n_rows;
}

/* The input of linear layer l: the batch for l = 0, else the previous hidden activation. */
static const double *layer_input(const fd_ca_work *w, size_t l, double dropout_rate) {
    if (l == 0) return w->z;
    return dropout_rate > 0.0 ? w->drop[l - 1] : w->relu[l - 1];
}

void fd_ca_net_forward_train(const fd_ca_net *net, double *params, fd_ca_work *w,
                             double dropout_rate, fd_rng *rng) {
    size_t n = w->n_rows, L = net->n_hidden;
    for (size_t l = 0; l < L; l++) {
        size_t h = net->width[l + 1];
        fd_linear_forward(w->pre[l], layer_input(w, l, dropout_rate), params + net->w[l], NULL,
                          n, net->width[l], h);
        fd_batchnorm_forward_train(w->relu[l], w->xhat[l], w->rstd[l],
                                   params + net->run_mean[l], params + net->run_var[l],
                                   w->pre[l], params + net->gamma[l], params + net->beta[l],
                                   n, h, 1);
        if (dropout_rate > 0.0) {
            if (rng) fd_dropout_mask(w->mask[l], n * h, dropout_rate, rng);
            fd_dropout_forward(w->drop[l], w->relu[l], w->mask[l], n * h);
        }
    }
    fd_linear_forward(w->beta, layer_input(w, L, dropout_rate), params + net->w[L],
                      params + net->b_out, n, net->width[L], net->K);
    fd_ca_net_factors(net, params, w->x, w->n_periods, w->f);
    fd_ca_predict(w->pred, w->beta, w->f, w->off, w->n_periods, net->K);
}

void fd_ca_net_backward(const fd_ca_net *net, const double *params, double *grads,
                        fd_ca_work *w, double dropout_rate) {
    size_t n = w->n_rows, K = net->K, L = net->n_hidden;
    /* rhat_i = beta_i' f_p: dbeta_i = dpred_i f_p and df_p = sum over its rows of
     * dpred_i beta_i. */
    memset(w->df, 0, w->n_periods * K * sizeof *w->df);
    for (size_t p = 0; p < w->n_periods; p++) {
        const double *f = w->f + p * K;
        double *df = w->df + p * K;
        for (size_t i = w->off[p]; i < w->off[p + 1]; i++) {
            double g = w->dpred[i];
            const double *b = w->beta + i * K;
            double *db = w->dbeta + i * K;
            for (size_t k = 0; k < K; k++) {
                db[k] = g * f[k];
                df[k] += g * b[k];
            }
        }
    }
    fd_linear_backward(NULL, grads + net->fw, grads + net->fb, w->df, w->x, params + net->fw,
                       w->n_periods, net->P, K);
    /* Beta network, top down; ga holds the gradient of the current layer's output. */
    double *ga = w->ga, *gb = w->gb;
    fd_linear_backward(L > 0 ? ga : NULL, grads + net->w[L], grads + net->b_out, w->dbeta,
                       layer_input(w, L, dropout_rate), params + net->w[L], n, net->width[L],
                       K);
    for (size_t l = L; l-- > 0;) {
        size_t h = net->width[l + 1];
        if (dropout_rate > 0.0) fd_dropout_backward(ga, ga, w->mask[l], n * h);
        fd_batchnorm_backward(ga, grads + net->gamma[l], grads + net->beta[l], ga, w->xhat[l],
                              w->rstd[l], params + net->gamma[l], w->relu[l], n, h);
        fd_linear_backward(l > 0 ? gb : NULL, grads + net->w[l], NULL, ga,
                           layer_input(w, l, dropout_rate), params + net->w[l], n,
                           net->width[l], h);
        double *t = ga;
        ga = gb;
        gb = t;
    }
}
