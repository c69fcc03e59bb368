/* Declaring and training models, shared by the HTTP handlers (src/http/h_models.c), the
 * "train" job kind (src/jobs/train_job.c) and `factord train` (src/cli/cmd_train.c), so the
 * daemon and a batch scheduler fit models with exactly the same code.
 *
 * A training run loads the stored panels of each window (month from-1 .. to: period t pairs
 * the characteristics of t-1 with the returns of t), builds the datasets
 * (fd_dataset_from_panels; excess returns over the stored RF when the model asks), creates
 * and fits the model, computes its fit statistics and in-sample factor series, and writes
 * version max+1 in one transaction. Nothing is written before that transaction, so a failed
 * or cancelled run leaves no trace but its job row. Fits are deterministic for a given hyper
 * "seed", so re-running an interrupted job reproduces the same version.
 *
 * All functions run on the calling thread with the caller's connection. */
#ifndef FACTORD_TRAIN_H
#define FACTORD_TRAIN_H

#include <jansson.h>
#include <stdint.h>

#include "factord/error.h"
#include "factord/jobs.h"
#include "factord/model.h"
#include "factord/panel.h"
#include "factord/store.h"

#define FD_MODEL_NAME_MAX 64

/* 1 if name matches [A-Za-z0-9_.-]{1,64}. */
int fd_model_name_valid(const char *name);

/* Validates a declaration {"name","kind","k","hyper":{...},"columns":[...],
 * "excess_returns":bool,"add_constant":bool,"observed":[...],"macro":[...]} (all but name,
 * kind and k optional; add_constant appends a column of ones named "const" to the
 * characteristics; observed names stored factor series the model reads as month t's
 * observed factors, macro names macro series it reads at t-1, both only for kinds whose
 * ops->inputs say so): the name, the kind (fd_model_kind), k >= 1, distinct non-empty
 * names, and the hyper-parameters by creating and destroying a model. 400 naming the field
 * on failure. Fills name, *kind (static string), *k and *spec (new JSON for models.spec:
 * {"hyper","columns","excess_returns","add_constant","observed","macro"}). */
int fd_model_decl_parse(const json_t *body, char name[FD_MODEL_NAME_MAX + 1],
                        const char **kind, size_t *k, json_t **spec, fd_error *err);

typedef struct fd_train_windows {
    char train_from[FD_MONTH_LEN], train_to[FD_MONTH_LEN];
    char valid_from[FD_MONTH_LEN], valid_to[FD_MONTH_LEN]; /* "" without validation */
} fd_train_windows;

/* Parses {"train":{"from","to"},"valid":{"from","to"}} (valid optional): 400 "bad_window"
 * for a missing or malformed month, from > to, or a validation block not after training. */
int fd_train_windows_parse(const json_t *body, fd_train_windows *w, fd_error *err);
/* The same JSON shape back (new reference). */
json_t *fd_train_windows_json(const fd_train_windows *w);
/* 422 "missing_panels" naming every month a window needs (from-1 .. to) that has no stored
 * panel. */
int fd_train_windows_check(fd_db *db, const fd_train_windows *w, fd_error *err);

typedef struct fd_train_hooks {
    /* Called between phases (ev NULL) and once per epoch; progress in [0, 1]. Non-zero stops
     * the run (it then fails with 409 "cancelled"). May be NULL. */
    int (*progress)(void *ctx, double progress, const fd_fit_event *ev);
    /* Called inside the transaction that writes the version, with the version JSON; a failure
     * rolls the version back. May be NULL. */
    int (*commit)(void *ctx, fd_db *db, const json_t *version, fd_error *err);
    void *ctx;
    int64_t job_id; /* recorded with the version; 0 outside a job */
} fd_train_hooks;

/* Trains model `model` (declared) on windows w and writes its next version. *version (may be
 * NULL) receives the version JSON as fd_store_version_get gives it. hooks may be NULL. */
int fd_train_run(fd_db *db, const char *model, const fd_train_windows *w,
                 const fd_train_hooks *hooks, json_t **version, fd_error *err);

/* The "train" job kind: params are the windows JSON, the job's model the model to train. */
extern const fd_job_kind fd_job_kind_train;

#endif
