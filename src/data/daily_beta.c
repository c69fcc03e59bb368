/* Market beta and idiosyncratic volatility as Green, Hand and Zhang (2017) define them:
 * weekly returns of the stock over the three years ending with month t regressed on the
 * weekly return of an equal-weighted market (here: the equal-weighted mean of the daily
 * returns of every ticker in the input, compounded into weeks), at least 52 weeks. */
#include <math.h>
#include <string.h>

#include "daily_internal.h"

/* 1970-01-01 was a Thursday: day + 3 counts from the Monday before it. */
long fd_daily_week(int32_t day) {
    long x = (long)day + 3;
    return x >= 0 ? x / 7 : -((-x + 6) / 7);
}

/* First index of sorted days[0..n) that is >= day. */
static size_t lower_bound_days(const int32_t *days, size_t stride, size_t n, int32_t day) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int32_t v = *(const int32_t *)((const char *)days + mid * stride);
        if (v < day) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

void fd_beta_window_init(fd_beta_window *w, int month_index, const int32_t *cal,
                         const double *mkt, size_t n_cal) {
    w->last_day = fd_daily_month_end(month_index);
    long last_week = fd_daily_week(w->last_day);
    w->first_week = last_week - (FD_DAILY_BETA_WEEKS - 1);
    w->first_day = (int32_t)(w->first_week * 7 - 3);
    memset(w->has, 0, sizeof w->has);
    for (int k = 0; k < FD_DAILY_BETA_WEEKS; k++) w->mkt[k] = 1.0;
    for (size_t c = lower_bound_days(cal, sizeof *cal, n_cal, w->first_day);
         c < n_cal && cal[c] <= w->last_day; c++) {
        if (isnan(mkt[c])) continue;
        long k = fd_daily_week(cal[c]) - w->first_week;
        w->mkt[k] *= 1.0 + mkt[c];
        w->has[k] = 1;
    }
    for (int k = 0; k < FD_DAILY_BETA_WEEKS; k++) w->mkt[k] = w->has[k] ? w->mkt[k] - 1.0 : NAN;
}

void fd_beta_fit(const fd_beta_window *w, const fd_bar *bars, const double *r, size_t n,
                 double *beta, double *idiovol) {
    double y[FD_DAILY_BETA_WEEKS];
    unsigned char has[FD_DAILY_BETA_WEEKS] = {0};
    *beta = NAN;
    *idiovol = NAN;
    for (int k = 0; k < FD_DAILY_BETA_WEEKS; k++) y[k] = 1.0;
    for (size_t i = lower_bound_days(&bars[0].date, sizeof *bars, n, w->first_day);
         i < n && bars[i].date <= w->last_day; i++) {
        if (isnan(r[i])) continue;
        long k = fd_daily_week(bars[i].date) - w->first_week;
        y[k] *= 1.0 + r[i];
        has[k] = 1;
    }
    /* Two passes (means, then centred sums) over at most 156 points. */
    int m = 0;
    double sx = 0, sy = 0;
    for (int k = 0; k < FD_DAILY_BETA_WEEKS; k++) {
        if (!has[k] || !w->has[k]) continue;
        y[k] -= 1.0;
        sx += w->mkt[k];
        sy += y[k];
        m++;
    }
    if (m < FD_DAILY_BETA_MIN_WEEKS) return;
    double mx = sx / m, my = sy / m, sxx = 0, sxy = 0;
    for (int k = 0; k < FD_DAILY_BETA_WEEKS; k++) {
        if (!has[k] || !w->has[k]) continue;
        sxx += (w->mkt[k] - mx) * (w->mkt[k] - mx);
        sxy += (w->mkt[k] - mx) * (y[k] - my);
    }
    if (!(sxx > 1e-20 * m)) return; /* a flat market (rounding noise) identifies no slope */
    double b = sxy / sxx, a = my - b * mx, ssr = 0;
    for (int k = 0; k < FD_DAILY_BETA_WEEKS; k++) {
        if (!has[k] || !w->has[k]) continue;
        double e = y[k] - a - b * w->mkt[k];
        ssr += e * e;
    }
    *beta = b;
    *idiovol = sqrt(ssr / (m - 2));
}
