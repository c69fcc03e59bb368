/* IPCA against the reference implementation's estimates on the fixture panel
 * (tests/fixtures/ipca, produced by bkelly-lab/ipca with iter_tol 1e-10), with SQUAREM (the
 * default) and with plain ALS steps, the two pinned to one fixed point there and on a
 * simulated panel where plain ALS needs a hundred steps; plus its identification
 * conventions, blob round trip, hyper-parameter checks and cancellation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/eval_r2.h"
#include "factord/models.h"
#include "factord/preprocess.h"
#include "factord/simulate.h"
#include "testlib.h"

/* A simulated panel whose ALS steps are big enough (22 MFLOP of GEMMs) for a team to share
 * them, with GKX's nonlinear betas (defined before L and K name the fixture's sizes). */
static void team_sized_sim(fd_sim_opts *o) {
    fd_sim_opts_default(o);
    o->N = 120, o->T = 200, o->P = 60, o->K = 5, o->nonlinear = 1;
}

#define FIX "tests/fixtures/ipca/"
#define L 9
#define K 3
#define NT 60
#define R2_TOTAL_RESTRICTED 0.40360267081697976
#define R2_PRED_RESTRICTED 0.0011208070946362447
#define R2_TOTAL_INTERCEPT 0.4037008459681649
#define R2_PRED_INTERCEPT 0.0012159860884665141

/* The fixture panel (id,t,ret,c1..c8,const) as a dataset of 60 periods; the rows already
 * hold z_{t-1} next to r_t, so they go in as they are (no renormalisation). */
static int load_fixture(fd_dataset *ds) {
    FILE *f = popen("gzip -dc " FIX "panel.csv.gz", "r");
    char line[1024];
    size_t cap = 20000, rows = 0;
    int *tt = malloc(cap * sizeof *tt);
    double *r = malloc(cap * sizeof *r), *z = malloc(cap * L * sizeof *z);
    fd_dataset_init(ds);
    if (!f || !tt || !r || !z || !fgets(line, sizeof line, f)) return -1;
    while (fgets(line, sizeof line, f) && rows < cap) {
        char *s = line, *end;
        strtol(s, &end, 10); /* id */
        tt[rows] = (int)strtol(end + 1, &end, 10);
        r[rows] = strtod(end + 1, &end);
        for (size_t j = 0; j < L; j++) z[rows * L + j] = strtod(end + 1, &end);
        rows++;
    }
    pclose(f);
    ds->T = NT;
    ds->P = L;
    ds->periods = calloc(NT, sizeof *ds->periods);
    ds->col_names = calloc(L, sizeof *ds->col_names);
    for (size_t j = 0; j < L; j++) {
        char name[16];
        snprintf(name, sizeof name, j < 8 ? "c%zu" : "const", j + 1);
        ds->col_names[j] = strdup(name);
    }
    for (size_t i = 0, t = 0; t < NT; t++) {
        fd_period *p = &ds->periods[t];
        size_t start = i;
        while (i < rows && tt[i] == (int)t + 1) i++;
        fd_month_add("2000-01", (int)t, p->month);
        p->n = i - start;
        p->ids = calloc(p->n, sizeof *p->ids);
        p->z = malloc(p->n * L * sizeof *p->z);
        p->r = malloc(p->n * sizeof *p->r);
        p->x = malloc(L * sizeof *p->x);
        for (size_t k = 0; k < p->n; k++) p->ids[k] = strdup("x");
        memcpy(p->z, z + start * L, p->n * L * sizeof *z);
        memcpy(p->r, r + start, p->n * sizeof *r);
        fd_preprocess_managed_portfolio(p->z, p->r, p->n, L, p->x, NULL, NULL);
    }
    free(tt);
    free(r);
    free(z);
    return rows == 16190 ? 0 : -1;
}

/* A reference CSV with a header line and a label column: rows x cols numbers. */
static int load_csv(const char *path, size_t rows, size_t cols, double *out) {
    FILE *f = fopen(path, "r");
    char line[4096];
    size_t r = 0;
    if (!f || !fgets(line, sizeof line, f)) return -1;
    while (r < rows && fgets(line, sizeof line, f)) {
        char *s = strchr(line, ','), *end;
        for (size_t c = 0; c < cols; c++) {
            out[r * cols + c] = strtod(s + 1, &end);
            s = end;
        }
        r++;
    }
    fclose(f);
    return r == rows ? 0 : -1;
}

static fd_dataset fixture_ds;
static int fixture_state; /* 0 not loaded, 1 loaded, -1 failed */

/* The fixture, loaded on first use (every test needs it; each test program is one process). */
static const fd_dataset *fx(void) {
    if (fixture_state == 0) fixture_state = load_fixture(&fixture_ds) == 0 ? 1 : -1;
    if (fixture_state < 0) tl_fail(__FILE__, __LINE__, "cannot load %spanel.csv.gz", FIX);
    return fixture_state > 0 ? &fixture_ds : NULL;
}

typedef struct progress_log {
    int events, cancel_at;
    double losses[64];
} progress_log;

static int on_progress(void *ctx, const fd_fit_event *ev) {
    progress_log *log = ctx;
    if (log->events < 64) log->losses[log->events] = ev->train_loss;
    log->events++;
    return log->cancel_at && ev->epoch >= log->cancel_at;
}

static fd_model *fit_ipca(const char *hyper_json, fd_error *err) {
    json_t *hyper = json_loads(hyper_json, 0, NULL);
    fd_model *m = NULL;
    if (!fx()) return NULL;
    if (fd_model_create(&fd_model_ops_ipca, hyper, L, K, &m, err) != 0 ||
        m->ops->fit(m, fx(), NULL, NULL, err) != 0) {
        fd_model_destroy(m);
        m = NULL;
    }
    json_decref(hyper);
    return m;
}

/* Gamma_beta (L, K) recovered through betas of the unit vectors. */
static void gamma_of(const fd_model *m, double *gb, double *ga) {
    double eye[L * L] = {0};
    for (size_t j = 0; j < L; j++) eye[j * L + j] = 1;
    fd_model_betas_rows(m, eye, L, gb, ga, NULL);
}

/* Factors, Gamma and both R^2 of one fit against the reference files. */
static void check_reference(const char *hyper, const char *gamma_csv, const char *factors_csv,
                            size_t cols, double r2_total, double r2_pred) {
    fd_error err = {0};
    fd_model *m = fit_ipca(hyper, &err);
    double gref[L * (K + 1)], fref[NT * (K + 1)], gb[L * K], ga[L], F[NT * K];
    double lambda[NT * K], mean[K] = {0};
    fd_r2_sums tot, pred;
    if (!m) {
        tl_fail(__FILE__, __LINE__, "fit: %s", err.message);
        return;
    }
    ASSERT(load_csv(gamma_csv, L, cols, gref) == 0);
    ASSERT(load_csv(factors_csv, NT, cols, fref) == 0);
    gamma_of(m, gb, ga);
    for (size_t l = 0; l < L; l++) {
        for (size_t k = 0; k < K; k++) ASSERT_NEAR(gb[l * K + k], gref[l * cols + k], 1e-6);
        ASSERT_NEAR(ga[l], cols > K ? gref[l * cols + K] : 0.0, 1e-6);
    }
    /* factors() is the cross-sectional regression with the fitted Gamma. */
    ASSERT(fd_r2_factor_series(m, fx(), F, &err) == 0);
    for (size_t t = 0; t < NT; t++)
        for (size_t k = 0; k < K; k++) ASSERT_NEAR(F[t * K + k], fref[t * cols + k], 1e-6);
    ASSERT(fd_r2_total(m, fx(), NULL, &tot, &err) == 0);
    ASSERT_NEAR(fd_r2_value(tot.sse, tot.sst), r2_total, 1e-8);
    for (size_t t = 0; t < NT; t++)
        for (size_t k = 0; k < K; k++) mean[k] += F[t * K + k] / NT;
    for (size_t t = 0; t < NT; t++) memcpy(lambda + t * K, mean, sizeof mean);
    ASSERT(fd_r2_pred(m, fx(), lambda, &pred, &err) == 0);
    ASSERT_NEAR(fd_r2_value(pred.sse, pred.sst), r2_pred, 1e-8);
    ASSERT_INT_EQ(tot.n_obs, 16190);
    fd_model_destroy(m);
}

TEST(restricted_reproduces_reference) {
    check_reference("{}", FIX "gamma_restricted.csv", FIX "factors_restricted.csv", K,
                    R2_TOTAL_RESTRICTED, R2_PRED_RESTRICTED);
}

TEST(intercept_reproduces_reference) {
    check_reference("{\"intercept\": true}", FIX "gamma_intercept.csv",
                    FIX "factors_intercept.csv", K + 1, R2_TOTAL_INTERCEPT, R2_PRED_INTERCEPT);
}

TEST(plain_als_reproduces_reference) {
    check_reference("{\"acceleration\": \"none\"}", FIX "gamma_restricted.csv",
                    FIX "factors_restricted.csv", K, R2_TOTAL_RESTRICTED, R2_PRED_RESTRICTED);
    check_reference("{\"acceleration\": \"none\", \"intercept\": true}",
                    FIX "gamma_intercept.csv", FIX "factors_intercept.csv", K + 1,
                    R2_TOTAL_INTERCEPT, R2_PRED_INTERCEPT);
}

/* Fits hyper on ds with K factors and `threads` threads: Gamma_beta (P, K) and Gamma_alpha
 * (P) through betas and alphas of the unit vectors, and the iterations the fit reported. */
static int fit_gamma(const fd_dataset *ds, size_t k, const char *hyper_json, int threads,
                     double *gb, double *ga, int *iterations) {
    json_t *hyper = json_loads(hyper_json, 0, NULL);
    fd_model *m = NULL;
    fd_error err = {0};
    progress_log log = {0};
    fd_fit_opts opts = {.progress = on_progress, .ctx = &log, .threads = threads};
    double *eye = calloc(ds->P * ds->P, sizeof *eye);
    int rc = -1;
    if (eye && fd_model_create(&fd_model_ops_ipca, hyper, ds->P, k, &m, &err) == 0 &&
        m->ops->fit(m, ds, NULL, &opts, &err) == 0) {
        for (size_t j = 0; j < ds->P; j++) eye[j * ds->P + j] = 1;
        rc = fd_model_betas_rows(m, eye, ds->P, gb, ga, &err);
    }
    *iterations = log.events;
    free(eye);
    fd_model_destroy(m);
    json_decref(hyper);
    return rc;
}

/* SQUAREM ends one plain step past a change below tol, as plain ALS does: the same Gamma to
 * 1e-8 (each is within tol / (1 - rate) of the fixed point), restricted and with an
 * intercept; with fewer steps on `slow`, a panel where plain ALS needs many. */
static void check_squarem_matches_plain(const fd_dataset *ds, size_t k, int slow) {
    static const char *pairs[][2] = {
        {"{\"acceleration\": \"none\"}", "{\"acceleration\": \"squarem\"}"},
        {"{\"acceleration\": \"none\", \"intercept\": true}", "{\"intercept\": true}"},
    };
    size_t P = ds->P;
    double *g = malloc(4 * P * (k + 1) * sizeof *g), *gb0 = g, *gb1 = g + P * k;
    double *ga0 = gb1 + P * k, *ga1 = ga0 + P;
    ASSERT(g != NULL);
    for (size_t c = 0; c < 2; c++) {
        int it0 = 0, it1 = 0;
        ASSERT(fit_gamma(ds, k, pairs[c][0], 1, gb0, ga0, &it0) == 0);
        ASSERT(fit_gamma(ds, k, pairs[c][1], 1, gb1, ga1, &it1) == 0);
        for (size_t i = 0; i < P * k; i++) ASSERT_NEAR(gb1[i], gb0[i], 1e-8);
        for (size_t i = 0; i < P; i++) ASSERT_NEAR(ga1[i], ga0[i], 1e-8);
        ASSERT(it1 <= it0);
        if (slow) ASSERT(it0 >= 100 && it1 * 2 < it0); /* 141 and 35 steps when written */
    }
    free(g);
}

TEST(squarem_and_plain_als_reach_the_same_gamma) {
    fd_sim_opts o;
    fd_sim_data sim;
    fd_dataset ds;
    fd_dataset_opts dopts = {0};
    fd_error err = {0};
    if (!fx()) return;
    check_squarem_matches_plain(fx(), K, 0);
    /* GKX's nonlinear betas fitted linearly: ALS converges slowly there. */
    fd_sim_opts_default(&o);
    o.nonlinear = 1;
    fd_dataset_init(&ds);
    ASSERT(fd_simulate(&o, &sim, &err) == 0);
    if (fd_dataset_from_panels(sim.panels, sim.n_panels, &dopts, &ds, &err) == 0)
        check_squarem_matches_plain(&ds, K, 1); /* K = 3 factors, as simulated by default */
    else
        tl_fail(__FILE__, __LINE__, "dataset: %s", err.message);
    fd_dataset_free(&ds);
    fd_sim_data_free(&sim);
}

/* A fit on a team of threads splits the moments by periods and, on a panel whose steps are
 * big enough, every step's work: the same plain ALS path to rounding (1e-10 after 30 steps)
 * and the same converged Gamma (1e-8). */
TEST(threaded_fits_match_the_serial_fit) {
    fd_sim_opts o;
    fd_sim_data sim;
    fd_dataset ds;
    fd_dataset_opts dopts = {0};
    fd_error err = {0};
    const char *hypers[] = {"{\"acceleration\": \"none\", \"max_iter\": 30}", "{}"};
    team_sized_sim(&o);
    fd_dataset_init(&ds);
    ASSERT(fd_simulate(&o, &sim, &err) == 0);
    ASSERT(fd_dataset_from_panels(sim.panels, sim.n_panels, &dopts, &ds, &err) == 0);
    for (size_t h = 0; h < 2; h++) {
        const fd_dataset *sets[] = {fx(), &ds};
        size_t ks[] = {K, 5};
        for (size_t d = 0; d < 2; d++) {
            size_t P = sets[d]->P, k = ks[d];
            double gb[2][60 * 5], ga[2][60];
            int it[2];
            ASSERT(fit_gamma(sets[d], k, hypers[h], 1, gb[0], ga[0], &it[0]) == 0);
            ASSERT(fit_gamma(sets[d], k, hypers[h], 2, gb[1], ga[1], &it[1]) == 0);
            for (size_t i = 0; i < P * k; i++) ASSERT_NEAR(gb[1][i], gb[0][i], h ? 1e-8 : 1e-10);
            if (h == 0) ASSERT_INT_EQ(it[1], it[0]);
        }
    }
    fd_dataset_free(&ds);
    fd_sim_data_free(&sim);
}

TEST(identification_conventions_hold) {
    fd_error err = {0};
    fd_model *m = fit_ipca("{\"intercept\": true}", &err);
    double gb[L * K], ga[L], F[NT * K];
    ASSERT(m != NULL);
    gamma_of(m, gb, ga);
    ASSERT(fd_r2_factor_series(m, fx(), F, &err) == 0);
    for (size_t a = 0; a < K; a++) {
        double mean = 0, orth = 0;
        for (size_t b = 0; b < K; b++) {
            double g = 0, ff = 0;
            for (size_t l = 0; l < L; l++) g += gb[l * K + a] * gb[l * K + b];
            for (size_t t = 0; t < NT; t++) ff += F[t * K + a] * F[t * K + b] / NT;
            ASSERT_NEAR(g, a == b ? 1.0 : 0.0, 1e-9); /* Gamma_beta' Gamma_beta = I */
            if (a != b) ASSERT_NEAR(ff, 0.0, 1e-7);   /* F F' / NT diagonal */
        }
        for (size_t t = 0; t < NT; t++) mean += F[t * K + a];
        ASSERT(mean > 0);
        for (size_t l = 0; l < L; l++) orth += gb[l * K + a] * ga[l];
        ASSERT_NEAR(orth, 0.0, 1e-9);
    }
    for (size_t a = 0; a + 1 < K; a++) {
        double va = 0, vb = 0;
        for (size_t t = 0; t < NT; t++) {
            va += F[t * K + a] * F[t * K + a];
            vb += F[t * K + a + 1] * F[t * K + a + 1];
        }
        ASSERT(va > vb); /* descending */
    }
    fd_model_destroy(m);
}

TEST(blob_round_trip_gives_same_betas) {
    fd_error err = {0};
    fd_model *m = fit_ipca("{\"intercept\": true}", &err), *back = NULL;
    json_t *hyper = json_pack("{s:b}", "intercept", 1), *other = json_object();
    void *blob = NULL;
    size_t len = 0;
    double b1[16 * K], b2[16 * K], a1[16], a2[16];
    const fd_period *p = &fx()->periods[7];
    ASSERT(m != NULL);
    ASSERT(m->ops->save(m, &blob, &len, &err) == 0);
    ASSERT(memcmp(blob, "FDIP", 4) == 0);
    ASSERT(fd_model_load(&fd_model_ops_ipca, hyper, L, K, blob, len, &back, &err) == 0);
    ASSERT(fd_model_betas_rows(m, p->z, 16, b1, a1, &err) == 0);
    ASSERT(fd_model_betas_rows(back, p->z, 16, b2, a2, &err) == 0);
    ASSERT(memcmp(b1, b2, sizeof b1) == 0);
    ASSERT(memcmp(a1, a2, sizeof a1) == 0);
    fd_model_destroy(back);
    back = NULL;
    /* Wrong dimensions, truncation, a flipped magic and an intercept mismatch all fail. */
    ASSERT(fd_model_load(&fd_model_ops_ipca, hyper, L, K + 1, blob, len, &back, &err) == -1);
    ASSERT_INT_EQ(err.status, 422);
    ASSERT(fd_model_load(&fd_model_ops_ipca, hyper, L, K, blob, len - 8, &back, &err) == -1);
    ASSERT(fd_model_load(&fd_model_ops_ipca, other, L, K, blob, len, &back, &err) == -1);
    ASSERT_STR_EQ(err.code, "bad_blob");
    ((char *)blob)[0] = 'X';
    ASSERT(fd_model_load(&fd_model_ops_ipca, hyper, L, K, blob, len, &back, &err) == -1);
    ASSERT(back == NULL);
    free(blob);
    json_decref(hyper);
    json_decref(other);
    fd_model_destroy(m);
}

TEST(bad_hyper_parameters_are_400) {
    static const char *bad[] = {"{\"intercpt\": true}", "{\"intercept\": 1}",
                                "{\"max_iter\": 0}", "{\"tol\": -1}", "[1]",
                                "{\"acceleration\": \"anderson\"}",
                                "{\"acceleration\": 1}"};
    fd_error err = {0};
    fd_model *m = NULL;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *h = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        ASSERT(fd_model_create(&fd_model_ops_ipca, h, L, K, &m, &err) == -1);
        ASSERT_INT_EQ(err.status, 400);
        ASSERT(m == NULL);
        json_decref(h);
    }
    ASSERT(fd_model_create(&fd_model_ops_ipca, NULL, L, L + 1, &m, &err) == -1);
    ASSERT_STR_EQ(err.code, "bad_k");
    ASSERT(fd_model_create(&fd_model_ops_ipca, NULL, L, 0, &m, &err) == -1);
}

TEST(progress_loss_never_increases) {
    /* ALS never raises its objective, and SQUAREM's safeguard keeps it so (a refused
     * extrapolation reports the plain iterate's loss); the MSE is that objective. */
    static const char *hypers[] = {"{\"acceleration\": \"none\"}", "{}",
                                   "{\"intercept\": true}"};
    for (size_t h = 0; h < 3; h++) {
        fd_error err = {0};
        fd_model *m = NULL;
        progress_log log = {0};
        fd_fit_opts opts = {.progress = on_progress, .ctx = &log};
        json_t *hyper = json_loads(hypers[h], 0, NULL);
        ASSERT(fd_model_create(&fd_model_ops_ipca, hyper, L, K, &m, &err) == 0);
        json_decref(hyper);
        ASSERT(m->ops->fit(m, fx(), NULL, &opts, &err) == 0);
        ASSERT(log.events >= 2);
        for (int i = 1; i < log.events && i < 64; i++)
            ASSERT(log.losses[i] <= log.losses[i - 1] * (1 + 1e-12));
        fd_model_destroy(m);
    }
}

TEST(cancel_stops_fit_with_409) {
    fd_error err = {0};
    fd_model *m = NULL;
    progress_log log = {0};
    fd_fit_opts opts = {.progress = on_progress, .ctx = &log};
    double beta[K];
    log.cancel_at = 2;
    ASSERT(fd_model_create(&fd_model_ops_ipca, NULL, L, K, &m, &err) == 0);
    ASSERT(m->ops->fit(m, fx(), NULL, &opts, &err) == -1);
    ASSERT_INT_EQ(err.status, 409);
    ASSERT_STR_EQ(err.code, "cancelled");
    ASSERT_INT_EQ(log.events, 2);
    ASSERT(fd_model_betas_rows(m, fx()->periods[0].z, 1, beta, NULL, &err) == -1); /* not fitted */
    fd_model_destroy(m);
}

TEST_MAIN(T(restricted_reproduces_reference), T(intercept_reproduces_reference),
          T(plain_als_reproduces_reference), T(squarem_and_plain_als_reach_the_same_gamma),
          T(threaded_fits_match_the_serial_fit),
          T(identification_conventions_hold), T(blob_round_trip_gives_same_betas),
          T(bad_hyper_parameters_are_400), T(progress_loss_never_increases),
          T(cancel_stops_fit_with_409))
