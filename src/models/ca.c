/* Conditional autoencoders CA0-CA3 (Gu, Kelly, Xiu 2021) behind the fd_model interface:
 * creation, inference (betas, factors, both averaged over the ensemble) and the saved form.
 * Training lives in ca_fit.c, the network in src/models/ca_net.c.
 *
 * Saved form: a 48-byte header then the parameters of every member, in host byte order:
 *   "FDCA" | u32 version | u32 n_hidden | u32 P | u32 K | u32 hidden[3] | u32 n_members |
 *   u32 0 | u64 n_params (doubles per member) | double params[n_members][n_params]
 * Each member block is laid out as factord/ca_net.h describes (batch-norm running
 * statistics included), so saving is one memcpy and loading one check plus one memcpy. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca_model.h"
#include "factord/mat.h"
#include "factord/models.h"

#define CA_MAGIC "FDCA"
#define CA_VERSION 1u
#define CA_CHUNK 4096 /* rows per inference pass: bounds the scratch of betas() */

typedef struct ca_header {
    char magic[4];
    uint32_t version, n_hidden, P, K, hidden[FD_CA_MAX_HIDDEN], n_members, reserved;
    uint64_t n_params;
} ca_header;

_Static_assert(sizeof(ca_header) == 48, "the saved header is 48 bytes");

static const size_t ca_hidden[FD_CA_MAX_HIDDEN] = {32, 16, 8};

static const fd_model_ops *ca_ops(size_t n_hidden) {
    static const fd_model_ops *const ops[] = {&fd_model_ops_ca0, &fd_model_ops_ca1,
                                              &fd_model_ops_ca2, &fd_model_ops_ca3};
    return ops[n_hidden];
}

static int ca_new(size_t n_hidden, const fd_model_dims *d, const json_t *hyper,
                  fd_ca_model **out, fd_error *err) {
    size_t P = d->P, K = d->K;
    fd_ca_model *m;
    fd_ca_hyper h;
    *out = NULL;
    if (fd_ca_hyper_parse(hyper, &h, err) != 0) return -1;
    if (P == 0 || K == 0 || P > 100000 || K > 1000)
        return fd_error_set(err, 400, "bad_shape",
                            "a conditional autoencoder needs 1 <= P <= 100000 characteristics "
                            "and 1 <= K <= 1000 factors (got P = %zu, K = %zu)", P, K);
    m = calloc(1, sizeof *m);
    if (!m) return fd_error_set(err, 500, "out_of_memory", "allocating the model");
    fd_model_init(&m->base, ca_ops(n_hidden), d);
    m->hyper = h;
    fd_ca_net_layout(&m->net, P, K, n_hidden, ca_hidden);
    m->params = calloc((size_t)h.ensemble * m->net.n_total, sizeof *m->params);
    if (!m->params) {
        free(m);
        return fd_error_set(err, 500, "out_of_memory", "allocating the model's parameters");
    }
    *out = m;
    return 0;
}

static void ca_destroy(fd_model *base) {
    fd_ca_model *m = (fd_ca_model *)base;
    free(m->params);
    free(m);
}

static int ca_fit(fd_model *base, const fd_dataset *train, const fd_dataset *valid,
                  const fd_fit_opts *opts, fd_error *err) {
    return fd_ca_fit((fd_ca_model *)base, train, valid, opts, err);
}

static int not_fitted(fd_error *err) {
    return fd_error_set(err, 409, "not_fitted", "the model has not been fitted");
}

static int ca_betas(const fd_model *base, const fd_period *p, double *beta, double *alpha,
                    fd_error *err) {
    const fd_ca_model *m = (const fd_ca_model *)base;
    const fd_ca_net *net = &m->net;
    const double *z = p->z;
    size_t n = p->n, K = net->K, chunk = n < CA_CHUNK ? n : CA_CHUNK;
    (void)alpha; /* no intercept */
    double inv = 1.0 / (double)m->hyper.ensemble;
    if (!m->fitted) return not_fitted(err);
    if (n == 0) return 0;
    /* Per-call scratch: several threads may ask for betas at once. */
    double *buf = malloc(chunk * (2 * net->max_hidden + K) * sizeof *buf);
    if (!buf) return fd_error_set(err, 500, "out_of_memory", "allocating inference scratch");
    double *a = buf, *b = a + chunk * net->max_hidden, *one = b + chunk * net->max_hidden;
    for (size_t i0 = 0; i0 < n; i0 += chunk) {
        size_t rows = n - i0 < chunk ? n - i0 : chunk;
        double *out = beta + i0 * K;
        memset(out, 0, rows * K * sizeof *out);
        for (int j = 0; j < m->hyper.ensemble; j++) {
            fd_ca_net_betas(net, m->params + (size_t)j * net->n_total, z + i0 * net->P, rows,
                            one, a, b);
            for (size_t i = 0; i < rows * K; i++) out[i] += inv * one[i];
        }
    }
    free(buf);
    return 0;
}

static int ca_factors(const fd_model *base, const fd_period *p, double *f, fd_error *err) {
    const fd_ca_model *m = (const fd_ca_model *)base;
    const fd_ca_net *net = &m->net;
    size_t K = net->K;
    double inv = 1.0 / (double)m->hyper.ensemble;
    if (!m->fitted) return not_fitted(err);
    if (!p->x)
        return fd_error_set(err, 422, "dataset_incomplete",
                            "period %s has no managed portfolio", p->month);
    memset(f, 0, K * sizeof *f);
    for (int j = 0; j < m->hyper.ensemble; j++) {
        const double *pj = m->params + (size_t)j * net->n_total;
        /* f (K) += inv (W_f x + b_f), W_f (K, P) */
        fd_mat_vec(f, pj + net->fw, p->x, K, net->P, inv, 1.0);
        for (size_t k = 0; k < K; k++) f[k] += inv * pj[net->fb + k];
    }
    return 0;
}

static int ca_save(const fd_model *base, void **blob, size_t *len, fd_error *err) {
    const fd_ca_model *m = (const fd_ca_model *)base;
    const fd_ca_net *net = &m->net;
    size_t bytes = (size_t)m->hyper.ensemble * net->n_total * sizeof(double);
    ca_header h = {.version = CA_VERSION, .n_hidden = (uint32_t)net->n_hidden,
                   .P = (uint32_t)net->P, .K = (uint32_t)net->K,
                   .n_members = (uint32_t)m->hyper.ensemble, .n_params = net->n_total};
    unsigned char *out;
    if (!m->fitted) return not_fitted(err);
    memcpy(h.magic, CA_MAGIC, 4);
    for (size_t l = 0; l < net->n_hidden; l++) h.hidden[l] = (uint32_t)net->width[l + 1];
    out = malloc(sizeof h + bytes);
    if (!out) return fd_error_set(err, 500, "out_of_memory", "allocating the saved model");
    memcpy(out, &h, sizeof h);
    memcpy(out + sizeof h, m->params, bytes);
    *blob = out;
    *len = sizeof h + bytes;
    return 0;
}

/* The blob must describe exactly the network that kind, P, K and hyper build. */
static int ca_load(size_t n_hidden, const fd_model_dims *d, const json_t *hyper,
                   const void *blob, size_t len, fd_model **out, fd_error *err) {
    size_t P = d->P, K = d->K;
    fd_ca_model *m;
    ca_header h;
    *out = NULL;
    if (ca_new(n_hidden, d, hyper, &m, err) != 0) return -1;
    const fd_ca_net *net = &m->net;
    size_t bytes = (size_t)m->hyper.ensemble * net->n_total * sizeof(double);
    int same = len >= sizeof h;
    if (same) {
        memcpy(&h, blob, sizeof h);
        same = memcmp(h.magic, CA_MAGIC, 4) == 0 && h.version == CA_VERSION &&
               h.n_hidden == n_hidden && h.P == P && h.K == K &&
               h.n_members == (uint32_t)m->hyper.ensemble && h.n_params == net->n_total &&
               len == sizeof h + bytes;
        for (size_t l = 0; same && l < n_hidden; l++) same = h.hidden[l] == net->width[l + 1];
    }
    if (!same) {
        fd_error_set(err, 422, "bad_model_blob",
                     "the saved weights are not a %s model with P = %zu, K = %zu and %d "
                     "member(s) in format version %u", ca_ops(n_hidden)->kind, P, K,
                     m->hyper.ensemble, CA_VERSION);
        ca_destroy(&m->base);
        return -1;
    }
    memcpy(m->params, (const unsigned char *)blob + sizeof h, bytes);
    m->fitted = 1;
    *out = &m->base;
    return 0;
}

/* One create/load pair per kind: the kind fixes the number of hidden layers. */
#define CA_KIND(N)                                                                        \
    static int ca##N##_create(const fd_model_dims *d, const json_t *hyper, fd_model **out,\
                              fd_error *err) {                                            \
        fd_ca_model *m;                                                                   \
        if (ca_new(N, d, hyper, &m, err) != 0) return -1;                                 \
        *out = &m->base;                                                                  \
        return 0;                                                                         \
    }                                                                                     \
    static int ca##N##_load(const fd_model_dims *d, const json_t *hyper, const void *blob,\
                            size_t len, fd_model **out, fd_error *err) {                  \
        return ca_load(N, d, hyper, blob, len, out, err);                                 \
    }                                                                                     \
    const fd_model_ops fd_model_ops_ca##N = {                                             \
        .kind = "ca" #N, .create = ca##N##_create, .fit = ca_fit, .betas = ca_betas,      \
        .factors = ca_factors, .save = ca_save, .load = ca##N##_load,                     \
        .destroy = ca_destroy,                                                            \
    };

CA_KIND(0)
CA_KIND(1)
CA_KIND(2)
CA_KIND(3)
