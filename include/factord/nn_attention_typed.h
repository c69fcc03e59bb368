/* The typed half of the fd_nn attention layers (see factord/nn_attention.h, which includes
 * this file twice): fd_NAME for double, fd_NAME_f32 for float. No include guard on purpose;
 * include factord/nn_attention.h, never this file. */

/* ---- layer normalisation over each row of x (n, C), PyTorch's LayerNorm(C) ----
 * y = gamma (x - mean) rstd + beta with the row's mean and biased variance, rstd =
 * 1 / sqrt(var + FD_LN_EPS). Keeps xhat (n, C) and rstd (n) for the backward pass. y may
 * equal x. */
void FD_TYPED_FN(layernorm_forward)(FD_TYPED_T *y, FD_TYPED_T *xhat, FD_TYPED_T *rstd,
                                    const FD_TYPED_T *x, const FD_TYPED_T *gamma,
                                    const FD_TYPED_T *beta, size_t n, size_t C);
/* dx (n, C) may equal dy; dgamma, dbeta (C) accumulate. */
void FD_TYPED_FN(layernorm_backward)(FD_TYPED_T *dx, FD_TYPED_T *dgamma, FD_TYPED_T *dbeta,
                                     const FD_TYPED_T *dy, const FD_TYPED_T *xhat,
                                     const FD_TYPED_T *rstd, const FD_TYPED_T *gamma, size_t n,
                                     size_t C);

/* ---- time attention: the latest step's query over each security's present months ----
 * X (L, B, d) time-major, mask (B, L) (NULL: all present); out (B, d); cache
 * (fd_time_attention_cache_count) keeps what the backward pass needs. */
void FD_TYPED_FN(time_attention_forward)(const fd_mha_spec *s, FD_TYPED_T *out,
                                         FD_TYPED_T *cache, const FD_TYPED_T *X,
                                         const unsigned char *mask, const FD_TYPED_T *params,
                                         size_t L, size_t B);
/* From dout (B, d): dX (L, B, d) overwritten (NULL: skipped; 0 at absent steps), dparams
 * (fd_mha_param_count) accumulates. work: fd_time_attention_work_count. */
void FD_TYPED_FN(time_attention_backward)(const fd_mha_spec *s, FD_TYPED_T *dX,
                                          FD_TYPED_T *dparams, FD_TYPED_T *work,
                                          const FD_TYPED_T *dout, const FD_TYPED_T *cache,
                                          const FD_TYPED_T *X, const unsigned char *mask,
                                          const FD_TYPED_T *params, size_t L, size_t B);

/* ---- cross-sectional attention over one month's N securities, in tiles ----
 * U (N, d); out (N, d); cache (fd_cross_attention_cache_count) and work
 * (fd_cross_attention_work_count) as sized there. */
void FD_TYPED_FN(cross_attention_forward)(const fd_mha_spec *s, FD_TYPED_T *out,
                                          FD_TYPED_T *cache, FD_TYPED_T *work,
                                          const FD_TYPED_T *U, const FD_TYPED_T *params,
                                          size_t N);
/* From dout (N, d): dU (N, d) overwritten (NULL: skipped), dparams accumulates. The scores
 * of each tile are recomputed from the cached queries, keys and row statistics. */
void FD_TYPED_FN(cross_attention_backward)(const fd_mha_spec *s, FD_TYPED_T *dU,
                                           FD_TYPED_T *dparams, FD_TYPED_T *work,
                                           const FD_TYPED_T *dout, const FD_TYPED_T *cache,
                                           const FD_TYPED_T *U, const FD_TYPED_T *params,
                                           size_t N);
