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

#define FD_BN_EPS 1e-5
#define FD_BN_MOMENTUM 0.1

/* ---- Adam (Kingma and Ba; PyTorch's update, no weight decay) ---- */
typedef struct fd_adam {
    double lr, beta1, beta2, eps;
    long t; /* steps taken; the next fd_adam_step uses t + 1 for bias correction */
} fd_adam;

/* PyTorch's default initialisation: W and b uniform on (-1/sqrt(in), 1/sqrt(in)). */
void fd_linear_init(double *W, double *b, size_t in, size_t out, fd_rng *rng);

/* Every layer, loss, penalty and Adam step, for double (fd_NAME) and for float
 * (fd_NAME_f32): the float family is what CA training runs on, the double one what gradient
 * checks and inference use. */
#define FD_TYPED_HEADER "factord/nn_typed.h"
#include "factord/typed_twice.h"

#endif
