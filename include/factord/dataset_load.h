/* Datasets from the stored panels: the one loader training, validation, evaluation and
 * backtests share. Runs on the calling thread with the caller's connection. */
#ifndef FACTORD_DATASET_LOAD_H
#define FACTORD_DATASET_LOAD_H

#include <jansson.h>

#include "factord/dataset.h"
#include "factord/store.h"

/* Builds the dataset for months [from, to] of the returns from the stored panels of
 * from-1 .. to. model is the model JSON (columns, excess_returns, add_constant); columns,
 * when not NULL, overrides the model's selection (the validation block uses the training
 * block's fitted columns). stats (may be NULL) receives what the build did. */
int fd_dataset_load(fd_db *db, const char *from, const char *to, const json_t *model,
                    const json_t *columns, fd_dataset *ds, fd_dataset_stats *stats,
                    fd_error *err);

#endif
