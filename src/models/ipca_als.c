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
 *            is one column of  St (Kp, T) = Ht (Kp, Lp) Wp',  Ht the pair products of Gamma
 *            (Kp = Kt(Kt+1)/2; ga the last Gamma column with an intercept, Kt = K + 1)
 *   G-step:  sum_t (ft ft' kron W_t) vec(Gamma) = sum_t q_t kron ft, ft = [f_t; 1] with an
 *            intercept: its matrix is  Mt (Kp, Lp) = FF' Wp,  FF (T, Kp) the pair products of
 *            the ft, rearranged; its solution also gives the objective, sum r'r - vec(G)'rhs.
 * After each G-step the estimates are rotated to the identification conventions
 * (ipca_rotate.c).
 *
 * Threads: with opts->threads > 1 a team splits the moments pass by periods and, when a step
 * is big enough to pay for its hand-offs, each step's GEMMs, small solves and the assembly
 * of the G-step system, in two phases (periods, then characteristics). OpenBLAS runs
 * single-threaded meanwhile, as for the CA fits: three coarse hand-offs per step instead of
 * OpenBLAS's dozen, which stall on a busy machine (2x faster there, measured).
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
#include "factord/team.h"
#include "ipca_internal.h"

int openblas_get_num_threads(void);
void openblas_set_num_threads(int n);

/* A step shares its work across the team from this many flops in its two GEMMs. */
#define ALS_TEAM_STEP_FLOPS 2e7

typedef enum als_failure { ALS_OK, ALS_F_SINGULAR, ALS_G_SINGULAR, ALS_RANK_LOST } als_failure;

/* One team member's scratch and partial sums. */
typedef struct als_member {
    double *W;     /* (L, L) one period's Z'Z */
    double *small; /* (2 K K + 2 K) one f-step system and its copies */
    double rr, nobs;
    int failed;    /* an f-step system was singular */
} als_member;

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
    double *work; /* FD_IPCA_ROTATE_WORK(L, K) for the rotation */
    /* the team (NULL: the calling thread alone) and what its members work on */
    fd_team *team;
    int members;      /* team size, 1 without a team */
    int step_members; /* members that share a step: 1 when a step is too small */
    als_member *mem;  /* (members) */
    const fd_dataset *ds; /* the moments pass's input */
    const double *G;  /* the step's input Gamma (L, Kt) */
    double *Fn;       /* its f-step output (T, K) */
    als_failure failure;     /* why the last step failed */
    const fd_fit_opts *opts; /* progress and cancellation; may be NULL */
    int max_iter;
    void *block;
} als;

static void als_free(als *a) {
    fd_team_destroy(a->team);
    free(a->mem);
    free(a->block);
}

static int als_alloc(als *a, size_t T, size_t L, size_t K, int intercept, int members) {
    size_t Kt = K + (intercept ? 1 : 0), m = (size_t)members;
    size_t Lp = L * (L + 1) / 2, Kp = Kt * (Kt + 1) / 2;
    size_t sizes[] = {T * Lp,  T * L,   T,       Kp * Lp, Kp * T, T * Kt,
                      T * Kt,  T * Kp,  Kp * Lp, L * Kt * L * Kt, L * Kt,
                      FD_IPCA_ROTATE_WORK(L, K), m * L * L, m * (2 * K * K + 2 * K)};
    double *members_W, *members_small;
    double **dst[] = {&a->Wp, &a->q,  &a->nobs, &a->Ht,  &a->St,   &a->QG,  &a->Fa,
                      &a->FF, &a->Mt, &a->D,    &a->rhs, &a->work, &members_W, &members_small};
    size_t total = 0, off = 0;
    memset(a, 0, sizeof *a);
    a->T = T, a->L = L, a->K = K, a->Kt = Kt, a->Lp = Lp, a->Kp = Kp, a->intercept = intercept;
    a->members = members;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) total += sizes[i];
    a->block = calloc(total, sizeof(double));
    a->mem = calloc(m, sizeof *a->mem);
    if (!a->block || !a->mem) return -1;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        *dst[i] = (double *)a->block + off;
        off += sizes[i];
    }
    for (size_t i = 0; i < m; i++) {
        a->mem[i].W = members_W + i * L * L;
        a->mem[i].small = members_small + i * (2 * K * K + 2 * K);
    }
    return 0;
}

/* Member id's share [lo, hi) of n items. */
static void share(size_t n, int id, int members, size_t *lo, size_t *hi) {
    *lo = n * (size_t)id / (size_t)members;
    *hi = n * (size_t)(id + 1) / (size_t)members;
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

/* Member id's rows [lo, hi) of a packed upper triangle of an (n, n) matrix, balanced by the
 * entries they hold (row i holds n - i): their entries are one contiguous range. */
static void share_rows(size_t n, int id, int members, size_t *lo, size_t *hi) {
    size_t total = n * (n + 1) / 2, bound[2];
    for (int e = 0; e < 2; e++) {
        size_t want = total * (size_t)(id + e) / (size_t)members, i = 0;
        while (i < n && packed(i, i, n) < want) i++;
        bound[e] = i;
    }
    *lo = bound[0];
    *hi = bound[1];
}

/* Member id's periods of the moments pass, the only pass over the securities: w_t, q_t, n_t,
 * and its partial sums of r'r and n. */
static void als_moments_part(void *ctx, int id) {
    als *a = ctx;
    als_member *me = &a->mem[id];
    size_t L = a->L, lo, hi;
    share(a->T, id, a->members, &lo, &hi);
    for (size_t t = lo; t < hi; t++) {
        const fd_period *p = &a->ds->periods[t];
        double *w = a->Wp + t * a->Lp;
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)L, (int)p->n, 1.0, p->z,
                    (int)L, 0.0, me->W, (int)L);
        for (size_t i = 0; i < L; i++) {
            memcpy(w, me->W + i * L + i, (L - i) * sizeof *w);
            w += L - i;
        }
        fd_mat_vec_t(a->q + t * L, p->z, p->r, p->n, L, 1.0, 0.0);
        a->nobs[t] = (double)p->n;
        me->rr += fd_vec_dot(p->r, p->r, p->n);
        me->nobs += (double)p->n;
    }
}

static void als_moments(als *a, const fd_dataset *ds) {
    a->ds = ds;
    if (a->team) fd_team_run(a->team, als_moments_part, a);
    else als_moments_part(a, 0);
    for (int i = 0; i < a->members; i++) { /* in member order: the same sums every run */
        a->rr_total += a->mem[i].rr;
        a->nobs_total += a->mem[i].nobs;
    }
}

/* Start as the reference does: Gamma = the top Kt left singular vectors of the (L, T)
 * matrix of q_t / n_t (eigenvectors of its Gram matrix), F = Gamma' q_t / n_t. x receives
 * [Gamma | F]. */
static int als_start(als *a, double *x) {
    size_t L = a->L, T = a->T, Kt = a->Kt, K = a->K;
    double *Qn = malloc((T * L + 2 * L * L + L) * sizeof *Qn), *QQ, *V, *w;
    double *G = x, *F = x + L * Kt;
    int rc = -1;
    if (!Qn) return -1;
    QQ = Qn + T * L, V = QQ + L * L, w = V + L * L;
    for (size_t t = 0; t < T; t++)
        for (size_t l = 0; l < L; l++) Qn[t * L + l] = a->q[t * L + l] / a->nobs[t];
    fd_mat_mul_tn(QQ, Qn, Qn, L, L, T, 1.0, 0.0);
    if (fd_mat_sym_eig(QQ, L, w, V) == 0) {
        for (size_t l = 0; l < L; l++)
            for (size_t k = 0; k < Kt; k++) G[l * Kt + k] = V[l * L + k];
        for (size_t t = 0; t < T; t++)
            for (size_t k = 0; k < K; k++) {
                double s = 0;
                for (size_t l = 0; l < L; l++) s += G[l * Kt + k] * Qn[t * L + l];
                F[t * K + k] = s;
            }
        rc = 0;
    }
    free(Qn);
    return rc;
}

/* Solves the small SPD system A (n, n) x = b (n), falling back to LU when rounding made A
 * indefinite; A and b are each followed by room for their copy (n n and n doubles). */
static int solve_small(double *A, double *b, size_t n) {
    double *Ac = A + n * n, *bc = b + n;
    memcpy(Ac, A, n * n * sizeof *A);
    memcpy(bc, b, n * sizeof *b);
    if (fd_mat_solve_spd(Ac, bc, n, 1) == 0) {
        memcpy(b, bc, n * sizeof *b);
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

/* f-step of periods [lo, hi): St's columns and QG's rows from a->Ht and a->G (the GEMMs in
 * OpenBLAS's fast orientation for these skinny shapes), the (K, K) solves into a->Fn, and
 * the periods' [f_t; 1] and packed ft ft' for the G-step. Returns -1 on a singular system. */
static int als_f_rows(als *a, size_t lo, size_t hi, double *small) {
    size_t K = a->K, Kt = a->Kt, T = a->T, Kp = a->Kp;
    double *A = small, *b = small + 2 * K * K;
    if (hi <= lo) return 0;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)Kp, (int)(hi - lo), (int)a->Lp,
                1.0, a->Ht, (int)a->Lp, a->Wp + lo * a->Lp, (int)a->Lp, 0.0, a->St + lo,
                (int)T);
    fd_mat_mul_nn(a->QG + lo * Kt, a->q + lo * a->L, a->G, hi - lo, Kt, a->L, 1.0, 0.0);
    for (size_t t = lo; t < hi; t++) {
        const double *s = a->St + t;
        double *fa = a->Fa + t * Kt, *ff = a->FF + t * Kp;
        for (size_t k = 0; k < K; k++) {
            for (size_t j = 0; j < K; j++) A[k * K + j] = s[packed(k, j, Kt) * T];
            b[k] = a->QG[t * Kt + k] - (a->intercept ? s[packed(k, K, Kt) * T] : 0.0);
        }
        if (solve_small(A, b, K) != 0) return -1;
        memcpy(a->Fn + t * K, b, K * sizeof *b);
        memcpy(fa, b, K * sizeof *b);
        if (a->intercept) fa[K] = 1.0;
        for (size_t k = 0; k < Kt; k++)
            for (size_t j = k; j < Kt; j++) *ff++ = fa[k] * fa[j];
    }
    return 0;
}

/* The columns (l, l') with l in [lo, hi), l' >= l, of Mt[(k, k'), (l, l')] = sum_t f_tk f_tk'
 * W_t[l, l'], one GEMM over the periods (in OpenBLAS's fast orientation for it, 6x the
 * other); both pairs are symmetric, so only l <= l' and k <= k' are formed (a quarter of the
 * work). */
static void als_m_columns(als *a, size_t lo, size_t hi) {
    size_t c0 = packed(lo, lo, a->L), c1 = hi < a->L ? packed(hi, hi, a->L) : a->Lp;
    if (c1 <= c0) return;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)a->Kp, (int)(c1 - c0), (int)a->T,
                1.0, a->FF, (int)a->Kp, a->Wp + c0, (int)a->Lp, 0.0, a->Mt + c0, (int)a->Lp);
}

/* Rows (l, k) for l in [lo, hi) of the G-step matrix D from Mt: their upper triangle, which
 * reads the columns of Mt that als_m_columns(lo, hi) forms, or whole rows when `full`. */
static void als_d_rows(als *a, size_t lo, size_t hi, int full) {
    size_t L = a->L, Kt = a->Kt, LK = L * Kt;
    for (size_t l = lo; l < hi; l++)
        for (size_t k = 0; k < Kt; k++) {
            size_t r = l * Kt + k;
            for (size_t l2 = full ? 0 : l; l2 < L; l2++) {
                const double *m = a->Mt + packed(l, l2, L);
                for (size_t k2 = (full || l2 > l) ? 0 : k; k2 < Kt; k2++)
                    a->D[r * LK + l2 * Kt + k2] = m[packed(k, k2, Kt) * a->Lp];
            }
        }
}

/* Member id's part of one step up to the G-step solve: the f-step of its periods, then (all
 * f_t known) the columns of Mt and rows of D of its characteristics; member 0 also forms the
 * right-hand side sum_t q_t ft' (L, Kt) row-major, i.e. vec in (l, k) order. */
static void als_step_part(void *ctx, int id) {
    als *a = ctx;
    als_member *me = &a->mem[id];
    int n = a->step_members;
    size_t lo, hi;
    share(a->T, id, n, &lo, &hi);
    me->failed = als_f_rows(a, lo, hi, me->small) != 0;
    if (n > 1) fd_team_sync(a->team);
    share_rows(a->L, id, n, &lo, &hi);
    als_m_columns(a, lo, hi);
    als_d_rows(a, lo, hi, 0);
    if (id == 0) fd_mat_mul_tn(a->rhs, a->q, a->Fa, a->L, a->Kt, a->T, 1.0, 0.0);
}

/* G-step solve: Gn (L, Kt) by Cholesky, or LU when rounding made D indefinite; *sse the sum of
 * squared errors of (Gn, Fn): sum r'r - 2 g'rhs + g'D g = sum r'r - g'rhs at D g = rhs. */
static int als_gamma_solve(als *a, double *Gn, double *sse) {
    size_t LK = a->L * a->Kt;
    memcpy(Gn, a->rhs, LK * sizeof *Gn);
    if (fd_mat_solve_spd(a->D, Gn, LK, 1) != 0) {
        als_d_rows(a, 0, a->L, 1); /* the failed factorisation overwrote D */
        memcpy(Gn, a->rhs, LK * sizeof *Gn);
        if (fd_mat_solve(a->D, Gn, LK, 1) != 0) return -1;
    }
    *sse = a->rr_total - fd_vec_dot(Gn, a->rhs, LK);
    return 0;
}

/* One ALS step as a fixed-point map: x = [G | F] -> fx = [Gn | Fn] (F is not read), and the
 * in-sample mean squared error of the stock returns under (Gn, Fn). */
static int als_step(void *ctx, const double *x, double *fx, double *objective) {
    als *a = ctx;
    double *Gn = fx, sse;
    a->G = x;
    a->Fn = fx + a->L * a->Kt;
    pair_products(a->Ht, a->G, a->L, a->Kt);
    if (a->step_members > 1) fd_team_run(a->team, als_step_part, a);
    else als_step_part(a, 0);
    a->failure = ALS_F_SINGULAR;
    for (int i = 0; i < a->step_members; i++)
        if (a->mem[i].failed) return -1;
    a->failure = ALS_G_SINGULAR;
    if (als_gamma_solve(a, Gn, &sse) != 0) return -1;
    a->failure = ALS_RANK_LOST;
    if (fd_ipca_rotate(a->L, a->K, a->T, a->intercept, Gn, a->Fn, a->work) != 0) return -1;
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

/* The team of a->members (none for one); *blas_threads gets
 * OpenBLAS's thread count to restore (0: untouched). */
static int als_start_team(als *a, int *blas_threads, fd_error *err) {
    double step_flops = 4.0 * (double)a->T * (double)a->Lp * (double)a->Kp;
    *blas_threads = 0;
    a->step_members = 1;
    if (a->members < 2) return 0;
    a->team = fd_team_create(a->members);
    if (!a->team)
        return fd_error_set(err, 500, "out_of_threads", "cannot start %d IPCA threads",
                            a->members);
    if (step_flops >= ALS_TEAM_STEP_FLOPS) a->step_members = a->members;
    *blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    return 0;
}

int fd_ipca_als_fit(ipca_model *m, const fd_dataset *ds, const fd_fit_opts *opts,
                    ipca_als_info *info, fd_error *err) {
    size_t L = m->base.P, K = m->base.K, n;
    int threads = opts && opts->threads > 1 ? opts->threads : 1, blas_threads = 0;
    als a;
    fd_fixed_point fp;
    fd_fixed_point_info fpi;
    double *x = NULL;
    int rc = -1, run;

    memset(info, 0, sizeof *info);
    if (ds->P != L)
        return fd_error_set(err, 422, "shape_mismatch",
                            "the dataset has %zu characteristics, the model expects %zu",
                            ds->P, L);
    if (ds->T == 0) return fd_error_set(err, 422, "empty_dataset", "no training period");
    if (threads > FD_TEAM_MAX) threads = FD_TEAM_MAX;
    if ((size_t)threads > ds->T) threads = (int)ds->T;
    n = L * (K + (m->intercept ? 1 : 0)) + ds->T * K;
    x = malloc(n * sizeof *x);
    if (als_alloc(&a, ds->T, L, K, m->intercept, threads) != 0 || !x) {
        fd_error_set(err, 500, "out_of_memory", "IPCA workspace for T=%zu, L=%zu, K=%zu",
                     ds->T, L, K);
        goto out;
    }
    if (als_start_team(&a, &blas_threads, err) != 0) goto out;
    als_moments(&a, ds);
    if (als_start(&a, x) != 0) {
        fd_error_set(err, 422, "singular", "IPCA start: eigendecomposition failed");
        goto out;
    }
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
    if (blas_threads > 0) openblas_set_num_threads(blas_threads);
    free(x);
    als_free(&a);
    return rc;
}
