/* Month aggregates of daily bars and the characteristics that need only a ticker's own
 * history (momentum, daily extremes and volatility, liquidity). Definitions, windows and
 * minimum observations: docs/characteristics.md. Conventions follow Green, Hand and Zhang
 * (2017) as used by Gu, Kelly and Xiu (2020), shifted by one month because a panel of
 * month t holds what is known at the end of t (GHZ date a row by the month it predicts). */
#include <math.h>

#include "daily_internal.h"

const char *const fd_daily_char_names[FD_DAILY_N_CHARS] = {
    "mom1m", "mom6m",   "mom12m",  "mom36m", "chmom",      "maxret", "retvol",
    "beta",  "betasq",  "idiovol", "dolvol", "std_dolvol", "ill",    "zerotrade"};

int fd_daily_month_index(int32_t day) {
    int y, m, d;
    fd_date_to_ymd(day, &y, &m, &d);
    return y * 12 + (m - 1);
}

int32_t fd_daily_month_end(int month_index) {
    int next = month_index + 1;
    return fd_date_from_ymd(next / 12, next % 12 + 1, 1) - 1;
}

void fd_month_agg_add(fd_month_agg *a, const fd_bar *bar, double r) {
    a->n_days++;
    a->last_close = bar->close;
    double dv = bar->close * bar->volume;
    a->dollar_vol += dv;
    if (bar->volume == 0) a->n_zero++;
    if (!isnan(r)) {
        a->n_ret++;
        if (a->n_ret == 1 || r > a->max_r) a->max_r = r;
        double delta = r - a->mean_r;
        a->mean_r += delta / a->n_ret;
        a->m2_r += delta * (r - a->mean_r);
    }
    if (bar->volume > 0) {
        double l = log(dv);
        a->n_ldv++;
        double delta = l - a->mean_ldv;
        a->mean_ldv += delta / a->n_ldv;
        a->m2_ldv += delta * (l - a->mean_ldv);
        if (!isnan(r)) {
            a->n_ill++;
            a->sum_ill += fabs(r) / dv;
        }
    }
}

/* prod(1 + ret[k]) - 1 over k = a..b; NaN if any month is missing or before the data. */
static double cumulative(const double *ret, int a, int b) {
    if (a < 0) return NAN;
    double g = 1.0;
    for (int k = a; k <= b; k++) {
        if (isnan(ret[k])) return NAN;
        g *= 1.0 + ret[k];
    }
    return g - 1.0;
}

void fd_daily_chars_own(const fd_month_agg *agg, const double *ret, int t,
                        double row[FD_DAILY_N_CHARS]) {
    const fd_month_agg *a = &agg[t];
    row[FD_C_MOM1M] = ret[t];
    row[FD_C_MOM6M] = cumulative(ret, t - 5, t - 1);
    row[FD_C_MOM12M] = cumulative(ret, t - 11, t - 1);
    row[FD_C_MOM36M] = cumulative(ret, t - 35, t - 12);
    row[FD_C_CHMOM] = cumulative(ret, t - 5, t) - cumulative(ret, t - 11, t - 6);
    row[FD_C_MAXRET] = a->n_ret >= 1 ? a->max_r : NAN;
    row[FD_C_RETVOL] = a->n_ret >= FD_DAILY_MIN_SD_DAYS ? sqrt(a->m2_r / (a->n_ret - 1)) : NAN;
    row[FD_C_DOLVOL] = t >= 1 && agg[t - 1].dollar_vol > 0 ? log(agg[t - 1].dollar_vol) : NAN;
    row[FD_C_STD_DOLVOL] =
        a->n_ldv >= FD_DAILY_MIN_SD_DAYS ? sqrt(a->m2_ldv / (a->n_ldv - 1)) : NAN;
    row[FD_C_ILL] = a->n_ill >= 1 ? a->sum_ill / a->n_ill : NAN;
    row[FD_C_ZEROTRADE] = a->n_days >= 1 ? a->n_zero * 21.0 / a->n_days : NAN;
    row[FD_C_BETA] = NAN;
    row[FD_C_BETASQ] = NAN;
    row[FD_C_IDIOVOL] = NAN;
}
