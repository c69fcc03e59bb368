#include "factord/eval_portfolio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/eval_stats.h"

size_t fd_portfolio_buckets(const double *er, size_t n, int nb, int *bucket) {
    double *rank = malloc((n ? n : 1) * sizeof *rank);
    size_t m;
    for (size_t i = 0; i < n; i++) bucket[i] = -1;
    if (!rank || nb < 1) {
        free(rank);
        return 0;
    }
    m = fd_stats_rank(er, n, rank);
    if (m < (size_t)nb) {
        free(rank);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (isnan(rank[i])) continue;
        /* Ties share the averaged rank, hence the bucket. */
        int b = (int)floor((rank[i] - 1.0) * (double)nb / (double)m);
        bucket[i] = b < 0 ? 0 : (b >= nb ? nb - 1 : b);
    }
    free(rank);
    return m;
}

static int has_cap(const double *mktcap, size_t i) {
    return mktcap && isfinite(mktcap[i]) && mktcap[i] > 0.0;
}

size_t fd_portfolio_weights(const int *bucket, size_t n, int nb, fd_weighting how,
                            const double *mktcap, double *weight) {
    double *total = calloc((size_t)(nb > 0 ? nb : 1), sizeof *total);
    size_t no_cap = 0;
    if (!total) {
        for (size_t i = 0; i < n; i++) weight[i] = 0.0;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        weight[i] = 0.0;
        if (bucket[i] < 0) continue;
        if (how == FD_WEIGHT_EQUAL) {
            weight[i] = 1.0;
        } else if (has_cap(mktcap, i)) {
            weight[i] = mktcap[i];
        } else {
            no_cap++;
        }
        total[bucket[i]] += weight[i];
    }
    for (size_t i = 0; i < n; i++) {
        if (bucket[i] >= 0 && total[bucket[i]] > 0.0) weight[i] /= total[bucket[i]];
    }
    free(total);
    return no_cap;
}

void fd_portfolio_bucket_returns(const int *bucket, const double *weight, const double *ret,
                                 size_t n, int nb, double *out) {
    double *wsum = calloc((size_t)(nb > 0 ? nb : 1), sizeof *wsum);
    for (int b = 0; b < nb; b++) out[b] = 0.0;
    if (!wsum) {
        for (int b = 0; b < nb; b++) out[b] = NAN;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (bucket[i] < 0 || weight[i] == 0.0 || !isfinite(ret[i])) continue;
        out[bucket[i]] += weight[i] * ret[i];
        wsum[bucket[i]] += weight[i];
    }
    for (int b = 0; b < nb; b++) out[b] = wsum[b] > 0.0 ? out[b] / wsum[b] : NAN;
    free(wsum);
}

typedef struct held {
    const char *id;
    double w;
} held;

static int held_cmp(const void *a, const void *b) {
    return strcmp(((const held *)a)->id, ((const held *)b)->id);
}

/* Copies a leg's non-zero positions sorted by id; drift applies prev's realised returns. */
static held *leg_sorted(const fd_leg *leg, int drift, size_t *count) {
    held *h = malloc((leg->n ? leg->n : 1) * sizeof *h);
    double gross = 0.0;
    size_t m = 0;
    if (!h) return NULL;
    if (drift) {
        for (size_t i = 0; i < leg->n; i++) {
            double r = leg->r && isfinite(leg->r[i]) ? leg->r[i] : 0.0;
            gross += leg->w[i] * r;
        }
    }
    for (size_t i = 0; i < leg->n; i++) {
        double w = leg->w[i];
        if (w == 0.0) continue;
        if (drift) {
            double r = leg->r && isfinite(leg->r[i]) ? leg->r[i] : 0.0;
            w = w * (1.0 + r) / (1.0 + gross);
        }
        h[m++] = (held){leg->ids[i], w};
    }
    qsort(h, m, sizeof *h, held_cmp);
    *count = m;
    return h;
}

double fd_portfolio_turnover(const fd_leg *prev, const fd_leg *cur) {
    size_t np = 0, nc = 0, i = 0, j = 0;
    held *p = NULL, *c = leg_sorted(cur, 0, &nc);
    double turnover = 0.0;
    if (!c) return NAN;
    if (prev) {
        p = leg_sorted(prev, 1, &np);
        if (!p) {
            free(c);
            return NAN;
        }
    }
    while (i < np || j < nc) {
        int cmp = i >= np ? 1 : (j >= nc ? -1 : strcmp(p[i].id, c[j].id));
        if (cmp < 0) {
            turnover += fabs(p[i++].w);
        } else if (cmp > 0) {
            turnover += fabs(c[j++].w);
        } else {
            turnover += fabs(c[j++].w - p[i++].w);
        }
    }
    free(p);
    free(c);
    return turnover;
}
