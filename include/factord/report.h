/* Backtest results and the comparison tables built from them (issue 5 part 3).
 *
 * fd_report_entry is one finished backtest as the store holds it: its stitched metrics
 * (fd_eval_report plus the backtest's identity) and its monthly series. fd_report_compare
 * lays several out like the seed study's tables: one table per metric, rows = model kinds
 * (or backtest names), columns = K; Jobson-Korkie-Memmel tests of each backtest's strategy
 * against the best (or a chosen base); and the Spearman correlation matrix of the strategy
 * returns over the months two backtests share. The renderers turn that JSON into Markdown
 * and CSV, so the HTTP API and `factord report` print the same tables.
 *
 * Pure functions over the caller's data; thread-safe. JSON results are new references. */
#ifndef FACTORD_REPORT_H
#define FACTORD_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "factord/error.h"
#include "factord/panel.h"
#include "factord/textbuf.h"

/* The monthly series of a backtest, in this column order (also backtest_returns' order):
 * gross and net returns of the four decile strategies, then IC and rank IC. */
enum { FD_REPORT_N_SERIES = 10 };
extern const char *const fd_report_series_names[FD_REPORT_N_SERIES];
/* Index of a series name ("ew_ls", "vw_lo_net", "ic", ...) or -1. */
int fd_report_series_index(const char *name);

typedef struct fd_report_entry {
    int64_t id;
    char name[72];
    char kind[32];
    size_t k;
    json_t *report;               /* stitched metrics; owned */
    size_t T;                     /* test months */
    char (*months)[FD_MONTH_LEN]; /* (T) ascending */
    int *window;                  /* (T) window index of each month */
    double *series;               /* (T, FD_REPORT_N_SERIES) row-major; NaN = missing */
} fd_report_entry;

void fd_report_entry_free(fd_report_entry *e);

typedef struct fd_compare_opts {
    const char *strategy; /* series tested and correlated: "ew_ls" (default), "vw_lo_net", ... */
    int64_t base;         /* backtest id to test against; 0 = the highest Sharpe ratio */
    int rows_by_name;     /* rows are backtest names instead of model kinds */
} fd_compare_opts;

/* {"strategy","rows_by","rows":[...],"columns":[K...],
 *  "backtests":[{"id","name","kind","k","months","from","to","row","column"}],
 *  "tables":[{"name","title","unit","values":[[v|null per column] per row]}],
 *  "jk":{"strategy","base":{"id","name","chosen":"best"|"given"},
 *        "tests":[{"id","name","months","sharpe","base_sharpe","rho","z","p_two_sided",
 *                  "p_one_sided"}]},
 *  "spearman":{"strategy","ids":[...],"names":[...],"matrix":[[...]],"months":[[...]]}}
 * Tables, in order: total_r, total_x, pred_r, pred_x, total_r_mkt, sharpe_<s> and
 * sharpe_net_<s> for s in ew_ls ew_lo vw_ls vw_lo, concentration_r and concentration_total
 * (the largest security-month's share of the squared returns and errors, unit "share"), and
 * jk_p (two-sided p-value against the base; null in the base's own cell). "warnings" lists
 * every entry's report warnings, each with its "backtest" id and "name". Sharpe ratios are annualised. 400 "bad_parameter" for
 * an unknown strategy or a base not among the entries; 422 "duplicate_cell" when two
 * backtests share a row and K (compare them with rows_by_name). */
int fd_report_compare(const fd_report_entry *entries, size_t n, const fd_compare_opts *opts,
                      json_t **out, fd_error *err);

/* Markdown: a heading and one pipe table per comparison table (R^2 and shares in percent,
 * ratios to two decimals), then the tests, the correlation matrix and the warnings. */
void fd_report_markdown(const json_t *cmp, fd_textbuf *b);
/* Every cell of every table (jk_p included) as one "table,<kind|name>,k,value" line, after
 * that header. */
void fd_report_csv_long(const json_t *cmp, fd_textbuf *b);
/* One table, wide: "model,K=1,K=3,..." then one line per row. 404 "no_table" for a name
 * that is not a table; "jk" and "spearman" give the tests and the matrix. */
int fd_report_csv_table(const json_t *cmp, const char *table, fd_textbuf *b, fd_error *err);
/* Names of the tables fd_report_csv_table knows (NULL-terminated, static strings). */
const char *const *fd_report_table_names(void);

/* A metrics document flattened to "metric,value" lines: nested keys joined with '.', null
 * as an empty value (the evaluation of a backtest as CSV). */
void fd_report_flatten_csv(const json_t *doc, fd_textbuf *b);
/* "month,window,ew_ls,ew_ls_net,...,ic,rank_ic" then one line per month. */
void fd_report_returns_csv(const fd_report_entry *e, fd_textbuf *b);

#endif
