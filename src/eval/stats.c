#include "factord/eval_stats.h"

#include <math.h>
#include <stdlib.h>

void fd_stats_mean_sd(const double *x, size_t n, double *mean, double *sd, size_t *count) {
    size_t m = 0;
    double s = 0.0, ss = 0.0, mu;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) continue;
        s += x[i];
        m++;
    }
    mu = m ? s / (double)m : NAN;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(x[i])) ss += (x[i] - mu) * (x[i] - mu);
    }
    if (mean) *mean = mu;
    if (sd) *sd = m > 1 ? sqrt(ss / (double)(m - 1)) : NAN;
    if (count) *count = m;
}

/* A constant series computes a standard deviation of rounding noise (1e-18), not 0: treat
 * volatility below 1e-12 of the mean's size as none, so the ratio is undefined, not huge. */
static int has_volatility(double mu, double sd) {
    return sd > 0.0 && sd > 1e-12 * fabs(mu);
}

double fd_stats_sharpe(const double *x, size_t n) {
    double mu, sd;
    fd_stats_mean_sd(x, n, &mu, &sd, NULL);
    return has_volatility(mu, sd) ? sqrt(12.0) * mu / sd : NAN;
}

double fd_stats_sortino(const double *x, size_t n) {
    double mu, down = 0.0;
    size_t m;
    fd_stats_mean_sd(x, n, &mu, NULL, &m);
    if (m < 2) return NAN;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(x[i]) && x[i] < 0.0) down += x[i] * x[i];
    }
    down = sqrt(down / (double)m);
    return down > 0.0 ? sqrt(12.0) * mu / down : NAN;
}

double fd_stats_max_drawdown(const double *x, size_t n) {
    double wealth = 1.0, peak = 1.0, mdd = 0.0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) continue;
        m++;
        wealth *= 1.0 + x[i];
        if (wealth > peak) peak = wealth;
        if (peak > 0.0 && 1.0 - wealth / peak > mdd) mdd = 1.0 - wealth / peak;
    }
    return m ? mdd : NAN;
}

double fd_stats_calmar(const double *x, size_t n) {
    double mu, mdd = fd_stats_max_drawdown(x, n);
    fd_stats_mean_sd(x, n, &mu, NULL, NULL);
    return mdd > 0.0 ? 12.0 * mu / mdd : NAN;
}

double fd_stats_tstat(const double *x, size_t n) {
    double mu, sd;
    size_t m;
    fd_stats_mean_sd(x, n, &mu, &sd, &m);
    return has_volatility(mu, sd) ? mu / (sd / sqrt((double)m)) : NAN;
}

/* Pearson correlation over pairs where both are finite. */
double fd_stats_pearson(const double *x, const double *y, size_t n) {
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, mx, my;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(y[i])) continue;
        sx += x[i];
        sy += y[i];
        m++;
    }
    if (m < 2) return NAN;
    mx = sx / (double)m;
    my = sy / (double)m;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(y[i])) continue;
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
        sxy += (x[i] - mx) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

typedef struct rank_item {
    double v;
    size_t i;
} rank_item;

static int rank_item_cmp(const void *a, const void *b) {
    const rank_item *p = a, *q = b;
    if (p->v < q->v) return -1;
    if (p->v > q->v) return 1;
    return p->i < q->i ? -1 : (p->i > q->i);
}

size_t fd_stats_rank(const double *x, size_t n, double *rank) {
    rank_item *items = malloc((n ? n : 1) * sizeof *items);
    size_t m = 0;
    if (!items) {
        for (size_t i = 0; i < n; i++) rank[i] = NAN;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        rank[i] = NAN;
        if (!isnan(x[i])) items[m++] = (rank_item){x[i], i};
    }
    qsort(items, m, sizeof *items, rank_item_cmp);
    for (size_t a = 0; a < m;) {
        size_t b = a;
        while (b + 1 < m && items[b + 1].v == items[a].v) b++;
        /* Positions a..b (0-based) share the average of ranks a+1..b+1. */
        double avg = 0.5 * (double)(a + b) + 1.0;
        for (size_t k = a; k <= b; k++) rank[items[k].i] = avg;
        a = b + 1;
    }
    free(items);
    return m;
}

double fd_stats_spearman(const double *x, const double *y, size_t n) {
    double *xm = calloc((n ? n : 1) * 4, sizeof *xm), r;
    double *ym, *rx, *ry;
    if (!xm) return NAN;
    ym = xm + n;
    rx = ym + n;
    ry = rx + n;
    /* Rank only the jointly finite pairs. */
    for (size_t i = 0; i < n; i++) {
        int ok = !isnan(x[i]) && !isnan(y[i]);
        xm[i] = ok ? x[i] : NAN;
        ym[i] = ok ? y[i] : NAN;
    }
    fd_stats_rank(xm, n, rx);
    fd_stats_rank(ym, n, ry);
    r = fd_stats_pearson(rx, ry, n);
    free(xm);
    return r;
}

double fd_stats_norm_cdf(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

void fd_stats_jobson_korkie(const double *a, const double *b, size_t n, fd_jk_result *out) {
    double *pa = calloc((n ? n : 1) * 2, sizeof *pa), *pb;
    double ma, sa, mb, sb, theta;
    size_t m = 0;
    *out = (fd_jk_result){0, NAN, NAN, NAN, NAN, NAN, NAN};
    if (!pa) return;
    pb = pa + n;
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i]) || isnan(b[i])) continue;
        pa[m] = a[i];
        pb[m] = b[i];
        m++;
    }
    out->months = m;
    fd_stats_mean_sd(pa, m, &ma, &sa, NULL);
    fd_stats_mean_sd(pb, m, &mb, &sb, NULL);
    if (m >= 3 && has_volatility(ma, sa) && has_volatility(mb, sb)) {
        double r = fd_stats_pearson(pa, pb, m);
        out->sharpe_a = ma / sa;
        out->sharpe_b = mb / sb;
        out->rho = r;
        theta = (2.0 - 2.0 * r +
                 0.5 * (out->sharpe_a * out->sharpe_a + out->sharpe_b * out->sharpe_b -
                        2.0 * out->sharpe_a * out->sharpe_b * r * r)) /
                (double)m;
        if (theta > 0) {
            out->z = (out->sharpe_a - out->sharpe_b) / sqrt(theta);
            out->p_two_sided = 2.0 * (1.0 - fd_stats_norm_cdf(fabs(out->z)));
            out->p_one_sided = 1.0 - fd_stats_norm_cdf(out->z);
        }
    }
    free(pa);
}
