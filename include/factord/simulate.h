/* Synthetic panels following the Gu, Kelly and Xiu (2021) Monte Carlo design, for tests,
 * benchmarks and demos:
 *   - P characteristics per security follow persistent AR(1) processes,
 *     cbar_{ij,t} = rho_j cbar_{ij,t-1} + sqrt(1 - rho_j^2) e, rho_j ~ U[0.9, 1], and are
 *     stored rank-normalised to (-1, 1) each month (z = 2 rank / (N + 1) - 1);
 *   - K factors f_t = m_t + sd u_t, u_t ~ N(0, I), known to the generator, whose means m_t
 *     follow one of three dynamics (factor_dynamics):
 *       iid      m_t = mu: i.i.d. factors, GKX's design (the default);
 *       ar1      m_{k,t} = mu + phi (m_{k,t-1} - mu) + sqrt(1 - phi^2) tau e_{k,t}, a
 *                persistent latent mean (stationary sd tau, m_0 drawn from it);
 *       regimes  one two-state Markov chain shared by all factors, staying with probability
 *                phi each month (state 0 drawn fairly): m_t = mu + tau in the good state,
 *                mu - tau in the bad one;
 *     with ar1 and regimes past factors (hence past managed portfolios) predict f_t: the
 *     best forecast E[f_t | past] moves with m_{t-1}, while a model seeing only month t cannot
 *     know m_t beyond the long-run mean;
 *   - true betas of factor k from z_{t-1}: linear, beta_k = z_{k mod P}; or nonlinear,
 *     cycling through GKX's g(z) = (z_1^2, z_1 z_2, sign(z_3)) (factor k uses the pattern
 *     k mod 3 on characteristic k mod P and its predecessor);
 *   - r_{i,t} = beta_i(z_{t-1})' f_t + e_{i,t}, e ~ N(0, s^2), with s set so that the true
 *     model explains a chosen share `r2` of sum r^2 (calibrated on month 0's betas).
 * Month 0 carries characteristics only; months 1..T carry returns as well. Every draw comes
 * from one fd_rng seeded with `seed`, so the output is a pure function of the options.
 * Market caps (for value weights) are exp(10 + 2 cbar_{i1,t}): size tracks characteristic 1.
 *
 * Two interfaces: a month-by-month generator (constant memory, for large CSV files) and
 * fd_simulate, which keeps every panel plus the true factors and fitted values. One thread
 * per generator. */
#ifndef FACTORD_SIMULATE_H
#define FACTORD_SIMULATE_H

#include <stddef.h>
#include <stdint.h>

#include "factord/error.h"
#include "factord/panel.h"

typedef enum fd_sim_dynamics {
    FD_SIM_FACTORS_IID = 0,
    FD_SIM_FACTORS_AR1 = 1,
    FD_SIM_FACTORS_REGIMES = 2
} fd_sim_dynamics;

/* "iid", "ar1", "regimes" -> 0 and *out, or -1 for anything else. */
int fd_sim_dynamics_parse(const char *text, fd_sim_dynamics *out);
const char *fd_sim_dynamics_name(fd_sim_dynamics d);

typedef struct fd_sim_opts {
    size_t N, T, P, K;        /* securities, return months, characteristics, factors */
    uint64_t seed;
    int nonlinear;            /* GKX's nonlinear g(z) instead of linear betas */
    double r2;                /* target share of sum r^2 the true model explains, (0, 1) */
    double factor_mean;       /* mu of every factor (monthly) */
    double factor_sd;         /* sd of every factor around its mean m_t (monthly) */
    fd_sim_dynamics factor_dynamics;
    double factor_persistence; /* phi in [0, 1): AR(1) coefficient, or regime stay probability */
    double factor_mean_sd;     /* tau >= 0: sd of the AR(1) mean, or the regimes' half spread */
    char start[FD_MONTH_LEN]; /* month 0, "YYYY-MM" */
} fd_sim_opts;

/* N=200, T=60, P=10, K=3, seed 1, linear, r2 0.3, mean 0.01, sd 0.05, i.i.d. factors
 * (persistence 0.95 and mean sd 0.05 for the other dynamics), start 2000-01. */
void fd_sim_opts_default(fd_sim_opts *o);

typedef struct fd_sim fd_sim;

/* 400 "bad_sim_option" naming the option for N < 2, T < 1, P < 1 (P < 3 with nonlinear
 * betas that need three), K < 1, r2 outside (0, 1), sd <= 0, persistence outside [0, 1),
 * mean sd < 0 or a bad start month. */
int fd_sim_create(const fd_sim_opts *o, fd_sim **out, fd_error *err);
/* Fills out (initialised here, owned by the caller) with the next month and returns 1; 0
 * once all T + 1 months are out (out untouched); -1 on allocation failure. */
int fd_sim_next(fd_sim *s, fd_panel *out, fd_error *err);
/* True factors (K) and true fitted returns beta' f (N, rows of the last panel) of the last
 * month produced; NULL before month 1. Valid until the next fd_sim_next. */
const double *fd_sim_factors(const fd_sim *s);
const double *fd_sim_signal(const fd_sim *s);
/* In-sample total R^2 of the true model over the months produced so far. */
double fd_sim_r2_true(const fd_sim *s);
/* Noise standard deviation the calibration chose. */
double fd_sim_noise_sd(const fd_sim *s);
void fd_sim_destroy(fd_sim *s);

/* Everything at once. */
typedef struct fd_sim_data {
    size_t n_panels;  /* T + 1 */
    fd_panel *panels; /* (T + 1); panels[0].ret is NULL */
    double *factors;  /* (T, K) true factors of months 1..T */
    double *signal;   /* (T, N) true fitted returns of months 1..T, rows as in the panels */
    double r2_true;   /* in-sample total R^2 of the true model */
    double noise_sd;
} fd_sim_data;

int fd_simulate(const fd_sim_opts *o, fd_sim_data *out, fd_error *err);
void fd_sim_data_free(fd_sim_data *d);

#endif
