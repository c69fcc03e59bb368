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
 * A member's parameters are one block of n_total values (double when stored and served,
 * float while training in single precision), laid out so that everything a
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
#include "factord/team.h"

#define FD_CA_MAX_HIDDEN 3
#define FD_CA_MAX_WIDTH 64 /* widest hidden layer a workspace accepts (CA3's widest is 32) */

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

/* Inference, workspaces and training passes, for double (fd_NAME) and float (fd_NAME_f32). */
#define FD_TYPED_HEADER "factord/ca_net_typed.h"
#include "factord/typed_twice.h"

#endif
