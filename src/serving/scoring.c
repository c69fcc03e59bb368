/* Scoring with a pinned version: period contexts through the registry's cache of months,
 * betas, factor realisations, lambda, expected returns and decile portfolios (see
 * include/factord/scoring.h). The numbers themselves are the model layer's
 * (fd_model_betas, fd_model_factors, fd_model_predict). */
#include "factord/scoring.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/context.h"
#include "factord/design_cache.h"
#include "factord/metrics.h"
#include "factord/store_data.h"

struct fd_factor_memo {
    char month[FD_MONTH_LEN];
    uint64_t stamps; /* hash of the update stamps of every panel the realisation read */
    double f[];      /* (K) */
};

static int cached_month(void *state, const char *key, fd_month **out, fd_error *err) {
    fd_store_source *s = state;
    if (s->over && strcmp(fd_month_panel(s->over)->month, key) == 0) {
        fd_month_hold(s->over);
        *out = s->over;
        return 0;
    }
    return fd_design_cache_get(s->cache, s->db, key, out, err);
}

void fd_scoring_source(const fd_version *v, fd_db *db, fd_month *over, fd_month_source *src,
                       fd_store_source *state) {
    state->db = db;
    state->cache = v->cache;
    state->over = over;
    src->month = cached_month;
    src->series = fd_store_source_series;
    src->ctx = state;
    src->keep_months = 1;
}

int fd_scoring_forecast(const fd_version *v, fd_db *db, const char *month, fd_month *over,
                        fd_dataset *ctx, fd_error *err) {
    fd_month_source src;
    fd_store_source state;
    fd_context_spec cs = v->cs;
    cs.strict_columns = 1;
    fd_scoring_source(v, db, over, &src, &state);
    return fd_context_forecast(&cs, &src, month, ctx, err);
}

/* Betas, alpha (when asked) and, with lambda, expected returns of the forecast context of
 * `month`. */
static int forecast_scores(const fd_version *v, fd_db *db, const char *month, fd_month *over,
                           const double *lambda, double **beta, double **alpha, double **er,
                           fd_error *err) {
    fd_dataset ctx;
    const fd_period *p;
    size_t n;
    int rc = -1;
    *beta = NULL;
    if (alpha) *alpha = NULL;
    if (er) *er = NULL;
    if (fd_scoring_forecast(v, db, month, over, &ctx, err)) return -1;
    p = &ctx.periods[0];
    n = p->n ? p->n : 1;
    *beta = malloc(n * v->K * sizeof **beta);
    if (alpha) *alpha = malloc(n * sizeof **alpha);
    if (er) *er = malloc(n * sizeof **er);
    if (!*beta || (alpha && !*alpha) || (er && !*er))
        fd_error_set(err, 500, "out_of_memory", "scores of %s", month);
    else if (er)
        rc = fd_model_predict(v->m, p, lambda, 1, *er, *beta, err);
    else
        rc = fd_model_betas(v->m, p, *beta, alpha ? *alpha : NULL, err);
    if (rc != 0) {
        free(*beta);
        *beta = NULL;
        if (alpha) {
            free(*alpha);
            *alpha = NULL;
        }
        if (er) {
            free(*er);
            *er = NULL;
        }
    }
    fd_dataset_free(&ctx);
    return rc;
}

int fd_scoring_cached_betas(const fd_version *v, fd_db *db, fd_month *m, double **beta,
                            double **alpha, fd_error *err) {
    return forecast_scores(v, db, fd_month_panel(m)->month, m, NULL, beta, alpha, NULL, err);
}

int fd_scoring_cached_expected(const fd_version *v, fd_db *db, fd_month *m,
                               const double *lambda, double **beta, double **er,
                               fd_error *err) {
    return forecast_scores(v, db, fd_month_panel(m)->month, m, lambda, beta, NULL, er, err);
}

int fd_scoring_expected(const fd_version *v, fd_db *db, const fd_panel *p, const double *lambda,
                        double **beta, double **er, fd_error *err) {
    fd_month *m;
    int rc;
    if (fd_month_borrow(p, "", &m, err)) return -1;
    rc = forecast_scores(v, db, p->month, m, lambda, beta, NULL, er, err);
    fd_month_release(m);
    return rc;
}

/* FNV-1a 64 of the stamps of months month-L .. month (the panels a realisation reads);
 * 404 "no_panel" for month-1 or month, while older history months may be missing. */
static int factor_stamps(const fd_version *v, fd_db *db, const char *month, uint64_t *out,
                         fd_error *err) {
    int L = v->cs.history > 1 ? (int)v->cs.history : 1;
    uint64_t h = 1469598103934665603ULL;
    for (int back = L; back >= 0; back--) {
        char key[FD_MONTH_LEN], stamp[32];
        fd_error e;
        if (fd_month_add(month, -back, key) != 0) {
            if (back <= 1)
                return fd_error_set(err, 404, "no_panel", "the factors of %s need the panel of "
                                    "the month before, and month keys start at " FD_MONTH_FIRST,
                                    month);
            snprintf(stamp, sizeof stamp, "-"); /* history before the first key: masked */
        } else if (fd_store_panel_stamp(db, key, stamp, &e)) {
            if (e.status != 404 || back <= 1) {
                if (err) *err = e;
                return -1;
            }
            snprintf(stamp, sizeof stamp, "-");
        }
        for (const char *c = stamp; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ULL;
        h = (h ^ 0xffu) * 1099511628211ULL;
    }
    *out = h;
    return 0;
}

static int compute_factor(const fd_version *v, fd_db *db, const char *month, double *f,
                          fd_error *err) {
    char prev[FD_MONTH_LEN];
    fd_month_source src;
    fd_store_source state;
    fd_dataset ds;
    fd_month *cur = NULL;
    int rc = -1;
    fd_month_add(month, -1, prev);
    fd_scoring_source(v, db, NULL, &src, &state);
    if (fd_design_cache_get(v->cache, db, month, &cur, err)) return -1;
    if (!fd_month_panel(cur)->ret) {
        fd_month_release(cur);
        return fd_error_set(err, 422, "no_returns", "the panel of %s has no ret column", month);
    }
    fd_month_release(cur);
    fd_context_spec cs = v->cs;
    cs.require_series = 1;
    if (fd_context_build(&cs, &src, month, month, &ds, NULL, err)) {
        if (err && strcmp(err->code, "empty_dataset") == 0)
            fd_error_set(err, 422, "no_overlap",
                         "no security has characteristics in %s and a return in %s", prev, month);
        return -1;
    }
    rc = fd_model_factors(v->m, &ds.periods[0], f, err);
    fd_dataset_free(&ds);
    return rc;
}

/* One process-wide count for the factor memos of every version. */
static fd_cache_stats memo_stats;
static pthread_once_t memo_stats_once = PTHREAD_ONCE_INIT;
static void memo_stats_register(void) { fd_metrics_register_cache("factor_memo", &memo_stats); }

int fd_scoring_factor(const fd_version *v, fd_db *db, const char *month, double *f,
                      fd_error *err) {
    fd_version *mv = (fd_version *)v; /* the memo is the only mutable part, under its lock */
    struct fd_factor_memo *hit = NULL;
    size_t K = v->K, stride = sizeof(struct fd_factor_memo) + K * sizeof(double);
    uint64_t stamps;
    if (factor_stamps(v, db, month, &stamps, err)) return -1;
    pthread_mutex_lock(&mv->memo_mu);
    for (size_t i = 0; i < mv->memo_n; i++) {
        struct fd_factor_memo *e = (void *)((char *)mv->memo + i * stride);
        if (strcmp(e->month, month) == 0) {
            hit = e;
            if (e->stamps == stamps) {
                memcpy(f, e->f, K * sizeof *f);
                pthread_mutex_unlock(&mv->memo_mu);
                fd_cache_hit(&memo_stats);
                return 0;
            }
        }
    }
    pthread_mutex_unlock(&mv->memo_mu);
    pthread_once(&memo_stats_once, memo_stats_register);
    fd_cache_miss(&memo_stats);
    if (compute_factor(v, db, month, f, err)) return -1;
    pthread_mutex_lock(&mv->memo_mu);
    if (!hit) { /* re-find: the memo may have grown (and moved) meanwhile */
        if (mv->memo_n == mv->memo_cap) {
            size_t cap = mv->memo_cap ? 2 * mv->memo_cap : 16;
            void *grown = realloc(mv->memo, cap * stride);
            if (grown) {
                mv->memo = grown;
                mv->memo_cap = cap;
            }
        }
        if (mv->memo_n < mv->memo_cap) hit = (void *)((char *)mv->memo + mv->memo_n++ * stride);
    } else {
        hit = NULL;
        for (size_t i = 0; i < mv->memo_n && !hit; i++) {
            struct fd_factor_memo *e = (void *)((char *)mv->memo + i * stride);
            if (strcmp(e->month, month) == 0) hit = e;
        }
    }
    if (hit) {
        memcpy(hit->month, month, FD_MONTH_LEN);
        hit->stamps = stamps;
        memcpy(hit->f, f, K * sizeof *f);
    }
    pthread_mutex_unlock(&mv->memo_mu);
    return 0;
}

/* The newest stored panel month (no realisation can come later), or "" when none. */
static int newest_panel(fd_db *db, char out[FD_MONTH_LEN], fd_error *err) {
    char (*months)[FD_MONTH_LEN] = NULL;
    size_t n = 0;
    if (fd_store_panel_months(db, &months, &n, err)) return -1;
    snprintf(out, FD_MONTH_LEN, "%s", n ? months[n - 1] : "");
    free(months);
    return 0;
}

int fd_scoring_history(const fd_version *v, fd_db *db, const char *until,
                       const fd_factor_history *known, fd_factor_history *h, fd_error *err) {
    char m[FD_MONTH_LEN], newest[FD_MONTH_LEN], base[FD_MONTH_LEN];
    double *f = malloc(v->K * sizeof *f);
    int rc = -1;
    fd_factor_history_init(h, v->K);
    if (!f) return fd_error_set(err, 500, "out_of_memory", "factor history");
    if (fd_factor_history_append(h, v->F, (const char (*)[FD_MONTH_LEN])v->months, v->T0, err) ||
        newest_panel(db, newest, err))
        goto done;
    /* Months after the stored rows up to `until` and the newest panel, by count. */
    snprintf(base, sizeof base, "%s", h->T ? fd_factor_history_last(h) : v->train_to);
    const char *end = strcmp(until, newest) < 0 ? until : newest;
    int later = base[0] && end[0] ? fd_month_diff(base, end) : 0;
    for (int i = 1; i <= later; i++) {
        if (fd_month_add(base, i, m) != 0) break;
        const double *given = NULL;
        fd_error ferr;
        for (size_t t = 0; known && t < known->T && !given; t++)
            if (strcmp(known->months[t], m) == 0) given = known->F + t * v->K;
        if (given) {
            if (fd_factor_history_push(h, m, given, err)) goto done;
            continue;
        }
        if (fd_scoring_factor(v, db, m, f, &ferr) == 0) {
            if (fd_factor_history_push(h, m, f, err)) goto done;
        } else if (ferr.status >= 500) {
            if (err) *err = ferr;
            goto done;
        } else if (fd_factor_history_skip(h, m, err)) {
            goto done;
        }
    }
    rc = 0;
done:
    free(f);
    if (rc != 0) fd_factor_history_free(h);
    return rc;
}

int fd_scoring_lambda(const fd_version *v, fd_db *db, const char *month,
                      fd_lambda_estimator est, double *lambda, fd_lambda_info *info,
                      fd_error *err) {
    fd_factor_history h;
    int rc;
    /* The training estimator needs no realisation beyond the stored rows. */
    if (fd_scoring_history(v, db, est == FD_LAMBDA_TRAINING ? "" : month, NULL, &h, err))
        return -1;
    rc = fd_lambda_estimate(&h, month, est, &v->windows, lambda, info, err);
    if (rc != 0) fd_error_prefix(err, "%s v%d", v->model, v->version);
    fd_factor_history_free(&h);
    return rc;
}

static json_t *num_or_null(double x) { return isfinite(x) ? json_real(x) : json_null(); }

int fd_scoring_deciles_check(const double *er, size_t n, int n_buckets, fd_error *err) {
    size_t sortable = 0;
    for (size_t i = 0; i < n; i++) sortable += isfinite(er[i]) != 0;
    if (sortable >= (size_t)n_buckets) return 0;
    return fd_error_set(err, 422, "too_few_securities",
                        "%d portfolios need at least %d securities with an expected return; "
                        "there are %zu (ask for fewer with n=)",
                        n_buckets, n_buckets, sortable);
}

json_t *fd_scoring_deciles_json(const fd_panel *p, const double *er, const fd_month *next,
                                int nb, fd_weighting how, size_t *missing_cap) {
    size_t n = p->n_rows;
    int *bucket = malloc((n ? n : 1) * sizeof *bucket);
    double *w = malloc((n ? n : 1) * sizeof *w);
    double *bret = malloc((size_t)nb * sizeof *bret);
    json_t *out = NULL, *ports, *secs;
    size_t *members = calloc((size_t)nb, sizeof *members);
    if (!bucket || !w || !bret || !members ||
        fd_scoring_decile_sort(p, er, next, nb, how, bucket, w, bret, missing_cap))
        goto done;
    ports = json_array();
    secs = json_array();
    for (size_t i = 0; i < n; i++)
        if (bucket[i] >= 0) members[bucket[i]]++;
    for (int b = 0; b < nb; b++)
        json_array_append_new(ports, json_pack("{s:i,s:i,s:o}", "portfolio", b + 1, "members",
                                               (int)members[b],
                                               "return", next ? num_or_null(bret[b]) : json_null()));
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            secs, json_pack("{s:s,s:o,s:o,s:o}", "id", p->ids[i], "er", num_or_null(er[i]),
                            "portfolio", bucket[i] >= 0 ? json_integer(bucket[i] + 1) : json_null(),
                            "weight", bucket[i] >= 0 ? json_real(w[i]) : json_null()));
    out = json_pack("{s:i,s:s,s:o,s:{s:o},s:{s:o},s:o,s:i}", "n", nb, "weighting",
                    how == FD_WEIGHT_VALUE ? "value" : "equal", "portfolios", ports,
                    "long_short", "return", next ? num_or_null(bret[nb - 1] - bret[0]) : json_null(),
                    "long_only", "return", next ? num_or_null(bret[nb - 1]) : json_null(),
                    "securities", secs, "missing_mktcap", (int)*missing_cap);
done:
    free(bucket);
    free(w);
    free(bret);
    free(members);
    return out;
}
