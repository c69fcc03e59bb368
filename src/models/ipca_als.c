/* IPCA by alternating least squares in managed-portfolio form (Kelly, Pruitt, Su 2019),
 * matching the reference implementation (bkelly-lab/ipca, data_type="portfolio") step for
 * step so that its estimates are reproduced to rounding.
 *
 * Model: r_t = Z_t (Gamma_beta f_t + Gamma_alpha) + e_t with Z_t (n_t, L).
 * Everything the ALS needs from period t is W_t = Z_t'Z_t (L, L), q_t = Z_t'r_t (L), n_t and
 * r_t'r_t, computed once; each iteration then costs O(T L^2 K + (L K)^3) whatever N is:
 *   f-step:  f_t = (Gb' W_t Gb)^{-1} Gb' (q_t - W_t ga)                       (K, K) solves
 *   G-step:  sum_t (ft ft' kron W_t) vec(Gamma) = sum_t q_t kron ft, ft = [f_t; 1] with an
 *            intercept, one (L Kt, L Kt) SPD system whose matrix is one GEMM over periods.
 * After each G-step the estimates are rotated to the identification conventions (Gb'Gb = I,
 * F'F diagonal descending, positive factor means, ga orthogonal to Gb). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/mat.h"
#include "factord/mat_decomp.h"
#include "ipca_internal.h"

typedef struct als {
    size_t T, L, K, Kt;   /* Kt = K + intercept */
    int intercept;
    double nobs_total;
    /* sufficient statistics */
    double *W;            /* (T, L, L) Z'Z per period */
    double *Wp;           /* (T, L(L+1)/2) the same, upper triangles packed row by row */
    double *q;            /* (T, L) Z'r per period */
    double *nobs;         /* (T) */
    double *rr;           /* (T) r'r */
    /* estimates */
    double *G, *Gn;       /* (L, Kt) current and new Gamma, [Gb | ga] */
    double *F, *Fn;       /* (T, K) current and new factors */
    /* scratch */
    double *Fa;           /* (T, Kt) factors with the intercept's 1 */
    double *WG;           /* (T, L, Kt) W_t Gamma */
    double *FF;           /* (T, Kt(Kt+1)/2) ft ft', upper triangle packed */
    double *M;            /* (L(L+1)/2, Kt(Kt+1)/2) sum_t W_t (x) ft ft', packed */
    double *D;            /* (L Kt, L Kt) the G-step system */
    double *small;        /* (6 K K + 2 K + L K + 2 L) small work */
    void *block;
} als;

static void als_free(als *a) { free(a->block); }

static int als_alloc(als *a, size_t T, size_t L, size_t K, int intercept) {
    size_t Kt = K + (intercept ? 1 : 0);
    size_t Lp = L * (L + 1) / 2, Kp = Kt * (Kt + 1) / 2;
    size_t sizes[] = {T * L * L, T * Lp, T * L, T, T, L * Kt, L * Kt, T * K, T * K, T * Kt,
                      T * L * Kt, T * Kp, Lp * Kp, L * Kt * L * Kt,
                      6 * K * K + 2 * K + L * K + 2 * L};
    double **dst[] = {&a->W, &a->Wp, &a->q, &a->nobs, &a->rr, &a->G, &a->Gn, &a->F, &a->Fn,
                      &a->Fa, &a->WG, &a->FF, &a->M, &a->D, &a->small};
    size_t total = 0, off = 0;
    memset(a, 0, sizeof *a);
    a->T = T, a->L = L, a->K = K, a->Kt = Kt, a->intercept = intercept;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) total += sizes[i];
    a->block = calloc(total, sizeof(double));
    if (!a->block) return -1;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        *dst[i] = (double *)a->block + off;
        off += sizes[i];
    }
    return 0;
}

/* W_t, q_t, n_t and r_t'r_t of every period: the only pass over the securities. */
static void als_moments(als *a, const fd_dataset *ds) {
    size_t L = a->L;
    for (size_t t = 0; t < a->T; t++) {
        const fd_period *p = &ds->periods[t];
        double *W = a->W + t * L * L;
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)L, (int)p->n, 1.0, p->z,
                    (int)L, 0.0, W, (int)L);
        for (size_t i = 0, at = 0; i < L; i++) {
            for (size_t j = 0; j < i; j++) W[i * L + j] = W[j * L + i];
            for (size_t j = i; j < L; j++) a->Wp[t * (L * (L + 1) / 2) + at++] = W[i * L + j];
        }
        fd_mat_vec_t(a->q + t * L, p->z, p->r, p->n, L, 1.0, 0.0);
        a->nobs[t] = (double)p->n;
        a->rr[t] = fd_vec_dot(p->r, p->r, p->n);
        a->nobs_total += (double)p->n;
    }
}

/* Start as the reference does: Gamma = the top Kt left singular vectors of the (L, T)
 * matrix of q_t / n_t (eigenvectors of its Gram matrix), F = Gamma' q_t / n_t. */
static int als_start(als *a) {
    size_t L = a->L, T = a->T, Kt = a->Kt, K = a->K;
    double *Qn = a->WG, *QQ = malloc((2 * L * L + L) * sizeof *QQ), *V, *w;
    if (!QQ) return -1;
    V = QQ + L * L;
    w = V + L * L;
    for (size_t t = 0; t < T; t++)
        for (size_t l = 0; l < L; l++) Qn[t * L + l] = a->q[t * L + l] / a->nobs[t];
    fd_mat_mul_tn(QQ, Qn, Qn, L, L, T, 1.0, 0.0);
    if (fd_mat_sym_eig(QQ, L, w, V) != 0) {
        free(QQ);
        return -1;
    }
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < Kt; k++) a->G[l * Kt + k] = V[l * L + k];
    free(QQ);
    for (size_t t = 0; t < T; t++)
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t l = 0; l < L; l++) s += a->G[l * Kt + k] * Qn[t * L + l];
            a->F[t * K + k] = s;
        }
    return 0;
}

/* Solves the small SPD system A x = b, falling back to LU when rounding made A indefinite. */
static int solve_small(double *A, double *Acopy, double *b, double *bcopy, size_t n) {
    memcpy(Acopy, A, n * n * sizeof *A);
    memcpy(bcopy, b, n * sizeof *b);
    if (fd_mat_solve_spd(Acopy, bcopy, n, 1) == 0) {
        memcpy(b, bcopy, n * sizeof *b);
        return 0;
    }
    return fd_mat_solve(A, b, n, 1);
}

/* f-step: Fn (T, K) from G. */
static int als_f_step(als *a) {
    size_t L = a->L, K = a->K, Kt = a->Kt;
    double *A = a->small, *Ac = A + K * K, *b = Ac + K * K, *bc = b + K;
    fd_mat_mul_nn(a->WG, a->W, a->G, a->T * L, Kt, L, 1.0, 0.0);
    for (size_t t = 0; t < a->T; t++) {
        const double *WG = a->WG + t * L * Kt, *q = a->q + t * L;
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t j = 0; j < K; j++) {
                double v = 0;
                for (size_t l = 0; l < L; l++) v += a->G[l * Kt + k] * WG[l * Kt + j];
                A[k * K + j] = v;
            }
            for (size_t l = 0; l < L; l++)
                s += a->G[l * Kt + k] * (q[l] - (a->intercept ? WG[l * Kt + K] : 0.0));
            b[k] = s;
        }
        if (solve_small(A, Ac, b, bc, K) != 0) return -1;
        memcpy(a->Fn + t * K, b, K * sizeof *b);
    }
    return 0;
}

/* Position of (i, j) in a row-by-row packed upper triangle of an (n, n) matrix. */
static size_t packed(size_t i, size_t j, size_t n) {
    if (i > j) {
        size_t s = i;
        i = j;
        j = s;
    }
    return i * n - i * (i - 1) / 2 + (j - i);
}

/* The G-step system D vec(Gamma) = rhs, rhs left in Gn, from Fn. */
static void als_gamma_system(als *a) {
    size_t L = a->L, K = a->K, Kt = a->Kt, T = a->T, LK = L * Kt;
    size_t Lp = L * (L + 1) / 2, Kp = Kt * (Kt + 1) / 2;
    for (size_t t = 0; t < T; t++) {
        double *fa = a->Fa + t * Kt, *ff = a->FF + t * Kp;
        memcpy(fa, a->Fn + t * K, K * sizeof *fa);
        if (a->intercept) fa[K] = 1.0;
        for (size_t k = 0, at = 0; k < Kt; k++)
            for (size_t j = k; j < Kt; j++) ff[at++] = fa[k] * fa[j];
    }
    /* M[(l, l'), (k, k')] = sum_t W_t[l, l'] f_tk f_tk', one GEMM over the periods; both
     * pairs are symmetric, so only l <= l' and k <= k' are formed (a quarter of the work). */
    fd_mat_mul_tn(a->M, a->Wp, a->FF, Lp, Kp, T, 1.0, 0.0);
    for (size_t l = 0; l < L; l++)
        for (size_t l2 = 0; l2 < L; l2++) {
            const double *m = a->M + packed(l, l2, L) * Kp;
            for (size_t k = 0; k < Kt; k++)
                for (size_t k2 = 0; k2 < Kt; k2++)
                    a->D[(l * Kt + k) * LK + l2 * Kt + k2] = m[packed(k, k2, Kt)];
        }
    /* Right-hand side sum_t q_t ft' is (L, Kt) row-major, i.e. vec in (l, k) order. */
    fd_mat_mul_tn(a->Gn, a->q, a->Fa, L, Kt, T, 1.0, 0.0);
}

/* G-step: Gn (L, Kt) from Fn, by Cholesky, or LU when rounding made D indefinite. */
static int als_gamma_step(als *a) {
    size_t LK = a->L * a->Kt;
    als_gamma_system(a);
    if (fd_mat_solve_spd(a->D, a->Gn, LK, 1) == 0) return 0;
    als_gamma_system(a); /* the failed factorisation overwrote D */
    return fd_mat_solve(a->D, a->Gn, LK, 1);
}

/* Flips factors with a negative mean, and their Gamma_beta columns. */
static void als_sign(als *a) {
    size_t K = a->K, Kt = a->Kt;
    for (size_t k = 0; k < K; k++) {
        double mean = 0;
        for (size_t t = 0; t < a->T; t++) mean += a->Fn[t * K + k];
        if (mean >= 0) continue;
        for (size_t t = 0; t < a->T; t++) a->Fn[t * K + k] = -a->Fn[t * K + k];
        for (size_t l = 0; l < a->L; l++) a->Gn[l * Kt + k] = -a->Gn[l * Kt + k];
    }
}

/* Rotates (Gn, Fn) to the identification conventions without changing the fit:
 * Gb -> Gb R1^{-1} R2 and f -> R2' R1 f with Gb'Gb = R1'R1 and R2 the eigenvectors of
 * R1 F'F R1' (descending); then signs; then ga -> (I - Gb Gb') ga with f -> f + Gb'ga. */
static int als_normalise(als *a) {
    size_t L = a->L, K = a->K, Kt = a->Kt, T = a->T;
    double *GtG = a->small, *R1 = GtG + K * K, *FtF = R1 + K * K, *S = FtF + K * K;
    double *R2 = S + K * K, *tmp = R2 + K * K, *w = tmp + K * K, *y = w + K, *X = y + K;
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < K; j++) {
            double s = 0;
            for (size_t l = 0; l < L; l++) s += a->Gn[l * Kt + k] * a->Gn[l * Kt + j];
            GtG[k * K + j] = s;
        }
    if (fd_mat_cholesky_upper(GtG, K, R1) != 0) return -1;
    fd_mat_mul_tn(FtF, a->Fn, a->Fn, K, K, T, 1.0, 0.0);
    fd_mat_mul_nn(tmp, R1, FtF, K, K, K, 1.0, 0.0);
    fd_mat_mul_nt(S, tmp, R1, K, K, K, 1.0, 0.0);
    if (fd_mat_sym_eig(S, K, w, R2) != 0) return -1;
    /* X (L, K) = Gb R1^{-1}, row by row by forward substitution on R1 upper. */
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < K; k++) {
            double s = a->Gn[l * Kt + k];
            for (size_t j = 0; j < k; j++) s -= X[l * K + j] * R1[j * K + k];
            X[l * K + k] = s / R1[k * K + k];
        }
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t j = 0; j < K; j++) s += X[l * K + j] * R2[j * K + k];
            a->Gn[l * Kt + k] = s;
        }
    /* f_t -> R2' R1 f_t. */
    for (size_t t = 0; t < T; t++) {
        double *f = a->Fn + t * K;
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t j = k; j < K; j++) s += R1[k * K + j] * f[j];
            y[k] = s;
        }
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t j = 0; j < K; j++) s += R2[j * K + k] * y[j];
            f[k] = s;
        }
    }
    als_sign(a);
    if (!a->intercept) return 0;
    /* c = Gb'ga moves into the factors (Z Gb c is priced by f + c), leaving ga orthogonal. */
    for (size_t k = 0; k < K; k++) {
        double c = 0;
        for (size_t l = 0; l < L; l++) c += a->Gn[l * Kt + k] * a->Gn[l * Kt + K];
        y[k] = c;
    }
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < K; k++) a->Gn[l * Kt + K] -= a->Gn[l * Kt + k] * y[k];
    for (size_t t = 0; t < T; t++)
        for (size_t k = 0; k < K; k++) a->Fn[t * K + k] += y[k];
    als_sign(a);
    return 0;
}

/* In-sample mean squared error of the stock returns under (Gn, Fn), from the moments:
 * sum_t r'r - 2 b_t'q_t + b_t'W_t b_t with b_t = Gamma [f_t; 1]. */
static double als_mse(als *a) {
    size_t L = a->L, K = a->K, Kt = a->Kt;
    double sse = 0, *b = a->small, *Wb = b + L;
    for (size_t t = 0; t < a->T; t++) {
        const double *f = a->Fn + t * K;
        for (size_t l = 0; l < L; l++) {
            double s = a->intercept ? a->Gn[l * Kt + K] : 0.0;
            for (size_t k = 0; k < K; k++) s += a->Gn[l * Kt + k] * f[k];
            b[l] = s;
        }
        fd_mat_vec(Wb, a->W + t * L * L, b, L, L, 1.0, 0.0);
        sse += a->rr[t] - 2.0 * fd_vec_dot(b, a->q + t * L, L) + fd_vec_dot(b, Wb, L);
    }
    return sse / a->nobs_total;
}

static double max_abs_diff(const double *x, const double *y, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(x[i] - y[i]);
        if (d > m || isnan(d)) m = d;
    }
    return m;
}

int fd_ipca_als_fit(ipca_model *m, const fd_dataset *ds, const fd_fit_opts *opts,
                    ipca_als_info *info, fd_error *err) {
    size_t L = m->base.P, K = m->base.K;
    als a;
    int rc = -1, iter = 0;
    double change = INFINITY;

    memset(info, 0, sizeof *info);
    if (ds->P != L)
        return fd_error_set(err, 422, "shape_mismatch",
                            "the dataset has %zu characteristics, the model expects %zu",
                            ds->P, L);
    if (ds->T == 0) return fd_error_set(err, 422, "empty_dataset", "no training period");
    if (als_alloc(&a, ds->T, L, K, m->intercept) != 0)
        return fd_error_set(err, 500, "out_of_memory", "IPCA workspace for T=%zu, L=%zu, K=%zu",
                            ds->T, L, K);
    als_moments(&a, ds);
    if (als_start(&a) != 0) {
        fd_error_set(err, 422, "singular", "IPCA start: eigendecomposition failed");
        goto out;
    }
    while (iter < m->max_iter && !(change <= m->tol)) {
        fd_fit_event ev;
        if (als_f_step(&a) != 0) {
            fd_error_set(err, 422, "singular",
                         "IPCA iteration %d: Gamma_beta' Z'Z Gamma_beta is singular in some "
                         "period (too few securities or a degenerate characteristic)",
                         iter + 1);
            goto out;
        }
        if (als_gamma_step(&a) != 0) {
            fd_error_set(err, 422, "singular",
                         "IPCA iteration %d: the Gamma system is singular (characteristics "
                         "collinear, or K too large for the data)", iter + 1);
            goto out;
        }
        if (als_normalise(&a) != 0) {
            fd_error_set(err, 422, "singular",
                         "IPCA iteration %d: Gamma_beta lost rank (K too large?)", iter + 1);
            goto out;
        }
        change = max_abs_diff(a.Gn, a.G, L * a.Kt);
        if (!a.intercept) {
            /* As the reference: without an intercept the factors' change counts too. */
            double df = max_abs_diff(a.Fn, a.F, a.T * K);
            if (df > change || isnan(df)) change = df;
        }
        memcpy(a.G, a.Gn, L * a.Kt * sizeof *a.G);
        memcpy(a.F, a.Fn, a.T * K * sizeof *a.F);
        iter++;
        if (isnan(change)) {
            fd_error_set(err, 422, "diverged", "IPCA iteration %d produced NaN", iter);
            goto out;
        }
        ev = (fd_fit_event){0, 1, iter, m->max_iter, als_mse(&a), NAN};
        if (opts && opts->progress && opts->progress(opts->ctx, &ev) != 0) {
            fd_error_set(err, 409, "cancelled", "IPCA fit cancelled at iteration %d", iter);
            goto out;
        }
    }
    for (size_t l = 0; l < L; l++) {
        memcpy(m->gamma_beta + l * K, a.G + l * a.Kt, K * sizeof *a.G);
        m->gamma_alpha[l] = a.intercept ? a.G[l * a.Kt + K] : 0.0;
    }
    info->iterations = iter;
    info->change = change;
    info->converged = change <= m->tol;
    rc = 0;
out:
    als_free(&a);
    return rc;
}
