/* The ols3 model kind: the predictive-regression benchmark of the seed studies, pooled OLS
 * of r_{i,t} on a constant and three characteristics of t-1 (size, value, momentum).
 *
 * As a factor model it has one "factor" fixed at 1 and a "beta" equal to the fitted value
 * b0 + b' z, so beta' f = beta is the expected return and every evaluation written for
 * factor models (R^2, deciles) applies unchanged; K must therefore be 1.
 * Hyper-parameter "columns": three column names or 0-based indices of the characteristics
 * (default the first three). Names are resolved against the training dataset's columns.
 *
 * Blob: "FDO3", u32 version (1), u32 P, u32 col[3], then 4 doubles (b0, b1, b2, b3). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "factord/mat.h"
#include "factord/models.h"

#define OLS3_MAGIC "FDO3"
#define OLS3_VERSION 1u
#define OLS3_NCOLS 3

typedef struct ols3_head {
    char magic[4];
    uint32_t version, P, col[OLS3_NCOLS];
} ols3_head;

typedef struct ols3_model {
    fd_model base;
    int fitted;
    char names[OLS3_NCOLS][128]; /* "" when given (or defaulted) as an index */
    size_t col[OLS3_NCOLS];      /* resolved column indices */
    double coef[OLS3_NCOLS + 1]; /* b0 then the slopes */
} ols3_model;

static int parse_columns(ols3_model *m, const json_t *hyper, fd_error *err) {
    const char *key;
    json_t *v, *cols = NULL;
    for (size_t j = 0; j < OLS3_NCOLS; j++) m->col[j] = j;
    if (hyper && !json_is_null(hyper)) {
        if (!json_is_object(hyper))
            return fd_error_set(err, 400, "bad_hyper", "ols3 hyper-parameters must be an object");
        json_object_foreach((json_t *)hyper, key, v) {
            if (strcmp(key, "columns") != 0)
                return fd_error_set(err, 400, "bad_hyper",
                                    "hyper.%s: unknown for ols3 (known: columns)", key);
            cols = v;
        }
    }
    if (cols) {
        if (!json_is_array(cols) || json_array_size(cols) != OLS3_NCOLS)
            return fd_error_set(err, 400, "bad_hyper",
                                "hyper.columns: must list 3 column names or indices");
        for (size_t j = 0; j < OLS3_NCOLS; j++) {
            json_t *c = json_array_get(cols, j);
            if (json_is_string(c) && json_string_length(c) > 0 &&
                json_string_length(c) < sizeof m->names[j]) {
                strcpy(m->names[j], json_string_value(c));
            } else if (json_is_integer(c) && json_integer_value(c) >= 0) {
                m->col[j] = (size_t)json_integer_value(c);
            } else {
                return fd_error_set(err, 400, "bad_hyper",
                                    "hyper.columns[%zu]: must be a column name or an index >= 0",
                                    j);
            }
        }
    }
    for (size_t j = 0; j < OLS3_NCOLS; j++)
        if (!m->names[j][0] && m->col[j] >= m->base.P)
            return fd_error_set(err, 400, "bad_hyper",
                                "hyper.columns: index %zu is out of range for %zu characteristics",
                                m->col[j], m->base.P);
    return 0;
}

static int ols3_create(const fd_model_dims *d, const json_t *hyper, fd_model **out,
                       fd_error *err) {
    size_t K = d->K;
    ols3_model *m;
    *out = NULL;
    if (K != 1)
        return fd_error_set(err, 400, "bad_k",
                            "ols3 is a predictive regression: K must be 1 (got %zu)", K);
    m = calloc(1, sizeof *m);
    if (!m) return fd_error_set(err, 500, "out_of_memory", "ols3 model");
    fd_model_init(&m->base, &fd_model_ops_ols3, d);
    if (parse_columns(m, hyper, err) != 0) {
        free(m);
        return -1;
    }
    *out = &m->base;
    return 0;
}

static int resolve_names(ols3_model *m, const fd_dataset *ds, fd_error *err) {
    for (size_t j = 0; j < OLS3_NCOLS; j++) {
        size_t c;
        if (!m->names[j][0]) continue;
        for (c = 0; c < ds->P; c++)
            if (ds->col_names && strcmp(ds->col_names[c], m->names[j]) == 0) break;
        if (c == ds->P)
            return fd_error_set(err, 422, "unknown_column",
                                "ols3 column \"%s\" is not among the dataset's columns",
                                m->names[j]);
        m->col[j] = c;
    }
    return 0;
}

/* Regressors of one security: (1, z[col0], z[col1], z[col2]). */
static void regressors(const ols3_model *m, const double *z, double *x) {
    x[0] = 1.0;
    for (size_t j = 0; j < OLS3_NCOLS; j++) x[j + 1] = z[m->col[j]];
}

static int ols3_fit(fd_model *base, const fd_dataset *train, const fd_dataset *valid,
                    const fd_fit_opts *opts, fd_error *err) {
    ols3_model *m = (ols3_model *)base;
    enum { NX = OLS3_NCOLS + 1 };
    double XtX[NX * NX] = {0}, Xty[NX] = {0}, x[NX], sse = 0;
    size_t nobs = 0;
    (void)valid;
    if (train->P != base->P)
        return fd_error_set(err, 422, "shape_mismatch",
                            "the dataset has %zu characteristics, the model expects %zu",
                            train->P, base->P);
    if (resolve_names(m, train, err) != 0) return -1;
    for (size_t t = 0; t < train->T; t++) {
        const fd_period *p = &train->periods[t];
        for (size_t i = 0; i < p->n; i++) {
            regressors(m, p->z + i * base->P, x);
            for (size_t a = 0; a < NX; a++) {
                Xty[a] += x[a] * p->r[i];
                for (size_t b = 0; b < NX; b++) XtX[a * NX + b] += x[a] * x[b];
            }
        }
        nobs += p->n;
    }
    if (fd_mat_solve_spd(XtX, Xty, NX, 1) != 0)
        return fd_error_set(err, 422, "singular",
                            "ols3: the regressors are collinear over the %zu training rows "
                            "(constant or duplicated columns?)", nobs);
    memcpy(m->coef, Xty, sizeof m->coef);
    for (size_t t = 0; t < train->T; t++) {
        const fd_period *p = &train->periods[t];
        for (size_t i = 0; i < p->n; i++) {
            double e = p->r[i];
            regressors(m, p->z + i * base->P, x);
            for (size_t a = 0; a < NX; a++) e -= m->coef[a] * x[a];
            sse += e * e;
        }
    }
    if (fd_model_report_single_step(base, opts, sse / (double)nobs, err) != 0) return -1;
    m->fitted = 1;
    return 0;
}

static int ols3_betas(const fd_model *base, const fd_period *p, double *beta, double *alpha,
                      fd_error *err) {
    const ols3_model *m = (const ols3_model *)base;
    double x[OLS3_NCOLS + 1];
    (void)alpha; /* the constant is in the "beta" (the fitted value), priced by f = 1 */
    if (fd_model_check_fitted(&m->base, m->fitted, err) != 0) return -1;
    for (size_t i = 0; i < p->n; i++) {
        regressors(m, p->z + i * base->P, x);
        beta[i] = 0;
        for (size_t a = 0; a <= OLS3_NCOLS; a++) beta[i] += m->coef[a] * x[a];
    }
    return 0;
}

static int ols3_factors(const fd_model *base, const fd_period *p, double *f, fd_error *err) {
    (void)p;
    if (fd_model_check_fitted(base, ((const ols3_model *)base)->fitted, err) != 0) return -1;
    f[0] = 1.0;
    return 0;
}

static int ols3_save(const fd_model *base, void **blob, size_t *len, fd_error *err) {
    const ols3_model *m = (const ols3_model *)base;
    ols3_head h = {OLS3_MAGIC, OLS3_VERSION, (uint32_t)base->P,
                   {(uint32_t)m->col[0], (uint32_t)m->col[1], (uint32_t)m->col[2]}};
    unsigned char *b;
    if (fd_model_check_fitted(&m->base, m->fitted, err) != 0) return -1;
    b = malloc(sizeof h + sizeof m->coef);
    if (!b) return fd_error_set(err, 500, "out_of_memory", "ols3 blob");
    memcpy(b, &h, sizeof h);
    memcpy(b + sizeof h, m->coef, sizeof m->coef);
    *blob = b;
    *len = sizeof h + sizeof m->coef;
    return 0;
}

static int ols3_load(const fd_model_dims *d, const json_t *hyper, const void *blob, size_t len,
                     fd_model **out, fd_error *err) {
    size_t P = d->P;
    ols3_head h;
    ols3_model *m;
    *out = NULL;
    if (len < sizeof h || memcmp(blob, OLS3_MAGIC, 4) != 0)
        return fd_error_set(err, 422, "bad_blob", "not an ols3 weight blob");
    memcpy(&h, blob, sizeof h);
    if (h.version != OLS3_VERSION || h.P != P || len != sizeof h + sizeof m->coef)
        return fd_error_set(err, 422, "bad_blob",
                            "ols3 blob version %u, P=%u, %zu bytes; expected version %u, P=%zu",
                            h.version, h.P, len, OLS3_VERSION, P);
    for (size_t j = 0; j < OLS3_NCOLS; j++)
        if (h.col[j] >= P)
            return fd_error_set(err, 422, "bad_blob", "ols3 blob column %u out of range",
                                h.col[j]);
    if (ols3_create(d, hyper, out, err) != 0) return -1;
    m = (ols3_model *)*out;
    for (size_t j = 0; j < OLS3_NCOLS; j++) m->col[j] = h.col[j];
    memcpy(m->coef, (const unsigned char *)blob + sizeof h, sizeof m->coef);
    m->fitted = 1;
    return 0;
}

static void ols3_destroy(fd_model *m) { free(m); }

const fd_model_ops fd_model_ops_ols3 = {
    .kind = "ols3",
    .create = ols3_create,
    .fit = ols3_fit,
    .betas = ols3_betas,
    .factors = ols3_factors,
    .save = ols3_save,
    .load = ols3_load,
    .destroy = ols3_destroy,
};
