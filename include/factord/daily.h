/* Daily OHLCV bars and the monthly panels factord builds from them (issue 6).
 *
 * fd_bars is a container of bars of many tickers. It is filled by one thread (fd_bars_add or
 * the CSV readers), then sealed by fd_bars_finish, which sorts it by (ticker, date) and
 * rejects duplicate (ticker, date) pairs naming both source lines. Once finished it is
 * read-only and several threads may read it. The caller owns it (fd_bars_new / fd_bars_free);
 * pointers returned by the accessors live as long as the container.
 *
 * fd_daily_build turns finished bars into one fd_panel per month: the monthly return `ret`
 * and the price/volume characteristics of Gu, Kelly and Xiu (2020), defined exactly in
 * docs/characteristics.md. The values in the panel of month t use bars dated up to the last
 * day of month t only. Pure function of its inputs; thread-safe on distinct outputs. */
#ifndef FACTORD_DAILY_H
#define FACTORD_DAILY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "factord/error.h"
#include "factord/outliers.h"
#include "factord/panel.h"

#define FD_DATE_LEN 11 /* "YYYY-MM-DD" + NUL */
#define FD_DAILY_PARTIAL_LISTED 12 /* partial months named in a build's stats */

/* Dates are days since 1970-01-01 (proleptic Gregorian), so differences are day counts. */
int32_t fd_date_from_ymd(int year, int month, int day);
void fd_date_to_ymd(int32_t days, int *year, int *month, int *day);
/* Strict "YYYY-MM-DD" in s[0..len) (year FD_YEAR_FIRST..FD_YEAR_LAST, a real calendar day): 0 or -1. */
int fd_date_parse(const char *s, size_t len, int32_t *days);
void fd_date_format(int32_t days, char out[FD_DATE_LEN]);
/* The "YYYY-MM" key of the month holding `days`. */
void fd_date_month(int32_t days, char out[FD_MONTH_LEN]);

typedef struct fd_bar {
    int32_t date;           /* days since 1970-01-01 */
    double open, high, low; /* NaN when the source left them empty */
    double close;           /* finite, > 0 */
    double volume;          /* shares traded, finite, >= 0 (0 = no trade that day) */
} fd_bar;

typedef struct fd_bars fd_bars;

fd_bars *fd_bars_new(void); /* NULL on out of memory */
void fd_bars_free(fd_bars *b);
/* Appends one bar of `ticker` (1..32 bytes of [A-Za-z0-9._-]); `line` is the source line
 * (0 if none) kept to name duplicates. 400 "bad_bar" for a non-positive or non-finite
 * close, a negative or non-finite volume, a bad ticker; 409 once finished. */
int fd_bars_add(fd_bars *b, const char *ticker, const fd_bar *bar, long line, fd_error *err);
/* Sorts by (ticker, date); 400 "duplicate_bar" naming both lines of a repeated
 * (ticker, date). Idempotent. Required before any accessor below. */
int fd_bars_finish(fd_bars *b, fd_error *err);

size_t fd_bars_count(const fd_bars *b);
size_t fd_bars_n_tickers(const fd_bars *b);
const char *fd_bars_ticker(const fd_bars *b, size_t i); /* ascending (strcmp) */
/* Ticker i's bars, (n) in ascending date order. */
const fd_bar *fd_bars_series(const fd_bars *b, size_t i, size_t *n);

typedef struct fd_bars_summary {
    size_t rows, tickers, zero_volume_days;
    char first_date[FD_DATE_LEN], last_date[FD_DATE_LEN]; /* "" when empty */
} fd_bars_summary;
void fd_bars_summarize(const fd_bars *b, fd_bars_summary *out);

/* CSV readers: a header row naming the columns ticker,date,open,high,low,close,volume (any
 * order, case-insensitive; open/high/low cells may be empty), then one bar per row in any
 * order. Errors are 400 and name the line: "bad_csv" (header, ragged row), "bad_bar"
 * (bad ticker, date, number, close <= 0, volume < 0), "duplicate_bar". Rows are appended to
 * b and b is finished; on failure b holds an unspecified subset and should be freed. */
int fd_bars_read_buffer(fd_bars *b, const char *data, size_t len, fd_error *err);
int fd_bars_read_stream(fd_bars *b, FILE *in, fd_error *err); /* reads to EOF */
int fd_bars_read_file(fd_bars *b, const char *path, fd_error *err);

/* The characteristic columns, in the order fd_daily_build writes them. */
#define FD_DAILY_N_CHARS 14
extern const char *const fd_daily_char_names[FD_DAILY_N_CHARS];

typedef struct fd_daily_opts {
    char from[FD_MONTH_LEN]; /* first month to build; "" = first month with bars */
    char to[FD_MONTH_LEN];   /* last month to build; "" = last month with bars */
    fd_outlier_policy outliers; /* monthly returns beyond a threshold; zeroed = cap at 100% */
    /* Called every few hundred tickers with the share of tickers built, in [0, 1]; a non-zero
     * return stops the build (409 "cancelled"). May be NULL. */
    int (*progress)(void *ctx, double done);
    void *progress_ctx;
} fd_daily_opts;

/* What a build saw. Bar-level counts cover the bars dated inside the built months;
 * ticker-level counts (late, ended) compare each ticker with the whole input. */
typedef struct fd_daily_stats {
    size_t rows;                  /* bars given (all dates) */
    size_t tickers;               /* tickers given */
    size_t months;                /* panels built */
    size_t panel_rows;            /* ticker-months written, summed over panels */
    size_t missing_ret;           /* ticker-months without a return (first month, gaps) */
    size_t ret_over_100pct;       /* monthly |ret| > 1 as computed, before the policy */
    size_t daily_ret_over_100pct; /* daily |r| > 1 */
    size_t zero_volume_days;      /* bars with volume 0 */
    size_t gap_days;              /* trading days of the universe a listed ticker lacks */
    size_t long_gaps;             /* daily returns dropped: previous bar > 14 days before */
    size_t single_day_months;     /* ticker-months with exactly one bar */
    size_t late_tickers;          /* first bar after the input's first month */
    size_t ended_tickers;         /* last bar before the input's last month */
    size_t partial_months;        /* built months the bars end inside (partial_through set) */
    struct {                      /* the first FD_DAILY_PARTIAL_LISTED of them */
        char month[FD_MONTH_LEN];
        char through[FD_DATE_LEN];
    } partial[FD_DAILY_PARTIAL_LISTED];
    char first_month[FD_MONTH_LEN], last_month[FD_MONTH_LEN]; /* built range, "" if none */
    fd_outlier_log outliers;      /* the policy applied and the built months' outliers */
} fd_daily_stats;

/* Releases what stats holds (its outlier listing); call after every fd_daily_build that was
 * given stats, whether it succeeded or not. */
void fd_daily_stats_free(fd_daily_stats *st);

/* Builds the panels of months opts->from..opts->to (clamped to the months that have bars)
 * from all bars given, applying opts->outliers to every monthly return (docs/outliers.md).
 * Earlier bars feed the windows (momentum, beta) but get no panel, so a build of the new
 * months only ("incremental") equals the same months of a full build as long as the bars
 * reach back to fd_daily_history_start(from). *out (n_out panels in month order, months
 * without any bar skipped) is owned by the caller: fd_panel_free each, then free(*out). Each
 * panel has the FD_DAILY_N_CHARS columns, `ret`, no `mktcap`, rows sorted by ticker. 422
 * "no_bars" when no bar falls in the range; 400 "bad_month" for a bad key. stats (may be
 * NULL) is filled either way and released with fd_daily_stats_free. */
int fd_daily_build(const fd_bars *bars, const fd_daily_opts *opts, fd_panel **out,
                   size_t *n_out, fd_daily_stats *stats, fd_error *err);

/* The stats as a JSON object (the API's and the CLI's answer); NULL on out of memory. */
json_t *fd_daily_stats_json(const fd_daily_stats *st);
json_t *fd_bars_summary_json(const fd_bars_summary *s);

/* First date whose bar the windows of month `from` may read (the first day of from - 37). */
void fd_daily_history_start(const char *from, char out[FD_DATE_LEN]);

#endif
