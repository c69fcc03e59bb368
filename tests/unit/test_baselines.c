/* The pca and ols3 baseline kinds and the kind registry. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/dataset.h"
#include "factord/eval_r2.h"
#include "factord/models.h"
#include "factord/simulate.h"
#include "testlib.h"

/* A small simulated dataset (linear betas, P = 6 characteristics named c1..c6). */
static int small_dataset(fd_dataset *ds, size_t T) {
    fd_sim_opts o;
    fd_sim_data d;
    fd_error err = {0};
    int rc;
    fd_sim_opts_default(&o);
    o.N = 150;
    o.T = T;
    o.P = 6;
    if (fd_simulate(&o, &d, &err) != 0) return -1;
    rc = fd_dataset_from_panels(d.panels, d.n_panels, NULL, ds, &err);
    fd_sim_data_free(&d);
    return rc;
}

static fd_model *create(const char *kind, const char *hyper_json, size_t P, size_t K,
                        fd_error *err) {
    json_t *hyper = hyper_json ? json_loads(hyper_json, 0, NULL) : NULL;
    fd_model *m = NULL;
    fd_model_create(fd_model_kind(kind), hyper, P, K, &m, err);
    json_decref(hyper);
    return m;
}

TEST(registry_knows_every_kind) {
    static const char *const kinds[] = {"ols3", "pca", "ipca", "ca0", "ca1", "ca2", "ca3"};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        ASSERT(fd_model_kind(kinds[i]) != NULL);
        ASSERT_STR_EQ(fd_model_kind(kinds[i])->kind, kinds[i]);
        ASSERT(strstr(fd_model_kind_names(), kinds[i]) != NULL);
    }
    ASSERT(fd_model_kind("ipca2") == NULL);
    ASSERT(fd_model_kind(NULL) == NULL);
}

TEST(ols3_recovers_coefficients_by_column_name) {
    fd_dataset ds;
    fd_error err = {0};
    fd_model *m;
    double beta[4], f, alpha[4];
    ASSERT(small_dataset(&ds, 10) == 0);
    /* r = 0.01 + 0.02 c2 - 0.03 c4 + 0.04 c6 exactly. */
    for (size_t t = 0; t < ds.T; t++)
        for (size_t i = 0; i < ds.periods[t].n; i++) {
            const double *z = ds.periods[t].z + i * ds.P;
            ds.periods[t].r[i] = 0.01 + 0.02 * z[1] - 0.03 * z[3] + 0.04 * z[5];
        }
    m = create("ols3", "{\"columns\": [\"c2\", \"c4\", 5]}", ds.P, 1, &err);
    ASSERT(m != NULL);
    ASSERT(m->ops->fit(m, &ds, NULL, NULL, &err) == 0);
    ASSERT(fd_model_betas_rows(m, ds.periods[3].z, 4, beta, alpha, &err) == 0);
    for (size_t i = 0; i < 4; i++) ASSERT_NEAR(beta[i], ds.periods[3].r[i], 1e-12);
    ASSERT(fd_model_factors(m, &ds.periods[3], &f, &err) == 0);
    ASSERT_NEAR(f, 1.0, 0);
    ASSERT_NEAR(alpha[2], 0.0, 0);
    fd_model_destroy(m);
    fd_dataset_free(&ds);
}

TEST(ols3_rejects_bad_k_columns_and_names) {
    fd_dataset ds;
    fd_error err = {0};
    fd_model *m;
    ASSERT(create("ols3", NULL, 6, 2, &err) == NULL);
    ASSERT_STR_EQ(err.code, "bad_k");
    ASSERT(create("ols3", "{\"columns\": [0, 1]}", 6, 1, &err) == NULL);
    ASSERT_INT_EQ(err.status, 400);
    ASSERT(create("ols3", "{\"columns\": [0, 1, 6]}", 6, 1, &err) == NULL);
    ASSERT(create("ols3", "{\"cols\": [0, 1, 2]}", 6, 1, &err) == NULL);
    ASSERT(create("ols3", NULL, 2, 1, &err) == NULL); /* the default needs three columns */
    ASSERT(small_dataset(&ds, 4) == 0);
    m = create("ols3", "{\"columns\": [\"size\", \"c1\", \"c2\"]}", ds.P, 1, &err);
    ASSERT(m != NULL);
    ASSERT(m->ops->fit(m, &ds, NULL, NULL, &err) == -1);
    ASSERT_STR_EQ(err.code, "unknown_column");
    fd_model_destroy(m);
    fd_dataset_free(&ds);
}

TEST(ols3_blob_round_trip) {
    fd_dataset ds;
    fd_error err = {0};
    fd_model *m, *back = NULL;
    void *blob;
    size_t len;
    double b1[8], b2[8];
    ASSERT(small_dataset(&ds, 6) == 0);
    m = create("ols3", "{\"columns\": [\"c3\", \"c1\", \"c2\"]}", ds.P, 1, &err);
    ASSERT(m->ops->fit(m, &ds, NULL, NULL, &err) == 0);
    ASSERT(m->ops->save(m, &blob, &len, &err) == 0);
    /* Loading needs no dataset: the blob carries the resolved column indices. */
    ASSERT(fd_model_load(&fd_model_ops_ols3, NULL, ds.P, 1, blob, len, &back, &err) == 0);
    ASSERT(fd_model_betas_rows(m, ds.periods[0].z, 8, b1, NULL, &err) == 0);
    ASSERT(fd_model_betas_rows(back, ds.periods[0].z, 8, b2, NULL, &err) == 0);
    ASSERT(memcmp(b1, b2, sizeof b1) == 0);
    fd_model_destroy(back);
    back = NULL;
    ASSERT(fd_model_load(&fd_model_ops_ols3, NULL, ds.P + 1, 1, blob, len, &back, &err) == -1);
    ASSERT_STR_EQ(err.code, "bad_blob");
    free(blob);
    fd_model_destroy(m);
    fd_dataset_free(&ds);
}

TEST(pca_loadings_are_eigenvectors_of_portfolio_second_moments) {
    enum { K = 2 };
    fd_dataset ds;
    fd_error err = {0};
    fd_model *m;
    size_t P;
    double *S, *G, *F;
    ASSERT(small_dataset(&ds, 30) == 0);
    P = ds.P;
    m = create("pca", "{}", P, K, &err);
    ASSERT(m != NULL);
    ASSERT(m->ops->fit(m, &ds, NULL, NULL, &err) == 0);
    S = calloc(P * P, sizeof *S);
    G = calloc(P * P, sizeof *G);
    F = calloc(ds.T * K, sizeof *F);
    for (size_t t = 0; t < ds.T; t++)
        for (size_t a = 0; a < P; a++)
            for (size_t b = 0; b < P; b++) S[a * P + b] += ds.periods[t].x[a] * ds.periods[t].x[b];
    {
        double eye[64] = {0};
        for (size_t j = 0; j < P; j++) eye[j * P + j] = 1;
        ASSERT(fd_model_betas_rows(m, eye, P, G, NULL, &err) == 0); /* rows of Gamma (P, K) */
    }
    /* S g_k = lambda_k g_k, lambda_1 >= lambda_2, unit and orthogonal columns. */
    {
        double lam[K];
        for (size_t k = 0; k < K; k++) {
            double sg[64], num = 0;
            for (size_t a = 0; a < P; a++) {
                sg[a] = 0;
                for (size_t b = 0; b < P; b++) sg[a] += S[a * P + b] * G[b * K + k];
                num += sg[a] * G[a * K + k];
            }
            lam[k] = num;
            for (size_t a = 0; a < P; a++) ASSERT_NEAR(sg[a], lam[k] * G[a * K + k], 1e-9 * lam[0]);
        }
        ASSERT(lam[0] >= lam[1]);
    }
    for (size_t j = 0; j < K; j++)
        for (size_t k = 0; k < K; k++) {
            double d = 0;
            for (size_t a = 0; a < P; a++) d += G[a * K + j] * G[a * K + k];
            ASSERT_NEAR(d, j == k ? 1.0 : 0.0, 1e-12);
        }
    /* f_t = Gamma' x_t, with positive means. */
    ASSERT(fd_r2_factor_series(m, &ds, F, &err) == 0);
    for (size_t k = 0; k < K; k++) {
        double mean = 0, f = 0;
        for (size_t t = 0; t < ds.T; t++) mean += F[t * K + k];
        ASSERT(mean > 0);
        for (size_t a = 0; a < P; a++) f += G[a * K + k] * ds.periods[5].x[a];
        ASSERT_NEAR(F[5 * K + k], f, 1e-15);
    }
    free(S);
    free(G);
    free(F);
    fd_model_destroy(m);
    fd_dataset_free(&ds);
}

TEST(pca_rejects_hyper_and_round_trips) {
    fd_dataset ds;
    fd_error err = {0};
    fd_model *m, *back = NULL;
    void *blob;
    size_t len;
    double b1[10 * 3], b2[10 * 3];
    ASSERT(create("pca", "{\"k\": 1}", 6, 3, &err) == NULL);
    ASSERT_STR_EQ(err.code, "bad_hyper");
    ASSERT(create("pca", NULL, 6, 7, &err) == NULL);
    ASSERT_STR_EQ(err.code, "bad_k");
    ASSERT(small_dataset(&ds, 8) == 0);
    m = create("pca", NULL, ds.P, 3, &err);
    ASSERT(fd_model_betas_rows(m, ds.periods[0].z, 10, b1, NULL, &err) == -1);
    ASSERT_STR_EQ(err.code, "not_fitted");
    ASSERT(m->ops->fit(m, &ds, NULL, NULL, &err) == 0);
    ASSERT(m->ops->save(m, &blob, &len, &err) == 0);
    ASSERT(fd_model_load(&fd_model_ops_pca, NULL, ds.P, 3, blob, len, &back, &err) == 0);
    ASSERT(fd_model_betas_rows(m, ds.periods[0].z, 10, b1, NULL, &err) == 0);
    ASSERT(fd_model_betas_rows(back, ds.periods[0].z, 10, b2, NULL, &err) == 0);
    ASSERT(memcmp(b1, b2, sizeof b1) == 0);
    free(blob);
    fd_model_destroy(back);
    fd_model_destroy(m);
    fd_dataset_free(&ds);
}

TEST_MAIN(T(registry_knows_every_kind), T(ols3_recovers_coefficients_by_column_name),
          T(ols3_rejects_bad_k_columns_and_names), T(ols3_blob_round_trip),
          T(pca_loadings_are_eigenvectors_of_portfolio_second_moments),
          T(pca_rejects_hyper_and_round_trips))
