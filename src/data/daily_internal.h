/* Private to src/data/daily_*.c: the pieces of the monthly builder (fd_daily_build), split
 * by responsibility: month aggregates and characteristic formulas (daily_chars.c), the
 * weekly market-model regression (daily_beta.c) and the orchestration (daily_build.c).
 * Months are indexed as year * 12 + (month - 1); weeks run Monday..Sunday. */
#ifndef FACTORD_DAILY_INTERNAL_H
#define FACTORD_DAILY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "factord/daily.h"

/* Documented in docs/characteristics.md; changing one changes the published definitions. */
#define FD_DAILY_MAX_GAP_DAYS 14 /* a daily return spans at most this many calendar days */
#define FD_DAILY_MIN_SD_DAYS 5   /* observations for retvol and std_dolvol */
#define FD_DAILY_BETA_WEEKS 156  /* three years of weeks */
#define FD_DAILY_BETA_MIN_WEEKS 52
/* A month is complete when its last bar is at most this many days before its last calendar
 * day (a weekend plus a holiday puts the last trading day 3 days before it at most). */
#define FD_DAILY_COMPLETE_DAYS 4

/* Column positions in fd_daily_char_names. */
enum {
    FD_C_MOM1M, FD_C_MOM6M, FD_C_MOM12M, FD_C_MOM36M, FD_C_CHMOM, FD_C_MAXRET, FD_C_RETVOL,
    FD_C_BETA, FD_C_BETASQ, FD_C_IDIOVOL, FD_C_DOLVOL, FD_C_STD_DOLVOL, FD_C_ILL,
    FD_C_ZEROTRADE
};

int fd_daily_month_index(int32_t day);
int32_t fd_daily_month_end(int month_index); /* last calendar day of the month */

/* One ticker's bars within one month. Running mean/M2 (Welford) keep the variances exact
 * enough for tiny daily returns without a second pass. */
typedef struct fd_month_agg {
    int n_days;        /* bars */
    int n_zero;        /* bars with volume 0 */
    int n_ret;         /* daily returns (bars whose previous bar is close enough) */
    int n_ldv;         /* bars with volume > 0: log dollar volume observations */
    int n_ill;         /* bars with a daily return and volume > 0 */
    double last_close; /* close of the month's last bar */
    double dollar_vol; /* sum of close * volume */
    double max_r, mean_r, m2_r;
    double mean_ldv, m2_ldv;
    double sum_ill;    /* sum of |r| / (close * volume) */
} fd_month_agg;

/* Adds one bar (r = its daily return or NaN) to the month's aggregate. */
void fd_month_agg_add(fd_month_agg *a, const fd_bar *bar, double r);

/* The month-t characteristics that come from the ticker's own bars: momentum from the
 * monthly returns ret[0..t] (months before the ticker's data are NaN), the daily-based ones
 * from agg[t] and agg[t - 1]. Writes every column except beta, betasq and idiovol. */
void fd_daily_chars_own(const fd_month_agg *agg, const double *ret, int t,
                        double row[FD_DAILY_N_CHARS]);

/* Equal-weighted universe returns for the beta window that ends with month t: weekly
 * compounded returns of the 156 weeks up to the week holding the month's last day, using
 * only days up to that last day. */
typedef struct fd_beta_window {
    int32_t first_day, last_day; /* calendar days the window covers */
    long first_week;             /* week number of slot 0 */
    double mkt[FD_DAILY_BETA_WEEKS];
    unsigned char has[FD_DAILY_BETA_WEEKS];
} fd_beta_window;

long fd_daily_week(int32_t day); /* Monday-based week number */
/* cal: (n_cal) ascending trading days; mkt: (n_cal) daily equal-weighted returns, NaN none. */
void fd_beta_window_init(fd_beta_window *w, int month_index, const int32_t *cal,
                         const double *mkt, size_t n_cal);
/* Regresses the ticker's weekly returns on the window's market: bars (n) ascending with
 * their daily returns r (n) (NaN = none). Sets beta and idiovol, NaN under 52 weeks or a
 * flat market. */
void fd_beta_fit(const fd_beta_window *w, const fd_bar *bars, const double *r, size_t n,
                 double *beta, double *idiovol);

#endif
