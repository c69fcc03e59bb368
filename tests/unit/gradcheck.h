/* Finite-difference gradient checks shared by the unit tests of src/nn (test_nn.c,
 * test_nn_seq.c). Method: a check reduces a layer's output y to a scalar L = sum(y * G) with a
 * fixed random G (so dL/dy = G), then compares the analytic gradient of every input and
 * parameter with (L(t + EPS) - L(t - EPS)) / (2 EPS), EPS = 1e-6, all in double. Tolerance:
 * |analytic - numeric| <= 1e-6 max(|analytic|, |numeric|) + 1e-8; the absolute floor covers
 * the rounding error of the difference quotient, about ulp(L) / EPS, times the many terms
 * summed in a whole-network loss. Header-only (static inline functions). */
#ifndef FACTORD_TESTS_GRADCHECK_H
#define FACTORD_TESTS_GRADCHECK_H

#include <math.h>
#include <stddef.h>

#include "factord/rng.h"
#include "testlib.h"

#define EPS 1e-6
#define REL_TOL 1e-6
#define ABS_TOL 1e-8

typedef double (*scalar_fn)(void *ctx);

/* Compares analytic (count) with finite differences of fn over theta (count); fails the
 * current test naming the worst coordinate. */
static inline int grad_ok(const char *what, double *theta, size_t count, const double *analytic,
                          scalar_fn fn, void *ctx) {
    for (size_t i = 0; i < count; i++) {
        double keep = theta[i];
        theta[i] = keep + EPS;
        double up = fn(ctx);
        theta[i] = keep - EPS;
        double down = fn(ctx);
        theta[i] = keep;
        double num = (up - down) / (2.0 * EPS), a = analytic[i];
        double tol = REL_TOL * fmax(fabs(a), fabs(num)) + ABS_TOL;
        if (!(fabs(a - num) <= tol)) {
            tl_fail(__FILE__, __LINE__, "%s[%zu]: analytic %.12g vs numeric %.12g", what, i, a,
                    num);
            return 0;
        }
    }
    return 1;
}

static inline void fill_uniform(double *v, size_t n, double lo, double hi, fd_rng *rng) {
    for (size_t i = 0; i < n; i++) v[i] = lo + (hi - lo) * fd_rng_uniform(rng);
}

/* Values at least 0.05 away from zero, either sign: safe for the ReLU and L1 kinks. */
static inline void fill_away_from_zero(double *v, size_t n, fd_rng *rng) {
    for (size_t i = 0; i < n; i++) {
        double a = 0.05 + fd_rng_uniform(rng);
        v[i] = fd_rng_uniform(rng) < 0.5 ? -a : a;
    }
}

static inline double project(const double *y, const double *G, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += y[i] * G[i];
    return s;
}

#endif
