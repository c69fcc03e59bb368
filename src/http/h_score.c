/* Serving endpoints (issue 4): betas, factor realisations, expected returns, decile
 * portfolios and inline scoring, each for a model version addressed by number or label
 * (?version=3, ?version=stable; default the latest ready version). Every request pins one
 * version for its whole life (see registry.h). JSON by default, CSV by Accept: text/csv. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "factord/app.h"
#include "factord/design_cache.h"
#include "factord/http.h"
#include "factord/panel_io.h"
#include "factord/registry.h"
#include "factord/scoring.h"
#include "factord/store_data.h"
#include "factord/textbuf.h"
#include "serving.h"

/* Takes the whole month from the registry's cache and resolves ?ids= (each listed id must
 * be in the month: 404 "unknown_security" otherwise; duplicates are reported once). */
static int load_month(fd_request *req, fd_db *db, const char *month, fd_month **out,
                      selection *sel, fd_error *err) {
    const char *ids = fd_request_query(req, "ids");
    const fd_panel *p;
    sel->rows = NULL;
    sel->n = 0;
    *out = NULL;
    if (fd_design_cache_get(fd_registry_designs(req->app->registry), db, month, out, err))
        return -1;
    p = fd_month_panel(*out);
    sel->rows = malloc((p->n_rows + 1) * sizeof *sel->rows);
    if (!sel->rows) return fd_error_set(err, 500, "out_of_memory", "selection");
    if (!ids) {
        for (size_t i = 0; i < p->n_rows; i++) sel->rows[i] = i;
        sel->n = p->n_rows;
        return 0;
    }
    /* Each id is looked up whole, however long (a fixed-size copy once cut a 300-character
     * id to its first 255 and answered with whichever security had that name). */
    char *list = strdup(ids), *save = NULL;
    unsigned char *taken = calloc(p->n_rows ? p->n_rows : 1, 1);
    int rc = 0;
    if (!list || !taken) rc = fd_error_set(err, 500, "out_of_memory", "selection");
    for (char *id = list ? strtok_r(list, ",", &save) : NULL; rc == 0 && id;
         id = strtok_r(NULL, ",", &save)) {
        long row = fd_month_row(*out, id);
        if (row < 0)
            rc = fd_error_set(err, 404, "unknown_security",
                              "security \"%.200s\" is not in the panel of %s", id, month);
        else if (!taken[row]) {
            taken[row] = 1;
            sel->rows[sel->n++] = (size_t)row;
        }
    }
    free(list);
    free(taken);
    return rc;
}

static json_t *vec_json(const double *x, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, isfinite(x[i]) ? json_real(x[i]) : json_null());
    return a;
}

static json_t *version_json(const fd_version *v) {
    return json_pack("{s:s,s:i}", "model", v->model, "version", v->version);
}

/* [{"id", key: value}] per selected row; cols == 0 writes one scalar per row (m is (n)),
 * otherwise an array of cols values (m is (n, cols)). */
static json_t *rows_json(const fd_panel *p, const selection *sel, const double *m, size_t cols,
                         const char *key) {
    json_t *rows = json_array();
    for (size_t r = 0; r < sel->n; r++) {
        size_t i = sel->rows[r];
        json_array_append_new(rows, json_pack("{s:s,s:o}", "id", p->ids[i], key,
                                              cols == 0 ? (isfinite(m[i]) ? json_real(m[i]) : json_null())
                                                        : vec_json(m + i * cols, cols)));
    }
    return rows;
}

static void handle_betas(fd_request *req, fd_response *resp) {
    serving s;
    fd_error err;
    fd_month *cm = NULL;
    selection sel = {NULL, 0};
    double *beta = NULL, *alpha = NULL;
    char next[FD_MONTH_LEN];
    const char *month = month_param(req, "month", &err);
    if (!month || serving_open(req, &s, &err)) {
        fd_response_from_error(resp, &err);
        return;
    }
    fd_month_add(month, 1, next);
    if (load_month(req, s.db, month, &cm, &sel, &err) ||
        fd_scoring_cached_betas(s.v, s.db, cm, &beta, s.v->m->has_alpha ? &alpha : NULL, &err)) {
        fd_response_from_error(resp, &err);
    } else if (fd_request_accepts(req, "text/csv")) {
        respond_matrix_csv(resp, fd_month_panel(cm), &sel, beta, s.v->K, "beta");
        json_decref(serving_provenance(&s, month, next[0] ? next : NULL, NULL, resp));
    } else {
        json_t *doc = version_json(s.v);
        json_object_set_new(doc, "provenance",
                            serving_provenance(&s, month, next[0] ? next : NULL, NULL, resp));
        json_object_set_new(doc, "month", json_string(month));
        json_object_set_new(doc, "k", json_integer((json_int_t)s.v->K));
        json_t *rows = rows_json(fd_month_panel(cm), &sel, beta, s.v->K, "beta");
        /* The part of the expected return outside beta' f (IPCA's intercept). */
        for (size_t r = 0; alpha && r < sel.n; r++)
            json_object_set_new(json_array_get(rows, r), "alpha",
                                isfinite(alpha[sel.rows[r]]) ? json_real(alpha[sel.rows[r]])
                                                             : json_null());
        json_object_set_new(doc, "securities", rows);
        fd_response_json(resp, 200, doc);
    }
    free(sel.rows);
    free(beta);
    free(alpha);
    fd_month_release(cm);
    serving_close(req, &s);
}

/* FNV-1a 64 over the version, the range and the stamps of every panel it reads: the
 * months from-1 .. to (span + 2 of them; a month before the first key has no panel). */
static int factors_etag(fd_db *db, const fd_version *v, const char *from, int span,
                        const char *to, char *etag, size_t cap) {
    uint64_t h = 1469598103934665603ULL;
    char m[FD_MONTH_LEN], stamp[32], buf[256];
    snprintf(buf, sizeof buf, "%s/%d/%s/%s", v->model, v->version, from, to);
    for (const char *c = buf; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    for (int i = -1; i <= span; i++) {
        if (fd_month_add(from, i, m) != 0 || fd_store_panel_stamp(db, m, stamp, NULL) != 0)
            snprintf(stamp, sizeof stamp, "-");
        for (const char *c = stamp; *c; c++) h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    }
    snprintf(etag, cap, "\"f-%016llx\"", (unsigned long long)h);
    return 0;
}

#define FD_MAX_FACTOR_MONTHS 1200

static void handle_factors(fd_request *req, fd_response *resp) {
    serving s;
    fd_error err;
    const char *from = fd_request_query(req, "from"), *to = fd_request_query(req, "to");
    const char *month = fd_request_query(req, "month"), *inm;
    char m[FD_MONTH_LEN], etag[40];
    double *f = NULL;
    int y, mo, span;
    if (month) from = to = month;
    if (!from || !to) {
        fd_response_error(resp, 400, "missing_parameter",
                          "give month=YYYY-MM or both from=YYYY-MM and to=YYYY-MM");
        return;
    }
    if (fd_month_parse(from, &y, &mo, &err) || fd_month_parse(to, &y, &mo, &err)) {
        fd_response_from_error(resp, &err);
        return;
    }
    span = fd_month_diff(from, to);
    if (span < 0 || span >= FD_MAX_FACTOR_MONTHS) {
        fd_response_error(resp, 400, "bad_range", "from must not be after to, and the range at "
                          "most %d months (got %s..%s)", FD_MAX_FACTOR_MONTHS, from, to);
        return;
    }
    if (serving_open(req, &s, &err)) {
        fd_response_from_error(resp, &err);
        return;
    }
    factors_etag(s.db, s.v, from, span, to, etag, sizeof etag);
    inm = fd_request_header(req, "if-none-match");
    snprintf(resp->etag, sizeof resp->etag, "%s", etag);
    snprintf(resp->cache_control, sizeof resp->cache_control, "no-cache");
    if (inm && strcmp(inm, etag) == 0) {
        resp->status = 304;
        serving_close(req, &s);
        return;
    }
    f = malloc(s.v->K * sizeof *f);
    int csv = fd_request_accepts(req, "text/csv");
    fd_textbuf b;
    json_t *series = json_array();
    size_t missing = 0;
    fd_textbuf_init(&b);
    if (csv) {
        fd_textbuf_puts(&b, "month");
        for (size_t k = 0; k < s.v->K; k++) {
            char col[32];
            snprintf(col, sizeof col, ",f_%zu", k + 1);
            fd_textbuf_puts(&b, col);
        }
        fd_textbuf_putc(&b, '\n');
    }
    for (int i = 0; f && i <= span; i++) {
        fd_month_add(from, i, m); /* inside the range: from and to are valid keys */
        if (fd_scoring_factor(s.v, s.db, m, f, &err)) {
            if (err.status >= 500 || span == 0) break;
            missing++; /* a month without panels in a range: skipped, counted */
            continue;
        }
        if (csv) {
            fd_textbuf_puts(&b, m);
            for (size_t k = 0; k < s.v->K; k++) {
                fd_textbuf_putc(&b, ',');
                fd_textbuf_num(&b, f[k], "");
            }
            fd_textbuf_putc(&b, '\n');
        } else {
            json_array_append_new(series, json_pack("{s:s,s:o}", "month", m, "f",
                                                    vec_json(f, s.v->K)));
        }
        err.status = 0;
    }
    if (!f) {
        fd_response_error(resp, 500, "out_of_memory", "factors");
        json_decref(series);
        fd_textbuf_free(&b);
    } else if (err.status && (err.status >= 500 || span == 0)) {
        fd_response_from_error(resp, &err);
        json_decref(series);
        fd_textbuf_free(&b);
    } else if (csv) {
        json_decref(series);
        fd_response_text(resp, 200, "text/csv", b.data, b.len);
        json_decref(serving_provenance(&s, NULL, NULL, NULL, resp));
    } else {
        json_t *doc = version_json(s.v);
        fd_textbuf_free(&b);
        json_object_set_new(doc, "provenance", serving_provenance(&s, NULL, NULL, NULL, resp));
        json_object_set_new(doc, "from", json_string(from));
        json_object_set_new(doc, "to", json_string(to));
        json_object_set_new(doc, "months_without_panels", json_integer((json_int_t)missing));
        json_object_set_new(doc, "factors", series);
        fd_response_json(resp, 200, doc);
        snprintf(resp->etag, sizeof resp->etag, "%s", etag);
        snprintf(resp->cache_control, sizeof resp->cache_control, "no-cache");
    }
    free(f);
    serving_close(req, &s);
}

/* Shared by expected returns and deciles: panel of month t, lambda_t, betas, er. */
typedef struct scored {
    fd_month *cm;
    const fd_panel *p; /* the cached month's panel */
    selection sel;
    double *lambda, *beta, *er;
    fd_lambda_info li;
} scored;

/* ?lambda=prevailing|training (default prevailing). */
static int lambda_param(fd_request *req, fd_lambda_estimator *est, fd_error *err) {
    return fd_lambda_estimator_parse(fd_request_query(req, "lambda"), "lambda", est, err);
}

static int score_month(fd_request *req, serving *s, const char *month, scored *sc,
                       fd_error *err) {
    memset(sc, 0, sizeof *sc);
    sc->lambda = malloc(s->v->K * sizeof *sc->lambda);
    if (!sc->lambda) return fd_error_set(err, 500, "out_of_memory", "lambda");
    if (load_month(req, s->db, month, &sc->cm, &sc->sel, err)) return -1;
    sc->p = fd_month_panel(sc->cm);
    fd_lambda_estimator est;
    if (lambda_param(req, &est, err) ||
        fd_scoring_lambda(s->v, s->db, month, est, sc->lambda, &sc->li, err))
        return -1;
    return fd_scoring_cached_expected(s->v, s->db, sc->cm, sc->lambda, &sc->beta, &sc->er,
                                      err);
}

static void scored_free(scored *sc) {
    fd_month_release(sc->cm);
    free(sc->sel.rows);
    free(sc->lambda);
    free(sc->beta);
    free(sc->er);
}

static void handle_expected(fd_request *req, fd_response *resp) {
    serving s;
    scored sc;
    fd_error err;
    char next[FD_MONTH_LEN];
    const char *month = month_param(req, "month", &err);
    memset(&sc, 0, sizeof sc);
    if (!month || serving_open(req, &s, &err)) {
        fd_response_from_error(resp, &err);
        return;
    }
    fd_month_add(month, 1, next);
    if (score_month(req, &s, month, &sc, &err)) {
        fd_response_from_error(resp, &err);
    } else if (fd_request_accepts(req, "text/csv")) {
        respond_matrix_csv(resp, sc.p, &sc.sel, sc.er, 1, "er");
        json_decref(serving_provenance(&s, month, next[0] ? next : NULL, &sc.li, resp));
    } else {
        json_t *doc = version_json(s.v), *rows = rows_json(sc.p, &sc.sel, sc.er, 0, "er");
        json_object_set_new(doc, "provenance",
                            serving_provenance(&s, month, next[0] ? next : NULL, &sc.li, resp));
        json_object_set_new(doc, "characteristics_month", json_string(month));
        json_object_set_new(doc, "forecast_month", next[0] ? json_string(next) : json_null());
        json_object_set_new(doc, "returns", json_string(s.v->excess_returns ? "excess" : "raw"));
        json_object_set_new(doc, "lambda", fd_lambda_info_json(&sc.li, sc.lambda, s.v->K));
        json_object_set_new(doc, "securities", rows);
        fd_response_json(resp, 200, doc);
    }
    scored_free(&sc);
    serving_close(req, &s);
}

/* ?n= (2..100, default 10) and ?weighting=equal|value. */
static int decile_params(fd_request *req, int *nb, fd_weighting *how, fd_error *err) {
    const char *n = fd_request_query(req, "n"), *w = fd_request_query(req, "weighting");
    char *end;
    *nb = 10;
    *how = FD_WEIGHT_EQUAL;
    if (n) {
        long v = strtol(n, &end, 10);
        if (*end || v < 2 || v > 100)
            return fd_error_set(err, 400, "bad_parameter", "n must be an integer 2..100, got \"%s\"", n);
        *nb = (int)v;
    }
    if (w && strcmp(w, "value") == 0) *how = FD_WEIGHT_VALUE;
    else if (w && strcmp(w, "equal") != 0)
        return fd_error_set(err, 400, "bad_parameter", "weighting must be equal or value, got \"%s\"", w);
    return 0;
}

/* deciles?from=&to=: the sorts at the end of each month of the range with the returns
 * realised in the next month, in one answer (fd_scoring_decile_series). */
static void handle_decile_series(fd_request *req, fd_response *resp) {
    serving s;
    fd_error err;
    fd_weighting how;
    fd_lambda_estimator est;
    json_t *doc;
    int nb, span;
    const char *from = month_param(req, "from", &err);
    const char *to = from ? month_param(req, "to", &err) : NULL;
    if (!from || !to || decile_params(req, &nb, &how, &err) || lambda_param(req, &est, &err)) {
        fd_response_from_error(resp, &err);
        return;
    }
    span = fd_month_diff(from, to);
    if (span < 0 || span >= FD_MAX_FACTOR_MONTHS || fd_request_query(req, "month") ||
        fd_request_query(req, "ids")) {
        fd_response_error(resp, 400, "bad_range", "give month=YYYY-MM, or from=YYYY-MM and "
                          "to=YYYY-MM with from not after to, at most %d months, no ids= (got "
                          "%s..%s)", FD_MAX_FACTOR_MONTHS, from, to);
        return;
    }
    if (serving_open(req, &s, &err)) {
        fd_response_from_error(resp, &err);
        return;
    }
    if (fd_scoring_decile_series(s.v, s.db, fd_registry_designs(req->app->registry), from, to,
                                 nb, how, est, &doc, &err)) {
        fd_response_from_error(resp, &err);
    } else {
        /* One lambda per month of the series: the estimator is stated, each count inside. */
        fd_lambda_info li;
        memset(&li, 0, sizeof li);
        li.estimator = est;
        json_object_set_new(doc, "provenance", serving_provenance(&s, NULL, NULL, &li, resp));
        fd_response_json(resp, 200, doc);
    }
    serving_close(req, &s);
}

/* Says whether the realised returns are those of a partial month (its daily bars end
 * before it does): "realised_through" is its last day with data, null when complete, and a
 * partial_month warning is added. */
static void realised_partial(json_t *doc, const fd_panel *next) {
    const char *through = next && next->partial_through[0] ? next->partial_through : NULL;
    json_t *warnings = json_array();
    json_object_set_new(doc, "realised_through", through ? json_string(through) : json_null());
    if (through)
        json_array_append_new(
            warnings, json_pack("{s:s,s:s,s:s,s:s}", "code", "partial_month", "month",
                                next->month, "through", through, "message",
                                "the realised returns are of a partial month: its daily bars "
                                "end before the month does"));
    json_object_set_new(doc, "warnings", warnings);
}

static void handle_deciles(fd_request *req, fd_response *resp) {
    serving s;
    scored sc;
    fd_error err;
    fd_month *next = NULL;
    char next_month[FD_MONTH_LEN];
    int nb, have_next;
    fd_weighting how;
    size_t missing_cap = 0;
    const char *month;
    if (fd_request_query(req, "from") || fd_request_query(req, "to")) {
        handle_decile_series(req, resp);
        return;
    }
    month = month_param(req, "month", &err);
    memset(&sc, 0, sizeof sc);
    if (!month || decile_params(req, &nb, &how, &err) || serving_open(req, &s, &err)) {
        fd_response_from_error(resp, &err);
        return;
    }
    if (fd_request_query(req, "ids")) {
        fd_response_error(resp, 400, "bad_parameter", "deciles sort the whole month; ids= is not accepted");
    } else if (score_month(req, &s, month, &sc, &err)) {
        fd_response_from_error(resp, &err);
    } else if (how == FD_WEIGHT_VALUE && !sc.p->mktcap) {
        fd_response_error(resp, 422, "no_mktcap", "value weights need a mktcap column in the panel of %s", month);
    } else if (fd_scoring_deciles_check(sc.er, sc.p->n_rows, nb, &err)) {
        fd_error_prefix(&err, "the panel of %s", month);
        fd_response_from_error(resp, &err);
    } else {
        fd_month_add(month, 1, next_month);
        have_next = fd_design_cache_get(fd_registry_designs(req->app->registry), s.db,
                                        next_month, &next, NULL) == 0 &&
                    fd_month_panel(next)->ret;
        json_t *doc = fd_scoring_deciles_json(sc.p, sc.er, have_next ? next : NULL, nb, how,
                                              &missing_cap);
        const char *forecast = next_month[0] ? next_month : NULL;
        if (!doc) {
            fd_response_error(resp, 500, "out_of_memory", "deciles");
        } else if (fd_request_accepts(req, "text/csv")) {
            respond_deciles_csv(resp, doc);
            json_decref(doc);
            json_decref(serving_provenance(&s, month, forecast, &sc.li, resp));
        } else {
            json_t *v = version_json(s.v);
            json_object_set_new(doc, "provenance",
                                serving_provenance(&s, month, forecast, &sc.li, resp));
            json_object_update(doc, v);
            json_decref(v);
            json_object_set_new(doc, "characteristics_month", json_string(month));
            json_object_set_new(doc, "forecast_month",
                                next_month[0] ? json_string(next_month) : json_null());
            json_object_set_new(doc, "realised", json_boolean(have_next));
            realised_partial(doc, have_next ? fd_month_panel(next) : NULL);
            json_object_set_new(doc, "lambda", fd_lambda_info_json(&sc.li, sc.lambda, s.v->K));
            fd_response_json(resp, 200, doc);
        }
    }
    fd_month_release(next);
    scored_free(&sc);
    serving_close(req, &s);
}

/* POST .../score: characteristics in the body (CSV or JSON, as PUT /v1/panels), not stored.
 * ?month= dates them (lambda as of that month; default the newest stored panel month). */
static void handle_score(fd_request *req, fd_response *resp) {
    serving s;
    fd_error err;
    fd_panel p;
    char ctype[64], month[FD_MONTH_LEN], next[FD_MONTH_LEN];
    const char *mq = fd_request_query(req, "month");
    double *lambda = NULL, *beta = NULL, *er = NULL;
    fd_lambda_info li;
    fd_lambda_estimator est;
    int nb, y, mo;
    fd_weighting how;
    size_t missing_cap;
    fd_panel_init(&p);
    if (!req->body || req->body_len == 0) {
        fd_response_error(resp, 400, "empty_body", "send the month's characteristics as CSV or JSON");
        return;
    }
    if (mq && fd_month_parse(mq, &y, &mo, &err)) {
        fd_response_from_error(resp, &err);
        return;
    }
    if (decile_params(req, &nb, &how, &err)) {
        fd_response_from_error(resp, &err);
        return;
    }
    fd_request_content_type(req, ctype, sizeof ctype);
    if (strcmp(ctype, "text/csv") != 0 && strcmp(ctype, "application/json") != 0) {
        fd_response_error(resp, 415, "unsupported_media_type",
                          "Content-Type must be text/csv or application/json, got \"%s\"", ctype);
        return;
    }
    if (serving_open(req, &s, &err)) {
        fd_response_from_error(resp, &err);
        return;
    }
    if (mq) {
        snprintf(month, sizeof month, "%s", mq);
    } else {
        char (*months)[FD_MONTH_LEN] = NULL;
        size_t n = 0;
        if (fd_store_panel_months(s.db, &months, &n, &err) == 0 && n > 0)
            snprintf(month, sizeof month, "%s", months[n - 1]);
        else
            snprintf(month, sizeof month, "%s", s.v->train_to);
        free(months);
    }
    fd_month_add(month, 1, next);
    int parsed = strcmp(ctype, "text/csv") == 0
                     ? fd_panel_parse_csv(req->body, req->body_len, month, &p, &err)
                     : fd_panel_parse_json(req->body, req->body_len, month, &p, &err);
    lambda = malloc(s.v->K * sizeof *lambda);
    if (parsed || !lambda || lambda_param(req, &est, &err) ||
        fd_scoring_lambda(s.v, s.db, month, est, lambda, &li, &err) ||
        fd_scoring_expected(s.v, s.db, &p, lambda, &beta, &er, &err)) {
        if (!lambda) fd_error_set(&err, 500, "out_of_memory", "lambda");
        fd_response_from_error(resp, &err);
    } else if (how == FD_WEIGHT_VALUE && !p.mktcap) {
        fd_response_error(resp, 422, "no_mktcap", "value weights need a mktcap column");
    } else if (fd_request_accepts(req, "text/csv")) {
        respond_score_csv(resp, &p, beta, s.v->K, er);
        json_decref(serving_provenance(&s, month, next[0] ? next : NULL, &li, resp));
    } else {
        json_t *doc = version_json(s.v), *rows = json_array();
        /* Inline scoring may be of a handful of securities: too few for the portfolios
         * leaves the deciles out (saying why) rather than failing the betas. */
        int sortable = fd_scoring_deciles_check(er, p.n_rows, nb, &err) == 0;
        json_t *dec = sortable ? fd_scoring_deciles_json(&p, er, NULL, nb, how, &missing_cap)
                               : NULL;
        if (!sortable) json_object_set_new(doc, "deciles_skipped", json_string(err.message));
        for (size_t i = 0; i < p.n_rows; i++)
            json_array_append_new(rows, json_pack("{s:s,s:o,s:o}", "id", p.ids[i], "beta",
                                                  vec_json(beta + i * s.v->K, s.v->K), "er",
                                                  isfinite(er[i]) ? json_real(er[i]) : json_null()));
        json_object_set_new(doc, "provenance",
                            serving_provenance(&s, month, next[0] ? next : NULL, &li, resp));
        json_object_set_new(doc, "month", json_string(month));
        json_object_set_new(doc, "forecast_month", next[0] ? json_string(next) : json_null());
        json_object_set_new(doc, "lambda", fd_lambda_info_json(&li, lambda, s.v->K));
        json_object_set_new(doc, "securities", rows);
        json_object_set_new(doc, "deciles", dec ? dec : json_null());
        fd_response_json(resp, 200, doc);
    }
    free(lambda);
    free(beta);
    free(er);
    fd_panel_free(&p);
    serving_close(req, &s);
}

const fd_route fd_routes_score[] = {
    {"GET", "/v1/models/{model}/betas", handle_betas, 0},
    {"GET", "/v1/models/{model}/factors", handle_factors, 0},
    {"GET", "/v1/models/{model}/expected-returns", handle_expected, 0},
    {"GET", "/v1/models/{model}/deciles", handle_deciles, 0},
    {"POST", "/v1/models/{model}/score", handle_score, 0},
    {NULL, NULL, NULL, 0},
};
