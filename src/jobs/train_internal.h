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

/* In-sample factor series F (train->T, K) and fit statistics JSON of a fitted model:
 * total and predictive R^2 for stocks and managed portfolios in sample (lambda = the mean of
 * the in-sample factors, Kelly et al.'s in-sample convention) and on the validation block
 * (lambda = the mean of every factor realised before the month), plus the trace. *F is
 * malloc'd, freed by the caller. */
int fd_train_fit_stats(const fd_model *m, const fd_dataset *train, const fd_dataset *valid,
                       const fd_train_trace *trace, double **F, json_t **stats,
                       fd_error *err);

#endif
