/* fd_fixed_point: plain and SQUAREM runs of affine contractions x <- c + A (x - c), whose fixed
 * point c is known, under the one stopping rule; the safeguard on objectives that punish the
 * extrapolation's overshoot and on a map that is undefined past the fixed point; failures,
 * the step budget and cancellation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/fixed_point.h"
#include "testlib.h"

#define N 3

typedef struct affine {
    double lambda[N];  /* A = diag(lambda): contraction rates of the coordinates */
    double weight[N];  /* objective sum_i weight_i (x_i - c_i)^2 */
    int undefined_past; /* coordinate past whose fixed point (below c) the map fails, or -1 */
    int fail_at_step;  /* the map fails on this call (1-based), 0 never */
    int calls, reports, stop_at;
    double last_objective;
    int objective_rose; /* a report above the previous one by more than rounding */
} affine;

static const double c[N] = {0.5, -2.0, 1.0};

static int affine_map(void *ctx, const double *x, double *fx, double *objective) {
    affine *a = ctx;
    double j = 0;
    a->calls++;
    if (a->fail_at_step == a->calls) return -1;
    if (a->undefined_past >= 0 && x[a->undefined_past] < c[a->undefined_past]) return -1;
    for (size_t i = 0; i < N; i++) {
        fx[i] = c[i] + a->lambda[i] * (x[i] - c[i]);
        j += a->weight[i] * (fx[i] - c[i]) * (fx[i] - c[i]);
    }
    *objective = j;
    return 0;
}

static int affine_progress(void *ctx, int steps, double objective) {
    affine *a = ctx;
    if (a->reports > 0 && objective > a->last_objective * (1 + FD_FIXED_POINT_ROUNDING))
        a->objective_rose = 1;
    a->reports++;
    a->last_objective = objective;
    return a->stop_at && steps >= a->stop_at;
}

static affine rates(double l0, double l1, double l2) {
    affine a = {{l0, l1, l2}, {1, 1, 1}, -1, 0, 0, 0, 0, 0, 0};
    return a;
}

/* Runs from c + 1; returns the code, x the result. */
static int run(affine *a, int accelerate, double *x, fd_fixed_point_info *info) {
    fd_fixed_point p = {N, N, 1e-10, 100000, accelerate, affine_map, affine_progress, a};
    for (size_t i = 0; i < N; i++) x[i] = c[i] + 1.0;
    return fd_fixed_point_run(&p, x, info);
}

static double distance(const double *x) {
    double d = 0;
    for (size_t i = 0; i < N; i++) d = fmax(d, fabs(x[i] - c[i]));
    return d;
}

/* The returned point is one plain step past a change of at most tol. */
static double next_change(const affine *a, const double *x) {
    double d = 0;
    for (size_t i = 0; i < N; i++) d = fmax(d, fabs(a->lambda[i] * (x[i] - c[i]) - (x[i] - c[i])));
    return d;
}

TEST(plain_and_squarem_reach_the_same_fixed_point) {
    affine a = rates(0.99, 0.5, 0.2), b = a;
    double xp[N], xs[N];
    fd_fixed_point_info ip, is;
    ASSERT_INT_EQ(run(&a, 0, xp, &ip), FD_FIXED_POINT_OK);
    ASSERT_INT_EQ(run(&b, 1, xs, &is), FD_FIXED_POINT_OK);
    ASSERT(ip.converged && is.converged);
    ASSERT(ip.change <= 1e-10 && is.change <= 1e-10);
    /* tol / (1 - 0.99) bounds the distance of either from c */
    ASSERT(distance(xp) <= 1.01e-8);
    ASSERT(distance(xs) <= 1.01e-8);
    ASSERT(next_change(&a, xp) <= 1e-10);
    ASSERT(next_change(&b, xs) <= 1e-10);
    ASSERT_INT_EQ(ip.extrapolated, 0);
    ASSERT(is.extrapolated > 0);
    ASSERT_INT_EQ(is.refused, 0);
    ASSERT(is.steps * 10 < ip.steps); /* 1834 plain steps, about 50 accelerated */
    ASSERT_INT_EQ(ip.steps, a.calls);
    ASSERT_INT_EQ(is.steps, b.calls);
    ASSERT_INT_EQ(is.steps, b.reports);
    ASSERT(!a.objective_rose && !b.objective_rose);
}

TEST(safeguard_refuses_an_extrapolation_that_raises_the_objective) {
    /* An objective weighting the fast coordinates 1e4 times: the step length, set by the slow
     * coordinate, overshoots in the fast ones, and the objective says so. */
    affine a = rates(0.99, 0.5, 0.2), p;
    double x[N], xp[N];
    fd_fixed_point_info info, plain;
    a.weight[1] = a.weight[2] = 1e4;
    p = a;
    ASSERT_INT_EQ(run(&a, 1, x, &info), FD_FIXED_POINT_OK);
    ASSERT(info.refused > 0);
    ASSERT(info.refused < info.extrapolated);
    ASSERT(info.converged);
    ASSERT(distance(x) <= 1.01e-8);
    ASSERT(!a.objective_rose); /* a refused point is never reported */
    ASSERT_INT_EQ(run(&p, 0, xp, &plain), FD_FIXED_POINT_OK);
    ASSERT(info.steps < plain.steps);
}

TEST(safeguard_falls_back_where_the_map_is_undefined) {
    /* Like an ALS step at a singular Gamma: the map fails past the fixed point of its third
     * coordinate, where only an extrapolation goes. */
    affine a = rates(0.99, 0.5, 0.2);
    double x[N];
    fd_fixed_point_info info;
    a.undefined_past = 2;
    ASSERT_INT_EQ(run(&a, 1, x, &info), FD_FIXED_POINT_OK);
    ASSERT(info.refused > 0);
    ASSERT(info.converged);
    ASSERT(distance(x) <= 1.01e-8);
}

TEST(a_failed_plain_step_is_fatal) {
    for (int accelerate = 0; accelerate <= 1; accelerate++) {
        affine a = rates(0.9, 0.5, 0.2);
        double x[N];
        fd_fixed_point_info info;
        a.fail_at_step = 2; /* x1 -> x2, a plain step either way */
        ASSERT_INT_EQ(run(&a, accelerate, x, &info), FD_FIXED_POINT_MAP_FAILED);
        ASSERT_INT_EQ(info.steps, 2);
        for (size_t i = 0; i < N; i++) /* the last good iterate: one step from the start */
            ASSERT_NEAR(x[i], c[i] + a.lambda[i], 1e-15);
    }
}

TEST(nan_is_divergence) {
    affine a = rates(NAN, 0.5, 0.2); /* NaN from the first step */
    double x[N];
    fd_fixed_point_info info;
    ASSERT_INT_EQ(run(&a, 1, x, &info), FD_FIXED_POINT_DIVERGED);
    ASSERT_INT_EQ(info.steps, 1);
}

TEST(step_budget_and_cancellation) {
    affine a = rates(0.999, 0.5, 0.2), b = a;
    double x[N];
    fd_fixed_point_info info;
    fd_fixed_point p = {N, N, 1e-10, 7, 1, affine_map, affine_progress, &a};
    for (size_t i = 0; i < N; i++) x[i] = c[i] + 1.0;
    ASSERT_INT_EQ(fd_fixed_point_run(&p, x, &info), FD_FIXED_POINT_OK);
    ASSERT(!info.converged);
    ASSERT_INT_EQ(info.steps, 7);
    ASSERT_INT_EQ(a.calls, 7);
    b.stop_at = 4;
    ASSERT_INT_EQ(run(&b, 1, x, &info), FD_FIXED_POINT_STOPPED);
    ASSERT_INT_EQ(b.reports, 4);
}

TEST(stopping_rule_reads_only_the_leading_entries) {
    /* The slow coordinate last and unchecked: the run stops once the others settle. */
    affine a = rates(0.2, 0.5, 0.999), b = a;
    double x[N];
    fd_fixed_point_info part, all;
    fd_fixed_point p = {N, 2, 1e-10, 100000, 0, affine_map, NULL, &a};
    for (size_t i = 0; i < N; i++) x[i] = c[i] + 1.0;
    ASSERT_INT_EQ(fd_fixed_point_run(&p, x, &part), FD_FIXED_POINT_OK);
    ASSERT(part.converged);
    ASSERT(fabs(x[2] - c[2]) > 1e-3);
    ASSERT_INT_EQ(run(&b, 0, x, &all), FD_FIXED_POINT_OK);
    ASSERT(part.steps * 10 < all.steps);
}

TEST_MAIN(T(plain_and_squarem_reach_the_same_fixed_point),
          T(safeguard_refuses_an_extrapolation_that_raises_the_objective),
          T(safeguard_falls_back_where_the_map_is_undefined), T(a_failed_plain_step_is_fatal),
          T(nan_is_divergence), T(step_budget_and_cancellation),
          T(stopping_rule_reads_only_the_leading_entries))
