/* Comparison of finished backtests laid out like the seed study's tables (see
 * factord/report.h): one table per metric with rows = model kinds (or backtest names) and
 * columns = K, Jobson-Korkie-Memmel tests against the best (or a chosen) backtest, and the
 * Spearman correlations of strategy returns over common months. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/eval_stats.h"
#include "factord/report.h"

const char *const fd_report_series_names[FD_REPORT_N_SERIES] = {
    "ew_ls", "ew_ls_net", "ew_lo", "ew_lo_net", "vw_ls",
    "vw_ls_net", "vw_lo", "vw_lo_net", "ic", "rank_ic"};

int fd_report_series_index(const char *name) {
    for (int s = 0; name && s < FD_REPORT_N_SERIES; s++)
        if (strcmp(name, fd_report_series_names[s]) == 0) return s;
    return -1;
}

void fd_report_entry_free(fd_report_entry *e) {
    json_decref(e->report);
    free(e->months);
    free(e->window);
    free(e->series);
    memset(e, 0, sizeof *e);
}

/* A metric table: where its value sits in a stitched report. */
typedef struct metric {
    const char *name, *title, *unit;
    const char *path[3]; /* keys into the report */
} metric;

static const metric metrics[] = {
    {"total_r", "Total R^2, stocks (r)", "r2", {"r2", "total_r"}},
    {"total_x", "Total R^2, managed portfolios (x)", "r2", {"r2", "total_x"}},
    {"pred_r", "Predictive R^2, stocks (r)", "r2", {"r2", "pred_r"}},
    {"pred_x", "Predictive R^2, managed portfolios (x)", "r2", {"r2", "pred_x"}},
    {"total_r_mkt", "Total R^2 relative to the market (seed 001)", "r2", {"r2", "total_r_mkt"}},
    {"sharpe_ew_ls", "Sharpe ratio, equal-weighted long-short", "ratio",
     {"strategies", "ew_ls", "sharpe"}},
    {"sharpe_ew_lo", "Sharpe ratio, equal-weighted long-only", "ratio",
     {"strategies", "ew_lo", "sharpe"}},
    {"sharpe_vw_ls", "Sharpe ratio, value-weighted long-short", "ratio",
     {"strategies", "vw_ls", "sharpe"}},
    {"sharpe_vw_lo", "Sharpe ratio, value-weighted long-only", "ratio",
     {"strategies", "vw_lo", "sharpe"}},
    {"sharpe_net_ew_ls", "Sharpe ratio net of costs, equal-weighted long-short", "ratio",
     {"strategies", "ew_ls", "sharpe_net"}},
    {"sharpe_net_ew_lo", "Sharpe ratio net of costs, equal-weighted long-only", "ratio",
     {"strategies", "ew_lo", "sharpe_net"}},
    {"sharpe_net_vw_ls", "Sharpe ratio net of costs, value-weighted long-short", "ratio",
     {"strategies", "vw_ls", "sharpe_net"}},
    {"sharpe_net_vw_lo", "Sharpe ratio net of costs, value-weighted long-only", "ratio",
     {"strategies", "vw_lo", "sharpe_net"}},
    {"concentration_r", "Largest single security-month's share of the squared returns", "share",
     {"concentration", "returns", "share"}},
    {"concentration_total", "Largest single security-month's share of the squared errors "
     "(total R^2)", "share", {"concentration", "total_errors", "share"}},
};
#define N_METRICS (sizeof metrics / sizeof metrics[0])

static const char *const table_names[N_METRICS + 4] = {
    "total_r", "total_x", "pred_r", "pred_x", "total_r_mkt", "sharpe_ew_ls", "sharpe_ew_lo",
    "sharpe_vw_ls", "sharpe_vw_lo", "sharpe_net_ew_ls", "sharpe_net_ew_lo", "sharpe_net_vw_ls",
    "sharpe_net_vw_lo", "concentration_r", "concentration_total", "jk_p", "jk", "spearman",
    NULL};

const char *const *fd_report_table_names(void) { return table_names; }

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *report_value(const json_t *report, const metric *m) {
    const json_t *v = report;
    for (int i = 0; i < 3 && m->path[i]; i++) v = json_object_get(v, m->path[i]);
    return json_is_number(v) ? json_real(json_number_value(v)) : json_null();
}

/* Row and column of every entry; rows in order of first appearance, columns ascending K. */
typedef struct layout {
    json_t *rows, *cols;
    size_t *row, *col; /* (n) */
} layout;

static void layout_free(layout *l) {
    json_decref(l->rows);
    json_decref(l->cols);
    free(l->row);
    free(l->col);
}

static size_t index_of_string(json_t *arr, const char *s) {
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (strcmp(json_string_value(v), s) == 0) return i;
    json_array_append_new(arr, json_string(s));
    return json_array_size(arr) - 1;
}

static int layout_build(const fd_report_entry *e, size_t n, int by_name, layout *l,
                        fd_error *err) {
    size_t *ks = malloc((n + 1) * sizeof *ks), nk = 0;
    l->rows = json_array();
    l->cols = json_array();
    l->row = malloc((n + 1) * sizeof *l->row);
    l->col = malloc((n + 1) * sizeof *l->col);
    if (!ks || !l->row || !l->col) {
        free(ks);
        return fd_error_set(err, 500, "out_of_memory", "comparison layout");
    }
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < nk && ks[j] != e[i].k) j++;
        if (j == nk) ks[nk++] = e[i].k;
    }
    for (size_t a = 1; a < nk; a++) /* insertion sort: a handful of K values */
        for (size_t b = a; b > 0 && ks[b - 1] > ks[b]; b--) {
            size_t t = ks[b];
            ks[b] = ks[b - 1];
            ks[b - 1] = t;
        }
    for (size_t j = 0; j < nk; j++) json_array_append_new(l->cols, json_integer((json_int_t)ks[j]));
    for (size_t i = 0; i < n; i++) {
        l->row[i] = index_of_string(l->rows, by_name ? e[i].name : e[i].kind);
        for (l->col[i] = 0; ks[l->col[i]] != e[i].k; l->col[i]++) continue;
        for (size_t j = 0; j < i; j++)
            if (l->row[j] == l->row[i] && l->col[j] == l->col[i]) {
                free(ks);
                return fd_error_set(err, 422, "duplicate_cell", "backtests %lld (%s) and %lld "
                                    "(%s) are both %s with K=%zu: compare them with rows=name",
                                    (long long)e[j].id, e[j].name, (long long)e[i].id,
                                    e[i].name, e[i].kind, e[i].k);
            }
    }
    free(ks);
    return 0;
}

/* A (rows, columns) grid of nulls. */
static json_t *grid(const layout *l) {
    json_t *g = json_array();
    for (size_t r = 0; r < json_array_size(l->rows); r++) {
        json_t *row = json_array();
        for (size_t c = 0; c < json_array_size(l->cols); c++) json_array_append_new(row, json_null());
        json_array_append_new(g, row);
    }
    return g;
}

static json_t *table(const char *name, const char *title, const char *unit, json_t *values) {
    return json_pack("{s:s,s:s,s:s,s:o}", "name", name, "title", title, "unit", unit, "values",
                     values);
}

/* Series s of e aligned with f on their common months: fills a and b (cap entries each) and
 * returns how many months they share. Both month lists are ascending. */
static size_t common_months(const fd_report_entry *e, const fd_report_entry *f, int s,
                            double *a, double *b) {
    size_t i = 0, j = 0, m = 0;
    while (i < e->T && j < f->T) {
        int c = strcmp(e->months[i], f->months[j]);
        if (c < 0) i++;
        else if (c > 0) j++;
        else {
            a[m] = e->series[i * FD_REPORT_N_SERIES + s];
            b[m] = f->series[j * FD_REPORT_N_SERIES + s];
            m++;
            i++;
            j++;
        }
    }
    return m;
}

static double entry_sharpe(const fd_report_entry *e, int s, double *buf) {
    for (size_t t = 0; t < e->T; t++) buf[t] = e->series[t * FD_REPORT_N_SERIES + s];
    return fd_stats_sharpe(buf, e->T);
}

/* The base of the tests: the given id, or the entry with the highest Sharpe ratio. */
static int pick_base(const fd_report_entry *e, size_t n, int s, int64_t want, double *buf,
                     size_t *base, fd_error *err) {
    double best = -INFINITY;
    *base = 0;
    for (size_t i = 0; i < n; i++) {
        double sr = entry_sharpe(&e[i], s, buf);
        if (want ? e[i].id == want : (isfinite(sr) && sr > best)) {
            best = sr;
            *base = i;
            if (want) return 0;
        }
    }
    if (want)
        return fd_error_set(err, 400, "bad_parameter", "base: backtest %lld is not among the "
                            "compared backtests", (long long)want);
    return 0;
}

static json_t *jk_tests(const fd_report_entry *e, size_t n, int s, size_t base, int given,
                        const layout *l, json_t *pgrid, double *a, double *b) {
    json_t *tests = json_array();
    for (size_t i = 0; i < n; i++) {
        fd_jk_result jk;
        size_t m;
        if (i == base) continue;
        m = common_months(&e[i], &e[base], s, a, b);
        fd_stats_jobson_korkie(a, b, m, &jk);
        json_array_set_new(json_array_get(pgrid, l->row[i]), l->col[i], num(jk.p_two_sided));
        json_array_append_new(
            tests, json_pack("{s:I,s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o}", "id", (json_int_t)e[i].id,
                             "name", e[i].name, "months", (json_int_t)jk.months, "sharpe",
                             num(sqrt(12.0) * jk.sharpe_a), "base_sharpe",
                             num(sqrt(12.0) * jk.sharpe_b), "rho", num(jk.rho), "z", num(jk.z),
                             "p_two_sided", num(jk.p_two_sided), "p_one_sided",
                             num(jk.p_one_sided)));
    }
    return json_pack("{s:s,s:{s:I,s:s,s:s},s:o}", "strategy", fd_report_series_names[s], "base",
                     "id", (json_int_t)e[base].id, "name", e[base].name, "chosen",
                     given ? "given" : "best", "tests", tests);
}

static json_t *spearman(const fd_report_entry *e, size_t n, int s, double *a, double *b) {
    json_t *ids = json_array(), *names = json_array(), *matrix = json_array(),
           *months = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_array(), *mrow = json_array();
        json_array_append_new(ids, json_integer(e[i].id));
        json_array_append_new(names, json_string(e[i].name));
        for (size_t j = 0; j < n; j++) {
            size_t m = common_months(&e[i], &e[j], s, a, b);
            json_array_append_new(row, num(fd_stats_spearman(a, b, m)));
            json_array_append_new(mrow, json_integer((json_int_t)m));
        }
        json_array_append_new(matrix, row);
        json_array_append_new(months, mrow);
    }
    return json_pack("{s:s,s:o,s:o,s:o,s:o}", "strategy", fd_report_series_names[s], "ids", ids,
                     "names", names, "matrix", matrix, "months", months);
}

/* Every entry's stitched warnings (concentrated errors, ...), each naming its backtest. */
static json_t *warnings_json(const fd_report_entry *e, size_t n) {
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        size_t j;
        json_t *w;
        json_array_foreach(json_object_get(e[i].report, "warnings"), j, w) {
            json_t *copy = json_deep_copy(w);
            json_object_set_new(copy, "backtest", json_integer((json_int_t)e[i].id));
            json_object_set_new(copy, "name", json_string(e[i].name));
            json_array_append_new(arr, copy);
        }
    }
    return arr;
}

static json_t *backtests_json(const fd_report_entry *e, size_t n, const layout *l) {
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            arr, json_pack("{s:I,s:s,s:s,s:I,s:I,s:o,s:o,s:I,s:I}", "id", (json_int_t)e[i].id,
                           "name", e[i].name, "kind", e[i].kind, "k", (json_int_t)e[i].k,
                           "months", (json_int_t)e[i].T, "from",
                           e[i].T ? json_string(e[i].months[0]) : json_null(), "to",
                           e[i].T ? json_string(e[i].months[e[i].T - 1]) : json_null(), "row",
                           (json_int_t)l->row[i], "column", (json_int_t)l->col[i]));
    return arr;
}

int fd_report_compare(const fd_report_entry *e, size_t n, const fd_compare_opts *opts,
                      json_t **out, fd_error *err) {
    const char *strategy = opts && opts->strategy ? opts->strategy : "ew_ls";
    int s = fd_report_series_index(strategy);
    size_t maxT = 1, base;
    layout l = {0};
    double *a = NULL, *b = NULL;
    json_t *tables, *pgrid;
    int rc = -1;
    *out = NULL;
    if (s < 0 || s >= FD_REPORT_N_SERIES - 2)
        return fd_error_set(err, 400, "bad_parameter", "strategy: \"%s\" is not one of ew_ls, "
                            "ew_lo, vw_ls, vw_lo (add _net for returns net of costs)", strategy);
    if (n == 0) return fd_error_set(err, 400, "bad_parameter", "backtests: none to compare");
    for (size_t i = 0; i < n; i++)
        if (e[i].T > maxT) maxT = e[i].T;
    a = malloc(maxT * sizeof *a);
    b = malloc(maxT * sizeof *b);
    if (!a || !b) {
        fd_error_set(err, 500, "out_of_memory", "comparison");
        goto out;
    }
    if (layout_build(e, n, opts && opts->rows_by_name, &l, err) != 0 ||
        pick_base(e, n, s, opts ? opts->base : 0, a, &base, err) != 0)
        goto out;
    tables = json_array();
    for (size_t t = 0; t < N_METRICS; t++) {
        json_t *g = grid(&l);
        for (size_t i = 0; i < n; i++)
            json_array_set_new(json_array_get(g, l.row[i]), l.col[i],
                               report_value(e[i].report, &metrics[t]));
        json_array_append_new(tables, table(metrics[t].name, metrics[t].title, metrics[t].unit, g));
    }
    pgrid = grid(&l);
    *out = json_pack("{s:s,s:s,s:O,s:O,s:o,s:o}", "strategy", strategy, "rows_by",
                     opts && opts->rows_by_name ? "name" : "kind", "rows", l.rows, "columns",
                     l.cols, "backtests", backtests_json(e, n, &l), "tables", tables);
    json_object_set_new(*out, "jk", jk_tests(e, n, s, base, opts && opts->base, &l, pgrid, a, b));
    json_array_append_new(tables, table("jk_p", "Jobson-Korkie-Memmel p-value (two-sided) "
                                        "against the base", "p", pgrid));
    json_object_set_new(*out, "spearman", spearman(e, n, s, a, b));
    json_object_set_new(*out, "warnings", warnings_json(e, n));
    rc = 0;
out:
    layout_free(&l);
    free(a);
    free(b);
    return rc;
}
