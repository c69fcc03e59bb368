/* The model layer over fd_model_ops: the one place betas meet factors (see
 * factord/model.h). */
#include <stdlib.h>
#include <string.h>

#include "factord/mat.h"
#include "factord/model.h"

int fd_model_betas(const fd_model *m, const fd_period *p, double *beta, double *alpha,
                   fd_error *err) {
    if (alpha) memset(alpha, 0, (p->n ? p->n : 1) * sizeof *alpha);
    return m->ops->betas(m, p, beta, alpha, err);
}

int fd_model_factors(const fd_model *m, const fd_period *p, double *f, fd_error *err) {
    return m->ops->factors(m, p, f, err);
}

int fd_model_predict(const fd_model *m, const fd_period *p, const double *F, size_t nv,
                     double *out, double *beta, fd_error *err) {
    size_t n = p->n, K = m->K;
    double *own = beta ? NULL : malloc((n * K > 0 ? n * K : 1) * sizeof *own);
    double *alpha = malloc((n ? n : 1) * sizeof *alpha);
    int rc = -1;
    if (!alpha || (!beta && !own)) {
        fd_error_set(err, 500, "out_of_memory", "predictions of %s", p->month);
        goto done;
    }
    if (!beta) beta = own;
    if (fd_model_betas(m, p, beta, alpha, err)) goto done;
    /* Row v of out (nv, n): alpha + beta (n, K) F_v (K). */
    for (size_t v = 0; v < nv; v++) {
        memcpy(out + v * n, alpha, n * sizeof *out);
        if (n) fd_mat_vec(out + v * n, beta, F + v * K, n, K, 1.0, 1.0);
    }
    rc = 0;
done:
    free(own);
    free(alpha);
    return rc;
}

int fd_model_create(const fd_model_ops *ops, const json_t *hyper, size_t P, size_t K,
                    fd_model **out, fd_error *err) {
    fd_model_dims d = {P, K, 0, 0};
    return ops->create(&d, hyper, out, err);
}

int fd_model_load(const fd_model_ops *ops, const json_t *hyper, size_t P, size_t K,
                  const void *blob, size_t len, fd_model **out, fd_error *err) {
    fd_model_dims d = {P, K, 0, 0};
    return ops->load(&d, hyper, blob, len, out, err);
}

int fd_model_betas_rows(const fd_model *m, const double *z, size_t n, double *beta,
                        double *alpha, fd_error *err) {
    fd_period p = {.n = n, .P = m->P, .z = (double *)z, .L = 1};
    return fd_model_betas(m, &p, beta, alpha, err);
}
