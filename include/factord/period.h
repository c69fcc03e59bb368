/* fd_period: the period context of one return month t, the only input a model kind ever
 * sees (fit, betas, factors). Built in one place, factord/context.h, for training,
 * validation, evaluation, backtests and serving alike. Timing (docs/design.md, "Data and
 * timing"): every characteristic is known at the end of t-1; r, x, the observed factors are
 * of month t.
 *
 * Always present:
 *   z       (n, P)  characteristics of month t-1, rank-normalised over t-1's whole
 *                   cross-section (+ a constant column when the model has one)
 *   ids     (n)     the securities, in the order of z's rows
 *   mktcap  (n)     market cap at t-1, NaN where missing; NULL when the panel has none
 * Present when month t's returns are (training, evaluation, factor realisations; NULL in a
 * forecast context, which scores month t+1 from characteristics of t):
 *   r       (n)     returns of month t (in excess of RF_t when the model asks and RF is stored)
 *   x       (P)     managed portfolio (Z'Z)^{-1} Z' r of month t
 * On request of the model kind (fd_model.history > 1), the last L months:
 *   z at step l, l = 0 .. L-1, month t-L+l (l = L-1 is z itself), for the period's securities,
 *   x at step l, month t-L+1+l (l = L-1 is x itself),
 *   read through fd_period_z_at / fd_period_x_at, which answer NULL for a missing month or a
 *   security without a row that month (the mask: history is never zero-filled as if real).
 * On request of the declaration (observed factors, macro series named by the model):
 *   observed (n_observed) returns of stored factor series in month t (NaN unknown, always NaN
 *                         in a forecast context)
 *   macro    (n_macro)    macro series at month t-1 (values known when z is)
 *
 * A period is read-only once built; several threads may read one. Ownership: a period owns
 * its arrays except those flagged in `borrowed` (views into a month the builder holds for
 * the dataset's life); fd_dataset_free releases everything. */
#ifndef FACTORD_PERIOD_H
#define FACTORD_PERIOD_H

#include <stddef.h>
#include <stdint.h>

#include "factord/panel.h"

/* Bits of fd_period.borrowed: arrays the period does not free. */
enum { FD_BORROW_IDS = 1u, FD_BORROW_Z = 2u, FD_BORROW_MKTCAP = 4u };

struct fd_history; /* the months table behind the history steps (src/data/context.c) */

typedef struct fd_period {
    char month[FD_MONTH_LEN];    /* month t of the returns */
    size_t n;                    /* securities */
    size_t P;                    /* columns of z (set by the builder) */
    char **ids;                  /* (n) */
    double *z;                   /* (n, P) row-major at t-1 */
    double *r;                   /* (n) at t, or NULL in a forecast context */
    double *mktcap;              /* (n) at t-1, NaN where missing; NULL if none */
    double *x;                   /* (P) at t, or NULL in a forecast context */
    double *observed;            /* (n_observed) at t, NaN unknown; NULL when none named */
    double *macro;               /* (n_macro) at t-1; NULL when none named */
    /* History (L > 1 only; L = 1 means z and x alone). */
    size_t L;
    const struct fd_history *hist;
    size_t hist_at;              /* index of month t-1 in hist */
    int32_t *hist_row;           /* (L - 1, n) row of security i in month t-L+l, -1 absent */
    unsigned borrowed;           /* FD_BORROW_* */
} fd_period;

/* Steps of history the period holds (>= 1). */
size_t fd_period_history(const fd_period *p);
/* Row i (P values) of z at step l (0 = month t-L, L-1 = t-1): NULL when the month is not
 * stored or security i had no row in it. */
const double *fd_period_z_at(const fd_period *p, size_t l, size_t i);
/* x (P) at step l (0 = month t-L+1, L-1 = t): NULL when that month's managed portfolio is
 * unknown (no panel, or the step is month t of a forecast context). */
const double *fd_period_x_at(const fd_period *p, size_t l);

#endif
