/* fd_nn attention layers (seed 002, NeurIF): layer normalisation, the sinusoidal positional
 * encoding, multi-head self-attention over time for each security's last L months (the last
 * step's output), and multi-head self-attention across a month's securities computed in tiles
 * with an online softmax, so no N x N score matrix is ever held. Same conventions as
 * factord/nn.h: caller-provided buffers, no allocation, parameter gradients ACCUMULATE,
 * input gradients are OVERWRITTEN (NULL: skipped), pure functions safe from any thread on
 * distinct buffers.
 *
 * Multi-head attention follows torch.nn.MultiheadAttention (batch_first, no dropout) with its
 * parameter layout, so weights compare one to one:
 *   [W_in (3d, d) = [W_q; W_k; W_v] | b_in (3d) | W_o (d, d) | b_o (d)]
 *   q = x W_q' + b_q, k = x W_k' + b_k, v = x W_v' + b_v, all (., d), head h the columns
 *   h dh .. (h+1) dh - 1 (dh = d / heads); a_h = softmax(q_h k_h' / sqrt(dh)) over the keys;
 *   ctx = [a_1 v_1 | .. | a_H v_H]; out = ctx W_o' + b_o.
 *
 * Time attention. A batch holds B securities of L months, TIME-MAJOR as the sequence layers
 * (factord/nn_seq.h): X (L, B, d), step l of security b at X[(l B + b) d]; l = L-1 is the
 * latest month. mask (B, L) BATCH-MAJOR, non-zero where the month is present (NULL: all).
 * The one query is the latest step's (the output of self-attention at the last step: with one
 * attention layer the other steps' outputs feed nothing); keys and values are the present
 * steps only (absent: weight exactly 0, their inputs never read for the output, gradient 0).
 * The latest step must be present (a period's securities always have it); a security with no
 * present step gets out = b_o.
 *
 * Cross-sectional attention. One month's N securities U (N, d): every security's query
 * attends to every security's key (itself included). Computed in tiles of T queries by T
 * keys: per query row and head a running maximum and sum of exponentials (the online softmax
 * of flash attention), the context rescaled as the maximum grows; only the row statistics
 * (log-sum-exp per row and head) are kept, and the backward pass recomputes each tile's
 * scores from them. Memory O(N d + T^2), time O(N^2 d). Any T >= 1 (T need not divide N;
 * T >= N is one tile, the plain computation). */
#ifndef FACTORD_NN_ATTENTION_H
#define FACTORD_NN_ATTENTION_H

#include <stddef.h>

#include "factord/rng.h"

#define FD_LN_EPS 1e-5

/* Multi-head attention of width d (d_model) with `heads` heads (heads divides d); tile: the
 * cross-sectional layer's tile size T (ignored by the time layer). */
typedef struct fd_mha_spec {
    size_t d, heads, tile;
} fd_mha_spec;

/* Parameters 4 d^2 + 4 d in the layout above; offsets of b_in, W_o, b_o. */
size_t fd_mha_param_count(const fd_mha_spec *s);
size_t fd_mha_bin_offset(const fd_mha_spec *s);
size_t fd_mha_wo_offset(const fd_mha_spec *s);
size_t fd_mha_bo_offset(const fd_mha_spec *s);
/* PyTorch's initialisation: W_in Xavier-uniform (bound sqrt(6 / (4 d))), W_o uniform on
 * (-1/sqrt(d), 1/sqrt(d)), biases 0. Double, as fd_linear_init. */
void fd_mha_init(const fd_mha_spec *s, double *params, fd_rng *rng);

/* Time attention over L steps of B securities: kept by the forward pass, q (B, d), keys and
 * values (L, B, 2 d) as [k | v] per row, weights (B, heads, L), ctx (B, d). */
size_t fd_time_attention_cache_count(const fd_mha_spec *s, size_t L, size_t B);
/* Scratch for the backward pass: (L, B, 2 d) + 2 B d + B heads L. */
size_t fd_time_attention_work_count(const fd_mha_spec *s, size_t L, size_t B);

/* Cross-sectional attention over N securities: kept by the forward pass, [q | k | v]
 * (N, 3 d), ctx (N, d), log-sum-exp (heads, N). */
size_t fd_cross_attention_cache_count(const fd_mha_spec *s, size_t N);
/* Scratch for either pass: 2 T'^2 + 2 T' + (N, 3 d) + (N, d) + N, T' = min(T, N). */
size_t fd_cross_attention_work_count(const fd_mha_spec *s, size_t N);

/* The sinusoidal encoding of Vaswani et al. for L steps of width d, pe (L, d): step l sits
 * p = L-1-l months before the latest (the latest is position 0 whatever L is), and
 * pe[l, 2j] = sin(p / 10000^(2j/d)), pe[l, 2j+1] = cos(p / 10000^(2j/d)). */
void fd_posenc_sinusoid(double *pe, size_t L, size_t d);

#define FD_TYPED_HEADER "factord/nn_attention_typed.h"
#include "factord/typed_twice.h"

#endif
