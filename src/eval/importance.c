#include "factord/eval_importance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


#define FD_IMPORTANCE_STEP 1e-4

typedef struct importance {
    size_t j;
    double sse;      /* sum of squared errors with z_j at its median */
    double grad_sum; /* sum of |d beta / d z_j| */
} importance;

static int by_drop_desc(const void *a, const void *b) {
    double x = ((const importance *)a)->sse, y = ((const importance *)b)->sse;
    return x < y ? 1 : (x > y ? -1 : 0);
}

/* Adds sum (r - rhat)^2 of period p, priced with factors f, to *sse. */
static int add_sse(const fd_model *m, const fd_period *p, const double *f, double *rhat,
                   double *sse, fd_error *err) {
    if (fd_model_predict(m, p, f, 1, rhat, NULL, err)) return -1;
    for (size_t i = 0; i < p->n; i++) *sse += (p->r[i] - rhat[i]) * (p->r[i] - rhat[i]);
    return 0;
}

int fd_eval_importance(const fd_model *m, const fd_dataset *ds, json_t **out, fd_error *err) {
    size_t P = m->P, K = m->K, nmax = 0, count = 0;
    double sse0 = 0.0, ss = 0.0;
    importance *imp = calloc(P ? P : 1, sizeof *imp);
    double *z = NULL, *beta = NULL, *bplus = NULL, *rhat = NULL, *f = malloc(K * sizeof *f);
    int rc = -1;
    if (ds->P != P) {
        fd_error_set(err, 422, "shape_mismatch", "model has %zu characteristics, data %zu", P,
                     ds->P);
        goto done;
    }
    for (size_t t = 0; t < ds->T; t++)
        if (ds->periods[t].n > nmax) nmax = ds->periods[t].n;
    z = malloc((nmax * P + 1) * sizeof *z);
    beta = malloc((nmax * K + 1) * sizeof *beta);
    bplus = malloc((nmax * K + 1) * sizeof *bplus);
    rhat = malloc((nmax + 1) * sizeof *rhat);
    if (!imp || !z || !beta || !bplus || !rhat || !f) {
        fd_error_set(err, 500, "out_of_memory", "characteristic importance");
        goto done;
    }
    for (size_t j = 0; j < P; j++) imp[j].j = j;
    for (size_t t = 0; t < ds->T; t++) {
        const fd_period *p = &ds->periods[t];
        fd_period q = *p; /* the period with characteristic j perturbed */
        q.z = z;
        q.borrowed |= FD_BORROW_Z;
        if (fd_model_factors(m, p, f, err) || add_sse(m, p, f, rhat, &sse0, err)) goto done;
        for (size_t i = 0; i < p->n; i++) ss += p->r[i] * p->r[i];
        count += p->n * K;
        memcpy(z, p->z, p->n * P * sizeof *z);
        for (size_t j = 0; j < P; j++) {
            /* Median: 0 after rank normalisation. */
            for (size_t i = 0; i < p->n; i++) z[i * P + j] = 0.0;
            if (add_sse(m, &q, f, rhat, &imp[j].sse, err)) goto done;
            /* Central difference around the true values. */
            for (size_t i = 0; i < p->n; i++) z[i * P + j] = p->z[i * P + j] + FD_IMPORTANCE_STEP;
            if (fd_model_betas(m, &q, bplus, NULL, err)) goto done;
            for (size_t i = 0; i < p->n; i++) z[i * P + j] = p->z[i * P + j] - FD_IMPORTANCE_STEP;
            if (fd_model_betas(m, &q, beta, NULL, err)) goto done;
            for (size_t a = 0; a < p->n * K; a++)
                imp[j].grad_sum += fabs(bplus[a] - beta[a]) / (2.0 * FD_IMPORTANCE_STEP);
            for (size_t i = 0; i < p->n; i++) z[i * P + j] = p->z[i * P + j];
        }
    }
    qsort(imp, P, sizeof *imp, by_drop_desc);
    *out = json_array();
    for (size_t j = 0; j < P; j++) {
        double drop = ss > 0 ? (imp[j].sse - sse0) / ss : NAN; /* R2_0 - R2_j */
        double grad = count ? imp[j].grad_sum / (double)count : NAN;
        json_array_append_new(
            *out, json_pack("{s:s,s:o,s:o}", "characteristic", ds->col_names[imp[j].j],
                            "r2_drop", isfinite(drop) ? json_real(drop) : json_null(),
                            "gradient", isfinite(grad) ? json_real(grad) : json_null()));
    }
    rc = 0;
done:
    free(imp);
    free(z);
    free(beta);
    free(bplus);
    free(rhat);
    free(f);
    return rc;
}
