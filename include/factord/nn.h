/* fd_nn: neural-network building blocks as forward/backward pairs (llm.c style).
 *
 * Every function works on caller-provided buffers and never allocates, so a training loop
 * can run without touching the heap. Activations are row-major (n, C): n rows (securities)
 * by C features. Conventions shared by every backward function:
 *   - parameter gradients ACCUMULATE (+=), so a caller zeroes them once per step and may
 *     add penalty gradients before or after;
 *   - input gradients are OVERWRITTEN (=); passing NULL skips them (the first layer's
 *     input needs no gradient).
 * Linear weights use PyTorch's layout, W (out, in), so weights can be compared one to one
 * with a reference implementation. Pure functions of their arguments (plus the generator
 * passed in): safe from any thread on distinct buffers. */
#ifndef FACTORD_NN_H
#define FACTORD_NN_H

#include <stddef.h>

#include "factord/rng.h"

/* ---- linear: y (n, out) = x (n, in) W' + b, W (out, in), b (out) ----
 * b NULL means a layer without bias (then db must be NULL too): useful in front of a batch
 * norm, whose mean subtraction cancels any bias exactly. */
void fd_linear_forward(double *y, const double *x, const double *W, const double *b, size_t n,
                       size_t in, size_t out);
/* dx (n, in) = dy W; dW (out, in) += dy' x; db (out) += column sums of dy (db NULL: no bias). */
void fd_linear_backward(double *dx, double *dW, double *db, const double *dy, const double *x,
                        const double *W, size_t n, size_t in, size_t out);
/* PyTorch's default initialisation: W and b uniform on (-1/sqrt(in), 1/sqrt(in)). */
void fd_linear_init(double *W, double *b, size_t in, size_t out, fd_rng *rng);

/* ---- activations, elementwise over count values; y may equal x, dx may equal dy ---- */
void fd_relu_forward(double *y, const double *x, size_t count);
/* Uses the forward OUTPUT y: the gradient at the kink (x = 0) is taken as 0, as PyTorch does. */
void fd_relu_backward(double *dx, const double *dy, const double *y, size_t count);
void fd_tanh_forward(double *y, const double *x, size_t count);
/* Uses the forward output y: dx = dy (1 - y^2). */
void fd_tanh_backward(double *dx, const double *dy, const double *y, size_t count);

/* ---- batch normalisation over the rows of x (n, C), PyTorch's BatchNorm1d ----
 * Training: normalise with the batch mean and biased variance, y = gamma xhat + beta, and
 * move the running averages: run = (1 - momentum) run + momentum stat, with the UNBIASED
 * variance (n / (n - 1)) for run_var. Caches xhat (n, C) and rstd (C) = 1/sqrt(var + eps) for
 * the backward pass. run_mean/run_var may be NULL (gradient checks). n >= 2.
 * relu non-zero also applies a ReLU to y in the same pass (Linear -> BN -> ReLU stacks save
 * a pass over the batch); y may then feed fd_batchnorm_backward's relu_y. */
#define FD_BN_EPS 1e-5
#define FD_BN_MOMENTUM 0.1
void fd_batchnorm_forward_train(double *y, double *xhat, double *rstd, double *run_mean,
                                double *run_var, const double *x, const double *gamma,
                                const double *beta, size_t n, size_t C, int relu);
/* dx (n, C) may equal dy; dgamma (C), dbeta (C) accumulate. With relu_y (n, C), the ReLU
 * output of a fused forward pass, dy is first masked in place where relu_y <= 0 (the ReLU's
 * backward pass); NULL for a plain batch norm. */
void fd_batchnorm_backward(double *dx, double *dgamma, double *dbeta, double *dy,
                           const double *xhat, const double *rstd, const double *gamma,
                           const double *relu_y, size_t n, size_t C);
/* Inference: y = gamma (x - run_mean) / sqrt(run_var + eps) + beta; y may equal x. */
void fd_batchnorm_forward_infer(double *y, const double *x, const double *gamma,
                                const double *beta, const double *run_mean,
                                const double *run_var, size_t n, size_t C);

/* ---- dropout (inverted): the mask holds 0 or 1/(1 - rate), so inference is the identity ---- */
void fd_dropout_mask(double *mask, size_t count, double rate, fd_rng *rng);
void fd_dropout_forward(double *y, const double *x, const double *mask, size_t count);
void fd_dropout_backward(double *dx, const double *dy, const double *mask, size_t count);

/* ---- losses: mean over n predictions; dpred (n) is overwritten with the gradient of the
 * returned loss unless NULL ---- */
double fd_loss_mse(double *dpred, const double *pred, const double *target, size_t n);
/* Huber with threshold delta > 0 (PyTorch's HuberLoss): 0.5 e^2 for |e| <= delta, else
 * delta (|e| - 0.5 delta). */
double fd_loss_huber(double *dpred, const double *pred, const double *target, size_t n,
                     double delta);

/* ---- penalties over count weights; dw accumulates unless NULL ---- */
/* lambda * sum |w|; subgradient lambda * sign(w), 0 at w = 0. */
double fd_penalty_l1(double *dw, const double *w, size_t count, double lambda);
/* lambda * sum w^2 (no 1/2); gradient 2 lambda w. */
double fd_penalty_l2(double *dw, const double *w, size_t count, double lambda);

/* ---- Adam (Kingma and Ba; PyTorch's update, no weight decay) ---- */
typedef struct fd_adam {
    double lr, beta1, beta2, eps;
    long t; /* steps taken; the next fd_adam_step uses t + 1 for bias correction */
} fd_adam;
/* One step over count parameters: m, v (count) are the moment estimates, zero at t = 0. */
void fd_adam_step(fd_adam *opt, double *param, const double *grad, double *m, double *v,
                  size_t count);

#endif
