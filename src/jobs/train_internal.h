/* Internals of the training run shared by src/jobs/train_*.c, not part of any public
 * contract. */
#ifndef FACTORD_TRAIN_INTERNAL_H
#define FACTORD_TRAIN_INTERNAL_H

#include <jansson.h>

#include "factord/dataset.h"
#include "factord/lambda.h"
#include "factord/model.h"
#include "factord/store.h"

/* What the fit reported, for the fit statistics. */
typedef struct fd_train_trace {
    fd_fit_event last; /* the last progress event */
    int have_last;
    int events;        /* epochs run over all ensemble members */
    double fit_seconds;
} fd_train_trace;

/* The fitted model's factor history and fit statistics JSON: hist receives the
 * realisations of every training period then every validation period (what the version
 * stores; initialised here, freed by the caller); stats the total and predictive R^2 for
 * stocks and managed portfolios in sample (lambda: the training-window mean, Kelly et al.'s
 * in-sample convention) and on the validation block (lambda: the prevailing mean known
 * before each month), each with its lambda stated, plus the trace. */
int fd_train_fit_stats(const fd_model *m, const fd_dataset *train, const fd_dataset *valid,
                       const fd_lambda_windows *w, const fd_train_trace *trace,
                       fd_factor_history *hist, json_t **stats, fd_error *err);

#endif
