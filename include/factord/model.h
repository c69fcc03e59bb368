/* fd_model: the one interface every model kind implements (ipca, pca, ols3, ca0..ca3, ...),
 * and the model layer's functions over it. The HTTP layer, the job runner, the evaluator
 * and the backtests only ever see this interface; docs/model-contract.md is the guide.
 *
 * A model reads period contexts (factord/period.h), never raw panels: betas may depend on
 * the whole month (every security of the period, its history of characteristics, macro
 * series), factors on the month's returns and managed portfolios. The kind says what the
 * context must hold: fd_model.history (L months of z and x) and ops->inputs (whether a
 * declaration may name observed factor series or macro series, whose counts arrive in
 * fd_model_dims).
 *
 * The prediction rule belongs to the model layer and is written once (fd_model_predict):
 *     fitted returns    rhat_i = alpha_i + beta_i' f_t        (f_t realised in month t)
 *     expected returns  er_i   = alpha_i + beta_i' lambda     (lambda: factord/lambda.h)
 * alpha (n) is the part of a prediction outside beta' f (IPCA's Gamma_alpha intercept), zero
 * for kinds without one. No other file multiplies betas by factors.
 *
 * Shapes: P characteristics per security (incl. a constant when declared); K factors served:
 * beta (n, K) and f (K) with n the period's securities. K can exceed the declared k (an
 * ensemble serves its members' factors stacked, observed factors add their own): always use
 * fd_model.K, the declared value is dims.K.
 *
 * Life: created from its hyper-parameters, fitted once (or loaded), then read-only: betas,
 * factors and fd_model_predict may be called from several threads at once. Parameters live in
 * one contiguous allocation so save/load are one copy; blobs start with a magic number and a
 * format version. Ownership: the caller destroys models with fd_model_destroy; blobs returned
 * by save are malloc'd and freed by the caller. */
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
    /* Threads one fit may use (0 or 1: the calling thread alone). The neural kinds split
     * each batch across that many threads of a team and hold BLAS to one thread; the
     * linear kinds give them to OpenBLAS for the fit. */
    int threads;
} fd_fit_opts;

/* What a declaration fixes before any data is seen. */
typedef struct fd_model_dims {
    size_t P;          /* characteristics per security (incl. a constant) */
    size_t K;          /* declared factors (the declaration's k) */
    size_t n_observed; /* observed factor series named by the declaration */
    size_t n_macro;    /* macro series named by the declaration */
} fd_model_dims;

/* Bits of fd_model_ops.inputs: series a declaration may name for this kind. */
enum { FD_INPUTS_OBSERVED = 1u, FD_INPUTS_MACRO = 2u };

typedef struct fd_model_ops {
    const char *kind;
    unsigned inputs; /* FD_INPUTS_*: 400 when a declaration names series the kind ignores */
    /* hyper: the model's JSON hyper-parameters (validated here: 400 naming an unknown key or
     * a bad value). Sets the base fields (fd_model_init). */
    int (*create)(const fd_model_dims *d, const json_t *hyper, fd_model **out, fd_error *err);
    /* valid may be NULL (no early stopping). Deterministic for a given hyper "seed" (and
     * thread count for the neural kinds). The datasets hold what the kind asked for. */
    int (*fit)(fd_model *m, const fd_dataset *train, const fd_dataset *valid,
               const fd_fit_opts *opts, fd_error *err);
    /* beta (p->n, K) for every security of the period, and alpha (p->n) when alpha is not
     * NULL (zeros without an intercept). Reads the characteristics side of the context only
     * (z, its history, mktcap, macro), never r, x or observed factors, so it also prices a
     * forecast context. */
    int (*betas)(const fd_model *m, const fd_period *p, double *beta, double *alpha,
                 fd_error *err);
    /* f (K): the factor realisation of the period (needs its returns). */
    int (*factors)(const fd_model *m, const fd_period *p, double *f, fd_error *err);
    int (*save)(const fd_model *m, void **blob, size_t *len, fd_error *err);
    int (*load)(const fd_model_dims *d, const json_t *hyper, const void *blob, size_t len,
                fd_model **out, fd_error *err);
    void (*destroy)(fd_model *m);
} fd_model_ops;

/* Every model struct starts with this header. */
struct fd_model {
    const fd_model_ops *ops;
    size_t P, K;         /* P in, K factors served (see above) */
    fd_model_dims dims;  /* as created */
    size_t history;      /* L >= 1: months of z and x the period context must hold */
    int has_alpha;       /* betas fill a non-zero alpha */
};

/* Fills the base of a new model: ops, dims, P = dims.P, K = dims.K, history 1, no alpha. */
void fd_model_init(fd_model *m, const fd_model_ops *ops, const fd_model_dims *d);

/* The registry of kinds (src/models/model.c): NULL for an unknown name. */
const fd_model_ops *fd_model_kind(const char *name);
/* Comma-separated list of known kinds, for error messages and --help. */
const char *fd_model_kind_names(void);
/* The i-th registered kind, NULL past the end (for tests that cover every kind). */
const fd_model_ops *fd_model_kind_at(size_t i);

/* Conveniences for tests, benchmarks and tools: create or load a kind with P
 * characteristics, K factors and no series; betas (n, K) and alpha (n, may be NULL) of n
 * rows of z (n, P) taken as one month's cross-section without history. */
int fd_model_create(const fd_model_ops *ops, const json_t *hyper, size_t P, size_t K,
                    fd_model **out, fd_error *err);
int fd_model_load(const fd_model_ops *ops, const json_t *hyper, size_t P, size_t K,
                  const void *blob, size_t len, fd_model **out, fd_error *err);
int fd_model_betas_rows(const fd_model *m, const double *z, size_t n, double *beta,
                        double *alpha, fd_error *err);

static inline void fd_model_destroy(fd_model *m) {
    if (m) m->ops->destroy(m);
}

/* ---- the model layer (src/models/predict.c); thread-safe like betas ---- */

/* beta (p->n, K) and, when alpha is not NULL, alpha (p->n). */
int fd_model_betas(const fd_model *m, const fd_period *p, double *beta, double *alpha,
                   fd_error *err);
/* f (K) realised in period p. */
int fd_model_factors(const fd_model *m, const fd_period *p, double *f, fd_error *err);
/* The prediction rule: out (nv, p->n), row v = alpha + beta F_v for F (nv, K) row-major:
 * fitted returns with F_v = f_t, expected returns with F_v = lambda. beta (p->n, K) receives
 * the betas when not NULL. One betas call serves every row. */
int fd_model_predict(const fd_model *m, const fd_period *p, const double *F, size_t nv,
                     double *out, double *beta, fd_error *err);

#endif
