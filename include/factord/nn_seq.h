/* fd_nn sequence layers: recurrent cells over a sequence (plain RNN, GRU, LSTM) with
 * backpropagation through time, the bilinear attention and the attention decoder of seed
 * 003 (eqs. 8-11), and the whole encoder-decoder factor network of eqs. 5-13 (SeqRAT,
 * SeqGAT, SeqLAT). Same conventions as factord/nn.h: caller-provided buffers, no
 * allocation, parameter gradients ACCUMULATE, input gradients are overwritten unless a
 * function says otherwise, pure functions safe from any thread on distinct buffers.
 *
 * Layout. A batch holds B sequences of L steps. Sequence inputs and encoder states are
 * TIME-MAJOR: X (L, B, in), step l of sequence b at X[(l B + b) in]; one step of the batch is
 * one contiguous (B, in) block, so every step is one GEMM. Masks are BATCH-MAJOR (B, L):
 * mask[b L + l] non-zero when step l of sequence b is present (NULL: every step present).
 * Decoder states are batch-major D (B, L, hidden), so a sequence's [h'_1 .. h'_L] is one
 * contiguous row of L hidden values, the input of the factor output (eq. 13).
 *
 * Masked steps (months without data). A sequence starts at its first present step and skips
 * the absent ones: at an absent step the recurrence does not run (h_l = h_{l-1}, and for the
 * LSTM c_l = c_{l-1}), the input there is never read for the output (its gradient is 0),
 * and the step's encoder state is excluded from the attention softmax (weight exactly 0).
 * Leading absent steps therefore keep h = h_0 = 0 (eq. 5) and the decoder starts from the
 * state after the last present step (eq. 7). Nothing is ever zero-filled and treated as a
 * real observation. A sequence with no present step at all has no attention weights and a
 * zero context (callers should not pass one; the factor network then sees only its biases).
 *
 * Cells follow PyTorch's definitions exactly (torch.nn.RNN / GRU / LSTM, one layer), with
 * its parameter layout W_ih (G H, in), W_hh (G H, H), b_ih (G H), b_hh (G H), gates stacked
 * in PyTorch's order, G = 1 (RNN), 3 (GRU: r, z, n) or 4 (LSTM: i, f, g, o):
 *   RNN   h = act(W_ih x + b_ih + W_hh h_ + b_hh), act tanh or ReLU (nonlinearity=)
 *   GRU   r = s(W_ir x + b_ir + W_hr h_ + b_hr), z = s(W_iz x + b_iz + W_hz h_ + b_hz),
 *         n = tanh(W_in x + b_in + r * (W_hn h_ + b_hn)), h = (1 - z) n + z h_
 *   LSTM  i, f, o = s(W_i. x + b_i. + W_h. h_ + b_h.), g = tanh(...), c = f c_ + i g,
 *         h = o tanh(c), c_0 = 0
 * (seed 003 appendix C writes the same gates; its GRU candidate drops W_hn and b_hn, which
 * PyTorch and the usual definition keep, and its update gate is PyTorch's z.) */
#ifndef FACTORD_NN_SEQ_H
#define FACTORD_NN_SEQ_H

#include <stddef.h>

#include "factord/rng.h"

typedef enum fd_cell_kind { FD_CELL_RNN = 0, FD_CELL_GRU = 1, FD_CELL_LSTM = 2 } fd_cell_kind;

/* The activation of the plain RNN cell (g_1 of eq. 6) and of the decoder (g_2 of eq. 11).
 * GRU and LSTM gates are fixed (sigmoid, tanh) by their definitions. */
typedef enum fd_seq_act { FD_SEQ_TANH = 0, FD_SEQ_RELU = 1 } fd_seq_act;

/* One recurrent layer: in inputs, hidden units. act is read by FD_CELL_RNN only. */
typedef struct fd_cell_spec {
    fd_cell_kind kind;
    fd_seq_act act;
    size_t in, hidden;
} fd_cell_spec;

/* Gates G: 1, 3 or 4. */
size_t fd_cell_gates(const fd_cell_spec *s);
/* Parameters G H (in + H + 2), laid out [W_ih | W_hh | b_ih | b_hh] (PyTorch's order of
 * weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0). */
size_t fd_cell_param_count(const fd_cell_spec *s);
/* What the forward pass keeps for the backward pass over L steps of B sequences:
 * 0 (RNN: the states suffice), 4 H L B (GRU: r, z, n, W_hn h_ + b_hn), 6 H L B (LSTM: i, f,
 * g, o, c, tanh c). */
size_t fd_cell_cache_count(const fd_cell_spec *s, size_t L, size_t B);
/* Scratch for either pass: G H L B + G H B + 3 H B. */
size_t fd_cell_work_count(const fd_cell_spec *s, size_t L, size_t B);
/* PyTorch's initialisation of a recurrent layer: every parameter uniform on
 * (-1/sqrt(H), 1/sqrt(H)), in layout order. Double, as fd_linear_init. */
void fd_cell_init(const fd_cell_spec *s, double *params, fd_rng *rng);

/* The attention decoder (eqs. 8-11) of hidden size H, as many steps as the encoder has:
 * parameters [W_att (H, H) | W_3 (H, H) | W_4 (H, H) | b_2 (H)]. */
size_t fd_decoder_param_count(size_t hidden);
/* Kept by the forward pass for B sequences of L steps: queries (L, B, H), attention weights
 * (L, B, L), contexts (L, B, H). */
size_t fd_decoder_cache_count(size_t hidden, size_t L, size_t B);
/* Scratch: B (2 H + L). */
size_t fd_decoder_work_count(size_t hidden, size_t L, size_t B);
/* Every parameter uniform on (-1/sqrt(H), 1/sqrt(H)) (PyTorch's Linear default for fan-in
 * H; the seed does not say). */
void fd_decoder_init(size_t hidden, double *params, fd_rng *rng);

/* ---- the factor network of seed 003 (eqs. 5-13) ----
 * x_{t-L+1} .. x_t (the managed portfolios, P each) -> encoder cell (eqs. 5-6, or GRU/LSTM)
 * -> attention decoder from h'_0 = h_T (eqs. 7-11) -> f_t = W_factor [h'_1 .. h'_L] + b_3
 * (eq. 13), W_factor (K, L H). */
typedef struct fd_seqnet_spec {
    fd_cell_spec cell;   /* in = P, hidden = d_h */
    fd_seq_act dec_act;  /* g_2 of eq. 11 */
    size_t L, K;
} fd_seqnet_spec;

/* Parameters [cell | decoder | W_factor (K, L H) | b_3 (K)]; offsets of each block. */
size_t fd_seqnet_param_count(const fd_seqnet_spec *s);
size_t fd_seqnet_decoder_offset(const fd_seqnet_spec *s);
size_t fd_seqnet_factor_offset(const fd_seqnet_spec *s);
/* Kept by the forward pass for B sequences: encoder states (L + 1, B, H), the cell's cache,
 * decoder states (B, L, H), the decoder's cache. */
size_t fd_seqnet_cache_count(const fd_seqnet_spec *s, size_t B);
/* Scratch for either pass: the larger of the cell's and the decoder's, plus (L + 1, B, H)
 * for the state gradients. */
size_t fd_seqnet_work_count(const fd_seqnet_spec *s, size_t B);
/* The cell and decoder as above, the factor output as fd_linear_init (fan-in L H). */
void fd_seqnet_init(const fd_seqnet_spec *s, double *params, fd_rng *rng);

#define FD_TYPED_HEADER "factord/nn_seq_typed.h"
#include "factord/typed_twice.h"

#endif
