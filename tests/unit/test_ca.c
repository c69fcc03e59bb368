/* Conditional autoencoders through the fd_model interface: hyper-parameter validation,
 * determinism, learning on a synthetic panel, early stopping, save/load, cancellation.
 *
 * The synthetic panel follows the CA's own model: r_{i,t} = beta(z_{i,t-1})' f_t + noise with
 * a nonlinear beta of five uniform characteristics, two factors, 60-90 securities a month,
 * and managed portfolios x_t = (Z'Z)^{-1} Z' r_t from the preprocessing module. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/dataset.h"
#include "factord/models.h"
#include "factord/preprocess.h"
#include "factord/rng.h"
#include "testlib.h"

enum { P = 5, K = 2 };

static void true_beta(const double *z, double *beta) {
    beta[0] = 1.0 + z[0] + 0.8 * z[1] * z[1];
    beta[1] = tanh(2.0 * z[2]) - 0.5 * z[3];
}

/* T periods drawn with the given seed; 0 on success. */
static int make_dataset(fd_dataset *ds, size_t T, uint64_t seed) {
    fd_rng rng;
    fd_rng_seed(&rng, seed);
    fd_dataset_init(ds);
    ds->periods = calloc(T, sizeof *ds->periods);
    if (!ds->periods) return -1;
    ds->T = T;
    ds->P = P;
    for (size_t t = 0; t < T; t++) {
        fd_period *p = &ds->periods[t];
        size_t n = 60 + (size_t)fd_rng_below(&rng, 31);
        double f[K] = {0.05 * fd_rng_normal(&rng), 0.05 * fd_rng_normal(&rng)};
        snprintf(p->month, sizeof p->month, "%04d-%02d", (int)((2000 + t / 12) % 10000),
                 (int)(1 + t % 12));
        p->n = n;
        p->z = malloc(n * P * sizeof *p->z);
        p->r = malloc(n * sizeof *p->r);
        p->x = malloc(P * sizeof *p->x);
        if (!p->z || !p->r || !p->x) return -1;
        for (size_t i = 0; i < n; i++) {
            double *z = p->z + i * P, b[K];
            for (size_t j = 0; j < P; j++) z[j] = 2.0 * fd_rng_uniform(&rng) - 1.0;
            true_beta(z, b);
            p->r[i] = b[0] * f[0] + b[1] * f[1] + 0.02 * fd_rng_normal(&rng);
        }
        if (fd_preprocess_managed_portfolio(p->z, p->r, n, P, p->x, NULL, NULL) != 0) return -1;
    }
    return 0;
}

typedef struct losses {
    int epochs, cancel_at;
    double train[200], valid[200];
} losses;

static int record(void *ctx, const fd_fit_event *ev) {
    losses *l = ctx;
    if (ev->member == 0 && ev->epoch <= 200) {
        l->train[ev->epoch - 1] = ev->train_loss;
        l->valid[ev->epoch - 1] = ev->valid_loss;
        l->epochs = ev->epoch;
    }
    return l->cancel_at && ev->epoch >= l->cancel_at;
}

static fd_model *fitted_with_threads(const fd_model_ops *ops, const char *hyper_text,
                                     const fd_dataset *train, const fd_dataset *valid,
                                     losses *l, int threads, fd_error *err) {
    json_t *hyper = json_loads(hyper_text, 0, NULL);
    fd_model *m = NULL;
    fd_fit_opts opts = {.progress = record, .ctx = l, .threads = threads};
    if (fd_model_create(ops, hyper, P, K, &m, err) == 0 && ops->fit(m, train, valid, &opts, err) != 0) {
        fd_model_destroy(m);
        m = NULL;
    }
    json_decref(hyper);
    return m;
}

static fd_model *fitted(const fd_model_ops *ops, const char *hyper_text, const fd_dataset *train,
                        const fd_dataset *valid, losses *l, fd_error *err) {
    return fitted_with_threads(ops, hyper_text, train, valid, l, 1, err);
}

/* Mean squared error of beta' f over every row of ds, through the public interface. */
static double model_mse(const fd_model *m, const fd_dataset *ds) {
    double sum = 0.0, f[K], beta[100 * K];
    size_t rows = 0;
    for (size_t t = 0; t < ds->T; t++) {
        const fd_period *p = &ds->periods[t];
        if (fd_model_betas_rows(m, p->z, p->n, beta, NULL, NULL) || fd_model_factors(m, p, f, NULL))
            return NAN;
        for (size_t i = 0; i < p->n; i++) {
            double e = beta[i * K] * f[0] + beta[i * K + 1] * f[1] - p->r[i];
            sum += e * e;
        }
        rows += p->n;
    }
    return sum / (double)rows;
}

static double mean_square_return(const fd_dataset *ds) {
    double sum = 0.0;
    size_t rows = 0;
    for (size_t t = 0; t < ds->T; t++)
        for (size_t i = 0; i < ds->periods[t].n; i++, rows++)
            sum += ds->periods[t].r[i] * ds->periods[t].r[i];
    return sum / (double)rows;
}

static fd_dataset train_ds, valid_ds;

TEST(hyper_parameters_are_validated) {
    static const struct { const char *hyper, *code, *names; } bad[] = {
        {"{\"learning_rate\": 0.01}", "unknown_hyper", "learning_rate"},
        {"{\"lr\": -1}", "bad_hyper", "hyper.lr"},
        {"{\"lr\": \"fast\"}", "bad_hyper", "hyper.lr"},
        {"{\"epochs\": 0}", "bad_hyper", "hyper.epochs"},
        {"{\"epochs\": 2.5}", "bad_hyper", "hyper.epochs"},
        {"{\"ensemble\": 0}", "bad_hyper", "hyper.ensemble"},
        {"{\"dropout\": 1}", "bad_hyper", "hyper.dropout"},
        {"{\"loss\": \"l1\"}", "bad_hyper", "hyper.loss"},
        {"{\"huber_delta\": 0}", "bad_hyper", "hyper.huber_delta"},
        {"{\"precision\": \"float16\"}", "bad_hyper", "hyper.precision"},
        {"{\"precision\": 64}", "bad_hyper", "hyper.precision"},
        {"[1, 2]", "bad_hyper", "hyper"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *hyper = json_loads(bad[i].hyper, JSON_DECODE_ANY, NULL);
        fd_model *m = NULL;
        fd_error err = {0};
        int rc = fd_model_create(&fd_model_ops_ca1, hyper, P, K, &m, &err);
        json_decref(hyper);
        ASSERT_INT_EQ(rc, -1);
        ASSERT(m == NULL);
        ASSERT_INT_EQ(err.status, 400);
        ASSERT_STR_EQ(err.code, bad[i].code);
        ASSERT(strstr(err.message, bad[i].names) != NULL);
    }
    fd_model *m = NULL;
    ASSERT_INT_EQ(fd_model_create(&fd_model_ops_ca3, NULL, P, K, &m, NULL), 0); /* all defaults */
    ASSERT_STR_EQ(m->ops->kind, "ca3");
    fd_model_destroy(m);
}

TEST(an_unfitted_model_refuses_betas) {
    fd_model *m = NULL;
    fd_error err = {0};
    double beta[K];
    ASSERT_INT_EQ(fd_model_create(&fd_model_ops_ca1, NULL, P, K, &m, &err), 0);
    ASSERT_INT_EQ(fd_model_betas_rows(m, train_ds.periods[0].z, 1, beta, NULL, &err), -1);
    ASSERT_INT_EQ(err.status, 409);
    fd_model_destroy(m);
}

TEST(training_reduces_the_loss_and_explains_returns) {
    losses l = {0};
    fd_error err = {0};
    fd_model *m = fitted(&fd_model_ops_ca2, "{\"epochs\": 40, \"lr\": 0.01, \"seed\": 3}",
                         &train_ds, &valid_ds, &l, &err);
    ASSERT(m != NULL);
    ASSERT(l.epochs >= 5);
    ASSERT(l.train[l.epochs - 1] < 0.5 * l.train[0]);
    double best = INFINITY;
    for (int e = 0; e < l.epochs; e++) best = fmin(best, l.valid[e]);
    ASSERT(best < l.valid[0]);
    /* Out of sample, beta' f explains most of the return variation (noise is ~10%). */
    double mse = model_mse(m, &valid_ds), ms = mean_square_return(&valid_ds);
    if (!(mse < 0.5 * ms)) tl_fail(__FILE__, __LINE__, "valid MSE %g vs mean r^2 %g", mse, ms);
    fd_model_destroy(m);
}

/* The restored weights reproduce the best epoch's validation loss, whichever epoch training
 * stopped at: exactly (up to summation order) when training ran in double; to float's
 * precision (the validation loss was computed in float, model_mse in double) otherwise. */
static void check_early_stopping(const char *precision, double rel_tol) {
    char hyper[160];
    losses l = {0};
    snprintf(hyper, sizeof hyper,
             "{\"epochs\": 60, \"lr\": 0.05, \"patience\": 3, \"l1\": 0, "
             "\"precision\": \"%s\"}", precision);
    fd_model *m = fitted(&fd_model_ops_ca1, hyper, &train_ds, &valid_ds, &l, NULL);
    ASSERT(m != NULL);
    ASSERT(l.epochs < 60); /* it did stop early */
    double best = INFINITY;
    for (int e = 0; e < l.epochs; e++) best = fmin(best, l.valid[e]);
    ASSERT_NEAR(model_mse(m, &valid_ds), best, rel_tol * best);
    fd_model_destroy(m);
}

TEST(early_stopping_restores_the_best_validation_epoch) {
    check_early_stopping("float64", 1e-12);
    check_early_stopping("float32", 1e-5);
}

/* Same initial weights, same batches: after a few epochs the float run's losses stay within
 * float rounding of the double run's (1e-4 relative: the trajectories drift apart slowly as
 * rounding differences feed back through Adam). */
TEST(float32_training_tracks_float64) {
    losses lf = {0}, ld = {0};
    const char *base = "{\"epochs\": 5, \"lr\": 0.01, \"seed\": 4, \"precision\": ";
    char hf[128], hd[128];
    snprintf(hf, sizeof hf, "%s\"float32\"}", base);
    snprintf(hd, sizeof hd, "%s\"float64\"}", base);
    fd_model *mf = fitted(&fd_model_ops_ca2, hf, &train_ds, &valid_ds, &lf, NULL);
    fd_model *md = fitted(&fd_model_ops_ca2, hd, &train_ds, &valid_ds, &ld, NULL);
    ASSERT(mf && md);
    ASSERT_INT_EQ(lf.epochs, ld.epochs);
    for (int e = 0; e < ld.epochs; e++) {
        ASSERT_NEAR(lf.train[e], ld.train[e], 1e-4 * ld.train[e]);
        ASSERT_NEAR(lf.valid[e], ld.valid[e], 1e-4 * ld.valid[e]);
    }
    fd_model_destroy(mf);
    fd_model_destroy(md);
}

/* A fit split across a team of threads learns the same model as the serial fit, up to the
 * order in which the workers' sums are added (1e-4 relative on every epoch's losses in
 * float, which rounding feedback through Adam stays well inside over 8 epochs), and is
 * itself deterministic for a given thread count. */
TEST(threaded_fits_track_the_serial_fit_and_repeat_exactly) {
    const char *hyper = "{\"epochs\": 8, \"lr\": 0.01, \"seed\": 5, \"dropout\": 0.1}";
    losses l1 = {0}, l3 = {0}, l3b = {0};
    fd_model *a = fitted_with_threads(&fd_model_ops_ca2, hyper, &train_ds, &valid_ds, &l1, 1,
                                      NULL);
    fd_model *b = fitted_with_threads(&fd_model_ops_ca2, hyper, &train_ds, &valid_ds, &l3, 3,
                                      NULL);
    fd_model *c = fitted_with_threads(&fd_model_ops_ca2, hyper, &train_ds, &valid_ds, &l3b, 3,
                                      NULL);
    ASSERT(a && b && c);
    ASSERT_INT_EQ(l3.epochs, l1.epochs);
    for (int e = 0; e < l1.epochs; e++) {
        ASSERT_NEAR(l3.train[e], l1.train[e], 1e-4 * l1.train[e]);
        ASSERT_NEAR(l3.valid[e], l1.valid[e], 1e-4 * l1.valid[e]);
        ASSERT(l3.train[e] == l3b.train[e] && l3.valid[e] == l3b.valid[e]);
    }
    const fd_period *p = &valid_ds.periods[0];
    double bb[100 * K], bc[100 * K];
    ASSERT_INT_EQ(fd_model_betas_rows(b, p->z, p->n, bb, NULL, NULL), 0);
    ASSERT_INT_EQ(fd_model_betas_rows(c, p->z, p->n, bc, NULL, NULL), 0);
    ASSERT(memcmp(bb, bc, p->n * K * sizeof *bb) == 0);
    fd_model_destroy(a);
    fd_model_destroy(b);
    fd_model_destroy(c);
}

TEST(the_same_seed_gives_the_same_model) {
    const char *hyper = "{\"epochs\": 4, \"seed\": 11, \"dropout\": 0.1, \"batch_months\": 3}";
    fd_model *a = fitted(&fd_model_ops_ca2, hyper, &train_ds, &valid_ds, &(losses){0}, NULL);
    fd_model *b = fitted(&fd_model_ops_ca2, hyper, &train_ds, &valid_ds, &(losses){0}, NULL);
    fd_model *c = fitted(&fd_model_ops_ca2, "{\"epochs\": 4, \"seed\": 12, \"dropout\": 0.1, "
                         "\"batch_months\": 3}", &train_ds, &valid_ds, &(losses){0}, NULL);
    ASSERT(a && b && c);
    const fd_period *p = &valid_ds.periods[0];
    double ba[100 * K], bb[100 * K], bc[100 * K], fa[K], fb[K];
    ASSERT_INT_EQ(fd_model_betas_rows(a, p->z, p->n, ba, NULL, NULL), 0);
    ASSERT_INT_EQ(fd_model_betas_rows(b, p->z, p->n, bb, NULL, NULL), 0);
    ASSERT_INT_EQ(fd_model_betas_rows(c, p->z, p->n, bc, NULL, NULL), 0);
    ASSERT_INT_EQ(fd_model_factors(a, p, fa, NULL), 0);
    ASSERT_INT_EQ(fd_model_factors(b, p, fb, NULL), 0);
    ASSERT(memcmp(ba, bb, p->n * K * sizeof *ba) == 0);
    ASSERT(memcmp(fa, fb, sizeof fa) == 0);
    ASSERT(memcmp(ba, bc, p->n * K * sizeof *ba) != 0); /* and the seed matters */
    fd_model_destroy(a);
    fd_model_destroy(b);
    fd_model_destroy(c);
}

TEST(save_then_load_gives_identical_betas_and_factors) {
    const char *text = "{\"epochs\": 3, \"ensemble\": 2}";
    fd_model *m = fitted(&fd_model_ops_ca3, text, &train_ds, NULL, &(losses){0}, NULL);
    ASSERT(m != NULL);
    void *blob = NULL;
    size_t len = 0;
    fd_model *back = NULL, *wrong = NULL;
    fd_error err = {0};
    json_t *hyper = json_loads(text, 0, NULL);
    ASSERT_INT_EQ(m->ops->save(m, &blob, &len, &err), 0);
    ASSERT(len > 48 && memcmp(blob, "FDCA", 4) == 0);
    ASSERT_INT_EQ(fd_model_load(&fd_model_ops_ca3, hyper, P, K, blob, len, &back, &err), 0);
    const fd_period *p = &valid_ds.periods[1];
    double b1[100 * K], b2[100 * K], f1[K], f2[K];
    ASSERT_INT_EQ(fd_model_betas_rows(m, p->z, p->n, b1, NULL, NULL), 0);
    ASSERT_INT_EQ(fd_model_betas_rows(back, p->z, p->n, b2, NULL, NULL), 0);
    ASSERT_INT_EQ(fd_model_factors(m, p, f1, NULL), 0);
    ASSERT_INT_EQ(fd_model_factors(back, p, f2, NULL), 0);
    ASSERT(memcmp(b1, b2, p->n * K * sizeof *b1) == 0);
    ASSERT(memcmp(f1, f2, sizeof f1) == 0);
    /* A blob for another network, or cut short, is refused. */
    ASSERT_INT_EQ(fd_model_load(&fd_model_ops_ca2, hyper, P, K, blob, len, &wrong, &err), -1);
    ASSERT_INT_EQ(err.status, 422);
    ASSERT_INT_EQ(fd_model_load(&fd_model_ops_ca3, hyper, P, K, blob, len - 8, &wrong, &err), -1);
    ASSERT_INT_EQ(fd_model_load(&fd_model_ops_ca3, NULL, P, K, blob, len, &wrong, &err), -1); /* 1 member */
    ASSERT(wrong == NULL);
    json_decref(hyper);
    free(blob);
    fd_model_destroy(back);
    fd_model_destroy(m);
}

TEST(an_ensemble_average_keeps_the_fit) {
    /* Members' factors are identified only up to rotation; averaging works because members
     * are aligned first. */
    losses l = {0};
    fd_model *m = fitted(&fd_model_ops_ca1, "{\"epochs\": 40, \"lr\": 0.01, \"ensemble\": 3}",
                         &train_ds, &valid_ds, &l, NULL);
    ASSERT(m != NULL);
    double mse = model_mse(m, &valid_ds), ms = mean_square_return(&valid_ds);
    if (!(mse < 0.5 * ms)) tl_fail(__FILE__, __LINE__, "valid MSE %g vs mean r^2 %g", mse, ms);
    fd_model_destroy(m);
}

TEST(huber_loss_trains_too) {
    losses l = {0};
    fd_model *m = fitted(&fd_model_ops_ca0,
                         "{\"epochs\": 20, \"lr\": 0.01, \"loss\": \"huber\", "
                         "\"huber_delta\": 0.05}", &train_ds, &valid_ds, &l, NULL);
    ASSERT(m != NULL);
    ASSERT(l.train[l.epochs - 1] < 0.7 * l.train[0]);
    fd_model_destroy(m);
}

TEST(cancelling_from_progress_fails_with_409) {
    losses l = {.cancel_at = 2};
    fd_error err = {0};
    fd_model *m = NULL;
    ASSERT_INT_EQ(fd_model_create(&fd_model_ops_ca1, NULL, P, K, &m, &err), 0);
    fd_fit_opts opts = {.progress = record, .ctx = &l};
    ASSERT_INT_EQ(m->ops->fit(m, &train_ds, &valid_ds, &opts, &err), -1);
    ASSERT_INT_EQ(err.status, 409);
    ASSERT_STR_EQ(err.code, "cancelled");
    ASSERT_INT_EQ(l.epochs, 2);
    double beta[K];
    ASSERT_INT_EQ(fd_model_betas_rows(m, train_ds.periods[0].z, 1, beta, NULL, NULL), -1);
    fd_model_destroy(m);
}

TEST(a_dataset_of_the_wrong_width_is_refused) {
    fd_model *m = NULL;
    fd_error err = {0};
    ASSERT_INT_EQ(fd_model_create(&fd_model_ops_ca1, NULL, P + 1, K, &m, &err), 0);
    ASSERT_INT_EQ(m->ops->fit(m, &train_ds, NULL, NULL, &err), -1);
    ASSERT_INT_EQ(err.status, 422);
    ASSERT_STR_EQ(err.code, "dataset_mismatch");
    fd_model_destroy(m);
}

static int setup(void) {
    return make_dataset(&train_ds, 48, 1) == 0 && make_dataset(&valid_ds, 12, 2) == 0;
}

int main(int argc, char **argv) {
    static const tl_case cases[] = {
        T(hyper_parameters_are_validated),
        T(an_unfitted_model_refuses_betas),
        T(training_reduces_the_loss_and_explains_returns),
        T(early_stopping_restores_the_best_validation_epoch),
        T(float32_training_tracks_float64),
        T(threaded_fits_track_the_serial_fit_and_repeat_exactly),
        T(the_same_seed_gives_the_same_model),
        T(save_then_load_gives_identical_betas_and_factors),
        T(an_ensemble_average_keeps_the_fit),
        T(huber_loss_trains_too),
        T(cancelling_from_progress_fails_with_409),
        T(a_dataset_of_the_wrong_width_is_refused),
        {NULL, NULL},
    };
    int rc;
    if (!setup()) {
        printf("FAIL setup: could not build the synthetic panel\n");
        return 1;
    }
    rc = tl_run(cases, argc, argv);
    fd_dataset_free(&train_ds);
    fd_dataset_free(&valid_ds);
    return rc;
}
