/* Training of the conditional autoencoders: mini-batches of whole periods, Adam, L1/L2 on
 * the weights, early stopping on the validation block, an ensemble over seeds.
 *
 * One epoch visits every training period once, in an order shuffled by the member's
 * generator, batch_months periods per batch (the last batch may be shorter; a batch with
 * fewer than 2 rows is skipped, batch norm needs two). The loss minimised is the data loss
 * (MSE or Huber, averaged over the batch's rows) plus the penalties. Reported losses are data
 * losses only: train = row-weighted mean over the epoch's batches (training mode, before each
 * step), valid = over every validation row in inference mode. Early stopping keeps the
 * parameters of the epoch with the lowest validation loss and stops after `patience` epochs
 * without a strictly lower one; without a validation block every epoch runs.
 *
 * With opts->threads > 1, each batch's rows are split across a team of that many threads
 * (ca_net_train_step), and OpenBLAS is held to one thread for the fit so that the team's
 * GEMMs run side by side instead of queueing for OpenBLAS's own pool; the previous OpenBLAS
 * setting is restored afterwards. Results are deterministic for a given seed and thread
 * count (the workers' sums are added in a fixed order).
 *
 * Every buffer is allocated before the first epoch; the loop itself never allocates. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ca_model.h"
#include "factord/mat.h"
#include "factord/nn.h"

/* What both precisions share: the period order (shuffled per epoch) and the workspace
 * capacity, room for the batch_months largest periods, the largest batch a shuffle can
 * draw. */
typedef struct fit_plan {
    size_t *order;      /* (T) indices of the training periods with observations */
    size_t n_order;
    size_t cap_rows, cap_periods;
    fd_team *team;      /* the threads that split each batch (NULL: the caller alone) */
} fit_plan;

/* Every member starts from the same period order, so member j trains exactly as a single
 * model with seed + j would. */
static void plan_reset_order(fit_plan *plan, const fd_dataset *train) {
    plan->n_order = 0;
    for (size_t t = 0; t < train->T; t++)
        if (train->periods[t].n > 0) plan->order[plan->n_order++] = t;
}

static int cmp_desc(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? 1 : (x > y ? -1 : 0);
}

/* 422 unless the dataset fits the model: P columns, managed portfolios present, finite. */
static int check_dataset(const fd_ca_model *m, const fd_dataset *ds, const char *name,
                         size_t *rows, fd_error *err) {
    *rows = 0;
    if (ds->P != m->base.P)
        return fd_error_set(err, 422, "dataset_mismatch",
                            "%s: the dataset has %zu characteristics, the model %zu", name,
                            ds->P, m->base.P);
    for (size_t t = 0; t < ds->T; t++) {
        const fd_period *p = &ds->periods[t];
        if (p->n == 0) continue;
        if (!p->x || !p->z || !p->r)
            return fd_error_set(err, 422, "dataset_incomplete",
                                "%s: period %s lacks characteristics, returns or its managed "
                                "portfolio", name, p->month);
        for (size_t i = 0; i < p->n * ds->P; i++)
            if (!isfinite(p->z[i]))
                return fd_error_set(err, 422, "non_finite_data",
                                    "%s: period %s has a missing or infinite characteristic "
                                    "(security %zu); normalise and impute first", name,
                                    p->month, i / ds->P);
        for (size_t i = 0; i < p->n; i++)
            if (!isfinite(p->r[i]))
                return fd_error_set(err, 422, "non_finite_data",
                                    "%s: period %s has a missing return (security %zu)", name,
                                    p->month, i);
        for (size_t j = 0; j < ds->P; j++)
            if (!isfinite(p->x[j]))
                return fd_error_set(err, 422, "non_finite_data",
                                    "%s: period %s has a non-finite managed portfolio", name,
                                    p->month);
        *rows += p->n;
    }
    return 0;
}

#define NN_T float
#define NN_FN(name) fd_##name##_f32
#define TR_FN(name) name##_f32
#include "ca_train_typed.inc"
#undef NN_T
#undef NN_FN
#undef TR_FN
#define NN_T double
#define NN_FN(name) fd_##name
#define TR_FN(name) name##_f64
#include "ca_train_typed.inc"
#undef NN_T
#undef NN_FN
#undef TR_FN

/* (K, K) C = (F' F + ridge I)^-1 F' G for F, G (T, K): the least-squares map with
 * F C ~ G. The tiny ridge (1e-10 of the mean diagonal) keeps a member whose factors are
 * collinear solvable; G (T, K). FtF, C are (K, K) outputs, FtF is scratch. */
static int regress_factors(double *C, double *FtF, const double *F, const double *G, size_t T,
                           size_t K) {
    double trace = 0.0;
    fd_mat_mul_tn(FtF, F, F, K, K, T, 1.0, 0.0); /* (K, K) = F' F */
    fd_mat_mul_tn(C, F, G, K, K, T, 1.0, 0.0);   /* (K, K) = F' G */
    for (size_t k = 0; k < K; k++) trace += FtF[k * K + k];
    for (size_t k = 0; k < K; k++) FtF[k * K + k] += 1e-10 * (trace > 0 ? trace / K : 1.0);
    return fd_mat_solve_spd(FtF, C, K, K);
}

/* Latent factors are identified only up to an invertible K x K map (beta' f equals
 * (A^-1 beta)' (A' f)), and members trained from different seeds land on different maps, so
 * their raw betas and factors cannot simply be averaged. Over the training periods, with
 * F_j (T, K) member j's factors:
 *   1. each member's factors are mapped onto member 0's, A_j = argmin ||F_j A - F_0||, and the
 *      ensemble's factors are their average, Fbar = mean_j F_j A_j;
 *   2. each member's betas are mapped by C_j = argmin ||Fbar C - F_j||, so that
 *      beta_j' C_j' fbar_t ~ beta_j' f_jt: averaging the mapped betas and pricing them with
 *      fbar reproduces the average of the members' own predictions beta_j' f_jt (exactly when
 *      the members span the same factor space, otherwise its least-squares projection).
 * Both maps are folded into the member's parameters (factor layer A_j' (W_f, b_f), beta
 * output layer C_j (W_L, b_out)), so betas() and factors() stay plain averages. */
static int combine_members(fd_ca_model *m, const fd_dataset *train, fd_error *err) {
    const fd_ca_net *net = &m->net;
    size_t K = net->K, P = net->P, T = 0, L = net->n_hidden, H = net->width[L];
    size_t M = (size_t)m->hyper.ensemble, wide = P > H ? P : H;
    double *X = malloc(train->T * P * sizeof *X);
    double *F = malloc((M + 1) * train->T * K * sizeof *F); /* F_0 .. F_{M-1}, then Fbar */
    double *buf = malloc((2 * K * K + K * wide + K + train->T * K) * sizeof *buf);
    int rc = 0;
    if (!X || !F || !buf) {
        free(X); free(F); free(buf);
        return fd_error_set(err, 500, "out_of_memory", "combining ensemble members");
    }
    double *C = buf, *scratch = C + K * K, *tmp = scratch + K * K; /* (K, wide) then (K) */
    double *FA = tmp + K * wide + K;                               /* (T, K) */
    for (size_t t = 0; t < train->T; t++)
        if (train->periods[t].n > 0) memcpy(X + T++ * P, train->periods[t].x, P * sizeof *X);
    double *Fbar = F + M * T * K;
    memset(Fbar, 0, T * K * sizeof *Fbar);
    for (size_t j = 0; j < M; j++)
        fd_ca_net_factors(net, m->params + j * net->n_total, X, T, F + j * T * K);
    for (size_t j = 0; j < M && rc == 0; j++) {
        double *pj = m->params + j * net->n_total, *Fj = F + j * T * K;
        if (regress_factors(C, scratch, Fj, F, T, K) != 0) { rc = -1; break; } /* C = A_j */
        fd_mat_mul_nn(FA, Fj, C, T, K, K, 1.0, 0.0);                         /* F_j A_j */
        for (size_t i = 0; i < T * K; i++) Fbar[i] += FA[i] / (double)M;
        /* factor layer: W_f (K, P) <- A_j' W_f, b_f (K) <- A_j' b_f */
        fd_mat_mul_tn(tmp, C, pj + net->fw, K, P, K, 1.0, 0.0);
        memcpy(pj + net->fw, tmp, K * P * sizeof *tmp);
        fd_mat_vec_t(tmp, C, pj + net->fb, K, K, 1.0, 0.0);
        memcpy(pj + net->fb, tmp, K * sizeof *tmp);
    }
    for (size_t j = 0; j < M && rc == 0; j++) {
        double *pj = m->params + j * net->n_total;
        if (regress_factors(C, scratch, Fbar, F + j * T * K, T, K) != 0) { rc = -1; break; }
        /* beta output layer: W_L (K, H) <- C_j W_L, b_out (K) <- C_j b_out */
        fd_mat_mul_nn(tmp, C, pj + net->w[L], K, H, K, 1.0, 0.0);
        memcpy(pj + net->w[L], tmp, K * H * sizeof *tmp);
        fd_mat_vec(tmp, C, pj + net->b_out, K, K, 1.0, 0.0);
        memcpy(pj + net->b_out, tmp, K * sizeof *tmp);
    }
    free(X); free(F); free(buf);
    if (rc != 0)
        return fd_error_set(err, 422, "degenerate_factors",
                            "the ensemble members' factors are all zero over the training "
                            "window; they cannot be combined");
    return 0;
}

int fd_ca_fit(fd_ca_model *m, const fd_dataset *train, const fd_dataset *valid,
              const fd_fit_opts *opts, fd_error *err) {
    fit_plan plan = {0};
    size_t train_rows, valid_rows = 0;
    size_t *sizes = NULL;
    int rc = -1;
    m->fitted = 0;
    if (!train) return fd_error_set(err, 422, "no_training_data", "no training dataset");
    if (check_dataset(m, train, "train", &train_rows, err) != 0) return -1;
    if (valid && check_dataset(m, valid, "valid", &valid_rows, err) != 0) return -1;
    if (train_rows < 2)
        return fd_error_set(err, 422, "no_training_data",
                            "the training window has %zu observations; at least 2 needed",
                            train_rows);
    if (valid && valid_rows == 0)
        return fd_error_set(err, 422, "no_validation_data",
                            "the validation window has no observations");
    sizes = malloc(train->T * sizeof *sizes);
    plan.order = malloc(train->T * sizeof *plan.order);
    if (!sizes || !plan.order) {
        fd_error_set(err, 500, "out_of_memory", "allocating the training plan");
        goto done;
    }
    for (size_t t = 0; t < train->T; t++) sizes[t] = train->periods[t].n;
    plan_reset_order(&plan, train);
    qsort(sizes, train->T, sizeof *sizes, cmp_desc);
    plan.cap_periods = (size_t)m->hyper.batch_months < plan.n_order
                           ? (size_t)m->hyper.batch_months
                           : plan.n_order;
    for (size_t t = 0; t < plan.cap_periods; t++) plan.cap_rows += sizes[t];
    int threads = opts && opts->threads > 1 ? opts->threads : 1, blas_threads = 0;
    if (threads > FD_TEAM_MAX) threads = FD_TEAM_MAX;
    if (threads > 1) {
        plan.team = fd_team_create(threads);
        if (!plan.team) {
            fd_error_set(err, 500, "out_of_threads", "cannot start %d training threads",
                         threads);
            goto done;
        }
        blas_threads = openblas_get_num_threads();
        openblas_set_num_threads(1);
    }
    rc = m->hyper.float64 ? train_members_f64(m, train, valid, opts, &plan, err)
                          : train_members_f32(m, train, valid, opts, &plan, err);
    if (plan.team) openblas_set_num_threads(blas_threads);
    if (rc == 0 && m->hyper.ensemble > 1) rc = combine_members(m, train, err);
    if (rc == 0) m->fitted = 1;
done:
    fd_team_destroy(plan.team);
    free(sizes);
    free(plan.order);
    return rc;
}
