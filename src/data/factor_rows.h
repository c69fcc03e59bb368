/* Internal to the factor parsers (french.c, factors_json.c): accumulates (month, values)
 * rows in input order, then sorts them into an fd_factor_table, rejecting a month given
 * twice. Owns its memory until moved out by factor_rows_finish; one thread. */
#ifndef FACTORD_FACTOR_ROWS_H
#define FACTORD_FACTOR_ROWS_H

#include <stddef.h>

#include "factord/error.h"
#include "factord/factors.h"

typedef struct factor_rows {
    size_t n_factors;
    char **names;                 /* (n_factors) owned */
    size_t n, cap;
    char (*months)[FD_MONTH_LEN]; /* (n) */
    double *values;               /* (n, n_factors) row-major, decimals */
    long *tags;                   /* (n) line numbers or array indexes, for errors */
    int tag_is_index;             /* errors say "factors[i]" instead of "line i" */
} factor_rows;

/* Copies the names; 400 on an empty or duplicate name. */
int factor_rows_init(factor_rows *r, const char *const *names, size_t n, int tag_is_index,
                     fd_error *err);
/* vals: (n_factors) already in decimals. */
int factor_rows_add(factor_rows *r, const char *month, const double *vals, long tag,
                    fd_error *err);
/* Sorts by month into out; 400 "duplicate_month" / "no_rows". */
int factor_rows_finish(factor_rows *r, fd_factor_table *out, fd_error *err);
void factor_rows_free(factor_rows *r);

#endif
