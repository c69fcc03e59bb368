/* The Gu-Kelly-Xiu panel simulator: determinism, shapes, persistence, the calibrated true
 * R^2, and IPCA recovering the true model's fit out of sample on linear data. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/dataset.h"
#include "factord/eval_r2.h"
#include "factord/models.h"
#include "factord/simulate.h"
#include "testlib.h"

static int same_panels(const fd_sim_data *a, const fd_sim_data *b) {
    if (a->n_panels != b->n_panels) return 0;
    for (size_t t = 0; t < a->n_panels; t++) {
        const fd_panel *p = &a->panels[t], *q = &b->panels[t];
        size_t n = p->n_rows;
        if (n != q->n_rows || p->n_cols != q->n_cols) return 0;
        if (memcmp(p->values, q->values, n * p->n_cols * sizeof(double)) != 0) return 0;
        if ((p->ret == NULL) != (q->ret == NULL)) return 0;
        if (p->ret && memcmp(p->ret, q->ret, n * sizeof(double)) != 0) return 0;
    }
    return 1;
}

TEST(same_seed_same_panels_other_seed_differs) {
    fd_sim_opts o;
    fd_sim_data a, b, c;
    fd_error err = {0};
    fd_sim_opts_default(&o);
    o.N = 50;
    o.T = 12;
    o.nonlinear = 1;
    ASSERT(fd_simulate(&o, &a, &err) == 0);
    ASSERT(fd_simulate(&o, &b, &err) == 0);
    o.seed = 2;
    ASSERT(fd_simulate(&o, &c, &err) == 0);
    ASSERT(same_panels(&a, &b));
    ASSERT(!same_panels(&a, &c));
    fd_sim_data_free(&a);
    fd_sim_data_free(&b);
    fd_sim_data_free(&c);
}

TEST(shapes_months_ids_and_normalised_values) {
    fd_sim_opts o;
    fd_sim_data d;
    fd_error err = {0};
    fd_sim_opts_default(&o);
    o.N = 40;
    o.T = 14;
    o.P = 4;
    snprintf(o.start, sizeof o.start, "1999-11");
    ASSERT(fd_simulate(&o, &d, &err) == 0);
    ASSERT_INT_EQ(d.n_panels, 15);
    ASSERT_STR_EQ(d.panels[0].month, "1999-11");
    ASSERT_STR_EQ(d.panels[2].month, "2000-01");
    ASSERT_STR_EQ(d.panels[14].month, "2001-01");
    ASSERT(d.panels[0].ret == NULL);
    ASSERT(d.panels[1].ret != NULL && d.panels[1].mktcap != NULL);
    ASSERT_STR_EQ(d.panels[3].ids[0], "S0001");
    ASSERT_STR_EQ(d.panels[3].ids[39], "S0040");
    ASSERT_STR_EQ(d.panels[3].col_names[3], "c4");
    for (size_t t = 0; t < d.n_panels; t++)
        for (size_t j = 0; j < o.P; j++) {
            double sum = 0;
            for (size_t i = 0; i < o.N; i++) {
                double v = d.panels[t].values[i * o.P + j];
                ASSERT(v > -1 && v < 1);
                sum += v;
            }
            ASSERT_NEAR(sum, 0.0, 1e-12); /* ranks 1..N without ties */
        }
    fd_sim_data_free(&d);
}

TEST(characteristics_are_persistent) {
    fd_sim_opts o;
    fd_sim_data d;
    fd_error err = {0};
    fd_sim_opts_default(&o);
    o.N = 300;
    o.T = 5;
    ASSERT(fd_simulate(&o, &d, &err) == 0);
    for (size_t j = 0; j < o.P; j++) {
        /* rho >= 0.9 on the latent process keeps month-to-month rank correlation high. */
        double sxy = 0, sxx = 0;
        for (size_t i = 0; i < o.N; i++) {
            double x = d.panels[2].values[i * o.P + j], y = d.panels[3].values[i * o.P + j];
            sxy += x * y;
            sxx += x * x;
        }
        ASSERT(sxy / sxx > 0.8);
    }
    fd_sim_data_free(&d);
}

static void check_true_r2(int nonlinear, double target) {
    fd_sim_opts o;
    fd_sim_data d;
    fd_error err = {0};
    fd_sim_opts_default(&o);
    o.N = 500;
    o.T = 120;
    o.nonlinear = nonlinear;
    o.r2 = target;
    ASSERT(fd_simulate(&o, &d, &err) == 0);
    ASSERT_NEAR(d.r2_true, target, 0.04);
    fd_sim_data_free(&d);
}

TEST(true_r2_is_close_to_the_target_linear) { check_true_r2(0, 0.3); }
TEST(true_r2_is_close_to_the_target_nonlinear) { check_true_r2(1, 0.2); }

TEST(bad_options_are_400) {
    fd_sim_opts o;
    fd_sim_data d;
    fd_error err = {0};
    fd_sim_opts_default(&o);
    o.r2 = 1.5;
    ASSERT(fd_simulate(&o, &d, &err) == -1);
    ASSERT_INT_EQ(err.status, 400);
    fd_sim_opts_default(&o);
    o.nonlinear = 1;
    o.P = 2;
    ASSERT(fd_simulate(&o, &d, &err) == -1);
    fd_sim_opts_default(&o);
    snprintf(o.start, sizeof o.start, "2000-13");
    ASSERT(fd_simulate(&o, &d, &err) == -1);
    ASSERT_STR_EQ(err.code, "bad_month");
    fd_sim_opts_default(&o);
    o.factor_dynamics = FD_SIM_FACTORS_AR1;
    o.factor_persistence = 1.0;
    ASSERT(fd_simulate(&o, &d, &err) == -1);
    ASSERT_STR_EQ(err.code, "bad_sim_option");
    fd_sim_opts_default(&o);
    o.factor_mean_sd = -0.1;
    ASSERT(fd_simulate(&o, &d, &err) == -1);
    ASSERT_STR_EQ(err.code, "bad_sim_option");
    fd_sim_dynamics dyn;
    ASSERT(fd_sim_dynamics_parse("regimes", &dyn) == 0 && dyn == FD_SIM_FACTORS_REGIMES);
    ASSERT(fd_sim_dynamics_parse("garch", &dyn) == -1);
}

/* Lag-1 autocorrelation of factor k over the T months of d. */
static double factor_autocorr(const fd_sim_data *d, size_t T, size_t K, size_t k) {
    double mean = 0, num = 0, den = 0;
    for (size_t t = 0; t < T; t++) mean += d->factors[t * K + k] / (double)T;
    for (size_t t = 0; t < T; t++) {
        double e = d->factors[t * K + k] - mean;
        den += e * e;
        if (t) num += e * (d->factors[(t - 1) * K + k] - mean);
    }
    return num / den;
}

/* With persistent means, last month's factor predicts this month's: the lag-1
 * autocorrelation is phi tau^2 / (tau^2 + sd^2) = 0.95 * 0.5 = 0.475 at the defaults (for
 * regimes as for ar1), against 0 for i.i.d. factors. T = 600: the sampling sd of an
 * autocorrelation is about 1/sqrt(T) = 0.04, and more with persistence; bands of 0.15. The
 * true R^2 still meets its target. */
TEST(factor_dynamics_make_factors_predictable_from_their_past) {
    for (int dyn = 0; dyn <= FD_SIM_FACTORS_REGIMES; dyn++) {
        fd_sim_opts o;
        fd_sim_data d;
        fd_error err = {0};
        fd_sim_opts_default(&o);
        o.N = 100;
        o.T = 600;
        o.factor_dynamics = (fd_sim_dynamics)dyn;
        ASSERT(fd_simulate(&o, &d, &err) == 0);
        double want = dyn == FD_SIM_FACTORS_IID ? 0.0 : 0.475;
        for (size_t k = 0; k < o.K; k++) ASSERT_NEAR(factor_autocorr(&d, o.T, o.K, k), want, 0.15);
        ASSERT_NEAR(d.r2_true, o.r2, 0.06);
        fd_sim_data_free(&d);
    }
}

/* True model's total R^2 over months [from, to] (1-based month indices). */
static double true_r2(const fd_sim_data *d, size_t N, size_t from, size_t to) {
    double sse = 0, sst = 0;
    for (size_t t = from; t <= to; t++)
        for (size_t i = 0; i < N; i++) {
            double r = d->panels[t].ret[i], e = r - d->signal[(t - 1) * N + i];
            sse += e * e;
            sst += r * r;
        }
    return 1 - sse / sst;
}

TEST(ipca_reaches_true_r2_out_of_sample_on_linear_data) {
    fd_sim_opts o;
    fd_sim_data d;
    fd_dataset train, test;
    fd_dataset_opts dopts = {.add_constant = 1};
    fd_error err = {0};
    fd_model *m = NULL;
    fd_r2_sums oos;
    size_t n_train = 60;
    double truth;
    fd_sim_opts_default(&o);
    o.N = 400;
    o.T = 90;
    o.seed = 7;
    ASSERT(fd_simulate(&o, &d, &err) == 0);
    /* Months 0..60 give training periods 1..60; months 60..90 the test periods 61..90. */
    ASSERT(fd_dataset_from_panels(d.panels, n_train + 1, &dopts, &train, &err) == 0);
    ASSERT(fd_dataset_from_panels(d.panels + n_train, o.T - n_train + 1, &dopts, &test,
                                  &err) == 0);
    ASSERT_INT_EQ(test.T, 30);
    ASSERT(fd_model_create(&fd_model_ops_ipca, NULL, train.P, o.K, &m, &err) == 0);
    ASSERT(m->ops->fit(m, &train, NULL, NULL, &err) == 0);
    ASSERT(fd_r2_total(m, &test, NULL, &oos, &err) == 0);
    truth = true_r2(&d, o.N, n_train + 1, o.T);
    /* Factors are re-estimated per test month, so IPCA may beat the truth by about K/N of
     * the noise; a wrong Gamma would lose several points. */
    ASSERT_NEAR(fd_r2_value(oos.sse, oos.sst), truth, 0.02);
    fd_model_destroy(m);
    fd_dataset_free(&train);
    fd_dataset_free(&test);
    fd_sim_data_free(&d);
}

TEST_MAIN(T(same_seed_same_panels_other_seed_differs), T(shapes_months_ids_and_normalised_values),
          T(characteristics_are_persistent), T(true_r2_is_close_to_the_target_linear),
          T(true_r2_is_close_to_the_target_nonlinear), T(bad_options_are_400),
          T(ipca_reaches_true_r2_out_of_sample_on_linear_data),
          T(factor_dynamics_make_factors_predictable_from_their_past))
