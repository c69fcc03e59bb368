/* fd_panel: one month of the cross-section, as stored (raw values, not normalised).
 *
 * Row i is security ids[i]; `values` holds the characteristic columns, `ret` the return
 * realised during the month and `mktcap` the market capitalisation, each NULL when the month
 * has no such column. NaN means missing everywhere. The panel owns every pointer in it;
 * fd_panel_free releases them and leaves an empty panel. Not thread-safe; a panel may be
 * handed between threads. */
#ifndef FACTORD_PANEL_H
#define FACTORD_PANEL_H

#include <stddef.h>

#include "factord/error.h"

#define FD_MONTH_LEN 8 /* "YYYY-MM" + NUL */

typedef struct fd_panel {
    char month[FD_MONTH_LEN]; /* "YYYY-MM" */
    size_t n_rows;            /* securities */
    size_t n_cols;            /* characteristic columns (not id, ret, mktcap) */
    char **ids;               /* (n_rows) security ids, each malloc'd */
    char **col_names;         /* (n_cols) column names, each malloc'd */
    double *values;           /* (n_rows, n_cols) row-major; NaN = missing */
    double *ret;              /* (n_rows) or NULL */
    double *mktcap;           /* (n_rows) or NULL */
    /* "YYYY-MM-DD" of the last day with data when the month is partial (daily bars that end
     * before the month does: docs/characteristics.md); "" for a complete month. */
    char partial_through[11];
} fd_panel;

void fd_panel_init(fd_panel *p);
void fd_panel_free(fd_panel *p);

/* Month keys run from FD_MONTH_FIRST to FD_MONTH_LAST (documented in the README); every
 * key outside is rejected, and month arithmetic never leaves the range, so a loop over
 * months is always bounded by a count of months, never by comparing keys. */
#define FD_YEAR_FIRST 1900
#define FD_YEAR_LAST 2999
#define FD_MONTH_FIRST "1900-01"
#define FD_MONTH_LAST "2999-12"

/* Validates "YYYY-MM" (month 01..12, year FD_YEAR_FIRST..FD_YEAR_LAST); fills a 400
 * "bad_month" error. */
int fd_month_parse(const char *text, int *year, int *month, fd_error *err);
/* Month arithmetic on keys: out = key shifted by `delta` months. Returns 0, or -1 with
 * out = "" when key is not a valid key or the result falls outside the range. */
int fd_month_add(const char *key, int delta, char out[FD_MONTH_LEN]);
/* Months from a to b (b - a), both valid keys (0 when either is not). */
int fd_month_diff(const char *a, const char *b);

/* Column index by name or -1. */
long fd_panel_col(const fd_panel *p, const char *name);
/* Row index by security id or -1 (linear; callers that need many look-ups build a map). */
long fd_panel_row(const fd_panel *p, const char *id);

#endif
