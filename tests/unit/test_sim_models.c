/* Model comparison on simulated Gu-Kelly-Xiu panels (issue 3, part 5): out of sample, the
 * conditional autoencoders CA1/CA2 beat IPCA when the true betas are nonlinear in the
 * characteristics, and IPCA is at least as good as them (within a small tolerance) and close
 * to the true model when the betas are linear. Train on months 1..60, validate (early
 * stopping) on 61..80, test on 81..120; total R^2 on the test months with each model's own
 * factor realisations. Sizes keep the whole program to a few seconds. */
#include <math.h>
#include <stdlib.h>

#include "factord/dataset.h"
#include "factord/eval_r2.h"
#include "factord/models.h"
#include "factord/simulate.h"
#include "testlib.h"

#define N_SEC 600
#define N_MONTHS 120
#define N_TRAIN 60
#define N_VALID 20
#define CA_HYPER "{\"seed\": 1, \"lr\": 0.01, \"epochs\": 200, \"patience\": 20, \"l1\": 0}"

typedef struct split {
    fd_sim_data sim;
    fd_dataset train, valid, test;
    double true_r2; /* true model's total R^2 on the test months */
} split;

static int make_split(split *s, int nonlinear, fd_error *err) {
    fd_sim_opts o;
    fd_dataset_opts dopts = {0};
    double sse = 0, sst = 0;
    fd_sim_opts_default(&o);
    o.N = N_SEC;
    o.T = N_MONTHS;
    o.nonlinear = nonlinear;
    if (fd_simulate(&o, &s->sim, err) != 0) return -1;
    if (fd_dataset_from_panels(s->sim.panels, N_TRAIN + 1, &dopts, &s->train, err) != 0 ||
        fd_dataset_from_panels(s->sim.panels + N_TRAIN, N_VALID + 1, &dopts, &s->valid, err) ||
        fd_dataset_from_panels(s->sim.panels + N_TRAIN + N_VALID, N_MONTHS - N_TRAIN - N_VALID + 1,
                               &dopts, &s->test, err) != 0)
        return -1;
    for (size_t t = N_TRAIN + N_VALID + 1; t <= N_MONTHS; t++)
        for (size_t i = 0; i < N_SEC; i++) {
            double r = s->sim.panels[t].ret[i], e = r - s->sim.signal[(t - 1) * N_SEC + i];
            sse += e * e;
            sst += r * r;
        }
    s->true_r2 = 1 - sse / sst;
    return 0;
}

static void free_split(split *s) {
    fd_dataset_free(&s->train);
    fd_dataset_free(&s->valid);
    fd_dataset_free(&s->test);
    fd_sim_data_free(&s->sim);
}

/* Out-of-sample total R^2 of one kind fitted on the split; NaN on failure. */
static double oos_r2(const split *s, const char *kind, const char *hyper_json) {
    const fd_model_ops *ops = fd_model_kind(kind);
    json_t *hyper = json_loads(hyper_json, 0, NULL);
    fd_model *m = NULL;
    fd_error err = {0};
    fd_r2_sums sums;
    double r2 = NAN;
    if (ops && fd_model_create(ops, hyper, s->train.P, 3, &m, &err) == 0 &&
        m->ops->fit(m, &s->train, &s->valid, NULL, &err) == 0 &&
        fd_r2_total(m, &s->test, NULL, &sums, &err) == 0)
        r2 = fd_r2_value(sums.sse, sums.sst);
    else
        printf("%s: %s\n", kind, ops ? err.message : "unknown kind");
    fd_model_destroy(m);
    json_decref(hyper);
    return r2;
}

TEST(nonlinear_betas_ca1_and_ca2_beat_ipca) {
    split s = {0};
    fd_error err = {0};
    double ipca, ca1, ca2;
    ASSERT(make_split(&s, 1, &err) == 0);
    ipca = oos_r2(&s, "ipca", "{}");
    ca1 = oos_r2(&s, "ca1", CA_HYPER);
    ca2 = oos_r2(&s, "ca2", CA_HYPER);
    printf("nonlinear: true %.4f ipca %.4f ca1 %.4f ca2 %.4f\n", s.true_r2, ipca, ca1, ca2);
    ASSERT(ca1 > ipca);
    ASSERT(ca2 > ipca);
    ASSERT(ca1 <= s.true_r2 + 0.02 && ca2 <= s.true_r2 + 0.02);
    free_split(&s);
}

TEST(linear_betas_ipca_at_least_as_good_and_near_truth) {
    split s = {0};
    fd_error err = {0};
    double ipca, ca1, ca2;
    ASSERT(make_split(&s, 0, &err) == 0);
    ipca = oos_r2(&s, "ipca", "{}");
    ca1 = oos_r2(&s, "ca1", CA_HYPER);
    ca2 = oos_r2(&s, "ca2", CA_HYPER);
    printf("linear: true %.4f ipca %.4f ca1 %.4f ca2 %.4f\n", s.true_r2, ipca, ca1, ca2);
    ASSERT(ipca >= ca1 - 0.005);
    ASSERT(ipca >= ca2 - 0.005);
    ASSERT_NEAR(ipca, s.true_r2, 0.02);
    ASSERT_NEAR(ca1, s.true_r2, 0.03);
    free_split(&s);
}

TEST_MAIN(T(nonlinear_betas_ca1_and_ca2_beat_ipca),
          T(linear_betas_ipca_at_least_as_good_and_near_truth))
