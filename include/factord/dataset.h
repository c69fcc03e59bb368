/* fd_dataset: a model-ready sample, aligned as DESIGN.md section 2 says: period t pairs the
 * rank-normalised characteristics of month t-1 with the returns realised in month t, so no
 * value of month t leaks into what prices month t.
 *
 * The dataset owns everything it points to; fd_dataset_free releases it. Read-only once
 * built, so several threads may read one dataset. */
#ifndef FACTORD_DATASET_H
#define FACTORD_DATASET_H

#include <stddef.h>

#include "factord/error.h"
#include "factord/panel.h"

typedef struct fd_period {
    char month[FD_MONTH_LEN]; /* month t of the returns */
    size_t n;                 /* securities with characteristics at t-1 and a return at t */
    char **ids;               /* (n) security ids */
    double *z;                /* (n, P) row-major: characteristics at t-1, normalised */
    double *r;                /* (n) returns at t (excess returns when the RF was known) */
    double *mktcap;           /* (n) market cap at t-1, NaN where missing; NULL if none */
    double *x;                /* (P) managed portfolio (Z'Z)^{-1} Z' r */
} fd_period;

typedef struct fd_dataset {
    size_t T;                 /* periods */
    size_t P;                 /* characteristics per security (incl. a constant if asked) */
    char **col_names;         /* (P) */
    fd_period *periods;       /* (T) in month order */
} fd_dataset;

void fd_dataset_init(fd_dataset *ds);
void fd_dataset_free(fd_dataset *ds);

#endif
