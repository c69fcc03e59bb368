/* fd_dataset: a model-ready sample, aligned as docs/design.md (data and timing) says: period t pairs the
 * rank-normalised characteristics of month t-1 with the returns realised in month t, so no
 * value of month t leaks into what prices month t. Periods are period contexts
 * (factord/period.h), built by factord/context.h; fd_dataset_from_panels below is that
 * builder over panels in memory.
 *
 * The dataset owns everything it points to; fd_dataset_free releases it. Read-only once
 * built, so several threads may read one dataset. */
#ifndef FACTORD_DATASET_H
#define FACTORD_DATASET_H

#include <stddef.h>

#include "factord/error.h"
#include "factord/factors.h"
#include "factord/panel.h"
#include "factord/period.h"

typedef struct fd_dataset {
    size_t T;                 /* periods */
    size_t P;                 /* characteristics per security (incl. a constant if asked) */
    char **col_names;         /* (P) */
    fd_period *periods;       /* (T) in month order */
    size_t L;                 /* history steps of every period (0 or 1: none) */
    size_t n_observed;        /* observed factor series of every period */
    char **observed;          /* (n_observed) their names */
    size_t n_macro;           /* macro series of every period */
    char **macro;             /* (n_macro) their names */
    struct fd_history *hist;  /* the months behind the periods' history (owned) */
    struct fd_month **held;   /* (n_held) months the periods view (borrowed arrays) */
    size_t n_held;
} fd_dataset;

void fd_dataset_init(fd_dataset *ds);
void fd_dataset_free(fd_dataset *ds);

/* What fd_dataset_from_panels did, for logs and answers. */
typedef struct fd_dataset_stats {
    size_t n_excess;  /* periods whose returns are in excess of that month's RF */
    size_t n_dropped; /* securities dropped from a period: no return at t (missing or absent) */
    size_t n_ridge;   /* periods whose managed portfolio needed the ridge fallback (n < P) */
} fd_dataset_stats;

/* How fd_dataset_from_panels builds a sample. Zero-initialised means: every characteristic
 * column, no constant, raw returns, no history, no series. */
typedef struct fd_dataset_opts {
    const char *const *columns; /* (n_columns) characteristic names, in this order; NULL =
                                   every column of the first panel, in its order */
    size_t n_columns;
    int add_constant;           /* append a column of ones named "const" */
    const double *rf;           /* (n panels) RF of each panel's month in decimals, NaN where
                                   unknown (raw returns that month); NULL = raw returns */
    fd_dataset_stats *stats;    /* optional out: what the build did */
    size_t history;             /* L months of z and x history (0 or 1: none) */
    const char *const *observed;         /* (n_observed) factor series wanted at t, */
    size_t n_observed;
    const struct fd_factor_table *factors; /* looked up in this table (NULL: all NaN) */
    const char *const *macro;            /* (n_macro) macro series wanted at t-1, */
    size_t n_macro;
    const struct fd_factor_table *macro_table; /* looked up in this table */
} fd_dataset_opts;

/* Builds out from panels (n) in ascending, distinct month order: one period for every month
 * t that has returns and whose predecessor t-1 is also in the array. Period t holds the
 * characteristics of month t-1, rank-normalised over month t-1's whole cross-section, for
 * the securities (matched by id) that have a return at t; the others are dropped. A column
 * a month lacks counts as missing there (imputed 0). opts may be NULL. Errors: 422
 * "bad_order" (months not ascending), "unknown_column" (a selected column in no panel),
 * "empty_dataset" (no period with a security), 500 "out_of_memory". On failure out is left
 * empty (freeable). */
int fd_dataset_from_panels(const fd_panel *panels, size_t n, const fd_dataset_opts *opts,
                           fd_dataset *out, fd_error *err);

#endif
