/* The Gu-Kelly-Xiu Monte Carlo panel generator (see factord/simulate.h). */
#include "factord/simulate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/preprocess.h"
#include "factord/rng.h"

struct fd_sim {
    fd_sim_opts o;
    fd_rng rng;
    size_t month;      /* next month index to produce (0..T) */
    double *rho;       /* (P) AR(1) persistence per characteristic */
    double *cbar;      /* (N, P) latent characteristics of the last month */
    double *z_prev;    /* (N, P) normalised characteristics of the last month */
    double *beta;      /* (N, K) true betas from z_prev */
    double *f;         /* (K) factors of the last month */
    double *m;         /* (K) factor means m_t of the last month (dynamics other than iid) */
    int regime;        /* regimes: 0 good (mu + tau), 1 bad (mu - tau) */
    double *signal;    /* (N) beta' f of the last month */
    double noise_sd;
    double sse, sst;   /* true-model residual and total sums so far */
};

void fd_sim_opts_default(fd_sim_opts *o) {
    memset(o, 0, sizeof *o);
    o->N = 200;
    o->T = 60;
    o->P = 10;
    o->K = 3;
    o->seed = 1;
    o->r2 = 0.3;
    o->factor_mean = 0.01;
    o->factor_sd = 0.05;
    o->factor_dynamics = FD_SIM_FACTORS_IID;
    o->factor_persistence = 0.95;
    o->factor_mean_sd = 0.05;
    snprintf(o->start, sizeof o->start, "2000-01");
}

static int check_opts(const fd_sim_opts *o, fd_error *err) {
    if (o->N < 2) return fd_error_set(err, 400, "bad_sim_option", "N must be at least 2");
    if (o->T < 1) return fd_error_set(err, 400, "bad_sim_option", "T must be at least 1");
    if (o->P < (o->nonlinear ? 3u : 1u))
        return fd_error_set(err, 400, "bad_sim_option",
                            "P must be at least %d", o->nonlinear ? 3 : 1);
    if (o->K < 1) return fd_error_set(err, 400, "bad_sim_option", "K must be at least 1");
    if (!(o->r2 > 0 && o->r2 < 1))
        return fd_error_set(err, 400, "bad_sim_option", "r2 must be in (0, 1)");
    if (!(o->factor_sd > 0) || !isfinite(o->factor_mean))
        return fd_error_set(err, 400, "bad_sim_option", "factor sd must be > 0");
    if ((unsigned)o->factor_dynamics > FD_SIM_FACTORS_REGIMES)
        return fd_error_set(err, 400, "bad_sim_option", "unknown factor dynamics");
    if (!(o->factor_persistence >= 0 && o->factor_persistence < 1))
        return fd_error_set(err, 400, "bad_sim_option", "factor persistence must be in [0, 1)");
    if (!(o->factor_mean_sd >= 0) || !isfinite(o->factor_mean_sd))
        return fd_error_set(err, 400, "bad_sim_option", "factor mean sd must be >= 0");
    if (fd_month_parse(o->start, NULL, NULL, err) != 0) return fd_error_prefix(err, "start");
    char last[FD_MONTH_LEN];
    if (o->T > 12 * (FD_YEAR_LAST - FD_YEAR_FIRST + 1) || fd_month_add(o->start, (int)o->T, last))
        return fd_error_set(err, 400, "bad_sim_option", "start %s plus T = %zu months passes the "
                            "last month key " FD_MONTH_LAST, o->start, (size_t)o->T);
    return 0;
}

static const char *const dynamics_names[] = {"iid", "ar1", "regimes"};

int fd_sim_dynamics_parse(const char *text, fd_sim_dynamics *out) {
    for (int d = 0; d <= FD_SIM_FACTORS_REGIMES; d++)
        if (text && strcmp(text, dynamics_names[d]) == 0) {
            *out = (fd_sim_dynamics)d;
            return 0;
        }
    return -1;
}

const char *fd_sim_dynamics_name(fd_sim_dynamics d) {
    return (unsigned)d <= FD_SIM_FACTORS_REGIMES ? dynamics_names[d] : "unknown";
}

/* The factor means of the month about to be drawn: m_1 from the stationary distribution,
 * then one step of the dynamics. i.i.d. factors draw nothing (the stream is GKX's). */
static void step_factor_means(fd_sim *s) {
    const fd_sim_opts *o = &s->o;
    double phi = o->factor_persistence, tau = o->factor_mean_sd, mu = o->factor_mean;
    int first = s->month == 1;
    switch (o->factor_dynamics) {
    case FD_SIM_FACTORS_AR1:
        for (size_t k = 0; k < o->K; k++) {
            double e = fd_rng_normal(&s->rng);
            s->m[k] = first ? mu + tau * e : mu + phi * (s->m[k] - mu) + sqrt(1 - phi * phi) * tau * e;
        }
        return;
    case FD_SIM_FACTORS_REGIMES: {
        double u = fd_rng_uniform(&s->rng);
        s->regime = first ? u < 0.5 : (u < phi ? s->regime : !s->regime);
        for (size_t k = 0; k < o->K; k++) s->m[k] = s->regime ? mu - tau : mu + tau;
        return;
    }
    default:
        for (size_t k = 0; k < o->K; k++) s->m[k] = mu;
    }
}

/* True betas (N, K) of normalised characteristics z (N, P). */
static void true_betas(const fd_sim_opts *o, const double *z, double *beta) {
    size_t P = o->P, K = o->K;
    for (size_t i = 0; i < o->N; i++) {
        const double *zi = z + i * P;
        for (size_t k = 0; k < K; k++) {
            size_t j = k % P, prev = (j + P - 1) % P;
            double b;
            if (!o->nonlinear) b = zi[j];
            else if (k % 3 == 0) b = zi[j] * zi[j];          /* z_1^2 */
            else if (k % 3 == 1) b = zi[prev] * zi[j];       /* z_1 z_2 */
            else b = zi[j] > 0 ? 1.0 : zi[j] < 0 ? -1.0 : 0; /* sign(z_3) */
            beta[i * K + k] = b;
        }
    }
}

/* Moves the latent characteristics one month and normalises them into z. */
static int step_characteristics(fd_sim *s, double *z, fd_error *err) {
    size_t N = s->o.N, P = s->o.P;
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < P; j++) {
            double *c = &s->cbar[i * P + j], e = fd_rng_normal(&s->rng);
            *c = s->month == 0 ? e : s->rho[j] * *c + sqrt(1 - s->rho[j] * s->rho[j]) * e;
        }
    memcpy(z, s->cbar, N * P * sizeof *z);
    return fd_preprocess_rank_normalize(z, N, P, err);
}

/* Noise sd for the target R^2: the signal's second moment E[(beta'f)^2] =
 * mean_i beta_i' E[f f'] beta_i over month 0's betas, with the factors' stationary moments
 * E[f f'] = sd^2 I + mu mu' (i.i.d.), + tau^2 I (independent AR(1) means), or + tau^2 1 1'
 * (one regime moves every mean together), then s^2 = E[signal^2] (1 - r2) / r2. */
static void calibrate(fd_sim *s) {
    size_t N = s->o.N, K = s->o.K;
    double mu = s->o.factor_mean, var = s->o.factor_sd * s->o.factor_sd, m2 = 0;
    double tau2 = s->o.factor_mean_sd * s->o.factor_mean_sd;
    double own = s->o.factor_dynamics == FD_SIM_FACTORS_AR1 ? tau2 : 0.0;
    double common = s->o.factor_dynamics == FD_SIM_FACTORS_REGIMES ? tau2 : 0.0;
    for (size_t i = 0; i < N; i++) {
        const double *b = s->beta + i * K;
        double sq = 0, sum = 0;
        for (size_t k = 0; k < K; k++) {
            sq += b[k] * b[k];
            sum += b[k];
        }
        m2 += (var + own) * sq + (mu * mu + common) * sum * sum;
    }
    m2 /= (double)N;
    s->noise_sd = sqrt(m2 * (1 - s->o.r2) / s->o.r2);
}

int fd_sim_create(const fd_sim_opts *o, fd_sim **out, fd_error *err) {
    fd_sim *s;
    size_t N = o->N, P = o->P, K = o->K;
    *out = NULL;
    if (check_opts(o, err) != 0) return -1;
    s = calloc(1, sizeof *s);
    if (!s) return fd_error_set(err, 500, "out_of_memory", "simulator");
    s->o = *o;
    s->rho = malloc(P * sizeof *s->rho);
    s->cbar = malloc(N * P * sizeof *s->cbar);
    s->z_prev = malloc(N * P * sizeof *s->z_prev);
    s->beta = malloc(N * K * sizeof *s->beta);
    s->f = malloc(K * sizeof *s->f);
    s->m = malloc(K * sizeof *s->m);
    s->signal = malloc(N * sizeof *s->signal);
    if (!s->rho || !s->cbar || !s->z_prev || !s->beta || !s->f || !s->m || !s->signal) {
        fd_sim_destroy(s);
        return fd_error_set(err, 500, "out_of_memory", "simulator for N=%zu, P=%zu", N, P);
    }
    fd_rng_seed(&s->rng, o->seed);
    for (size_t j = 0; j < P; j++) s->rho[j] = 0.9 + 0.1 * fd_rng_uniform(&s->rng);
    *out = s;
    return 0;
}

/* Allocates the panel's arrays and names for N rows and P columns. */
static int panel_alloc(fd_panel *p, const fd_sim *s, int with_ret) {
    size_t N = s->o.N, P = s->o.P;
    int width = N > 9999 ? (int)snprintf(NULL, 0, "%zu", N) : 4;
    p->n_rows = N;
    p->n_cols = P;
    p->ids = calloc(N, sizeof *p->ids);
    p->col_names = calloc(P, sizeof *p->col_names);
    p->values = malloc(N * P * sizeof *p->values);
    p->mktcap = malloc(N * sizeof *p->mktcap);
    if (with_ret) p->ret = malloc(N * sizeof *p->ret);
    if (!p->ids || !p->col_names || !p->values || !p->mktcap || (with_ret && !p->ret)) return -1;
    for (size_t i = 0; i < N; i++)
        if (asprintf(&p->ids[i], "S%0*zu", width, i + 1) < 0) {
            p->ids[i] = NULL;
            return -1;
        }
    for (size_t j = 0; j < P; j++)
        if (asprintf(&p->col_names[j], "c%zu", j + 1) < 0) {
            p->col_names[j] = NULL;
            return -1;
        }
    return 0;
}

int fd_sim_next(fd_sim *s, fd_panel *out, fd_error *err) {
    size_t N = s->o.N, P = s->o.P, K = s->o.K;
    if (s->month > s->o.T) return 0;
    fd_panel_init(out);
    if (panel_alloc(out, s, s->month > 0) != 0) {
        fd_panel_free(out);
        return fd_error_set(err, 500, "out_of_memory", "simulated month %zu", s->month);
    }
    fd_month_add(s->o.start, (int)s->month, out->month);
    if (s->month > 0) {
        /* Returns of this month priced by last month's characteristics. */
        step_factor_means(s);
        for (size_t k = 0; k < K; k++) s->f[k] = s->m[k] + s->o.factor_sd * fd_rng_normal(&s->rng);
        for (size_t i = 0; i < N; i++) {
            double sig = 0, r;
            for (size_t k = 0; k < K; k++) sig += s->beta[i * K + k] * s->f[k];
            r = sig + s->noise_sd * fd_rng_normal(&s->rng);
            s->signal[i] = sig;
            out->ret[i] = r;
            s->sse += (r - sig) * (r - sig);
            s->sst += r * r;
        }
    }
    if (step_characteristics(s, out->values, err) != 0) {
        fd_panel_free(out);
        return -1;
    }
    for (size_t i = 0; i < N; i++) out->mktcap[i] = exp(10.0 + 2.0 * s->cbar[i * P]);
    memcpy(s->z_prev, out->values, N * P * sizeof *s->z_prev);
    true_betas(&s->o, s->z_prev, s->beta);
    if (s->month == 0) calibrate(s);
    s->month++;
    return 1;
}

const double *fd_sim_factors(const fd_sim *s) { return s->month > 1 ? s->f : NULL; }
const double *fd_sim_signal(const fd_sim *s) { return s->month > 1 ? s->signal : NULL; }
double fd_sim_r2_true(const fd_sim *s) { return s->sst > 0 ? 1.0 - s->sse / s->sst : NAN; }
double fd_sim_noise_sd(const fd_sim *s) { return s->noise_sd; }

void fd_sim_destroy(fd_sim *s) {
    if (!s) return;
    free(s->rho);
    free(s->cbar);
    free(s->z_prev);
    free(s->beta);
    free(s->m);
    free(s->f);
    free(s->signal);
    free(s);
}

void fd_sim_data_free(fd_sim_data *d) {
    for (size_t i = 0; d->panels && i < d->n_panels; i++) fd_panel_free(&d->panels[i]);
    free(d->panels);
    free(d->factors);
    free(d->signal);
    memset(d, 0, sizeof *d);
}

int fd_simulate(const fd_sim_opts *o, fd_sim_data *out, fd_error *err) {
    fd_sim *s;
    int rc = 1;
    memset(out, 0, sizeof *out);
    if (fd_sim_create(o, &s, err) != 0) return -1;
    out->panels = calloc(o->T + 1, sizeof *out->panels);
    out->factors = malloc(o->T * o->K * sizeof *out->factors);
    out->signal = malloc(o->T * o->N * sizeof *out->signal);
    if (!out->panels || !out->factors || !out->signal) {
        fd_sim_destroy(s);
        fd_sim_data_free(out);
        return fd_error_set(err, 500, "out_of_memory", "simulated panels");
    }
    for (size_t t = 0; t <= o->T; t++) {
        rc = fd_sim_next(s, &out->panels[t], err);
        if (rc != 1) break;
        out->n_panels++;
        if (t == 0) continue;
        memcpy(out->factors + (t - 1) * o->K, fd_sim_factors(s), o->K * sizeof(double));
        memcpy(out->signal + (t - 1) * o->N, fd_sim_signal(s), o->N * sizeof(double));
    }
    out->r2_true = fd_sim_r2_true(s);
    out->noise_sd = fd_sim_noise_sd(s);
    fd_sim_destroy(s);
    if (rc != 1) {
        fd_sim_data_free(out);
        return -1;
    }
    return 0;
}
