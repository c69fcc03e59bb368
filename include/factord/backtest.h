/* Rolling out-of-sample backtests (issue 5 part 1; docs/backtests.md).
 *
 * A backtest declares a model (kind, k, hyper-parameters, columns) and window lengths in
 * months. Window i (0-based) starts training at s_i = start + i * step:
 *   train  [s_i, s_i + train - 1]
 *   valid  the next `valid` months (none when valid = 0)
 *   test   the next `test` months, cut at `end` for the last window
 * and windows are added while the first test month is not after `end`. Test blocks must not
 * overlap (step >= test), so every test month is priced by exactly one refit; step > test
 * leaves gaps that no window tests.
 *
 * Every refit is a version of the model named like the backtest itself (window i is the
 * (i+1)-th version the backtest wrote; backtest_windows records which), trained by
 * fd_train_run. Its test months are evaluated in the same transaction that writes the
 * version: the realised factors f_t (the model's factors op), lambda_{t-1} (the mean of the
 * version's in-sample factors and of the realised factors of the earlier test months of the
 * same window) and the window's own metrics are stored with it. Once every window is done,
 * the test months of all windows are stitched in order into one fd_eval (betas from each
 * month's version, the stored f_t and lambda, MktRF from the factors store when present)
 * and the result is written together with the job's success.
 *
 * A backtest is run by one job of kind "backtest" and has that job's id, so its state and
 * progress are the job's. A restarted job skips the windows already stored; a cancelled
 * one keeps the windows it completed (each whole) and writes nothing else.
 *
 * Threads: fd_backtest_spec_* and fd_backtest_plan are pure; fd_backtest_submit runs on the
 * caller's thread with the caller's connection; the job kind runs on a job worker. */
#ifndef FACTORD_BACKTEST_H
#define FACTORD_BACKTEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "factord/error.h"
#include "factord/jobs.h"
#include "factord/store.h"
#include "factord/train.h"

#define FD_BACKTEST_MAX_MONTHS 1200 /* longest window block: 100 years */
#define FD_BACKTEST_MAX_WINDOWS 1000

typedef struct fd_backtest_spec {
    char name[FD_MODEL_NAME_MAX + 1]; /* the backtest's and its model's name */
    const char *kind;                 /* static string from the model registry */
    size_t k;
    json_t *model_spec;               /* models.spec: hyper, columns, excess_returns,
                                         add_constant (owned) */
    int train, valid, test, step;     /* window lengths in months */
    char start[FD_MONTH_LEN];         /* first training return month; "" = earliest */
    char end[FD_MONTH_LEN];           /* last test month; "" = latest with returns */
    int n_buckets;                    /* decile sorts: 10 */
    double cost;                      /* per unit of turnover: 0.003 */
} fd_backtest_spec;

/* Parses {"name","model":{"kind","k","hyper","columns","excess_returns","add_constant"},
 * "windows":{"train","valid","test","step"},"start","end","n","cost"}: windows defaults to
 * the seed protocol 240/48/12/12, n to 10, cost to 0.003, start and end to "" (resolved
 * against the stored panels by fd_backtest_resolve). 400 naming the field on failure. The
 * caller frees *out with fd_backtest_spec_free (also after a failure). */
int fd_backtest_spec_parse(const json_t *body, fd_backtest_spec *out, fd_error *err);
void fd_backtest_spec_free(fd_backtest_spec *s);
/* The spec in the request's shape (new reference); what the job receives as params. */
json_t *fd_backtest_spec_json(const fd_backtest_spec *s);

typedef struct fd_backtest_window {
    int idx;
    fd_train_windows fit;             /* train and (when valid > 0) valid blocks */
    char test_from[FD_MONTH_LEN], test_to[FD_MONTH_LEN];
} fd_backtest_window;

/* Fills an empty start with `first` (the earliest month a training block may start: the
 * month after the first stored panel) and an empty end with `last` (the latest month with
 * stored returns). 422 "no_data" when either is needed and empty. */
int fd_backtest_resolve(fd_backtest_spec *s, const char *first, const char *last,
                        fd_error *err);
/* The windows of a resolved spec (see the header comment); *out malloc'd, freed by the
 * caller. 422 "too_little_data" when not even one window fits between start and end. */
int fd_backtest_plan(const fd_backtest_spec *s, fd_backtest_window **out, size_t *n,
                     fd_error *err);

/* Validates body, resolves it against the stored panels (422 "missing_panels" naming months
 * the windows need that are not stored), declares the model (409 "model_exists"), queues the
 * job and records the backtest. *out (may be NULL) receives the backtest as
 * fd_store_backtest_get gives it. jobs may be NULL (no workers in this process). */
int fd_backtest_submit(fd_jobs *jobs, fd_db *db, const json_t *body, json_t **out,
                       fd_error *err);

/* The backtest as fd_store_backtest_get gives it, with "windows" listing every planned
 * window: completed ones as stored ("status":"completed"), the others with their months and
 * "status":"pending" (or "running" for the one a running job is fitting). 404 "no_backtest". */
int fd_backtest_get(fd_db *db, int64_t id, json_t **out, fd_error *err);

/* The "backtest" job kind: params are fd_backtest_spec_json of a resolved spec; the job's
 * id is the backtest's. */
extern const fd_job_kind fd_job_kind_backtest;

#endif
