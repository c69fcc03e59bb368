/* fd_daily_build: daily bars -> one fd_panel per month (return + characteristics).
 *
 * Steps: (1) the universe calendar (every date any ticker traded); (2) daily returns of every
 * ticker and their equal-weighted mean per calendar day (the market of the beta regression);
 * (3) per ticker, month aggregates over all its history and monthly returns, then one panel
 * row per built month it traded in. Everything before `from` feeds the windows only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daily_internal.h"

#define PROGRESS_EVERY 256 /* tickers between progress reports */

static int cmp_day(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Sorted unique dates of all bars; NULL on out of memory. */
static int32_t *universe_calendar(const fd_bars *bars, size_t *n_cal) {
    size_t n = fd_bars_count(bars), k = 0;
    int32_t *cal = malloc((n ? n : 1) * sizeof *cal);
    if (!cal) return NULL;
    for (size_t i = 0; i < fd_bars_n_tickers(bars); i++) {
        size_t ns;
        const fd_bar *s = fd_bars_series(bars, i, &ns);
        for (size_t j = 0; j < ns; j++) cal[k++] = s[j].date;
    }
    qsort(cal, n, sizeof *cal, cmp_day);
    size_t u = 0;
    for (size_t j = 0; j < n; j++)
        if (u == 0 || cal[j] != cal[u - 1]) cal[u++] = cal[j];
    *n_cal = u;
    return cal;
}

static size_t find_day(const int32_t *cal, size_t n, int32_t day) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cal[mid] < day) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

typedef struct build {
    const fd_bars *bars;
    int32_t *cal;     /* (n_cal) universe trading days */
    double *mkt;      /* (n_cal) equal-weighted daily return, NaN when nobody has one */
    double *r;        /* (n bars) daily return of each bar in series order, NaN none */
    size_t n_cal;
    int base, last;   /* month indices of the first and last month with bars */
    int lo, hi;       /* months to build */
    int32_t lo_day, hi_day; /* first and last calendar day of the built months */
    fd_daily_stats st;
} build;

/* Daily returns, the market and the day-level counts. */
static int daily_returns(build *b) {
    size_t n = fd_bars_count(b->bars);
    double *sum = calloc(b->n_cal ? b->n_cal : 1, sizeof *sum);
    int *cnt = calloc(b->n_cal ? b->n_cal : 1, sizeof *cnt);
    b->mkt = malloc((b->n_cal ? b->n_cal : 1) * sizeof *b->mkt);
    b->r = malloc((n ? n : 1) * sizeof *b->r);
    if (!sum || !cnt || !b->mkt || !b->r) {
        free(sum);
        free(cnt);
        return -1;
    }
    size_t pos = 0;
    for (size_t i = 0; i < fd_bars_n_tickers(b->bars); i++) {
        size_t ns;
        const fd_bar *s = fd_bars_series(b->bars, i, &ns);
        size_t c = find_day(b->cal, b->n_cal, s[0].date), prev_c = c;
        for (size_t k = 0; k < ns; k++, pos++) {
            while (b->cal[c] < s[k].date) c++;
            int in_range = s[k].date >= b->lo_day && s[k].date <= b->hi_day;
            double r = NAN;
            if (k > 0) {
                for (size_t p = prev_c + 1; p < c; p++)
                    if (b->cal[p] >= b->lo_day && b->cal[p] <= b->hi_day) b->st.gap_days++;
                if (s[k].date - s[k - 1].date <= FD_DAILY_MAX_GAP_DAYS)
                    r = s[k].close / s[k - 1].close - 1.0;
                else if (in_range)
                    b->st.long_gaps++;
            }
            b->r[pos] = r;
            prev_c = c;
            if (!isnan(r)) {
                sum[c] += r;
                cnt[c]++;
            }
            if (in_range && s[k].volume == 0) b->st.zero_volume_days++;
            if (in_range && fabs(r) > 1.0) b->st.daily_ret_over_100pct++;
        }
    }
    for (size_t c = 0; c < b->n_cal; c++) b->mkt[c] = cnt[c] ? sum[c] / cnt[c] : NAN;
    free(sum);
    free(cnt);
    return 0;
}

/* A month whose last bar (of any ticker) comes more than FD_DAILY_COMPLETE_DAYS before its
 * last calendar day is partial: the data stop inside it. */
static void mark_partial(build *b, fd_panel *p, int month_index) {
    int32_t end = fd_daily_month_end(month_index);
    size_t after = find_day(b->cal, b->n_cal, end + 1); /* first trading day after the month */
    if (after == 0) return;
    int32_t last = b->cal[after - 1];
    if (end - last <= FD_DAILY_COMPLETE_DAYS) return;
    fd_date_format(last, p->partial_through);
    if (b->st.partial_months < FD_DAILY_PARTIAL_LISTED) {
        snprintf(b->st.partial[b->st.partial_months].month, FD_MONTH_LEN, "%s", p->month);
        snprintf(b->st.partial[b->st.partial_months].through, FD_DATE_LEN, "%s",
                 p->partial_through);
    }
    b->st.partial_months++;
}

/* Rows of each built month (tickers with a bar in it). counts: (hi - lo + 1). */
static void count_rows(const build *b, size_t *counts) {
    for (size_t i = 0; i < fd_bars_n_tickers(b->bars); i++) {
        size_t ns;
        const fd_bar *s = fd_bars_series(b->bars, i, &ns);
        int prev = -1;
        for (size_t k = 0; k < ns; k++) {
            int m = fd_daily_month_index(s[k].date);
            if (m != prev && m >= b->lo && m <= b->hi) counts[m - b->lo]++;
            prev = m;
        }
    }
}

static int alloc_panel(fd_panel *p, int month_index, size_t rows) {
    fd_panel_init(p);
    fd_date_month(fd_daily_month_end(month_index), p->month);
    p->n_cols = FD_DAILY_N_CHARS;
    p->ids = calloc(rows ? rows : 1, sizeof *p->ids);
    p->col_names = calloc(FD_DAILY_N_CHARS, sizeof *p->col_names);
    p->values = malloc((rows ? rows : 1) * FD_DAILY_N_CHARS * sizeof *p->values); /* (rows, 14) */
    p->ret = malloc((rows ? rows : 1) * sizeof *p->ret);                          /* (rows) */
    if (!p->ids || !p->col_names || !p->values || !p->ret) return -1;
    for (int c = 0; c < FD_DAILY_N_CHARS; c++)
        if (!(p->col_names[c] = strdup(fd_daily_char_names[c]))) return -1;
    return 0; /* n_rows grows as rows are written, so a failed build frees what exists */
}

/* One ticker: month aggregates, monthly returns, then its rows of the built months. */
static int ticker_rows(build *b, size_t i, const double *r, fd_month_agg *agg, double *ret,
                       const fd_beta_window *win, fd_panel *panels, const int *panel_of) {
    size_t ns;
    const fd_bar *s = fd_bars_series(b->bars, i, &ns);
    const char *ticker = fd_bars_ticker(b->bars, i);
    int n_months = b->last - b->base + 1;
    memset(agg, 0, (size_t)n_months * sizeof *agg);
    for (size_t k = 0; k < ns; k++)
        fd_month_agg_add(&agg[fd_daily_month_index(s[k].date) - b->base], &s[k], r[k]);
    for (int t = 0; t < n_months; t++) {
        ret[t] = NAN;
        if (t > 0 && agg[t].n_days > 0 && agg[t - 1].n_days > 0)
            ret[t] = agg[t].last_close / agg[t - 1].last_close - 1.0;
        int in_range = t + b->base >= b->lo && t + b->base <= b->hi;
        if (in_range && fabs(ret[t]) > 1.0) b->st.ret_over_100pct++;
        /* The policy applies to the history months too, so momentum compounds what the
         * panels store; only the built months' outliers are reported. */
        if (fabs(ret[t]) > b->st.outliers.policy.threshold) {
            char month[FD_MONTH_LEN];
            fd_date_month(fd_daily_month_end(t + b->base), month);
            ret[t] = fd_outlier_apply(&b->st.outliers, ticker, month, ret[t], in_range);
        }
    }
    if (fd_daily_month_index(s[0].date) > b->base) b->st.late_tickers++;
    if (fd_daily_month_index(s[ns - 1].date) < b->last) b->st.ended_tickers++;
    for (int m = b->lo; m <= b->hi; m++) {
        int t = m - b->base;
        if (agg[t].n_days == 0) continue;
        fd_panel *p = &panels[panel_of[m - b->lo]];
        size_t row = p->n_rows;
        if (!(p->ids[row] = strdup(ticker))) return -1;
        p->n_rows++;
        double *v = p->values + row * FD_DAILY_N_CHARS;
        fd_daily_chars_own(agg, ret, t, v);
        fd_beta_fit(&win[m - b->lo], s, r, ns, &v[FD_C_BETA], &v[FD_C_IDIOVOL]);
        v[FD_C_BETASQ] = v[FD_C_BETA] * v[FD_C_BETA];
        p->ret[row] = ret[t];
        if (isnan(ret[t])) b->st.missing_ret++;
        if (agg[t].n_days == 1) b->st.single_day_months++;
        b->st.panel_rows++;
    }
    return 0;
}

static int month_arg(const char *key, int dflt, int *out, fd_error *err) {
    int y, m;
    if (!key || !key[0]) {
        *out = dflt;
        return 0;
    }
    if (fd_month_parse(key, &y, &m, err) != 0) return -1;
    *out = y * 12 + (m - 1);
    return 0;
}

int fd_daily_build(const fd_bars *bars, const fd_daily_opts *opts, fd_panel **out,
                   size_t *n_out, fd_daily_stats *stats, fd_error *err) {
    static const fd_daily_opts no_opts;
    build b = {.bars = bars};
    fd_panel *panels = NULL;
    size_t n_panels = 0, *counts = NULL;
    int *panel_of = NULL, rc = -1;
    fd_beta_window *win = NULL;
    fd_month_agg *agg = NULL;
    double *ret = NULL;
    if (!opts) opts = &no_opts;
    *out = NULL;
    *n_out = 0;
    b.st.rows = fd_bars_count(bars);
    b.st.tickers = fd_bars_n_tickers(bars);
    fd_outlier_log_init(&b.st.outliers, &opts->outliers);
    int from, to;
    if (month_arg(opts->from, 0, &from, err) || month_arg(opts->to, 1 << 30, &to, err))
        goto done;
    if (b.st.rows == 0) {
        fd_error_set(err, 422, "no_bars", "no daily bars to build panels from");
        goto done;
    }
    if (!(b.cal = universe_calendar(bars, &b.n_cal))) goto oom;
    b.base = fd_daily_month_index(b.cal[0]);
    b.last = fd_daily_month_index(b.cal[b.n_cal - 1]);
    b.lo = from > b.base ? from : b.base;
    b.hi = to < b.last ? to : b.last;
    if (b.lo > b.hi) {
        fd_error_set(err, 422, "no_bars", "no daily bars in the months %s..%s",
                     opts->from[0] ? opts->from : "(first)", opts->to[0] ? opts->to : "(last)");
        goto done;
    }
    b.lo_day = fd_date_from_ymd(b.lo / 12, b.lo % 12 + 1, 1);
    b.hi_day = fd_daily_month_end(b.hi);
    if (daily_returns(&b) != 0) goto oom;

    size_t n_range = (size_t)(b.hi - b.lo + 1);
    counts = calloc(n_range, sizeof *counts);
    panel_of = malloc(n_range * sizeof *panel_of);
    win = malloc(n_range * sizeof *win);
    if (!counts || !panel_of || !win) goto oom;
    count_rows(&b, counts);
    for (size_t m = 0; m < n_range; m++) n_panels += counts[m] > 0;
    if (!(panels = calloc(n_panels, sizeof *panels))) goto oom;
    for (size_t m = 0, k = 0; m < n_range; m++) {
        panel_of[m] = (int)k;
        if (counts[m] == 0) continue;
        if (alloc_panel(&panels[k], b.lo + (int)m, counts[m]) != 0) goto oom;
        mark_partial(&b, &panels[k++], b.lo + (int)m);
        fd_beta_window_init(&win[m], b.lo + (int)m, b.cal, b.mkt, b.n_cal);
    }

    int n_months = b.last - b.base + 1;
    agg = malloc((size_t)n_months * sizeof *agg);
    ret = malloc((size_t)n_months * sizeof *ret);
    if (!agg || !ret) goto oom;
    for (size_t i = 0, pos = 0; i < fd_bars_n_tickers(bars); i++) {
        size_t ns;
        fd_bars_series(bars, i, &ns);
        if (ticker_rows(&b, i, b.r + pos, agg, ret, win, panels, panel_of))
            goto oom;
        pos += ns;
        if (opts->progress && i % PROGRESS_EVERY == PROGRESS_EVERY - 1 &&
            opts->progress(opts->progress_ctx, (double)(i + 1) / (double)b.st.tickers) != 0) {
            fd_error_set(err, 409, "cancelled", "the build was cancelled");
            goto done;
        }
    }
    b.st.months = n_panels;
    snprintf(b.st.first_month, sizeof b.st.first_month, "%s", panels[0].month);
    snprintf(b.st.last_month, sizeof b.st.last_month, "%s", panels[n_panels - 1].month);
    *out = panels;
    *n_out = n_panels;
    panels = NULL;
    rc = 0;
    goto done;
oom:
    fd_error_set(err, 500, "out_of_memory", "out of memory building monthly panels");
done:
    if (panels) {
        for (size_t k = 0; k < n_panels; k++) fd_panel_free(&panels[k]);
        free(panels);
    }
    if (stats) *stats = b.st;
    else fd_outlier_log_free(&b.st.outliers);
    free(b.cal);
    free(b.mkt);
    free(b.r);
    free(counts);
    free(panel_of);
    free(win);
    free(agg);
    free(ret);
    return rc;
}

void fd_daily_stats_free(fd_daily_stats *st) { fd_outlier_log_free(&st->outliers); }

void fd_daily_history_start(const char *from, char out[FD_DATE_LEN]) {
    char month[FD_MONTH_LEN];
    fd_month_add(from, -37, month);
    out[0] = '\0';
    if (month[0]) snprintf(out, FD_DATE_LEN, "%s-01", month);
}
