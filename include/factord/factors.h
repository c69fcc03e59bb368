/* fd_factor_table: benchmark factor returns (Fama-French Mkt-RF, SMB, HML, RMW, CMA, Mom,
 * RF, ...) by month, always in decimals (0.0289, not 2.89). Owns its arrays; freed with
 * fd_factor_table_free. */
#ifndef FACTORD_FACTORS_H
#define FACTORD_FACTORS_H

#include <stddef.h>

#include "factord/error.h"
#include "factord/panel.h"

typedef struct fd_factor_table {
    size_t n_months;
    size_t n_factors;
    char (*months)[FD_MONTH_LEN]; /* (n_months) ascending "YYYY-MM" */
    char **names;                 /* (n_factors) e.g. "Mkt-RF", "RF" */
    double *values;               /* (n_months, n_factors) row-major decimals; NaN missing */
} fd_factor_table;

void fd_factor_table_init(fd_factor_table *t);
void fd_factor_table_free(fd_factor_table *t);

#endif
