/* How concentrated an evaluation is (docs/outliers.md): the largest single security-month's
 * share of the sum of squared returns, of the squared errors of the fitted returns (total
 * R^2) and of the squared errors of the expected returns (predictive R^2). One data error
 * (a +820,517% month) can hold almost all of each sum; every evaluation, backtest and report
 * states these shares and warns when one passes FD_CONCENTRATION_WARN.
 *
 * fd_concentration is plain data: zero it, add months, then report. Ids longer than
 * FD_CONCENTRATION_ID_LEN - 1 bytes are shown truncated. Not thread-safe. */
#ifndef FACTORD_EVAL_CONCENTRATION_H
#define FACTORD_EVAL_CONCENTRATION_H

#include <jansson.h>
#include <stddef.h>

#include "factord/panel.h"

#define FD_CONCENTRATION_WARN 0.1 /* one security-month holding > 10% of a sum is a warning */
#define FD_CONCENTRATION_ID_LEN 64

enum { FD_CONC_RETURNS, FD_CONC_TOTAL, FD_CONC_PRED, FD_CONC_N };

typedef struct fd_concentration {
    double sum[FD_CONC_N];     /* sum r^2, sum (r - fitted)^2, sum (r - expected)^2 */
    double largest[FD_CONC_N]; /* the largest single term of each sum */
    double ret[FD_CONC_N];     /* the return of the security-month that holds it */
    char id[FD_CONC_N][FD_CONCENTRATION_ID_LEN];
    char month[FD_CONC_N][FD_MONTH_LEN];
} fd_concentration;

/* Adds the security-months of month `month`: ids, r, fitted (beta' f_t) and expected
 * (beta' lambda) are (n); non-finite terms are skipped. */
void fd_concentration_add(fd_concentration *c, const char *month, const char *const *ids,
                          const double *r, const double *fitted, const double *expected,
                          size_t n);

/* {"threshold","returns"|"total_errors"|"pred_errors":{"share","id","month","ret"}} (share
 * null for an empty sum), and one {"code":"concentrated_error","message"} appended to
 * warnings (a JSON array; may be NULL) per share past the threshold. NULL on out of memory. */
json_t *fd_concentration_report(const fd_concentration *c, json_t *warnings);

#endif
