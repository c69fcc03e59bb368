/* fd_fixed_point: a fixed-point iteration x <- phi(x) that descends an objective (alternating
 * least squares, EM), run with plain steps or accelerated by SQUAREM (Varadhan and Roland
 * 2008, scheme S3), under one stopping rule for both:
 *
 *   stop after the first plain step y -> phi(y) whose change max_i |phi(y)_i - y_i| over the
 *   first n_check entries is at most tol, and return that phi(y).
 *
 * So an accelerated run ends where a plain run would have been allowed to end, and both return
 * a point one plain step past a tolerance-small change.
 *
 * A SQUAREM cycle from x0 (2-norms; every phi is one step, counted against max_steps):
 *   x1 = phi(x0), x2 = phi(x1)                   (plain steps; either may end the run)
 *   r = x1 - x0, v = (x2 - x1) - r, a = clamp(-|r| / |v|, -step_max, -1)
 *   x' = x0 - 2 a r + a^2 v,  x'' = phi(x')      (the extrapolation and its stabilising step)
 * a = -1 gives x' = x2: the cycle is then plain and x'' is skipped.
 *
 * Safeguard: x'' replaces x2 as the next x0 only if it is finite and either its objective is
 * below x2's by more than rounding (relative FD_FIXED_POINT_ROUNDING), or the objectives tie
 * within rounding and the step x' -> x'' changed at most as much as x1 -> x2 did (near the
 * fixed point the objective is flat to rounding and only the change tells the better point).
 * A refused x'', or a phi that is undefined at x' (returns -1), falls back to x2: plain steps,
 * and step_max shrinks to max(1, -a / 4); an accepted extrapolation at a = -step_max grows it
 * fourfold (step_max starts at 1, the package's default, so the first extrapolations are short).
 *
 * Progress is reported after every step with the objective of the current iterate, which
 * never rises by more than rounding: a refused x'' reports x2's objective again. */
#ifndef FACTORD_FIXED_POINT_H
#define FACTORD_FIXED_POINT_H

#include <stddef.h>

#define FD_FIXED_POINT_ROUNDING 1e-13

typedef struct fd_fixed_point {
    size_t n;       /* state length */
    size_t n_check; /* leading entries the stopping rule reads, 1..n */
    double tol;     /* > 0 */
    int max_steps;  /* phi evaluations at most, >= 1 */
    int accelerate; /* 0: plain steps; 1: SQUAREM */
    /* fx (n) = phi(x (n)); *objective = the objective at fx. Returns 0, or -1 when phi is not
     * defined at x (a singular system): fatal on a plain step, a refused extrapolation
     * otherwise. Called on the thread that called fd_fixed_point_run. */
    int (*map)(void *ctx, const double *x, double *fx, double *objective);
    /* After every step: steps so far and the current iterate's objective. Non-zero stops the
     * run (FD_FIXED_POINT_STOPPED). May be NULL. */
    int (*progress)(void *ctx, int steps, double objective);
    void *ctx;
} fd_fixed_point;

typedef struct fd_fixed_point_info {
    int steps;        /* phi evaluations */
    int extrapolated; /* SQUAREM extrapolations tried (cycles with a < -1) */
    int refused;      /* of which the safeguard refused (fell back to plain steps) */
    double change;    /* the last plain step's max change over n_check (NaN if it diverged) */
    int converged;    /* change <= tol */
} fd_fixed_point_info;

enum {
    FD_FIXED_POINT_OK = 0,          /* converged, or max_steps taken (info->converged says) */
    FD_FIXED_POINT_MAP_FAILED = -1, /* phi failed on a plain step */
    FD_FIXED_POINT_DIVERGED = -2,   /* a plain step produced NaN */
    FD_FIXED_POINT_STOPPED = -3,    /* progress asked to stop */
    FD_FIXED_POINT_NO_MEMORY = -4,
};

/* Runs the iteration from x (n), which receives the result (on OK: the last phi(y); on
 * failure: the last good iterate). Fills info (may not be NULL). Uses 4 n doubles of scratch,
 * allocated here. Returns one of the codes above. */
int fd_fixed_point_run(const fd_fixed_point *p, double *x, fd_fixed_point_info *info);

#endif
