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
 * Every buffer is allocated before the first epoch; the loop itself never allocates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ca_model.h"
#include "factord/mat.h"
#include "factord/nn.h"

typedef struct fit_state {
    fd_ca_work w;
    double *grads, *adam_m, *adam_v; /* (n_train) */
    double *best;                    /* (n_total) */
    size_t *order;                   /* (T) training period indices, shuffled per epoch */
    size_t n_order;
} fit_state;

static void state_free(fit_state *s) {
    fd_ca_work_free(&s->w);
    free(s->grads);
    free(s->adam_m);
    free(s->adam_v);
    free(s->best);
    free(s->order);
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

static double data_loss(const fd_ca_hyper *h, double *dpred, const double *pred,
                        const double *r, size_t n) {
    return h->huber ? fd_loss_huber(dpred, pred, r, n, h->huber_delta)
                    : fd_loss_mse(dpred, pred, r, n);
}

/* Mean data loss over every row of ds in inference mode, in chunks of the workspace. */
static double eval_loss(const fd_ca_model *m, const double *params, const fd_dataset *ds,
                        fd_ca_work *w) {
    const fd_ca_net *net = &m->net;
    double sum = 0.0;
    size_t rows = 0, off[2] = {0, 0};
    for (size_t t = 0; t < ds->T; t++) {
        const fd_period *p = &ds->periods[t];
        if (p->n == 0) continue;
        fd_ca_net_factors(net, params, p->x, 1, w->f);
        for (size_t i0 = 0; i0 < p->n; i0 += w->cap_rows) {
            size_t n = p->n - i0 < w->cap_rows ? p->n - i0 : w->cap_rows;
            fd_ca_net_betas(net, params, p->z + i0 * net->P, n, w->beta, w->ga, w->gb);
            off[1] = n;
            fd_ca_predict(w->pred, w->beta, w->f, off, 1, net->K);
            sum += data_loss(&m->hyper, NULL, w->pred, p->r + i0, n) * (double)n;
            rows += n;
        }
    }
    return sum / (double)rows;
}

/* One epoch over the training periods; returns the row-weighted mean batch loss. */
static double train_epoch(fd_ca_model *m, double *params, const fd_dataset *train,
                          fit_state *s, fd_adam *opt, fd_rng *rng) {
    const fd_ca_net *net = &m->net;
    const fd_ca_hyper *h = &m->hyper;
    double sum = 0.0;
    size_t rows = 0;
    fd_rng_shuffle(rng, s->order, s->n_order);
    for (size_t b0 = 0; b0 < s->n_order; b0 += (size_t)h->batch_months) {
        size_t b1 = b0 + (size_t)h->batch_months;
        if (b1 > s->n_order) b1 = s->n_order;
        fd_ca_work_clear(&s->w);
        for (size_t j = b0; j < b1; j++) {
            const fd_period *p = &train->periods[s->order[j]];
            fd_ca_work_add_period(&s->w, net, p->z, p->r, p->x, p->n);
        }
        if (s->w.n_rows < 2) continue;
        fd_ca_net_forward_train(net, params, &s->w, h->dropout, rng);
        double loss = data_loss(h, s->w.dpred, s->w.pred, s->w.r, s->w.n_rows);
        memset(s->grads, 0, net->n_train * sizeof *s->grads);
        fd_ca_net_backward(net, params, s->grads, &s->w, h->dropout);
        if (h->l1 > 0) fd_penalty_l1(s->grads, params, net->n_weights, h->l1);
        if (h->l2 > 0) fd_penalty_l2(s->grads, params, net->n_weights, h->l2);
        fd_adam_step(opt, params, s->grads, s->adam_m, s->adam_v, net->n_train);
        sum += loss * (double)s->w.n_rows;
        rows += s->w.n_rows;
    }
    return rows ? sum / (double)rows : NAN;
}

static int train_member(fd_ca_model *m, int member, const fd_dataset *train,
                        const fd_dataset *valid, const fd_fit_opts *opts, fit_state *s,
                        fd_error *err) {
    const fd_ca_net *net = &m->net;
    const fd_ca_hyper *h = &m->hyper;
    double *params = m->params + (size_t)member * net->n_total;
    double best = INFINITY;
    int since_best = 0;
    fd_rng rng;
    fd_adam opt = {.lr = h->lr, .beta1 = h->adam_beta1, .beta2 = h->adam_beta2,
                   .eps = h->adam_eps, .t = 0};
    /* Every member starts from the same period order, so member j trains exactly as a single
     * model with seed + j would. */
    for (size_t t = 0, k = 0; t < train->T; t++)
        if (train->periods[t].n > 0) s->order[k++] = t;
    fd_rng_seed(&rng, h->seed + (uint64_t)member);
    fd_ca_net_init(net, params, &rng);
    memset(s->adam_m, 0, net->n_train * sizeof *s->adam_m);
    memset(s->adam_v, 0, net->n_train * sizeof *s->adam_v);
    memcpy(s->best, params, net->n_total * sizeof *params);
    for (int epoch = 1; epoch <= h->epochs; epoch++) {
        fd_fit_event ev = {.member = member, .n_members = h->ensemble, .epoch = epoch,
                           .max_epochs = h->epochs, .valid_loss = NAN};
        ev.train_loss = train_epoch(m, params, train, s, &opt, &rng);
        if (!isfinite(ev.train_loss))
            return fd_error_set(err, 422, "training_diverged",
                                "member %d, epoch %d: the training loss is not finite; try "
                                "a lower lr", member, epoch);
        if (valid) ev.valid_loss = eval_loss(m, params, valid, &s->w);
        if (opts && opts->progress && opts->progress(opts->ctx, &ev))
            return fd_error_set(err, 409, "cancelled", "training cancelled at member %d, "
                                "epoch %d", member, epoch);
        if (!valid) continue;
        if (ev.valid_loss < best) {
            best = ev.valid_loss;
            since_best = 0;
            memcpy(s->best, params, net->n_total * sizeof *params);
        } else if (++since_best >= h->patience) {
            break;
        }
    }
    if (valid) memcpy(params, s->best, net->n_total * sizeof *params);
    return 0;
}

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
    const fd_ca_net *net = &m->net;
    fit_state s;
    size_t train_rows, valid_rows = 0, cap_rows = 0, cap_periods;
    size_t *sizes = NULL;
    int rc = -1;
    memset(&s, 0, sizeof s);
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
    /* Room for the batch_months largest periods, the largest batch a shuffle can draw. */
    sizes = malloc(train->T * sizeof *sizes);
    s.order = malloc(train->T * sizeof *s.order);
    if (!sizes || !s.order) goto oom;
    for (size_t t = 0; t < train->T; t++) {
        sizes[t] = train->periods[t].n;
        if (train->periods[t].n > 0) s.order[s.n_order++] = t;
    }
    qsort(sizes, train->T, sizeof *sizes, cmp_desc);
    cap_periods = (size_t)m->hyper.batch_months < s.n_order ? (size_t)m->hyper.batch_months
                                                            : s.n_order;
    for (size_t t = 0; t < cap_periods; t++) cap_rows += sizes[t];
    if (fd_ca_work_alloc(&s.w, net, cap_rows, cap_periods, m->hyper.dropout > 0) != 0)
        goto oom;
    s.grads = malloc(net->n_train * sizeof *s.grads);
    s.adam_m = malloc(net->n_train * sizeof *s.adam_m);
    s.adam_v = malloc(net->n_train * sizeof *s.adam_v);
    s.best = malloc(net->n_total * sizeof *s.best);
    if (!s.grads || !s.adam_m || !s.adam_v || !s.best) goto oom;
    for (int j = 0; j < m->hyper.ensemble; j++)
        if (train_member(m, j, train, valid, opts, &s, err) != 0) goto done;
    if (m->hyper.ensemble > 1 && combine_members(m, train, err) != 0) goto done;
    m->fitted = 1;
    rc = 0;
    goto done;
oom:
    fd_error_set(err, 500, "out_of_memory", "allocating the training workspace");
done:
    free(sizes);
    state_free(&s);
    return rc;
}
