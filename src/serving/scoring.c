/* Scoring with a pinned version: design matrices, betas, factor realisations, lambda,
 * expected returns and decile portfolios (see include/factord/scoring.h). */
#include "factord/scoring.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/dataset.h"
#include "factord/design_cache.h"
#include "factord/mat.h"
#include "factord/preprocess.h"
#include "factord/store_data.h"

struct fd_factor_memo {
    char month[FD_MONTH_LEN];
    char stamp_prev[32], stamp_cur[32]; /* update stamps of panels month-1 and month */
    double f[]; /* (K) */
};

/* Characteristic columns of the fit, without the appended constant. */
static size_t n_characteristics(const fd_version *v) { return v->P - (v->add_constant ? 1 : 0); }

int fd_design_matrix(const fd_panel *p, char *const *names, size_t Pc, int add_constant,
                     double **z, fd_error *err) {
    size_t n = p->n_rows, P = Pc + (add_constant ? 1 : 0);
    double *sel = malloc((n ? n : 1) * (Pc ? Pc : 1) * sizeof *sel);
    double *out = malloc((n ? n : 1) * (P ? P : 1) * sizeof *out);
    long *col = malloc((Pc ? Pc : 1) * sizeof *col);
    char missing[400] = "";
    size_t n_missing = 0;
    if (!sel || !out || !col) {
        fd_error_set(err, 500, "out_of_memory", "design matrix of %s", p->month);
        goto fail;
    }
    for (size_t j = 0; j < Pc; j++) {
        col[j] = fd_panel_col(p, names[j]);
        if (col[j] < 0 && n_missing++ < 8) {
            size_t len = strlen(missing);
            snprintf(missing + len, sizeof missing - len, "%s%s", len ? ", " : "", names[j]);
        }
    }
    if (n_missing) {
        fd_error_set(err, 422, "missing_columns",
                     "the panel of %s lacks %zu characteristic(s) the model was fitted on: %s",
                     p->month, n_missing, missing);
        goto fail;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < Pc; j++) sel[i * Pc + j] = p->values[i * p->n_cols + col[j]];
    if (fd_preprocess_rank_normalize(sel, n, Pc, err)) goto fail;
    for (size_t i = 0; i < n; i++) {
        memcpy(out + i * P, sel + i * Pc, Pc * sizeof *out);
        if (add_constant) out[i * P + Pc] = 1.0;
    }
    free(sel);
    free(col);
    *z = out;
    return 0;
fail:
    free(sel);
    free(out);
    free(col);
    return -1;
}

int fd_scoring_design(const fd_version *v, const fd_panel *p, double **z, fd_error *err) {
    return fd_design_matrix(p, v->columns, n_characteristics(v), v->add_constant, z, err);
}

int fd_scoring_betas(const fd_version *v, const fd_panel *p, double **beta, fd_error *err) {
    double *z = NULL, *b = malloc((p->n_rows ? p->n_rows : 1) * v->K * sizeof *b);
    if (!b) return fd_error_set(err, 500, "out_of_memory", "betas of %s", p->month);
    if (fd_scoring_design(v, p, &z, err) || v->m->ops->betas(v->m, z, p->n_rows, b, err)) {
        free(z);
        free(b);
        return -1;
    }
    free(z);
    *beta = b;
    return 0;
}

int fd_scoring_cached_betas(const fd_version *v, fd_cached_month *m, double **beta,
                            fd_error *err) {
    const fd_panel *p = fd_cached_panel(m);
    const double *z;
    double *b;
    if (fd_cached_design(m, v->columns, n_characteristics(v), v->add_constant, &z, err))
        return -1;
    b = malloc((p->n_rows ? p->n_rows : 1) * v->K * sizeof *b);
    if (!b) return fd_error_set(err, 500, "out_of_memory", "betas of %s", p->month);
    if (v->m->ops->betas(v->m, z, p->n_rows, b, err)) {
        free(b);
        return -1;
    }
    *beta = b;
    return 0;
}

int fd_scoring_cached_expected(const fd_version *v, fd_cached_month *m, const double *lambda,
                               double **beta, double **er, fd_error *err) {
    const fd_panel *p = fd_cached_panel(m);
    double *e;
    *beta = *er = NULL;
    if (fd_scoring_cached_betas(v, m, beta, err)) return -1;
    e = malloc((p->n_rows ? p->n_rows : 1) * sizeof *e);
    if (!e) {
        free(*beta);
        *beta = NULL;
        return fd_error_set(err, 500, "out_of_memory", "expected returns");
    }
    fd_mat_vec(e, *beta, lambda, p->n_rows, v->K, 1.0, 0.0);
    *er = e;
    return 0;
}

/* RF of a month when the version prices excess returns and one is stored, else NaN. */
static double month_rf(const fd_version *v, fd_db *db, const char *month) {
    double rf = NAN;
    if (v->excess_returns && fd_store_factor_value(db, month, "RF", &rf, NULL) != 0) rf = NAN;
    return rf;
}

static int compute_factor(const fd_version *v, fd_db *db, const char *month, double *f,
                          fd_error *err) {
    char prev[FD_MONTH_LEN];
    fd_panel panels[2];
    fd_dataset ds;
    double rf[2];
    int rc = -1;
    fd_month_add(month, -1, prev);
    fd_panel_init(&panels[0]);
    fd_panel_init(&panels[1]);
    fd_dataset_init(&ds);
    if (fd_store_panel_get(db, prev, &panels[0], err) ||
        fd_store_panel_get(db, month, &panels[1], err))
        goto done;
    if (!panels[1].ret) {
        fd_error_set(err, 422, "no_returns", "the panel of %s has no ret column", month);
        goto done;
    }
    rf[0] = month_rf(v, db, prev);
    rf[1] = month_rf(v, db, month);
    fd_dataset_opts opts = {(const char *const *)v->columns, n_characteristics(v),
                            v->add_constant, rf, NULL};
    if (fd_dataset_from_panels(panels, 2, &opts, &ds, err)) goto done;
    if (ds.T != 1 || ds.periods[0].n == 0) {
        fd_error_set(err, 422, "no_overlap",
                     "no security has characteristics in %s and a return in %s", prev, month);
        goto done;
    }
    rc = v->m->ops->factors(v->m, &ds.periods[0], f, err);
done:
    fd_dataset_free(&ds);
    fd_panel_free(&panels[0]);
    fd_panel_free(&panels[1]);
    return rc;
}

int fd_scoring_factor(const fd_version *v, fd_db *db, const char *month, double *f,
                      fd_error *err) {
    fd_version *mv = (fd_version *)v; /* the memo is the only mutable part, under its lock */
    char prev[FD_MONTH_LEN], sp[32], sc[32];
    struct fd_factor_memo *hit = NULL;
    size_t K = v->K, stride = sizeof(struct fd_factor_memo) + K * sizeof(double);
    if (fd_month_add(month, -1, prev) != 0)
        return fd_error_set(err, 404, "no_panel", "the factors of %s need the panel of the "
                            "month before, and month keys start at " FD_MONTH_FIRST, month);
    if (fd_store_panel_stamp(db, prev, sp, err) || fd_store_panel_stamp(db, month, sc, err))
        return -1;
    pthread_mutex_lock(&mv->memo_mu);
    for (size_t i = 0; i < mv->memo_n; i++) {
        struct fd_factor_memo *e = (void *)((char *)mv->memo + i * stride);
        if (strcmp(e->month, month) == 0) {
            hit = e;
            if (strcmp(e->stamp_prev, sp) == 0 && strcmp(e->stamp_cur, sc) == 0) {
                memcpy(f, e->f, K * sizeof *f);
                pthread_mutex_unlock(&mv->memo_mu);
                return 0;
            }
        }
    }
    pthread_mutex_unlock(&mv->memo_mu);
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
        memcpy(hit->stamp_prev, sp, sizeof sp);
        memcpy(hit->stamp_cur, sc, sizeof sc);
        memcpy(hit->f, f, K * sizeof *f);
    }
    pthread_mutex_unlock(&mv->memo_mu);
    return 0;
}

int fd_scoring_lambda(const fd_version *v, fd_db *db, const char *month, double *lambda,
                      fd_lambda_info *info, fd_error *err) {
    size_t K = v->K, used = 0;
    double *f = malloc(K * sizeof *f);
    char m[FD_MONTH_LEN];
    fd_lambda_info li = {0, 0, 0};
    if (!f) return fd_error_set(err, 500, "out_of_memory", "lambda");
    for (size_t k = 0; k < K; k++) lambda[k] = 0.0;
    for (size_t t = 0; t < v->T0; t++) {
        if (strcmp(v->months[t], month) > 0) continue;
        for (size_t k = 0; k < K; k++) lambda[k] += v->F[t * K + k];
        li.in_sample++;
    }
    /* Months after the training window, up to `month`, from the stored panels. */
    if (v->train_to[0] && strcmp(month, v->train_to) > 0) {
        int after = fd_month_diff(v->train_to, month); /* months train_to+1 .. month */
        for (int i = 1; i <= after; i++) {
            fd_error ferr;
            fd_month_add(v->train_to, i, m);
            if (fd_scoring_factor(v, db, m, f, &ferr)) {
                if (ferr.status >= 500) {
                    if (err) *err = ferr;
                    free(f);
                    return -1;
                }
                li.skipped++;
                continue;
            }
            for (size_t k = 0; k < K; k++) lambda[k] += f[k];
            li.realised++;
        }
    }
    used = li.in_sample + li.realised;
    free(f);
    if (!used)
        return fd_error_set(err, 422, "no_factor_history",
                            "no factor realisation of %s v%d is known at %s", v->model,
                            v->version, month);
    for (size_t k = 0; k < K; k++) lambda[k] /= (double)used;
    if (info) *info = li;
    return 0;
}

int fd_scoring_expected(const fd_version *v, const fd_panel *p, const double *lambda,
                        double **beta_out, double **er, fd_error *err) {
    double *beta = NULL, *e = malloc((p->n_rows ? p->n_rows : 1) * sizeof *e);
    if (!e) return fd_error_set(err, 500, "out_of_memory", "expected returns");
    if (fd_scoring_betas(v, p, &beta, err)) {
        free(e);
        return -1;
    }
    fd_mat_vec(e, beta, lambda, p->n_rows, v->K, 1.0, 0.0);
    if (beta_out)
        *beta_out = beta;
    else
        free(beta);
    *er = e;
    return 0;
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

json_t *fd_scoring_deciles_json(const fd_panel *p, const double *er,
                                const fd_cached_month *next, int nb, fd_weighting how,
                                size_t *missing_cap) {
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
