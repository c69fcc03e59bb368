/* Store of backtests (migration 0004): the backtest rows, their completed windows and the
 * stitched result. A backtest's id is the id of the job that runs it; its state, progress
 * and error are read from that job row.
 *
 * All functions take a connection the calling thread holds (see store.h). Functions named
 * *_tx run inside a transaction the caller holds (the window and the result are written
 * together with a model version or a job's success); the others open their own. JSON
 * outputs are new references the caller decrefs. */
#ifndef FACTORD_STORE_BACKTESTS_H
#define FACTORD_STORE_BACKTESTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "factord/backtest.h"
#include "factord/report.h"
#include "factord/store.h"

/* Inserts backtest `id` (its job's id) with the resolved spec unless a row with that id
 * already exists (the job and the submitter may both try). 409 "backtest_exists" when
 * another backtest has the name. */
int fd_store_backtest_create(fd_db *db, int64_t id, const fd_backtest_spec *s,
                             size_t n_windows, fd_error *err);
/* Id of the backtest named `name`; 404 "no_backtest". */
int fd_store_backtest_find(fd_db *db, const char *name, int64_t *id, fd_error *err);
/* {"id","name","model","kind","k","spec","n_windows","windows_done","state","progress",
 *  "cancel_requested","error","created_at","finished_at","windows":[completed windows as
 *  {"idx","train":{"from","to"},"valid":{...}|null,"test":{...},"version","months",
 *  "metrics","completed_at"}]}; 404 "no_backtest". */
int fd_store_backtest_get(fd_db *db, int64_t id, json_t **out, fd_error *err);
/* Array of backtests as in get without "spec" and "windows", newest first. */
int fd_store_backtest_list(fd_db *db, json_t **out, fd_error *err);

/* What one completed window produced. */
typedef struct fd_backtest_window_result {
    int version;                  /* the model version fitted on the window */
    size_t T, K;                  /* test months evaluated, factors */
    char (*months)[FD_MONTH_LEN]; /* (T) */
    double *f;                    /* (T, K) realised factors f_t */
    double *lambda;               /* (T, K) lambda_{t-1} used for month t */
    json_t *metrics;              /* the window's own out-of-sample metrics */
} fd_backtest_window_result;

void fd_backtest_window_result_free(fd_backtest_window_result *r);

/* Records window w as completed with result r (not stolen), inside the caller's
 * transaction. 409 "window_exists" if it is already recorded. */
int fd_store_backtest_window_insert_tx(fd_db *db, int64_t id, const fd_backtest_window *w,
                                       const fd_backtest_window_result *r, fd_error *err);
/* Number of completed windows; they complete in order, so these are windows 0..n-1. */
int fd_store_backtest_windows_done(fd_db *db, int64_t id, size_t *n, fd_error *err);
/* Reads completed window idx into *out (free with fd_backtest_window_result_free); 404
 * "no_window". */
int fd_store_backtest_window_get(fd_db *db, int64_t id, int idx,
                                 fd_backtest_window_result *out, fd_error *err);

/* Writes the stitched result e (report and monthly series; e->id names the backtest) and
 * the finish time, replacing any earlier one, inside the caller's transaction. */
int fd_store_backtest_finish_tx(fd_db *db, const fd_report_entry *e, fd_error *err);
/* Reads a finished backtest's result into *out (free with fd_report_entry_free): 404
 * "no_backtest", 409 "backtest_not_finished" while it has no stitched result. */
int fd_store_backtest_result(fd_db *db, int64_t id, fd_report_entry *out, fd_error *err);

/* Resolves "12" (an id) or a backtest name to an id: 404 "no_backtest". */
int fd_store_backtest_resolve(fd_db *db, const char *ref, int64_t *id, fd_error *err);
/* Reads the finished backtests listed in `list` (comma-separated ids or names, at most
 * FD_BACKTEST_MAX_COMPARE, no repeats) into *out, n entries in list order; free each with
 * fd_report_entry_free and then the array. 400 "bad_parameter" naming the entry at fault;
 * 404 and 409 as in fd_store_backtest_result. */
#define FD_BACKTEST_MAX_COMPARE 64
int fd_store_backtest_results(fd_db *db, const char *list, fd_report_entry **out, size_t *n,
                              fd_error *err);

#endif
