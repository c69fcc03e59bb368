/* The period context builder: the one place periods (factord/period.h) are made, for
 * training, validation, evaluation, backtests and serving. Callers say what the model
 * needs (fd_context_spec: its columns, constant, excess returns, history length, observed
 * factors and macro series) and where months come from (fd_month_source: the store for a
 * training run, serving's cache of months, or panels in memory); the builder does the
 * alignment (characteristics of t-1 with returns of t), the normalisation (through
 * fd_month_design), the managed portfolios, the history steps and their masks, and the
 * series lookups.
 *
 * Memory: a period owns its z rows (only the securities with a return at t); a forecast
 * context's z is a view of the held month's design (borrowed). With history (L > 1) the
 * dataset keeps one normalised design and one managed portfolio per month of from-L .. to
 * (copied, or borrowed from a source whose months outlive the dataset, such as serving's
 * cache), plus an (L-1, n) int32 row index per period: the history costs one copy of the
 * window's designs, never L copies.
 *
 * Threads: a build runs on the calling thread; the source's functions are called from it. */
#ifndef FACTORD_CONTEXT_H
#define FACTORD_CONTEXT_H

#include <jansson.h>
#include <stddef.h>

#include "factord/dataset.h"
#include "factord/month.h"
#include "factord/series.h"
#include "factord/store.h"

/* Where months and series come from. */
typedef struct fd_month_source {
    /* The month `key`, held by the caller afterwards (fd_month_release); 404 "no_panel"
     * when it is not stored, other errors as they come. */
    int (*month)(void *ctx, const char *key, fd_month **out, fd_error *err);
    /* The value of series `name` in month `key` (decimals for factors), NaN when not
     * stored; -1 only for a failure of the source itself. */
    int (*series)(void *ctx, fd_series_kind kind, const char *name, const char *key,
                  double *value, fd_error *err);
    void *ctx;
    /* Months outlive the dataset (a cache): the dataset may keep views into them (it holds
     * a reference while it lives) instead of copies. */
    int keep_months;
} fd_month_source;

/* What the periods must hold. Names are borrowed for the build. */
typedef struct fd_context_spec {
    char *const *columns;    /* (n_columns) characteristics, in order, without "const";
                                NULL: every column of the panel of month from-1 */
    size_t n_columns;
    int add_constant;        /* append a column of ones named "const" */
    int excess_returns;      /* r_t minus the stored RF of month t (where stored) */
    size_t history;          /* L >= 1 months of z and x (0 counts as 1) */
    char *const *observed;   /* (n_observed) stored factor series wanted at t */
    size_t n_observed;
    char *const *macro;      /* (n_macro) macro series wanted at t-1 */
    size_t n_macro;
    int strict_columns;      /* a month lacking a column: 422 (serving) instead of all-missing */
    int require_window;      /* every month from-1 .. to must be stored (422
                                "missing_panels"); otherwise months without a panel, or
                                without returns, give no period */
    int require_series;      /* 422 "missing_series" when a period lacks a named value it
                                needs (training and evaluation); otherwise NaN */
} fd_context_spec;

/* Periods of the return months from .. to (ascending). Every month t whose panel has
 * returns and whose predecessor t-1 is stored gives a period of the securities of t-1 that
 * have a return at t (the others are dropped and counted); a period left with no security
 * is skipped. Errors: 422 "unknown_column" (a selected column in no panel), "empty_dataset"
 * (no period), "missing_panels" / "missing_series" as the spec asks, 500. stats may be
 * NULL. On failure out is left empty (freeable). */
int fd_context_build(const fd_context_spec *cs, const fd_month_source *src, const char *from,
                     const char *to, fd_dataset *out, fd_dataset_stats *stats, fd_error *err);

/* The forecast context of characteristics month `month` (t): one period of return month
 * t+1 holding every security of month t in panel row order, z of t (a view of the month's
 * design), no returns, no x, observed factors NaN, macro series of t, history up to t.
 * 404 "no_panel" when month t is not stored. */
int fd_context_forecast(const fd_context_spec *cs, const fd_month_source *src,
                        const char *month, fd_dataset *out, fd_error *err);

/* A source reading the store through db (a training run: months are loaded for the build
 * and copied from). `over` (may be NULL, held by the caller): a month that is not stored,
 * answered for its own key instead of the store (inline scoring). The source's state lives
 * in *state, which must outlive its use. Serving's cached source is in factord/scoring.h. */
typedef struct fd_store_source {
    fd_db *db;
    struct fd_design_cache *cache; /* serving's cache, or NULL */
    fd_month *over;
} fd_store_source;
void fd_month_source_store(fd_month_source *src, fd_store_source *state, fd_db *db,
                           fd_month *over);
/* The series half of a store source (FD_SERIES_FACTOR or FD_SERIES_MACRO from db). */
int fd_store_source_series(void *state, fd_series_kind kind, const char *name, const char *key,
                           double *value, fd_error *err);

/* The context spec of a model declaration or a version's spec JSON: "columns" (the
 * declared selection) or, when fitted, "col_names" without the trailing "const";
 * "add_constant", "excess_returns", "observed", "macro"; history from the model (1 when
 * m is NULL). Names point into the JSON, which must outlive the spec; free the arrays with
 * fd_context_spec_free. */
int fd_context_spec_from_json(const json_t *spec, size_t history, fd_context_spec *cs,
                              fd_error *err);
void fd_context_spec_free(fd_context_spec *cs);

#endif
