/* fd_ca_net: the conditional autoencoder's network (Gu, Kelly, Xiu 2021), one ensemble
 * member at a time. Internal to src/models/ca*.c and their tests; the rest of factord sees
 * only the fd_model interface.
 *
 *   beta network:   z (n, P) -> [Linear -> BatchNorm -> ReLU (-> dropout)] x n_hidden
 *                   -> Linear -> beta (n, K)
 *                   The hidden Linear layers have no bias: the batch norm right after them
 *                   subtracts the mean, which cancels a bias exactly (its gradient is 0), so
 *                   it would only cost two passes over the batch.
 *   factor network: x_t (P) managed portfolio -> f_t = W x_t + b (K)
 *   prediction:     rhat_{i,t} = beta_{i,t}' f_t
 *
 * A member's parameters are one block of n_total doubles, laid out so that everything a
 * penalty touches is contiguous at the front:
 *   [ weights: beta-net W_0 .. W_{n_hidden}, factor W_f ]  n_weights   (L1/L2 apply here)
 *   [ biases b_out, b_f; BN gamma, beta ]                  up to n_train (trained, unpenalised)
 *   [ BN running mean, running var ]                       up to n_total (buffers, not trained)
 * Gradients, Adam moments and saved checkpoints use the same layout (gradients and moments
 * cover the first n_train values only).
 *
 * A batch is a set of whole periods gathered into an fd_ca_work: rows of all its periods
 * stacked, period p owning rows off[p] .. off[p+1]-1. Nothing here allocates except
 * fd_ca_work_alloc; nothing is thread-safe except the const inference functions. */
#ifndef FACTORD_CA_NET_H
#define FACTORD_CA_NET_H

#include <stddef.h>

#include "factord/rng.h"

#define FD_CA_MAX_HIDDEN 3

typedef struct fd_ca_net {
    size_t P, K, n_hidden;
    size_t width[FD_CA_MAX_HIDDEN + 2]; /* width[0] = P, width[1..n_hidden] hidden, then K */
    size_t max_hidden;                  /* widest hidden layer (1 when there is none) */
    /* Offsets into a member's block. Linear l maps width[l] -> width[l+1]: W (out, in); only
     * the last (l = n_hidden) has a bias, b_out (K). */
    size_t w[FD_CA_MAX_HIDDEN + 1], b_out;
    size_t fw, fb;                      /* factor network: W (K, P), b (K) */
    size_t gamma[FD_CA_MAX_HIDDEN], beta[FD_CA_MAX_HIDDEN];
    size_t run_mean[FD_CA_MAX_HIDDEN], run_var[FD_CA_MAX_HIDDEN];
    size_t n_weights, n_train, n_total;
} fd_ca_net;

/* hidden (n_hidden) are the hidden widths, each >= 1; n_hidden <= FD_CA_MAX_HIDDEN. */
void fd_ca_net_layout(fd_ca_net *net, size_t P, size_t K, size_t n_hidden,
                      const size_t *hidden);
/* PyTorch's default initialisation for the linear layers, gamma = 1, beta = 0, running
 * mean 0 and variance 1. params (n_total). */
void fd_ca_net_init(const fd_ca_net *net, double *params, fd_rng *rng);

/* Inference (batch norm with running statistics, no dropout): beta (n, K) from z (n, P).
 * buf_a, buf_b (n, max_hidden) are scratch. Thread-safe on distinct buffers. */
void fd_ca_net_betas(const fd_ca_net *net, const double *params, const double *z, size_t n,
                     double *beta, double *buf_a, double *buf_b);
/* f (B, K) = x (B, P) W_f' + b_f. */
void fd_ca_net_factors(const fd_ca_net *net, const double *params, const double *x, size_t B,
                       double *f);
/* pred (n) where row i of period p gets beta_i' f_p; off (B + 1) row offsets. */
void fd_ca_predict(double *pred, const double *beta, const double *f, const size_t *off,
                   size_t B, size_t K);

/* Training workspace for batches of up to cap_rows rows and cap_periods periods. */
typedef struct fd_ca_work {
    size_t cap_rows, cap_periods;
    size_t n_rows, n_periods;          /* the batch currently gathered */
    size_t *off;                       /* (cap_periods + 1) */
    double *z;                         /* (cap_rows, P) */
    double *r;                         /* (cap_rows) */
    double *x;                         /* (cap_periods, P) */
    double *f, *df;                    /* (cap_periods, K) */
    double *pre[FD_CA_MAX_HIDDEN];     /* (cap_rows, h_l) linear outputs */
    double *xhat[FD_CA_MAX_HIDDEN];    /* (cap_rows, h_l) normalised, for the backward pass */
    double *rstd[FD_CA_MAX_HIDDEN];    /* (h_l) */
    double *relu[FD_CA_MAX_HIDDEN];    /* (cap_rows, h_l) ReLU outputs */
    double *mask[FD_CA_MAX_HIDDEN];    /* (cap_rows, h_l) dropout masks (with dropout only) */
    double *drop[FD_CA_MAX_HIDDEN];    /* (cap_rows, h_l) after dropout (with dropout only) */
    double *beta, *dbeta;              /* (cap_rows, K) */
    double *pred, *dpred;              /* (cap_rows) */
    double *ga, *gb;                   /* (cap_rows, max_hidden) gradient ping-pong */
    double *block;                     /* one allocation behind every double pointer above */
} fd_ca_work;

/* Returns -1 when memory runs out. with_dropout reserves the mask buffers. */
int fd_ca_work_alloc(fd_ca_work *w, const fd_ca_net *net, size_t cap_rows, size_t cap_periods,
                     int with_dropout);
void fd_ca_work_free(fd_ca_work *w);
/* Empties the batch, then appends periods one at a time (z (n, P), r (n), x (P)); the caller
 * keeps within capacity. */
void fd_ca_work_clear(fd_ca_work *w);
void fd_ca_work_add_period(fd_ca_work *w, const fd_ca_net *net, const double *z,
                           const double *r, const double *x, size_t n);

/* Training-mode forward pass over the gathered batch (>= 2 rows): fills w->pred and every
 * cache the backward pass needs, and moves the batch-norm running statistics in params.
 * With dropout_rate > 0, fresh masks are drawn from rng; rng NULL keeps the masks already in
 * w (gradient checks hold them fixed). */
void fd_ca_net_forward_train(const fd_ca_net *net, double *params, fd_ca_work *w,
                             double dropout_rate, fd_rng *rng);
/* Backward pass from w->dpred (n_rows), the loss gradient with respect to the predictions:
 * ACCUMULATES into grads (n_train). */
void fd_ca_net_backward(const fd_ca_net *net, const double *params, double *grads,
                        fd_ca_work *w, double dropout_rate);

#endif
