/* IPCA by alternating least squares in managed-portfolio form (Kelly, Pruitt, Su 2019),
 * matching the reference implementation (bkelly-lab/ipca, data_type="portfolio") step for
 * step so that its estimates are reproduced to rounding; SQUAREM extrapolates the steps
 * (factord/fixed_point.h) unless hyper.acceleration is "none".
 *
 * Model: r_t = Z_t (Gamma_beta f_t + Gamma_alpha) + e_t with Z_t (n_t, L).
 * Everything the ALS needs from period t is W_t = Z_t'Z_t (L, L), kept as its packed upper
 * triangle w_t (Lp = L(L+1)/2), q_t = Z_t'r_t (L), n_t and r_t'r_t: one pass over the
 * securities, then each step costs two GEMMs with the (T, Lp) matrix of the w_t and one
 * (L Kt, L Kt) Cholesky, whatever N is:
 *   f-step:  f_t = (Gb' W_t Gb)^{-1} Gb' (q_t - W_t ga), where every Gamma' W_t Gamma (Kt, Kt)
 *            is one row of  S (T, Kp) = Wp (T, Lp) H (Lp, Kp),  H the pair products of Gamma
 *            (Kp = Kt(Kt+1)/2; ga the last Gamma column with an intercept, Kt = K + 1)
 *   G-step:  sum_t (ft ft' kron W_t) vec(Gamma) = sum_t q_t kron ft, ft = [f_t; 1] with an
 *            intercept: its matrix is  M (Lp, Kp) = Wp' FF,  FF (T, Kp) the pair products of
 *            the ft, rearranged; its solution also gives the objective, sum r'r - vec(G)'rhs.
 * After each G-step the estimates are rotated to the identification conventions (Gb'Gb = I,
 * F'F diagonal descending, positive factor means, ga orthogonal to Gb).
 *
 * The fixed-point state is x = [Gamma (L, Kt) | F (T, K)]; the stopping rule reads Gamma and,
 * without an intercept, F too (as the reference does). */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/fixed_point.h"
#include "factord/mat.h"
#include "factord/mat_decomp.h"
#include "ipca_internal.h"

typedef enum als_failure { ALS_OK, ALS_F_SINGULAR, ALS_G_SINGULAR, ALS_RANK_LOST } als_failure;

typedef struct als {
    size_t T, L, K, Kt, Lp, Kp; /* Kt = K + intercept; Lp, Kp: packed triangle sizes */
    int intercept;
    double nobs_total, rr_total;
    /* sufficient statistics */
    double *Wp;   /* (T, Lp) Z'Z per period, upper triangles packed row by row */
    double *q;    /* (T, L) Z'r per period */
    double *nobs; /* (T) */
    /* scratch of one step */
    double *Ht;   /* (Kp, Lp) Ht[(k,k'), (i,j)] = G_ik G_jk' + G_jk G_ik' (i < j), G_ik G_ik' */
    double *St;   /* (Kp, T) Gamma' W_t Gamma, packed, period t in column t */
    double *QG;   /* (T, Kt) q_t' Gamma */
    double *Fa;   /* (T, Kt) factors with the intercept's 1 */
    double *FF;   /* (T, Kp) ft ft', packed */
    double *Mt;   /* (Kp, Lp) sum_t ft ft' (x) W_t, packed */
    double *D;    /* (L Kt, L Kt) the G-step system */
    double *rhs;  /* (L Kt) its right-hand side, kept for the objective */
    double *small; /* (6 K K + 2 K + L K + 2 L) small work */
    als_failure failure; /* why the last step failed */
    const fd_fit_opts *opts; /* progress and cancellation; may be NULL */
    int max_iter;
    void *block;
} als;

static void als_free(als *a) { free(a->block); }

static int als_alloc(als *a, size_t T, size_t L, size_t K, int intercept) {
    size_t Kt = K + (intercept ? 1 : 0);
    size_t Lp = L * (L + 1) / 2, Kp = Kt * (Kt + 1) / 2;
    size_t sizes[] = {T * Lp,  T * L,   T,       Kp * Lp,         Kp * T,
                      T * Kt,  T * Kt,  T * Kp,  Kp * Lp,         L * Kt * L * Kt,
                      L * Kt,  6 * K * K + 2 * K + L * K + 2 * L};
    double **dst[] = {&a->Wp, &a->q,  &a->nobs, &a->Ht, &a->St,  &a->QG,
                      &a->Fa, &a->FF, &a->Mt,   &a->D,  &a->rhs, &a->small};
    size_t total = 0, off = 0;
    memset(a, 0, sizeof *a);
    a->T = T, a->L = L, a->K = K, a->Kt = Kt, a->Lp = Lp, a->Kp = Kp, a->intercept = intercept;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) total += sizes[i];
    a->block = calloc(total, sizeof(double));
    if (!a->block) return -1;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        *dst[i] = (double *)a->block + off;
        off += sizes[i];
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

/* w_t, q_t, n_t and r_t'r_t of every period: the only pass over the securities. W (L, L) is
 * scratch for one period's Z'Z. */
static void als_moments(als *a, const fd_dataset *ds, double *W) {
    size_t L = a->L;
    for (size_t t = 0; t < a->T; t++) {
        const fd_period *p = &ds->periods[t];
        double *w = a->Wp + t * a->Lp;
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)L, (int)p->n, 1.0, p->z,
                    (int)L, 0.0, W, (int)L);
        for (size_t i = 0; i < L; i++) {
            memcpy(w, W + i * L + i, (L - i) * sizeof *w);
            w += L - i;
        }
        fd_mat_vec_t(a->q + t * L, p->z, p->r, p->n, L, 1.0, 0.0);
        a->nobs[t] = (double)p->n;
        a->rr_total += fd_vec_dot(p->r, p->r, p->n);
        a->nobs_total += (double)p->n;
    }
}

/* Start as the reference does: Gamma = the top Kt left singular vectors of the (L, T)
 * matrix of q_t / n_t (eigenvectors of its Gram matrix), F = Gamma' q_t / n_t. x receives
 * [Gamma | F]; Qn (T, L) and QQ (2 L L + L) are scratch. */
static int als_start(als *a, double *x, double *Qn, double *QQ) {
    size_t L = a->L, T = a->T, Kt = a->Kt, K = a->K;
    double *V = QQ + L * L, *w = V + L * L, *G = x, *F = x + L * Kt;
    for (size_t t = 0; t < T; t++)
        for (size_t l = 0; l < L; l++) Qn[t * L + l] = a->q[t * L + l] / a->nobs[t];
    fd_mat_mul_tn(QQ, Qn, Qn, L, L, T, 1.0, 0.0);
    if (fd_mat_sym_eig(QQ, L, w, V) != 0) return -1;
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < Kt; k++) G[l * Kt + k] = V[l * L + k];
    for (size_t t = 0; t < T; t++)
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t l = 0; l < L; l++) s += G[l * Kt + k] * Qn[t * L + l];
            F[t * K + k] = s;
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

/* The packed pair products Pt (m(m+1)/2, n(n+1)/2) of the rows of X (n, m), that make
 * sum_{i,j} X_ik A_ij X_jk' = sum_{i<=j} Pt[(k,k'), (i,j)] a_(i,j) for a symmetric A (n, n)
 * with packed upper triangle a: X_ik X_jk' + X_jk X_ik' off the diagonal, X_ik X_ik' on it. */
static void pair_products(double *Pt, const double *X, size_t n, size_t m) {
    size_t np = n * (n + 1) / 2;
    for (size_t i = 0, ij = 0; i < n; i++)
        for (size_t j = i; j < n; j++, ij++) {
            const double *xi = X + i * m, *xj = X + j * m;
            double *p = Pt + ij;
            for (size_t k = 0; k < m; k++)
                for (size_t k2 = k; k2 < m; k2++, p += np)
                    *p = i == j ? xi[k] * xi[k2] : xi[k] * xj[k2] + xj[k] * xi[k2];
        }
}

/* f-step: Fn (T, K) from G (L, Kt). */
static int als_f_step(als *a, const double *G, double *Fn) {
    size_t K = a->K, Kt = a->Kt;
    double *A = a->small, *Ac = A + K * K, *b = Ac + K * K, *bc = b + K;
    /* This orientation (a (Kp, T) result) is OpenBLAS's fast one for these skinny shapes. */
    pair_products(a->Ht, G, a->L, Kt);
    fd_mat_mul_nt(a->St, a->Ht, a->Wp, a->Kp, a->T, a->Lp, 1.0, 0.0);
    fd_mat_mul_nn(a->QG, a->q, G, a->T, Kt, a->L, 1.0, 0.0);
    for (size_t t = 0; t < a->T; t++) {
        const double *s = a->St + t;
        for (size_t k = 0; k < K; k++) {
            for (size_t j = 0; j < K; j++) A[k * K + j] = s[packed(k, j, Kt) * a->T];
            b[k] = a->QG[t * Kt + k] - (a->intercept ? s[packed(k, K, Kt) * a->T] : 0.0);
        }
        if (solve_small(A, Ac, b, bc, K) != 0) return -1;
        memcpy(Fn + t * K, b, K * sizeof *b);
    }
    return 0;
}

/* The G-step system D vec(Gamma) = rhs from Fn (T, K): D's upper triangle (all of it when
 * `full`) and a->rhs. */
static void als_gamma_system(als *a, const double *Fn, int full) {
    size_t L = a->L, K = a->K, Kt = a->Kt, T = a->T, LK = L * Kt, Kp = a->Kp;
    for (size_t t = 0; t < T; t++) {
        double *fa = a->Fa + t * Kt;
        memcpy(fa, Fn + t * K, K * sizeof *fa);
        if (a->intercept) fa[K] = 1.0;
    }
    for (size_t t = 0; t < T; t++) {
        const double *fa = a->Fa + t * Kt;
        double *ff = a->FF + t * Kp;
        for (size_t k = 0; k < Kt; k++)
            for (size_t j = k; j < Kt; j++) *ff++ = fa[k] * fa[j];
    }
    /* Mt[(k, k'), (l, l')] = sum_t f_tk f_tk' W_t[l, l'], one GEMM over the periods (in
     * OpenBLAS's fast orientation for it, 6x the other); both pairs are symmetric, so only
     * l <= l' and k <= k' are formed (a quarter of the work). */
    fd_mat_mul_tn(a->Mt, a->FF, a->Wp, Kp, a->Lp, T, 1.0, 0.0);
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < Kt; k++) {
            size_t r = l * Kt + k;
            for (size_t l2 = full ? 0 : l; l2 < L; l2++) {
                const double *m = a->Mt + packed(l, l2, L);
                for (size_t k2 = (full || l2 > l) ? 0 : k; k2 < Kt; k2++)
                    a->D[r * LK + l2 * Kt + k2] = m[packed(k, k2, Kt) * a->Lp];
            }
        }
    /* Right-hand side sum_t q_t ft' is (L, Kt) row-major, i.e. vec in (l, k) order. */
    fd_mat_mul_tn(a->rhs, a->q, a->Fa, L, Kt, T, 1.0, 0.0);
}

/* G-step: Gn (L, Kt) from Fn by Cholesky, or LU when rounding made D indefinite; *sse the
 * sum of squared errors of (Gn, Fn): sum r'r - 2 g'rhs + g'D g = sum r'r - g'rhs at D g = rhs. */
static int als_gamma_step(als *a, const double *Fn, double *Gn, double *sse) {
    size_t LK = a->L * a->Kt;
    als_gamma_system(a, Fn, 0);
    memcpy(Gn, a->rhs, LK * sizeof *Gn);
    if (fd_mat_solve_spd(a->D, Gn, LK, 1) != 0) {
        als_gamma_system(a, Fn, 1); /* the failed factorisation overwrote D */
        memcpy(Gn, a->rhs, LK * sizeof *Gn);
        if (fd_mat_solve(a->D, Gn, LK, 1) != 0) return -1;
    }
    *sse = a->rr_total - fd_vec_dot(Gn, a->rhs, LK);
    return 0;
}

/* Flips factors with a negative mean, and their Gamma_beta columns. */
static void als_sign(const als *a, double *Gn, double *Fn) {
    size_t K = a->K, Kt = a->Kt;
    for (size_t k = 0; k < K; k++) {
        double mean = 0;
        for (size_t t = 0; t < a->T; t++) mean += Fn[t * K + k];
        if (mean >= 0) continue;
        for (size_t t = 0; t < a->T; t++) Fn[t * K + k] = -Fn[t * K + k];
        for (size_t l = 0; l < a->L; l++) Gn[l * Kt + k] = -Gn[l * Kt + k];
    }
}

/* Rotates (Gn, Fn) to the identification conventions without changing the fit:
 * Gb -> Gb R1^{-1} R2 and f -> R2' R1 f with Gb'Gb = R1'R1 and R2 the eigenvectors of
 * R1 F'F R1' (descending); then signs; then ga -> (I - Gb Gb') ga with f -> f + Gb'ga. */
static int als_normalise(als *a, double *Gn, double *Fn) {
    size_t L = a->L, K = a->K, Kt = a->Kt, T = a->T;
    double *GtG = a->small, *R1 = GtG + K * K, *FtF = R1 + K * K, *S = FtF + K * K;
    double *R2 = S + K * K, *tmp = R2 + K * K, *w = tmp + K * K, *y = w + K, *X = y + K;
    for (size_t k = 0; k < K; k++)
        for (size_t j = 0; j < K; j++) {
            double s = 0;
            for (size_t l = 0; l < L; l++) s += Gn[l * Kt + k] * Gn[l * Kt + j];
            GtG[k * K + j] = s;
        }
    if (fd_mat_cholesky_upper(GtG, K, R1) != 0) return -1;
    fd_mat_mul_tn(FtF, Fn, Fn, K, K, T, 1.0, 0.0);
    fd_mat_mul_nn(tmp, R1, FtF, K, K, K, 1.0, 0.0);
    fd_mat_mul_nt(S, tmp, R1, K, K, K, 1.0, 0.0);
    if (fd_mat_sym_eig(S, K, w, R2) != 0) return -1;
    /* X (L, K) = Gb R1^{-1}, row by row by forward substitution on R1 upper. */
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < K; k++) {
            double s = Gn[l * Kt + k];
            for (size_t j = 0; j < k; j++) s -= X[l * K + j] * R1[j * K + k];
            X[l * K + k] = s / R1[k * K + k];
        }
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t j = 0; j < K; j++) s += X[l * K + j] * R2[j * K + k];
            Gn[l * Kt + k] = s;
        }
    /* f_t -> R2' R1 f_t. */
    for (size_t t = 0; t < T; t++) {
        double *f = Fn + t * K;
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
    als_sign(a, Gn, Fn);
    if (!a->intercept) return 0;
    /* c = Gb'ga moves into the factors (Z Gb c is priced by f + c), leaving ga orthogonal. */
    for (size_t k = 0; k < K; k++) {
        double c = 0;
        for (size_t l = 0; l < L; l++) c += Gn[l * Kt + k] * Gn[l * Kt + K];
        y[k] = c;
    }
    for (size_t l = 0; l < L; l++)
        for (size_t k = 0; k < K; k++) Gn[l * Kt + K] -= Gn[l * Kt + k] * y[k];
    for (size_t t = 0; t < T; t++)
        for (size_t k = 0; k < K; k++) Fn[t * K + k] += y[k];
    als_sign(a, Gn, Fn);
    return 0;
}

/* One ALS step as a fixed-point map: x = [G | F] -> fx = [Gn | Fn] (F is not read), and the
 * in-sample mean squared error of the stock returns under (Gn, Fn). */
static int als_step(void *ctx, const double *x, double *fx, double *objective) {
    als *a = ctx;
    double *Gn = fx, *Fn = fx + a->L * a->Kt, sse;
    a->failure = ALS_F_SINGULAR;
    if (als_f_step(a, x, Fn) != 0) return -1;
    a->failure = ALS_G_SINGULAR;
    if (als_gamma_step(a, Fn, Gn, &sse) != 0) return -1;
    a->failure = ALS_RANK_LOST;
    if (als_normalise(a, Gn, Fn) != 0) return -1;
    a->failure = ALS_OK;
    *objective = sse / a->nobs_total;
    return 0;
}

/* Progress after every step: the iteration and the current iterate's mean squared error. */
static int als_report(void *ctx, int steps, double mse) {
    const als *a = ctx;
    fd_fit_event ev = {0, 1, steps, a->max_iter, mse, NAN};
    return a->opts && a->opts->progress ? a->opts->progress(a->opts->ctx, &ev) : 0;
}

/* Words a failed run's error. */
static int als_error(const als *a, int rc, int iter, fd_error *err) {
    if (rc == FD_FIXED_POINT_STOPPED)
        return fd_error_set(err, 409, "cancelled", "IPCA fit cancelled at iteration %d", iter);
    if (rc == FD_FIXED_POINT_DIVERGED)
        return fd_error_set(err, 422, "diverged", "IPCA iteration %d produced NaN", iter);
    if (rc == FD_FIXED_POINT_NO_MEMORY)
        return fd_error_set(err, 500, "out_of_memory", "IPCA iteration scratch");
    if (a->failure == ALS_F_SINGULAR)
        return fd_error_set(err, 422, "singular",
                            "IPCA iteration %d: Gamma_beta' Z'Z Gamma_beta is singular in some "
                            "period (too few securities or a degenerate characteristic)", iter);
    if (a->failure == ALS_G_SINGULAR)
        return fd_error_set(err, 422, "singular",
                            "IPCA iteration %d: the Gamma system is singular (characteristics "
                            "collinear, or K too large for the data)", iter);
    return fd_error_set(err, 422, "singular",
                        "IPCA iteration %d: Gamma_beta lost rank (K too large?)", iter);
}

int fd_ipca_als_fit(ipca_model *m, const fd_dataset *ds, const fd_fit_opts *opts,
                    ipca_als_info *info, fd_error *err) {
    size_t L = m->base.P, K = m->base.K, n;
    als a;
    fd_fixed_point fp;
    fd_fixed_point_info fpi;
    double *x = NULL, *scratch = NULL;
    int rc = -1, run;

    memset(info, 0, sizeof *info);
    if (ds->P != L)
        return fd_error_set(err, 422, "shape_mismatch",
                            "the dataset has %zu characteristics, the model expects %zu",
                            ds->P, L);
    if (ds->T == 0) return fd_error_set(err, 422, "empty_dataset", "no training period");
    if (als_alloc(&a, ds->T, L, K, m->intercept) != 0)
        return fd_error_set(err, 500, "out_of_memory", "IPCA workspace for T=%zu, L=%zu, K=%zu",
                            ds->T, L, K);
    n = L * a.Kt + a.T * K;
    x = malloc(n * sizeof *x);
    scratch = malloc((a.T * L + 2 * L * L + L) * sizeof *scratch);
    if (!x || !scratch) {
        fd_error_set(err, 500, "out_of_memory", "IPCA workspace for T=%zu, L=%zu, K=%zu",
                     ds->T, L, K);
        goto out;
    }
    als_moments(&a, ds, scratch);
    if (als_start(&a, x, scratch, scratch + a.T * L) != 0) {
        fd_error_set(err, 422, "singular", "IPCA start: eigendecomposition failed");
        goto out;
    }
    free(scratch);
    scratch = NULL;
    fp = (fd_fixed_point){
        .n = n,
        /* As the reference: without an intercept the factors' change counts too. */
        .n_check = m->intercept ? L * a.Kt : n,
        .tol = m->tol,
        .max_steps = m->max_iter,
        .accelerate = m->accelerate,
        .map = als_step,
        .progress = als_report,
        .ctx = &a,
    };
    a.opts = opts;
    a.max_iter = m->max_iter;
    run = fd_fixed_point_run(&fp, x, &fpi);
    if (run != FD_FIXED_POINT_OK) {
        als_error(&a, run, fpi.steps, err);
        goto out;
    }
    for (size_t l = 0; l < L; l++) {
        memcpy(m->gamma_beta + l * K, x + l * a.Kt, K * sizeof *x);
        m->gamma_alpha[l] = a.intercept ? x[l * a.Kt + K] : 0.0;
    }
    info->iterations = fpi.steps;
    info->change = fpi.change;
    info->converged = fpi.converged;
    info->extrapolated = fpi.extrapolated;
    info->refused = fpi.refused;
    rc = 0;
out:
    free(x);
    free(scratch);
    als_free(&a);
    return rc;
}
