/* Internals of the training run shared by src/jobs/train_*.c, not part of any public
 * contract. */
#ifndef FACTORD_TRAIN_INTERNAL_H
#define FACTORD_TRAIN_INTERNAL_H

#include <jansson.h>

#include "factord/dataset.h"
#include "factord/model.h"
#include "factord/store.h"

/* What the fit reported, for the fit statistics. */
typedef struct fd_train_trace {
    fd_fit_event last; /* the last progress event */
    int have_last;
    int events;        /* epochs run over all ensemble members */
    double fit_seconds;
} fd_train_trace;

/* Builds the dataset for months [from, to] of the returns from the stored panels of
 * from-1 .. to. model is the model JSON (columns, excess_returns, add_constant); columns,
 * when not NULL, overrides the model's selection (the validation block uses the training
 * block's fitted columns). stats (may be NULL) receives what the build did. */
int fd_train_load_dataset(fd_db *db, const char *from, const char *to, const json_t *model,
                          const json_t *columns, fd_dataset *ds, fd_dataset_stats *stats,
                          fd_error *err);

/* In-sample factor series F (train->T, K) and fit statistics JSON of a fitted model:
 * total and predictive R^2 for stocks and managed portfolios in sample (lambda = the mean of
 * the in-sample factors, Kelly et al.'s in-sample convention) and on the validation block
 * (lambda = the mean of every factor realised before the month), plus the trace. *F is
 * malloc'd, freed by the caller. */
int fd_train_fit_stats(const fd_model *m, const fd_dataset *train, const fd_dataset *valid,
                       const fd_train_trace *trace, double **F, json_t **stats,
                       fd_error *err);

#endif
