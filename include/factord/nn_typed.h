/* The typed half of fd_nn (see factord/nn.h, which includes this file twice): every
 * prototype below exists for FD_TYPED_T = double, named fd_NAME, and for FD_TYPED_T =
 * float, named fd_NAME_f32. Scalars (rates, penalties, losses) stay double in both. No
 * include guard on purpose; include factord/nn.h, never this file. */

/* ---- linear: y (n, out) = x (n, in) W' + b, W (out, in), b (out) ----
 * b NULL means a layer without bias (then db must be NULL too): useful in front of a batch
 * norm, whose mean subtraction cancels any bias exactly. */
void FD_TYPED_FN(linear_forward)(FD_TYPED_T *y, const FD_TYPED_T *x, const FD_TYPED_T *W,
                                 const FD_TYPED_T *b, size_t n, size_t in, size_t out);
/* dx (n, in) = dy W; dW (out, in) += dy' x; db (out) += column sums of dy (db NULL: no bias). */
void FD_TYPED_FN(linear_backward)(FD_TYPED_T *dx, FD_TYPED_T *dW, FD_TYPED_T *db,
                                  const FD_TYPED_T *dy, const FD_TYPED_T *x, const FD_TYPED_T *W,
                                  size_t n, size_t in, size_t out);

/* ---- activations, elementwise over count values; y may equal x, dx may equal dy ---- */
void FD_TYPED_FN(relu_forward)(FD_TYPED_T *y, const FD_TYPED_T *x, size_t count);
/* Uses the forward OUTPUT y: the gradient at the kink (x = 0) is taken as 0, as PyTorch does. */
void FD_TYPED_FN(relu_backward)(FD_TYPED_T *dx, const FD_TYPED_T *dy, const FD_TYPED_T *y,
                                size_t count);
void FD_TYPED_FN(tanh_forward)(FD_TYPED_T *y, const FD_TYPED_T *x, size_t count);
/* Uses the forward output y: dx = dy (1 - y^2). */
void FD_TYPED_FN(tanh_backward)(FD_TYPED_T *dx, const FD_TYPED_T *dy, const FD_TYPED_T *y,
                                size_t count);

/* Logistic sigmoid 1 / (1 + e^-x), computed without overflow for either sign. */
void FD_TYPED_FN(sigmoid_forward)(FD_TYPED_T *y, const FD_TYPED_T *x, size_t count);
/* Uses the forward output y: dx = dy y (1 - y). */
void FD_TYPED_FN(sigmoid_backward)(FD_TYPED_T *dx, const FD_TYPED_T *dy, const FD_TYPED_T *y,
                                   size_t count);

/* ---- softmax over each row of x (n, C), with an optional mask (n, C) ----
 * y_c = exp(x_c - max) / sum_{unmasked} exp(x_s - max) over the row's unmasked entries
 * (mask[i C + c] non-zero: present; NULL: every entry present). Masked entries get y = 0
 * and take no part in the sum or the max; a row with no unmasked entry is all zeros (there
 * is no distribution over nothing: callers treat that row as empty). y may equal x. */
void FD_TYPED_FN(softmax_forward)(FD_TYPED_T *y, const FD_TYPED_T *x, const unsigned char *mask,
                                  size_t n, size_t C);
/* Uses the forward output y: dx = y (dy - sum_c y_c dy_c), so masked entries (y = 0) get 0.
 * dx may equal dy. */
void FD_TYPED_FN(softmax_backward)(FD_TYPED_T *dx, const FD_TYPED_T *dy, const FD_TYPED_T *y,
                                   size_t n, size_t C);

/* ---- batch normalisation over the rows of x (n, C), PyTorch's BatchNorm1d ----
 * Training: normalise with the batch mean and biased variance, y = gamma xhat + beta, and
 * move the running averages: run = (1 - momentum) run + momentum stat, with the UNBIASED
 * variance (n / (n - 1)) for run_var. Caches xhat (n, C) and rstd (C) = 1/sqrt(var + eps) for
 * the backward pass. run_mean/run_var may be NULL (gradient checks). n >= 2.
 * relu non-zero also applies a ReLU to y in the same pass (Linear -> BN -> ReLU stacks save
 * a pass over the batch); y may then feed fd_batchnorm_backward's relu_y. */
void FD_TYPED_FN(batchnorm_forward_train)(FD_TYPED_T *y, FD_TYPED_T *xhat, FD_TYPED_T *rstd,
                                          FD_TYPED_T *run_mean, FD_TYPED_T *run_var,
                                          const FD_TYPED_T *x, const FD_TYPED_T *gamma,
                                          const FD_TYPED_T *beta, size_t n, size_t C, int relu);
/* dx (n, C) may equal dy; dgamma (C), dbeta (C) accumulate. With relu_y (n, C), the ReLU
 * output of a fused forward pass, dy is first masked in place where relu_y <= 0 (the ReLU's
 * backward pass); NULL for a plain batch norm. */
void FD_TYPED_FN(batchnorm_backward)(FD_TYPED_T *dx, FD_TYPED_T *dgamma, FD_TYPED_T *dbeta,
                                     FD_TYPED_T *dy, const FD_TYPED_T *xhat, const FD_TYPED_T *rstd,
                                     const FD_TYPED_T *gamma, const FD_TYPED_T *relu_y, size_t n,
                                     size_t C);
/* Inference: y = gamma (x - run_mean) / sqrt(run_var + eps) + beta; y may equal x. */
void FD_TYPED_FN(batchnorm_forward_infer)(FD_TYPED_T *y, const FD_TYPED_T *x,
                                          const FD_TYPED_T *gamma, const FD_TYPED_T *beta,
                                          const FD_TYPED_T *run_mean, const FD_TYPED_T *run_var,
                                          size_t n, size_t C);

/* Batch normalisation in phases, for data-parallel training: each worker runs the row
 * phases on its own rows, and the sums of all workers are added (in a fixed order) before
 * the next phase. The functions above are these phases over all rows. Every phase works on
 * C features of rows with stride ld (C <= ld: a column block of a wider matrix); sums are
 * double and ACCUMULATE into the caller's (C) arrays.
 *   forward:  bn_moments (rows) -> add sums -> bn_stats -> bn_normalise (rows)
 *   backward: bn_grad_sums (rows) -> add sums -> bn_grad_coeffs -> bn_grad_apply (rows)
 * shift (C) is any one row of the whole batch (the first, in practice), the same for every
 * worker. bn_stats gives mean and rstd (C) over n rows in all and moves the running averages
 * (NULL: left alone). bn_grad_sums masks dy in place where relu_y <= 0 (relu_y NULL: no
 * ReLU). bn_grad_coeffs adds to dgamma, dbeta (NULL: skipped) and gives the per-feature
 * k, a, b (C) with which bn_grad_apply computes dx = k dy - a - b xhat (dx may equal dy). */
void FD_TYPED_FN(bn_moments)(const FD_TYPED_T *x, size_t n, size_t C, size_t ld,
                             const FD_TYPED_T *shift, double *sum, double *sumsq);
void FD_TYPED_FN(bn_stats)(FD_TYPED_T *mean, FD_TYPED_T *rstd, FD_TYPED_T *run_mean,
                           FD_TYPED_T *run_var, const double *sum, const double *sumsq,
                           const FD_TYPED_T *shift, size_t n, size_t C);
void FD_TYPED_FN(bn_normalise)(FD_TYPED_T *y, FD_TYPED_T *xhat, const FD_TYPED_T *x, size_t n,
                               size_t C, size_t ld, const FD_TYPED_T *mean, const FD_TYPED_T *rstd,
                               const FD_TYPED_T *gamma, const FD_TYPED_T *beta, int relu);
void FD_TYPED_FN(bn_grad_sums)(FD_TYPED_T *dy, const FD_TYPED_T *xhat, const FD_TYPED_T *relu_y,
                               size_t n, size_t C, size_t ld, double *s, double *sx);
void FD_TYPED_FN(bn_grad_coeffs)(FD_TYPED_T *dgamma, FD_TYPED_T *dbeta, FD_TYPED_T *k,
                                 FD_TYPED_T *a, FD_TYPED_T *b, const double *s, const double *sx,
                                 const FD_TYPED_T *gamma, const FD_TYPED_T *rstd, size_t n,
                                 size_t C);
void FD_TYPED_FN(bn_grad_apply)(FD_TYPED_T *dx, const FD_TYPED_T *dy, const FD_TYPED_T *xhat,
                                size_t n, size_t C, size_t ld, const FD_TYPED_T *k,
                                const FD_TYPED_T *a, const FD_TYPED_T *b);

/* ---- dropout (inverted): the mask holds 0 or 1/(1 - rate), so inference is the identity ---- */
void FD_TYPED_FN(dropout_mask)(FD_TYPED_T *mask, size_t count, double rate, fd_rng *rng);
void FD_TYPED_FN(dropout_forward)(FD_TYPED_T *y, const FD_TYPED_T *x, const FD_TYPED_T *mask,
                                  size_t count);
void FD_TYPED_FN(dropout_backward)(FD_TYPED_T *dx, const FD_TYPED_T *dy, const FD_TYPED_T *mask,
                                   size_t count);

/* ---- losses: mean over n predictions; dpred (n) is overwritten with the gradient of the
 * returned loss unless NULL ---- */
double FD_TYPED_FN(loss_mse)(FD_TYPED_T *dpred, const FD_TYPED_T *pred, const FD_TYPED_T *target,
                             size_t n);
/* Huber with threshold delta > 0 (PyTorch's HuberLoss): 0.5 e^2 for |e| <= delta, else
 * delta (|e| - 0.5 delta). */
double FD_TYPED_FN(loss_huber)(FD_TYPED_T *dpred, const FD_TYPED_T *pred, const FD_TYPED_T *target,
                               size_t n, double delta);

/* ---- penalties over count weights; dw accumulates unless NULL ---- */
/* lambda * sum |w|; subgradient lambda * sign(w), 0 at w = 0. */
double FD_TYPED_FN(penalty_l1)(FD_TYPED_T *dw, const FD_TYPED_T *w, size_t count, double lambda);
/* lambda * sum w^2 (no 1/2); gradient 2 lambda w. */
double FD_TYPED_FN(penalty_l2)(FD_TYPED_T *dw, const FD_TYPED_T *w, size_t count, double lambda);

/* ---- Adam (Kingma and Ba; PyTorch's update, no weight decay) ---- */
/* One step over count parameters: m, v (count) are the moment estimates, zero at t = 0. */
void FD_TYPED_FN(adam_step)(fd_adam *opt, FD_TYPED_T *param, const FD_TYPED_T *grad, FD_TYPED_T *m,
                            FD_TYPED_T *v, size_t count);
