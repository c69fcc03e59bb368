/* Internals of the backtest job shared by src/jobs/backtest_*.c, not part of any public
 * contract. */
#ifndef FACTORD_BACKTEST_INTERNAL_H
#define FACTORD_BACKTEST_INTERNAL_H

#include <stdint.h>

#include "factord/backtest.h"
#include "factord/eval.h"
#include "factord/report.h"
#include "factord/store_backtests.h"

/* Evaluates the test months of window w with version `version` of `model`: the realised
 * factors f_t, lambda_{t-1} (mean of the version's in-sample factors and the window's
 * earlier test factors) and the window's own metrics. Runs inside the transaction that
 * writes the version (it reads that version back through the same connection). Free *out
 * with fd_backtest_window_result_free. */
int fd_backtest_window_evaluate(fd_db *db, const char *model, int version,
                                const fd_backtest_window *w, const fd_eval_opts *opts,
                                fd_backtest_window_result *out, fd_error *err);

/* Called between windows of the stitch with the share done in [0, 1]; non-zero stops it
 * (409 "cancelled"). May be NULL. */
typedef int (*fd_backtest_stitch_progress)(void *ctx, double done);

/* Stitches the n completed windows of backtest s (id) into one evaluation, in window order:
 * fills *out (id, name, kind, k, report with the backtest's identity, months, window of
 * each month and the monthly series). Free with fd_report_entry_free. */
int fd_backtest_stitch(fd_db *db, int64_t id, const fd_backtest_spec *s, size_t n,
                       fd_backtest_stitch_progress progress, void *ctx, fd_report_entry *out,
                       fd_error *err);

#endif
