/* Out-of-sample evaluator: R^2 sums, decile strategies, IC (see include/factord/eval.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/eval.h"
#include "factord/eval_concentration.h"
#include "factord/eval_portfolio.h"
#include "factord/eval_stats.h"
#include "factord/preprocess.h"

enum { STRAT_EW_LS, STRAT_EW_LO, STRAT_VW_LS, STRAT_VW_LO, N_STRAT };
static const char *const strat_names[N_STRAT] = {"ew_ls", "ew_lo", "vw_ls", "vw_lo"};

/* A strategy's previous holdings, kept to measure turnover into the next month. Legs:
 * 0 = long (top bucket), 1 = short (bottom bucket, long-short only). */
typedef struct holdings {
    size_t n[2];
    char **ids[2];
    double *w[2];
    double *r[2];
} holdings;

typedef struct series {
    double *v; /* (cap) one entry per month */
    size_t n, cap;
} series;

struct fd_eval {
    size_t K, P;
    fd_eval_opts opts;
    size_t months;
    /* R^2 accumulators. */
    double sse_total_r, sse_pred_r, ss_r, sse_total_x, sse_pred_x, ss_x;
    double sse_total_mkt, ss_mkt;
    series gross[N_STRAT], net[N_STRAT], turnover[N_STRAT], ic, rank_ic;
    holdings held[N_STRAT];
    fd_concentration conc;
    /* The month's own R^2 and size, and its label, one entry per month added. */
    series month_total_r, month_pred_r, month_n;
    char (*month)[FD_MONTH_LEN];
};

static int series_push(series *s, double v) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        double *nv = realloc(s->v, cap * sizeof *nv);
        if (!nv) return -1;
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = v;
    return 0;
}

static void holdings_clear(holdings *h) {
    for (int leg = 0; leg < 2; leg++) {
        for (size_t i = 0; i < h->n[leg]; i++) free(h->ids[leg][i]);
        free(h->ids[leg]);
        free(h->w[leg]);
        free(h->r[leg]);
        h->n[leg] = 0;
        h->ids[leg] = NULL;
        h->w[leg] = h->r[leg] = NULL;
    }
}

int fd_eval_create(size_t K, size_t P, const fd_eval_opts *opts, fd_eval **out, fd_error *err) {
    fd_eval *ev;
    if (opts->n_buckets < 2 || opts->n_buckets > 100)
        return fd_error_set(err, 400, "bad_buckets", "n (portfolios) must be 2..100, got %d",
                            opts->n_buckets);
    if (!(opts->cost >= 0.0 && opts->cost < 1.0))
        return fd_error_set(err, 400, "bad_cost", "cost must be in [0, 1), got %g", opts->cost);
    ev = calloc(1, sizeof *ev);
    if (!ev) return fd_error_set(err, 500, "out_of_memory", "evaluator");
    ev->K = K;
    ev->P = P;
    ev->opts = *opts;
    *out = ev;
    return 0;
}

void fd_eval_destroy(fd_eval *ev) {
    if (!ev) return;
    for (int s = 0; s < N_STRAT; s++) {
        free(ev->gross[s].v);
        free(ev->net[s].v);
        free(ev->turnover[s].v);
        holdings_clear(&ev->held[s]);
    }
    free(ev->ic.v);
    free(ev->rank_ic.v);
    free(ev->month_total_r.v);
    free(ev->month_pred_r.v);
    free(ev->month_n.v);
    free(ev->month);
    free(ev);
}

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static double r2(double sse, double ss) { return ss > 0.0 ? 1.0 - sse / ss : NAN; }

/* Appends the month's label, own R^2 values and size to the per-month series. */
static int record_month(fd_eval *ev, const char *month, double total, double pred, size_t n) {
    size_t i = ev->month_n.n;
    if (i == ev->month_n.cap) {
        size_t cap = ev->month_n.cap ? 2 * ev->month_n.cap : 64;
        char (*nm)[FD_MONTH_LEN] = realloc(ev->month, cap * sizeof *nm);
        if (!nm) return -1;
        ev->month = nm;
    }
    if (series_push(&ev->month_n, (double)n) || series_push(&ev->month_total_r, total) ||
        series_push(&ev->month_pred_r, pred))
        return -1;
    snprintf(ev->month[i], FD_MONTH_LEN, "%s", month);
    return 0;
}

/* Records this month's legs of one strategy and its turnover from the previous month. */
static int strategy_step(fd_eval *ev, int s, const fd_period *p, const int *bucket,
                         const double *w, int long_short, double gross) {
    holdings cur = {0};
    int nb = ev->opts.n_buckets, ok = 1;
    double turn = 0.0;
    for (int leg = 0; leg < (long_short ? 2 : 1); leg++) {
        int b = leg == 0 ? nb - 1 : 0;
        size_t m = 0;
        for (size_t i = 0; i < p->n; i++) m += bucket[i] == b && w[i] != 0.0;
        cur.ids[leg] = calloc(m + 1, sizeof *cur.ids[leg]);
        cur.w[leg] = malloc((m + 1) * sizeof *cur.w[leg]);
        cur.r[leg] = malloc((m + 1) * sizeof *cur.r[leg]);
        if (!cur.ids[leg] || !cur.w[leg] || !cur.r[leg]) {
            ok = 0;
            break;
        }
        for (size_t i = 0; i < p->n && ok; i++) {
            if (bucket[i] != b || w[i] == 0.0) continue;
            cur.ids[leg][cur.n[leg]] = strdup(p->ids[i]);
            if (!cur.ids[leg][cur.n[leg]]) ok = 0;
            cur.w[leg][cur.n[leg]] = w[i];
            cur.r[leg][cur.n[leg]] = p->r[i];
            cur.n[leg]++;
        }
        if (!ok) break;
        fd_leg now = {cur.n[leg], (const char *const *)cur.ids[leg], cur.w[leg], NULL};
        fd_leg before = {ev->held[s].n[leg], (const char *const *)ev->held[s].ids[leg],
                         ev->held[s].w[leg], ev->held[s].r[leg]};
        turn += fd_portfolio_turnover(ev->months > 0 ? &before : NULL, &now);
    }
    if (!ok) {
        holdings_clear(&cur);
        return -1;
    }
    holdings_clear(&ev->held[s]);
    ev->held[s] = cur;
    if (isnan(gross)) turn = NAN;
    if (series_push(&ev->gross[s], gross) || series_push(&ev->turnover[s], turn) ||
        series_push(&ev->net[s], gross - ev->opts.cost * turn))
        return -1;
    return 0;
}

int fd_eval_add_month(fd_eval *ev, const fd_period *p, const double *rhat, const double *er,
                      double mktrf, fd_error *err) {
    size_t n = p->n, P = ev->P;
    int nb = ev->opts.n_buckets;
    double *buf = malloc((n + 2 * P + 2 * (size_t)nb + 1) * sizeof *buf);
    int *bucket = malloc((n + 1) * sizeof *bucket);
    double *w, *xhat, *xpred, *bret;
    int rc = -1;
    if (!buf || !bucket) {
        fd_error_set(err, 500, "out_of_memory", "evaluation of %s", p->month);
        goto done;
    }
    w = buf;
    xhat = w + n;
    xpred = xhat + P;
    bret = xpred + P;
    fd_concentration_add(&ev->conc, p->month, (const char *const *)p->ids, p->r, rhat, er, n);
    double sse_total = 0.0, sse_pred = 0.0, ss = 0.0; /* this month's */
    for (size_t i = 0; i < n; i++) {
        double r = p->r[i];
        sse_total += (r - rhat[i]) * (r - rhat[i]);
        sse_pred += (r - er[i]) * (r - er[i]);
        ss += r * r;
        if (!isnan(mktrf)) {
            ev->sse_total_mkt += (r - rhat[i]) * (r - rhat[i]);
            ev->ss_mkt += (r - mktrf) * (r - mktrf);
        }
    }
    ev->sse_total_r += sse_total;
    ev->sse_pred_r += sse_pred;
    ev->ss_r += ss;
    if (record_month(ev, p->month, r2(sse_total, ss), r2(sse_pred, ss), n)) goto oom;
    /* Fitted managed portfolios (Z'Z)^{-1} Z' rhat, same solver as the data's x_t. */
    if (p->x && fd_preprocess_managed_portfolio(p->z, rhat, n, P, xhat, NULL, NULL) == 0 &&
        fd_preprocess_managed_portfolio(p->z, er, n, P, xpred, NULL, NULL) == 0) {
        for (size_t j = 0; j < P; j++) {
            ev->sse_total_x += (p->x[j] - xhat[j]) * (p->x[j] - xhat[j]);
            ev->sse_pred_x += (p->x[j] - xpred[j]) * (p->x[j] - xpred[j]);
            ev->ss_x += p->x[j] * p->x[j];
        }
    }
    if (series_push(&ev->ic, fd_stats_pearson(er, p->r, n)) ||
        series_push(&ev->rank_ic, fd_stats_spearman(er, p->r, n)))
        goto oom;
    fd_portfolio_buckets(er, n, nb, bucket);
    for (int how = 0; how < 2; how++) {
        fd_portfolio_weights(bucket, n, nb, how ? FD_WEIGHT_VALUE : FD_WEIGHT_EQUAL, p->mktcap, w);
        fd_portfolio_bucket_returns(bucket, w, p->r, n, nb, bret);
        if (strategy_step(ev, how ? STRAT_VW_LS : STRAT_EW_LS, p, bucket, w, 1,
                          bret[nb - 1] - bret[0]) ||
            strategy_step(ev, how ? STRAT_VW_LO : STRAT_EW_LO, p, bucket, w, 0, bret[nb - 1]))
            goto oom;
    }
    ev->months++;
    rc = 0;
    goto done;
oom:
    fd_error_set(err, 500, "out_of_memory", "evaluation of %s", p->month);
done:
    free(buf);
    free(bucket);
    return rc;
}


static json_t *strategy_json(const fd_eval *ev, int s) {
    const series *g = &ev->gross[s], *nt = &ev->net[s], *t = &ev->turnover[s];
    double mu, sd, tmu, nmu, nsd;
    size_t used;
    fd_stats_mean_sd(g->v, g->n, &mu, &sd, &used);
    fd_stats_mean_sd(t->v, t->n, &tmu, NULL, NULL);
    fd_stats_mean_sd(nt->v, nt->n, &nmu, &nsd, NULL);
    return json_pack("{s:i,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "months", (int)used,
                     "mean", num(mu), "volatility", num(sd), "sharpe",
                     num(fd_stats_sharpe(g->v, g->n)), "turnover", num(tmu), "mean_net",
                     num(nmu), "sharpe_net", num(fd_stats_sharpe(nt->v, nt->n)),
                     "max_drawdown", num(fd_stats_max_drawdown(g->v, g->n)), "sortino",
                     num(fd_stats_sortino(g->v, g->n)), "calmar",
                     num(fd_stats_calmar(g->v, g->n)), "annual_mean", num(12.0 * mu),
                     "annual_volatility", num(sqrt(12.0) * sd));
}

json_t *fd_eval_report(const fd_eval *ev) {
    json_t *strategies = json_object();
    double ic_mean, ric_mean;
    for (int s = 0; s < N_STRAT; s++)
        json_object_set_new(strategies, strat_names[s], strategy_json(ev, s));
    fd_stats_mean_sd(ev->ic.v, ev->ic.n, &ic_mean, NULL, NULL);
    fd_stats_mean_sd(ev->rank_ic.v, ev->rank_ic.n, &ric_mean, NULL, NULL);
    json_t *warnings = json_array(), *doc = json_pack(
        "{s:i,s:{s:o,s:o,s:o,s:o,s:o},s:{s:o,s:o,s:o,s:o},s:o,s:{s:i,s:f}}", "months",
        (int)ev->months, "r2", "total_r", num(r2(ev->sse_total_r, ev->ss_r)), "pred_r",
        num(r2(ev->sse_pred_r, ev->ss_r)), "total_x", num(r2(ev->sse_total_x, ev->ss_x)),
        "pred_x", num(r2(ev->sse_pred_x, ev->ss_x)), "total_r_mkt",
        num(r2(ev->sse_total_mkt, ev->ss_mkt)), "ic", "mean", num(ic_mean), "tstat",
        num(fd_stats_tstat(ev->ic.v, ev->ic.n)), "rank_mean", num(ric_mean), "rank_tstat",
        num(fd_stats_tstat(ev->rank_ic.v, ev->rank_ic.n)), "strategies", strategies,
        "portfolios", "n", ev->opts.n_buckets, "cost", ev->opts.cost);
    json_object_set_new(doc, "concentration", fd_concentration_report(&ev->conc, warnings));
    json_object_set_new(doc, "warnings", warnings);
    return doc;
}

json_t *fd_eval_monthly(const fd_eval *ev) {
    json_t *rows = json_array();
    for (size_t t = 0; t < ev->month_n.n; t++) {
        json_t *row = json_pack("{s:s,s:I,s:o,s:o,s:o,s:o}", "month", ev->month[t], "n",
                                (json_int_t)ev->month_n.v[t], "total_r2",
                                num(ev->month_total_r.v[t]), "pred_r2", num(ev->month_pred_r.v[t]),
                                "ic", num(ev->ic.v[t]), "rank_ic", num(ev->rank_ic.v[t]));
        for (int s = 0; s < N_STRAT; s++) {
            char key[32];
            snprintf(key, sizeof key, "%s_net", strat_names[s]);
            json_object_set_new(row, strat_names[s], num(ev->gross[s].v[t]));
            json_object_set_new(row, key, num(ev->net[s].v[t]));
        }
        json_array_append_new(rows, row);
    }
    return rows;
}

const double *fd_eval_strategy_returns(const fd_eval *ev, const char *name, int net,
                                       size_t *n) {
    for (int s = 0; s < N_STRAT; s++) {
        if (strcmp(name, strat_names[s]) != 0) continue;
        *n = net ? ev->net[s].n : ev->gross[s].n;
        return net ? ev->net[s].v : ev->gross[s].v;
    }
    return NULL;
}

int fd_eval_model(const fd_model *m, const fd_dataset *test, const double *F,
                  const double *lambda, const double *mktrf, const fd_eval_opts *opts,
                  fd_eval **out, fd_error *err) {
    size_t K = m->K, nmax = 0;
    double *FL = calloc(2 * K, sizeof *FL); /* (2, K): f_t, then lambda_{t-1} */
    double *pred = NULL;                     /* (2, n): fitted, then expected returns */
    fd_eval *ev = NULL;
    int rc = -1;
    if (!FL) {
        fd_error_set(err, 500, "out_of_memory", "evaluation");
        goto done;
    }
    if (fd_eval_create(K, test->P, opts, &ev, err)) goto done;
    for (size_t t = 0; t < test->T; t++)
        if (test->periods[t].n > nmax) nmax = test->periods[t].n;
    pred = malloc((2 * nmax + 1) * sizeof *pred);
    if (!pred) {
        fd_error_set(err, 500, "out_of_memory", "evaluation");
        goto done;
    }
    for (size_t t = 0; t < test->T; t++) {
        const fd_period *p = &test->periods[t];
        memcpy(FL + K, lambda + t * K, K * sizeof *FL);
        if (F)
            memcpy(FL, F + t * K, K * sizeof *FL);
        else if (fd_model_factors(m, p, FL, err))
            goto done;
        if (fd_model_predict(m, p, FL, 2, pred, NULL, err) ||
            fd_eval_add_month(ev, p, pred, pred + p->n, mktrf ? mktrf[t] : NAN, err))
            goto done;
    }
    *out = ev;
    ev = NULL;
    rc = 0;
done:
    fd_eval_destroy(ev);
    free(FL);
    free(pred);
    return rc;
}
