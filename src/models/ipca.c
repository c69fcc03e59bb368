/* The ipca model kind: hyper-parameters, betas, factor realisations and the weight blob.
 * The fit itself is in ipca_als.c.
 *
 * Blob format (native byte order, as every factord blob): "FDIP", u32 version (1), u32 L,
 * u32 K, u32 intercept, u32 reserved, then L*K doubles of Gamma_beta (row-major) and L
 * doubles of Gamma_alpha. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "factord/log.h"
#include "factord/mat.h"
#include "factord/models.h"
#include "ipca_internal.h"

#define IPCA_MAGIC "FDIP"
#define IPCA_VERSION 1u

typedef struct ipca_head {
    char magic[4];
    uint32_t version, L, K, intercept, reserved;
} ipca_head;

static int parse_hyper(const json_t *hyper, int *intercept, int *max_iter, double *tol,
                       int *accelerate, fd_error *err) {
    const char *key;
    json_t *v;
    *intercept = 0;
    *accelerate = 1;
    *max_iter = 10000;
    *tol = 1e-10;
    if (!hyper || json_is_null(hyper)) return 0;
    if (!json_is_object(hyper))
        return fd_error_set(err, 400, "bad_hyper", "ipca hyper-parameters must be an object");
    json_object_foreach((json_t *)hyper, key, v) {
        if (strcmp(key, "intercept") == 0) {
            if (!json_is_boolean(v))
                return fd_error_set(err, 400, "bad_hyper",
                                    "hyper.intercept: must be true or false");
            *intercept = json_is_true(v);
        } else if (strcmp(key, "max_iter") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                json_integer_value(v) > 10000000)
                return fd_error_set(err, 400, "bad_hyper",
                                    "hyper.max_iter: must be an integer in [1, 10000000]");
            *max_iter = (int)json_integer_value(v);
        } else if (strcmp(key, "tol") == 0) {
            double t = json_is_number(v) ? json_number_value(v) : NAN;
            if (!(t > 0) || !isfinite(t) || t >= 1)
                return fd_error_set(err, 400, "bad_hyper",
                                    "hyper.tol: must be a number in (0, 1)");
            *tol = t;
        } else if (strcmp(key, "acceleration") == 0) {
            const char *a = json_string_value(v);
            if (!a || (strcmp(a, "squarem") != 0 && strcmp(a, "none") != 0))
                return fd_error_set(err, 400, "bad_hyper",
                                    "hyper.acceleration: must be \"squarem\" or \"none\"");
            *accelerate = strcmp(a, "squarem") == 0;
        } else {
            return fd_error_set(err, 400, "bad_hyper",
                                "hyper.%s: unknown for ipca (known: intercept, max_iter, "
                                "tol, acceleration)", key);
        }
    }
    return 0;
}

static int ipca_create(const fd_model_dims *d, const json_t *hyper, fd_model **out,
                       fd_error *err) {
    size_t P = d->P, K = d->K;
    int intercept, max_iter, accelerate;
    double tol;
    ipca_model *m;
    *out = NULL;
    if (parse_hyper(hyper, &intercept, &max_iter, &tol, &accelerate, err) != 0) return -1;
    if (K < 1 || K + (size_t)intercept > P)
        return fd_error_set(err, 400, "bad_k",
                            "ipca needs 1 <= K%s <= P: K = %zu with %zu characteristics",
                            intercept ? " + 1 (intercept)" : "", K, P);
    m = calloc(1, sizeof *m + (P * K + P) * sizeof(double));
    if (!m) return fd_error_set(err, 500, "out_of_memory", "ipca model (P=%zu, K=%zu)", P, K);
    fd_model_init(&m->base, &fd_model_ops_ipca, d);
    m->base.has_alpha = intercept;
    m->intercept = intercept;
    m->max_iter = max_iter;
    m->tol = tol;
    m->accelerate = accelerate;
    m->gamma_beta = m->params;
    m->gamma_alpha = m->params + P * K;
    *out = &m->base;
    return 0;
}

static int ipca_fit(fd_model *base, const fd_dataset *train, const fd_dataset *valid,
                    const fd_fit_opts *opts, fd_error *err) {
    ipca_model *m = (ipca_model *)base;
    ipca_als_info info;
    (void)valid; /* ALS has no early stopping */
    if (fd_ipca_als_fit(m, train, opts, &info, err) != 0) return -1;
    m->fitted = 1;
    if (info.converged)
        fd_debug("ipca: converged after %d iterations (last change %.3g; %d extrapolations, "
                 "%d refused)", info.iterations, info.change, info.extrapolated, info.refused);
    else
        fd_warn("ipca: stopped at max_iter = %d with change %.3g > tol %.3g", info.iterations,
                info.change, m->tol);
    return 0;
}

/* beta (n, K) = z Gamma_beta; alpha (n) = z Gamma_alpha (zeros for a restricted fit). */
static int ipca_betas(const fd_model *base, const fd_period *p, double *beta, double *alpha,
                      fd_error *err) {
    const ipca_model *m = (const ipca_model *)base;
    if (fd_model_check_fitted(&m->base, m->fitted, err) != 0) return -1;
    fd_mat_mul_nn(beta, p->z, m->gamma_beta, p->n, base->K, base->P, 1.0, 0.0); /* (n, K) */
    if (alpha && m->intercept) fd_mat_vec(alpha, p->z, m->gamma_alpha, p->n, base->P, 1.0, 0.0);
    return 0;
}

/* The cross-sectional regression of r - Z ga on the betas Z Gb (the ALS f-step). */
static int ipca_factors(const fd_model *base, const fd_period *p, double *f, fd_error *err) {
    const ipca_model *m = (const ipca_model *)base;
    size_t n = p->n, K = base->K, P = base->P;
    double *zg, *res, *A;
    int rc;
    if (fd_model_check_fitted(&m->base, m->fitted, err) != 0) return -1;
    if (n < K)
        return fd_error_set(err, 422, "too_few_securities",
                            "period %s: %zu securities cannot identify %zu factors", p->month,
                            n, K);
    zg = malloc((n * K + n + K * K) * sizeof *zg);
    if (!zg) return fd_error_set(err, 500, "out_of_memory", "ipca factors of %s", p->month);
    res = zg + n * K;
    A = res + n;
    fd_mat_mul_nn(zg, p->z, m->gamma_beta, n, K, P, 1.0, 0.0); /* (n, K) betas */
    memcpy(res, p->r, n * sizeof *res);
    fd_mat_vec(res, p->z, m->gamma_alpha, n, P, -1.0, 1.0);    /* (n) r - alpha */
    fd_mat_mul_tn(A, zg, zg, K, K, n, 1.0, 0.0);               /* (K, K) */
    fd_mat_vec_t(f, zg, res, n, K, 1.0, 0.0);                  /* (K) */
    rc = fd_mat_solve_spd(A, f, K, 1);
    free(zg);
    if (rc != 0)
        return fd_error_set(err, 422, "singular",
                            "period %s: the betas are collinear, factors not identified",
                            p->month);
    return 0;
}

static int ipca_save(const fd_model *base, void **blob, size_t *len, fd_error *err) {
    const ipca_model *m = (const ipca_model *)base;
    size_t n = base->P * base->K + base->P;
    ipca_head h = {IPCA_MAGIC, IPCA_VERSION, (uint32_t)base->P, (uint32_t)base->K,
                   (uint32_t)m->intercept, 0};
    unsigned char *b;
    if (fd_model_check_fitted(&m->base, m->fitted, err) != 0) return -1;
    b = malloc(sizeof h + n * sizeof(double));
    if (!b) return fd_error_set(err, 500, "out_of_memory", "ipca blob");
    memcpy(b, &h, sizeof h);
    memcpy(b + sizeof h, m->params, n * sizeof(double));
    *blob = b;
    *len = sizeof h + n * sizeof(double);
    return 0;
}

static int ipca_load(const fd_model_dims *d, const json_t *hyper, const void *blob, size_t len,
                     fd_model **out, fd_error *err) {
    size_t P = d->P, K = d->K, n = P * K + P;
    ipca_head h;
    ipca_model *m;
    *out = NULL;
    if (len < sizeof h || memcmp(blob, IPCA_MAGIC, 4) != 0)
        return fd_error_set(err, 422, "bad_blob", "not an ipca weight blob");
    memcpy(&h, blob, sizeof h);
    if (h.version != IPCA_VERSION)
        return fd_error_set(err, 422, "bad_blob", "ipca blob version %u, this build reads %u",
                            h.version, IPCA_VERSION);
    if (h.L != P || h.K != K || len != sizeof h + n * sizeof(double))
        return fd_error_set(err, 422, "bad_blob",
                            "ipca blob holds L=%u, K=%u in %zu bytes; expected L=%zu, K=%zu",
                            h.L, h.K, len, P, K);
    if (ipca_create(d, hyper, out, err) != 0) return -1;
    m = (ipca_model *)*out;
    if ((uint32_t)m->intercept != h.intercept) {
        fd_model_destroy(*out);
        *out = NULL;
        return fd_error_set(err, 422, "bad_blob",
                            "ipca blob %s an intercept but the hyper-parameters say otherwise",
                            h.intercept ? "has" : "lacks");
    }
    memcpy(m->params, (const unsigned char *)blob + sizeof h, n * sizeof(double));
    m->fitted = 1;
    return 0;
}

static void ipca_destroy(fd_model *m) { free(m); }

const fd_model_ops fd_model_ops_ipca = {
    .kind = "ipca",
    .create = ipca_create,
    .fit = ipca_fit,
    .betas = ipca_betas,
    .factors = ipca_factors,
    .save = ipca_save,
    .load = ipca_load,
    .destroy = ipca_destroy,
};
