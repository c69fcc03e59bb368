/* The model registry: fitted versions in memory, immutable and reference-counted.
 *
 * A request pins one version (fd_registry_pin) for its whole life and unpins it at the end,
 * so a label moved meanwhile never mixes two versions in one answer. A version is loaded
 * from the store the first time it is pinned, on the pinning (worker) thread, never on the
 * loop; concurrent pins of a version being loaded wait for it. After loading, a warm-up
 * score (betas of one zero row) must give finite numbers, or the version is marked failed
 * with the reason (pins then fail with 422 "version_failed"; other versions keep serving).
 * Retiring a version drops the registry's own reference: its memory is freed when the last
 * request holding it unpins.
 *
 * Threads: every function may be called from any thread; the registry has its own mutex.
 * The caller passes its own store connection. */
#ifndef FACTORD_REGISTRY_H
#define FACTORD_REGISTRY_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "factord/context.h"
#include "factord/lambda.h"
#include "factord/model.h"
#include "factord/panel.h"
#include "factord/store.h"

typedef struct fd_version {
    char model[128];
    int version;
    fd_model *m;                  /* fitted model */
    json_t *spec;                 /* kind, k, hyper, columns, excess_returns, ... */
    char **columns;               /* (P) characteristic names the model was fitted on */
    size_t P, K;
    int add_constant;             /* the fit appended a constant column */
    int excess_returns;           /* fitted on returns minus RF */
    double *F;                    /* (T0, K) stored factor realisations: the training window,
                                     then the validation window (versions trained before the
                                     contract change: training only) */
    size_t T0;
    char (*months)[FD_MONTH_LEN]; /* (T0) month of each row of F */
    char train_to[FD_MONTH_LEN];
    fd_lambda_windows windows;    /* its training and validation windows */
    fd_context_spec cs;           /* what its period contexts hold (names point into spec) */
    struct fd_design_cache *cache; /* the registry's months, which scoring reads through */
    atomic_int refs;              /* the registry's + one per pin */
    /* Memo of post-training factor realisations (scoring.c), keyed by month and the
     * update stamps of the panels they came from, so a replaced panel is recomputed. */
    pthread_mutex_t memo_mu;
    size_t memo_n, memo_cap;
    struct fd_factor_memo *memo;  /* (memo_n) */
} fd_version;

typedef struct fd_registry fd_registry;

int fd_registry_create(fd_registry **out, fd_error *err);
/* Frees every version still held by the registry (pins must have ended). */
void fd_registry_destroy(fd_registry *reg);

/* Resolves `ref` for a model: NULL, "" or "latest" (highest ready version), a version
 * number, or a label. 404 for an unknown model, version or label. */
int fd_registry_resolve(fd_db *db, const char *model, const char *ref, int *version,
                        fd_error *err);
/* Pins model/version, loading it if needed. 404 "no_version", 409 "version_not_ready"
 * (retired or still training), 422 "version_failed" (load or warm-up failed). */
int fd_registry_pin(fd_registry *reg, fd_db *db, const char *model, int version,
                    fd_version **out, fd_error *err);
void fd_registry_unpin(fd_version *v);
/* Retires a version in the store and drops it from memory (freed at its last unpin); force
 * removes the labels pointing at it (fd_store_version_retire). */
int fd_registry_retire(fd_registry *reg, fd_db *db, const char *model, int version, int force,
                       fd_error *err);
/* Drops every version of a deleted model from memory (freed at their last unpin), so a
 * model declared again under the same name starts from its own versions. */
void fd_registry_forget_model(fd_registry *reg, const char *model);
/* In-memory state of a version: "loading", "ready", "failed" (with *error) or NULL when
 * not loaded. error (may be NULL) receives a copy of the failure message. */
const char *fd_registry_state(fd_registry *reg, const char *model, int version, char *error,
                              size_t cap);
/* Months kept by the registry's cache of scoring inputs (see design_cache.h). */
#define FD_DESIGN_CACHE_MONTHS 24
struct fd_design_cache *fd_registry_designs(fd_registry *reg);

/* Number of versions currently in memory and live version objects (incl. retired ones
 * still pinned): for /metrics and the memory-release test. */
void fd_registry_counts(fd_registry *reg, size_t *loaded, size_t *live);

#endif
