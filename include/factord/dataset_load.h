/* Datasets from the stored panels: the one loader training, validation, evaluation and
 * backtests share (the period context builder, factord/context.h, over the store). Runs on
 * the calling thread with the caller's connection. */
#ifndef FACTORD_DATASET_LOAD_H
#define FACTORD_DATASET_LOAD_H

#include "factord/context.h"
#include "factord/dataset.h"
#include "factord/store.h"

/* The periods of return months [from, to] from the stored panels of from-L .. to, in one
 * read transaction: every month from-1 .. to must be stored (422 "missing_panels" naming
 * the first missing), and every named series value a period needs (422 "missing_series");
 * cs->require_window and require_series are implied. stats (may be NULL) receives what the
 * build did. Errors are prefixed with the window. */
int fd_dataset_load(fd_db *db, const fd_context_spec *cs, const char *from, const char *to,
                    fd_dataset *ds, fd_dataset_stats *stats, fd_error *err);

#endif
