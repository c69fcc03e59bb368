/* Plain and SQUAREM-accelerated fixed-point iterations (see factord/fixed_point.h). */
#include "factord/fixed_point.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { STEP_CONTINUE = 0, STEP_CONVERGED = 1, STEP_BUDGET = 2 };

/* max_i |a_i - b_i| over n entries; NaN as soon as one difference is NaN. */
static double max_change(const double *a, const double *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - b[i]);
        if (isnan(d)) return NAN;
        if (d > m) m = d;
    }
    return m;
}

static int report(const fd_fixed_point *p, const fd_fixed_point_info *info, double objective) {
    if (p->progress && p->progress(p->ctx, info->steps, objective) != 0)
        return FD_FIXED_POINT_STOPPED;
    return STEP_CONTINUE;
}

/* One plain step to = phi(from), counted, checked and reported. Returns STEP_CONVERGED or
 * STEP_BUDGET (stop with `to`), STEP_CONTINUE, or a negative FD_FIXED_POINT_ code. */
static int plain_step(const fd_fixed_point *p, const double *from, double *to, double *objective,
                      fd_fixed_point_info *info) {
    int rc;
    info->steps++;
    if (p->map(p->ctx, from, to, objective) != 0) return FD_FIXED_POINT_MAP_FAILED;
    info->change = max_change(to, from, p->n_check);
    if (isnan(info->change)) return FD_FIXED_POINT_DIVERGED;
    if ((rc = report(p, info, *objective)) != STEP_CONTINUE) return rc;
    info->converged = info->change <= p->tol;
    if (info->converged) return STEP_CONVERGED;
    return info->steps >= p->max_steps ? STEP_BUDGET : STEP_CONTINUE;
}

/* SQUAREM's step length a in [-step_max, -1] from r = x1 - x0 and v = x2 - 2 x1 + x0. */
static double step_length(const double *x0, const double *x1, const double *x2, size_t n,
                          double step_max) {
    double rr = 0, vv = 0, a;
    for (size_t i = 0; i < n; i++) {
        double r = x1[i] - x0[i], v = x2[i] - 2.0 * x1[i] + x0[i];
        rr += r * r;
        vv += v * v;
    }
    a = vv > 0 ? -sqrt(rr / vv) : -step_max;
    if (!(a >= -step_max)) a = -step_max; /* also a NaN ratio */
    return a > -1.0 ? -1.0 : a;
}

/* Whether the safeguard takes the stabilised extrapolation (objective j, step change d) over
 * the plain iterate x2 (objective j2, step change d2). */
static int extrapolation_accepted(double j, double d, double j2, double d2) {
    double band = FD_FIXED_POINT_ROUNDING * fabs(j2);
    if (!isfinite(j) || isnan(d)) return 0;
    return j < j2 - band || (j <= j2 + band && d <= d2);
}

static void swap(double **a, double **b) {
    double *t = *a;
    *a = *b;
    *b = t;
}

int fd_fixed_point_run(const fd_fixed_point *p, double *x, fd_fixed_point_info *info) {
    size_t n = p->n;
    double *buf = malloc(4 * (n ? n : 1) * sizeof *buf);
    double *cur = x, *x1, *x2, *xs, *xss, *result = x, step_max = 1.0;
    int rc = FD_FIXED_POINT_OK;
    memset(info, 0, sizeof *info);
    info->change = INFINITY;
    if (!buf) return FD_FIXED_POINT_NO_MEMORY;
    x1 = buf, x2 = buf + n, xs = buf + 2 * n, xss = buf + 3 * n;
    for (;;) {
        double j1, j2, jss, d2, a;
        int s = plain_step(p, cur, x1, &j1, info);
        if (s != STEP_CONTINUE) {
            result = s > 0 ? x1 : cur;
            rc = s > 0 ? FD_FIXED_POINT_OK : s;
            break;
        }
        if (!p->accelerate) {
            swap(&cur, &x1);
            continue;
        }
        s = plain_step(p, x1, x2, &j2, info);
        if (s != STEP_CONTINUE) {
            result = s > 0 ? x2 : x1;
            rc = s > 0 ? FD_FIXED_POINT_OK : s;
            break;
        }
        d2 = info->change;
        a = step_length(cur, x1, x2, n, step_max);
        if (a == -1.0) { /* x' would be x2 itself */
            if (step_max == 1.0) step_max = 4.0;
            swap(&cur, &x2);
            continue;
        }
        info->extrapolated++;
        for (size_t i = 0; i < n; i++) {
            double r = x1[i] - cur[i], v = x2[i] - 2.0 * x1[i] + cur[i];
            xs[i] = cur[i] - 2.0 * a * r + a * a * v;
        }
        info->steps++;
        if (p->map(p->ctx, xs, xss, &jss) == 0 &&
            extrapolation_accepted(jss, max_change(xss, xs, p->n_check), j2, d2)) {
            info->change = max_change(xss, xs, p->n_check);
            info->converged = info->change <= p->tol;
            if (a == -step_max) step_max *= 4.0;
            swap(&cur, &xss);
            j2 = jss;
        } else {
            info->refused++;
            step_max = fmax(1.0, -a / 4.0);
            swap(&cur, &x2);
        }
        if ((rc = report(p, info, j2)) != STEP_CONTINUE) {
            result = cur;
            break;
        }
        if (info->converged || info->steps >= p->max_steps) {
            result = cur;
            break;
        }
    }
    if (result != x) memcpy(x, result, n * sizeof *x);
    free(buf);
    return rc;
}
