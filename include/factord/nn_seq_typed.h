/* The typed half of the fd_nn sequence layers (see factord/nn_seq.h, which includes this
 * file twice): fd_NAME for double, fd_NAME_f32 for float. Shapes and masks as described
 * there. No include guard on purpose; include factord/nn_seq.h, never this file. */

/* ---- a recurrent layer over L steps of B sequences (backpropagation through time) ----
 * X (L, B, in) time-major; H (L + 1, B, hidden): the caller sets H[0] = h_0 (eq. 5: zeros)
 * and the pass fills H[l + 1], the state after step l (carried unchanged over absent
 * steps); cache (fd_cell_cache_count) and work (fd_cell_work_count) as sized there. */
void FD_TYPED_FN(recurrent_forward)(const fd_cell_spec *s, FD_TYPED_T *H, FD_TYPED_T *cache,
                                    FD_TYPED_T *work, const FD_TYPED_T *X,
                                    const unsigned char *mask, const FD_TYPED_T *params, size_t L,
                                    size_t B);
/* dH (L + 1, B, hidden): on entry the gradient of the loss with respect to every state
 * H[l] from outside the layer (attention, decoder); on return dH[0] holds the gradient with
 * respect to h_0 and the other steps are used up (scratch). dX (L, B, in) is overwritten
 * (NULL: skipped; 0 at absent steps); dparams (fd_cell_param_count) accumulates. H and
 * cache are the forward pass's. */
void FD_TYPED_FN(recurrent_backward)(const fd_cell_spec *s, FD_TYPED_T *dX, FD_TYPED_T *dparams,
                                     FD_TYPED_T *dH, FD_TYPED_T *work, const FD_TYPED_T *X,
                                     const unsigned char *mask, const FD_TYPED_T *params,
                                     const FD_TYPED_T *H, const FD_TYPED_T *cache, size_t L,
                                     size_t B);

/* ---- bilinear attention (eqs. 8-10) for one decoder step of B sequences ----
 * Query states hq (B, H) with row stride ldq; encoder states E (L, B, H) time-major.
 * q = hq W_att (B, H), e_{b,t} = q_b . E_{t,b}, alpha (B, L) = softmax over the present
 * steps t (absent: weight 0), ctx (B, H) = sum_t alpha_{b,t} E_{t,b}. q is kept for the
 * backward pass. */
void FD_TYPED_FN(seq_attention_forward)(FD_TYPED_T *ctx, FD_TYPED_T *alpha, FD_TYPED_T *q,
                                        const FD_TYPED_T *hq, size_t ldq, const FD_TYPED_T *E,
                                        const unsigned char *mask, const FD_TYPED_T *W_att,
                                        size_t L, size_t B, size_t H);
/* From dctx (B, H): dhq (B, H, stride ldq), dE (L, B, H) and dW_att (H, H) all ACCUMULATE
 * (query and encoder states feed several decoder steps). work: B (L + H). */
void FD_TYPED_FN(seq_attention_backward)(FD_TYPED_T *dhq, size_t ldq, FD_TYPED_T *dE,
                                         FD_TYPED_T *dW_att, FD_TYPED_T *work,
                                         const FD_TYPED_T *dctx, const FD_TYPED_T *alpha,
                                         const FD_TYPED_T *q, const FD_TYPED_T *hq,
                                         const FD_TYPED_T *E, const FD_TYPED_T *W_att, size_t L,
                                         size_t B, size_t H);

/* ---- the attention decoder (eqs. 7-11), L steps ----
 * From h'_0 = h0 (B, H) (eq. 7: the encoder's last state), for i = 1 .. L:
 * C_{i-1} = attention(h'_{i-1}, E), h'_i = act(W_3 h'_{i-1} + W_4 C_{i-1} + b_2). D (B, L, H)
 * receives h'_1 .. h'_L; cache (fd_decoder_cache_count) keeps queries, weights, contexts. */
void FD_TYPED_FN(seq_decoder_forward)(FD_TYPED_T *D, FD_TYPED_T *cache, const FD_TYPED_T *h0,
                                      const FD_TYPED_T *E, const unsigned char *mask,
                                      const FD_TYPED_T *params, fd_seq_act act, size_t L,
                                      size_t B, size_t H);
/* dD (B, L, H): the gradient with respect to D on entry, used up (scratch). dh0 (B, H) is
 * overwritten; dE (L, B, H) and dparams (fd_decoder_param_count) accumulate. work:
 * fd_decoder_work_count. */
void FD_TYPED_FN(seq_decoder_backward)(FD_TYPED_T *dh0, FD_TYPED_T *dE, FD_TYPED_T *dparams,
                                       FD_TYPED_T *dD, FD_TYPED_T *work, const FD_TYPED_T *cache,
                                       const FD_TYPED_T *h0, const FD_TYPED_T *E,
                                       const FD_TYPED_T *params, const FD_TYPED_T *D,
                                       fd_seq_act act, size_t L, size_t B, size_t H);

/* ---- the whole factor network (eqs. 5-13) for B sequences ----
 * X (L, B, P) time-major (absent steps are never read for the output), mask (B, L);
 * f (B, K). cache: fd_seqnet_cache_count(s, B); work: fd_seqnet_work_count(s, B). */
void FD_TYPED_FN(seqnet_forward)(const fd_seqnet_spec *s, FD_TYPED_T *f, FD_TYPED_T *cache,
                                 FD_TYPED_T *work, const FD_TYPED_T *X, const unsigned char *mask,
                                 const FD_TYPED_T *params, size_t B);
/* From df (B, K): dparams accumulates, dX (L, B, P) is overwritten (NULL: skipped). cache is
 * the forward pass's. */
void FD_TYPED_FN(seqnet_backward)(const fd_seqnet_spec *s, FD_TYPED_T *dX, FD_TYPED_T *dparams,
                                  FD_TYPED_T *work, const FD_TYPED_T *df, const FD_TYPED_T *cache,
                                  const FD_TYPED_T *X, const unsigned char *mask,
                                  const FD_TYPED_T *params, size_t B);
