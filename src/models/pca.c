/* The pca model kind: static loadings from the principal components of the managed
 * portfolios.
 *
 * Gamma (P, K) = the top-K eigenvectors of sum_t x_t x_t' (uncentred: factor means are the
 * risk premia a pricing model must keep), x_t = (Z_{t-1}'Z_{t-1})^{-1} Z_{t-1}' r_t the
 * dataset's managed portfolios. Factors f_t = Gamma' x_t, betas z' Gamma: the same shapes as
 * IPCA with Gamma from one eigendecomposition instead of ALS, so it is the no-iteration
 * baseline. Each factor is signed to have a positive mean over the training periods.
 *
 * Blob: "FDPC", u32 version (1), u32 P, u32 K, then P*K doubles of Gamma (row-major). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "factord/mat.h"
#include "factord/mat_decomp.h"
#include "factord/models.h"
#include "factord/preprocess.h"

#define PCA_MAGIC "FDPC"
#define PCA_VERSION 1u

typedef struct pca_head {
    char magic[4];
    uint32_t version, P, K;
} pca_head;

typedef struct pca_model {
    fd_model base;
    int fitted;
    double gamma[]; /* (P, K) row-major */
} pca_model;

static int pca_create(const fd_model_dims *d, const json_t *hyper, fd_model **out,
                      fd_error *err) {
    size_t P = d->P, K = d->K;
    pca_model *m;
    *out = NULL;
    if (hyper && !json_is_null(hyper) && !(json_is_object(hyper) && json_object_size(hyper) == 0))
        return fd_error_set(err, 400, "bad_hyper", "pca takes no hyper-parameters");
    if (K < 1 || K > P)
        return fd_error_set(err, 400, "bad_k", "pca needs 1 <= K <= P: K = %zu, P = %zu", K, P);
    m = calloc(1, sizeof *m + P * K * sizeof(double));
    if (!m) return fd_error_set(err, 500, "out_of_memory", "pca model");
    fd_model_init(&m->base, &fd_model_ops_pca, d);
    *out = &m->base;
    return 0;
}

static int pca_fit(fd_model *base, const fd_dataset *train, const fd_dataset *valid,
                   const fd_fit_opts *opts, fd_error *err) {
    pca_model *m = (pca_model *)base;
    size_t P = base->P, K = base->K, T = train->T;
    double *X, *S, *V, *w, *mean;
    (void)valid;
    if (train->P != P)
        return fd_error_set(err, 422, "shape_mismatch",
                            "the dataset has %zu characteristics, the model expects %zu",
                            train->P, P);
    if (T == 0) return fd_error_set(err, 422, "empty_dataset", "no training period");
    X = malloc((T * P + 2 * P * P + 2 * P) * sizeof *X);
    if (!X) return fd_error_set(err, 500, "out_of_memory", "pca fit");
    S = X + T * P;
    V = S + P * P;
    w = V + P * P;
    mean = w + P;
    for (size_t t = 0; t < T; t++) memcpy(X + t * P, train->periods[t].x, P * sizeof *X);
    fd_mat_mul_tn(S, X, X, P, P, T, 1.0, 0.0); /* (P, P) sum_t x_t x_t' */
    if (fd_mat_sym_eig(S, P, w, V) != 0) {
        free(X);
        return fd_error_set(err, 422, "singular", "pca: eigendecomposition failed");
    }
    fd_mat_col_sums(mean, X, T, P, 0.0);
    for (size_t k = 0; k < K; k++) {
        double fbar = 0;
        for (size_t j = 0; j < P; j++) fbar += V[j * P + k] * mean[j];
        for (size_t j = 0; j < P; j++) m->gamma[j * K + k] = (fbar < 0 ? -1 : 1) * V[j * P + k];
    }
    free(X);
    if (fd_model_report_single_step(base, opts, NAN, err) != 0) return -1;
    m->fitted = 1;
    return 0;
}

static int pca_betas(const fd_model *base, const fd_period *p, double *beta, double *alpha,
                     fd_error *err) {
    const pca_model *m = (const pca_model *)base;
    (void)alpha; /* no intercept */
    if (fd_model_check_fitted(&m->base, m->fitted, err) != 0) return -1;
    fd_mat_mul_nn(beta, p->z, m->gamma, p->n, base->K, base->P, 1.0, 0.0); /* (n, K) */
    return 0;
}

static int pca_factors(const fd_model *base, const fd_period *p, double *f, fd_error *err) {
    const pca_model *m = (const pca_model *)base;
    double *x;
    if (fd_model_check_fitted(&m->base, m->fitted, err) != 0) return -1;
    if (p->x) {
        fd_mat_vec_t(f, m->gamma, p->x, base->P, base->K, 1.0, 0.0); /* (K) Gamma' x */
        return 0;
    }
    x = malloc(base->P * sizeof *x);
    if (!x) return fd_error_set(err, 500, "out_of_memory", "pca factors");
    if (fd_preprocess_managed_portfolio(p->z, p->r, p->n, base->P, x, NULL, err) != 0) {
        free(x);
        return -1;
    }
    fd_mat_vec_t(f, m->gamma, x, base->P, base->K, 1.0, 0.0);
    free(x);
    return 0;
}

static int pca_save(const fd_model *base, void **blob, size_t *len, fd_error *err) {
    const pca_model *m = (const pca_model *)base;
    size_t n = base->P * base->K;
    pca_head h = {PCA_MAGIC, PCA_VERSION, (uint32_t)base->P, (uint32_t)base->K};
    unsigned char *b;
    if (fd_model_check_fitted(&m->base, m->fitted, err) != 0) return -1;
    b = malloc(sizeof h + n * sizeof(double));
    if (!b) return fd_error_set(err, 500, "out_of_memory", "pca blob");
    memcpy(b, &h, sizeof h);
    memcpy(b + sizeof h, m->gamma, n * sizeof(double));
    *blob = b;
    *len = sizeof h + n * sizeof(double);
    return 0;
}

static int pca_load(const fd_model_dims *d, const json_t *hyper, const void *blob, size_t len,
                    fd_model **out, fd_error *err) {
    size_t P = d->P, K = d->K;
    pca_head h;
    *out = NULL;
    if (len < sizeof h || memcmp(blob, PCA_MAGIC, 4) != 0)
        return fd_error_set(err, 422, "bad_blob", "not a pca weight blob");
    memcpy(&h, blob, sizeof h);
    if (h.version != PCA_VERSION)
        return fd_error_set(err, 422, "bad_blob", "pca blob version %u, this build reads %u",
                            h.version, PCA_VERSION);
    if (h.P != P || h.K != K || len != sizeof h + P * K * sizeof(double))
        return fd_error_set(err, 422, "bad_blob",
                            "pca blob holds P=%u, K=%u in %zu bytes; expected P=%zu, K=%zu",
                            h.P, h.K, len, P, K);
    if (pca_create(d, hyper, out, err) != 0) return -1;
    memcpy(((pca_model *)*out)->gamma, (const unsigned char *)blob + sizeof h,
           P * K * sizeof(double));
    ((pca_model *)*out)->fitted = 1;
    return 0;
}

static void pca_destroy(fd_model *m) { free(m); }

const fd_model_ops fd_model_ops_pca = {
    .kind = "pca",
    .create = pca_create,
    .fit = pca_fit,
    .betas = pca_betas,
    .factors = pca_factors,
    .save = pca_save,
    .load = pca_load,
    .destroy = pca_destroy,
};
