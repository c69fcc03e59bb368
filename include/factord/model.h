/* fd_model: the one interface every model kind implements (ipca, pca, ols3, ca0..ca3, ...).
 * The HTTP layer, the job runner and the evaluator only ever see this interface.
 *
 * Shapes: z (n, P) row-major normalised characteristics; beta (n, K); f (K).
 * A model is created from its hyper-parameters, fitted once, then read-only: betas and
 * factors may be called from several threads at once. Parameters live in one contiguous
 * allocation so save/load are one copy; blobs start with a magic number and a format
 * version. Ownership: the caller destroys models with fd_model_destroy; blobs returned by
 * save are malloc'd and freed by the caller. */
#ifndef FACTORD_MODEL_H
#define FACTORD_MODEL_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>

#include "factord/dataset.h"
#include "factord/error.h"

typedef struct fd_model fd_model;

/* Training progress, reported once per epoch (iteration for ALS). */
typedef struct fd_fit_event {
    int member;        /* ensemble member (0-based), 0 for single models */
    int n_members;
    int epoch;         /* 1-based */
    int max_epochs;
    double train_loss;
    double valid_loss; /* NaN without a validation block */
} fd_fit_event;

typedef struct fd_fit_opts {
    /* Called on the training thread; return non-zero to cancel (fit then fails with 409
     * "cancelled"). May be NULL. */
    int (*progress)(void *ctx, const fd_fit_event *ev);
    void *ctx;
    /* Threads one fit may use (0 or 1: the calling thread alone). The conditional
     * autoencoders split each batch across that many threads, and their BLAS calls then run
     * single-threaded; the other models leave threading to OpenBLAS. */
    int threads;
} fd_fit_opts;

typedef struct fd_model_ops {
    const char *kind;
    /* hyper: the model's JSON hyper-parameters (validated here: 400 on unknown keys or bad
     * values). P characteristics in, K factors out. */
    int (*create)(const json_t *hyper, size_t P, size_t K, fd_model **out, fd_error *err);
    /* valid may be NULL (no early stopping). Deterministic for a given hyper "seed". */
    int (*fit)(fd_model *m, const fd_dataset *train, const fd_dataset *valid,
               const fd_fit_opts *opts, fd_error *err);
    int (*betas)(const fd_model *m, const double *z, size_t n, double *beta, fd_error *err);
    /* Factor realisation of one period (z at t-1, r at t, x). */
    int (*factors)(const fd_model *m, const fd_period *p, double *f, fd_error *err);
    int (*save)(const fd_model *m, void **blob, size_t *len, fd_error *err);
    int (*load)(const json_t *hyper, size_t P, size_t K, const void *blob, size_t len,
                fd_model **out, fd_error *err);
    void (*destroy)(fd_model *m);
} fd_model_ops;

/* Every model struct starts with this header. */
struct fd_model {
    const fd_model_ops *ops;
    size_t P, K;
};

/* The registry of kinds: NULL for an unknown name. */
const fd_model_ops *fd_model_kind(const char *name);
/* Comma-separated list of known kinds, for error messages and --help. */
const char *fd_model_kind_names(void);

static inline void fd_model_destroy(fd_model *m) {
    if (m) m->ops->destroy(m);
}

#endif
