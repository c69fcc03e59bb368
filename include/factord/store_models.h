/* Stores for models, their trained versions and the job rows (migrations 0001 and 0003).
 *
 * All functions take a connection the calling thread holds (see store.h). Functions whose
 * name ends in _tx run inside a transaction the caller already holds; the others open and
 * commit their own (BEGIN IMMEDIATE for writes). Failing calls change nothing. JSON outputs
 * are new references the caller decrefs.
 *
 * The store holds a version's bytes but never builds a model from them: that is
 * fd_model_load_version (factord/model_store.h), in the model layer.
 * A version's weights (the bytes ops->save returns) are stored as one f64 matrix of
 * ceil(len / 8) rows, zero-padded, with the exact byte count in weights_bytes; its in-sample
 * factor series F is a (T, K) f64 matrix whose rows are the months listed beside it. */
#ifndef FACTORD_STORE_MODELS_H
#define FACTORD_STORE_MODELS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "factord/panel.h"
#include "factord/store.h"

/* --- models --- */

/* Inserts model `name` with kind, k and spec (JSON object: hyper, columns, excess_returns,
 * add_constant; not stolen). 409 "model_exists" if the name is taken. *out (may be NULL) as in get. */
int fd_store_model_create(fd_db *db, const char *name, const char *kind, size_t k,
                          const json_t *spec, json_t **out, fd_error *err);
/* {"name","kind","k","hyper","columns","excess_returns","add_constant","created_at",
 *  "versions","latest_version"}; 404 "no_model". */
int fd_store_model_get(fd_db *db, const char *name, json_t **out, fd_error *err);
/* Array of models as in get, by name. */
int fd_store_model_list(fd_db *db, json_t **out, fd_error *err);
/* Removes the model, its versions (and their matrices) and labels. 404 "no_model";
 * 409 "model_busy" while a job for it is queued or running; 409 "model_labelled" (naming
 * the labels) while a label points at one of its versions, unless force. */
int fd_store_model_delete(fd_db *db, const char *name, int force, fd_error *err);

/* --- versions --- */

typedef struct fd_version_write {
    const char *model;
    const json_t *spec;        /* kind, k, hyper, columns, excess_returns, P, col_names */
    const char *train_from, *train_to;
    const char *valid_from, *valid_to; /* NULL without a validation block */
    const json_t *fit_stats;
    const void *weights;       /* ops->save bytes */
    size_t weights_len;
    const double *factors;     /* (T, K) row-major in-sample factor realisations */
    size_t T, K;
    const char (*months)[FD_MONTH_LEN]; /* (T) month of each row of factors */
    int64_t job_id;            /* 0 when trained outside a job (factord train) */
    const json_t *origin;      /* imported versions: the artifact they came from; else NULL */
} fd_version_write;

/* Inserts version max+1 of v->model in state 'ready' with its matrices, inside the caller's
 * transaction; sets *version. 404 "no_model" if the model is gone. */
int fd_store_version_insert_tx(fd_db *db, const fd_version_write *v, int *version,
                               fd_error *err);
/* {"model","version","state","spec","train":{"from","to"},"valid":{...}|null,"fit_stats",
 *  "job_id","created_at","origin"}; origin is null for versions trained here; 404
 *  "no_version". */
int fd_store_version_get(fd_db *db, const char *model, int version, json_t **out,
                         fd_error *err);
/* Array of versions as in get, ascending; 404 "no_model" for an unknown model. */
int fd_store_version_list(fd_db *db, const char *model, json_t **out, fd_error *err);
/* Highest 'ready' version; 404 "no_version" when there is none. */
int fd_store_version_latest(fd_db *db, const char *model, int *version, fd_error *err);
/* The stored weight bytes; *blob malloc'd, freed by the caller. */
int fd_store_version_weights(fd_db *db, const char *model, int version, void **blob,
                             size_t *len, fd_error *err);
/* The in-sample factor series: *F (T, K) row-major and *months (T), both malloc'd and freed
 * by the caller (NULL when T == 0). Serving takes lambda as the mean of the rows known at t. */
int fd_store_version_factors(fd_db *db, const char *model, int version, double **F,
                             size_t *T, size_t *K, char (**months)[FD_MONTH_LEN],
                             fd_error *err);

/* --- job rows (the job manager's queue; see jobs.h) --- */

/* Job JSON: {"id","kind","model","state","progress","params","losses":[{"member","epoch",
 * "train","valid"}],"result","error":{"code","message"}|null,"cancel_requested","attempts",
 * "created_at","started_at","finished_at","heartbeat_at"}. */
/* Queues a job; *out (may be NULL) receives its JSON as inserted (state "queued"). */
int fd_store_job_insert(fd_db *db, const char *kind, const char *model, const json_t *params,
                        int64_t *id, json_t **out, fd_error *err);
int fd_store_job_get(fd_db *db, int64_t id, json_t **out, fd_error *err); /* 404 "no_job" */
/* Newest first; state and model filter when not NULL (400 "bad_state" for an unknown
 * state); at most `limit` rows (<= 0: 100). List entries carry "n_losses" instead of the
 * loss history. */
int fd_store_job_list(fd_db *db, const char *state, const char *model, int limit,
                      json_t **out, fd_error *err);
/* 1 if s is a job state name. */
int fd_job_state_valid(const char *s);
/* The i-th job state name (0..4: queued, running, succeeded, failed, cancelled), or NULL. */
const char *fd_job_state_name(int i);
/* {"<kind>": {"<state>": count, ...}, ...} over every job row. */
int fd_store_job_state_counts(fd_db *db, json_t **out, fd_error *err);

/* Worker side. A claimed job: */
typedef struct fd_job_claim {
    int64_t id;          /* 0 when nothing was queued */
    char kind[32];
    char model[128];     /* "" when none */
    json_t *params;      /* owned by the claimer */
} fd_job_claim;
/* Turns the oldest queued job whose kind is in `kinds` (NULL-terminated) 'running'. Jobs
 * flagged cancel_requested while queued are cancelled instead of claimed. */
int fd_store_job_claim(fd_db *db, const char *const *kinds, fd_job_claim *out, fd_error *err);
/* Re-queues every 'running' job (start-up after a crash); *n (may be NULL) gets the count. */
int fd_store_job_requeue_running(fd_db *db, int *n, fd_error *err);
/* Writes progress, losses (JSON array text) and heartbeat of a running job and reads back
 * its cancel flag into *cancel_requested. */
int fd_store_job_heartbeat(fd_db *db, int64_t id, double progress, const char *losses,
                           int *cancel_requested, fd_error *err);
/* Ends a running job: state is "succeeded", "failed", "cancelled" or "queued" (stopped for a
 * restart: progress and losses reset). result, error and losses (JSON array text, the final
 * loss history) may be NULL. Inside the caller's transaction; 409 "job_not_running" when the
 * row is not running, or for "succeeded" when a cancel was requested. */
int fd_store_job_finish_tx(fd_db *db, int64_t id, const char *state, const json_t *result,
                           const fd_error *error, const char *losses, fd_error *err);
/* Same in its own transaction. */
int fd_store_job_finish(fd_db *db, int64_t id, const char *state, const json_t *result,
                        const fd_error *error, const char *losses, fd_error *err);
/* Client cancel: queued -> cancelled; running -> cancel_requested = 1. *was_running tells
 * which. 404 "no_job"; 409 "job_finished". */
int fd_store_job_cancel(fd_db *db, int64_t id, int *was_running, fd_error *err);

#endif
