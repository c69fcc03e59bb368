/* fd_month: one stored month made ready for models: its panel, an index of its security
 * ids, and its rank-normalised design matrices (one per column set, computed on first use
 * and kept with the month). The period context builder (factord/context.h) reads months
 * through this type, whether a training run loads them for its window or serving keeps
 * them across requests (factord/design_cache.h).
 *
 * A month is immutable once built except for its list of designs, which has its own lock;
 * designs are never freed before the month. Reference-counted: whoever obtains a month owns
 * one reference and gives it back with fd_month_release. Every function is thread-safe. */
#ifndef FACTORD_MONTH_H
#define FACTORD_MONTH_H

#include <stddef.h>

#include "factord/panel.h"
#include "factord/store.h"

typedef struct fd_month fd_month;

/* The stored panel of `month` (404 "no_panel" when absent) with its update stamp. */
int fd_month_load(fd_db *db, const char *month, fd_month **out, fd_error *err);
/* A month over a panel the caller keeps (not copied, never freed by the month): the caller
 * must keep `panel` unchanged and alive while any reference to the month is held. For
 * panels that are not stored (inline scoring, fd_dataset_from_panels). stamp may be "". */
int fd_month_borrow(const fd_panel *panel, const char *stamp, fd_month **out, fd_error *err);

void fd_month_hold(fd_month *m);
void fd_month_release(fd_month *m); /* NULL is a no-op */

const fd_panel *fd_month_panel(const fd_month *m);
/* The panel's update stamp when loaded (new on every replacement, never reused). */
const char *fd_month_stamp(const fd_month *m);
/* Row of a security id in the panel, or -1 (binary search on a sorted index). */
long fd_month_row(const fd_month *m, const char *id);

/* z (n_rows, Pc + add_constant) row-major: the columns `names` (Pc of them) of the panel,
 * each rank-normalised over the whole month (factord/preprocess.h: missing values at the
 * median 0), then a constant column of ones when add_constant. Computed once per column set
 * and kept with the month: the matrix belongs to the month and lives while it is held.
 * strict: a column the panel lacks is 422 "missing_columns" naming up to eight of them;
 * otherwise it counts as missing for every security (all 0). */
int fd_month_design(fd_month *m, char *const *names, size_t Pc, int add_constant, int strict,
                    const double **z, fd_error *err);

#endif
