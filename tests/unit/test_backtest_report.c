/* The comparison of backtests (factord/report.h): table layout (rows = kinds, columns = K),
 * the base of the Jobson-Korkie-Memmel tests, alignment on common months for the tests and
 * the Spearman matrix, and the Markdown / CSV renderings. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "factord/eval_stats.h"
#include "factord/report.h"
#include "testlib.h"

#define MAXT 24

/* An entry of kind/k with T months from `first` (2001-01 + offset) and an ew_ls series
 * r_t = mu + sin(seed * t) / 50; the report carries total_r = r2 and a Sharpe of 0.5. */
static void entry(fd_report_entry *e, int64_t id, const char *name, const char *kind,
                  size_t k, int offset, size_t T, double mu, double seed, double r2) {
    memset(e, 0, sizeof *e);
    e->id = id;
    snprintf(e->name, sizeof e->name, "%s", name);
    snprintf(e->kind, sizeof e->kind, "%s", kind);
    e->k = k;
    e->T = T;
    e->months = calloc(T, sizeof *e->months);
    e->window = calloc(T, sizeof *e->window);
    e->series = malloc(T * FD_REPORT_N_SERIES * sizeof *e->series);
    for (size_t t = 0; t < T; t++) {
        fd_month_add("2001-01", offset + (int)t, e->months[t]);
        for (int s = 0; s < FD_REPORT_N_SERIES; s++)
            e->series[t * FD_REPORT_N_SERIES + s] = mu + sin(seed * (double)(t + offset + s)) / 50;
    }
    e->report = json_pack("{s:{s:f,s:n},s:{s:{s:f,s:f}}}", "r2", "total_r", r2, "pred_r",
                          "strategies", "ew_ls", "sharpe", 0.5, "sharpe_net", 0.25);
}

typedef struct fixture {
    fd_report_entry e[3];
} fixture;

/* ipca K=1 (2001-01..12), ipca K=3 (same months, highest mean), ca1 K=3 (2001-04..2002-03). */
static void fixture_init(fixture *f) {
    entry(&f->e[0], 4, "ipca1", "ipca", 1, 0, 12, 0.005, 1.3, 0.10);
    entry(&f->e[1], 7, "ipca3", "ipca", 3, 0, 12, 0.030, 0.7, 0.20);
    entry(&f->e[2], 9, "ca1k3", "ca1", 3, 3, 12, 0.010, 2.1, 0.30);
}

static void fixture_free(fixture *f) {
    for (int i = 0; i < 3; i++) fd_report_entry_free(&f->e[i]);
}

static int starts_with(const char *s, const char *prefix) {
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static const json_t *table_values(const json_t *cmp, const char *name) {
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(cmp, "tables"), i, t)
        if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
            return json_object_get(t, "values");
    return NULL;
}

static double cell(const json_t *values, size_t r, size_t c) {
    const json_t *v = json_array_get(json_array_get(values, r), c);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

TEST(rows_are_kinds_columns_are_k_and_cells_hold_each_metric) {
    fixture f;
    json_t *cmp;
    fd_error err;
    const json_t *v;
    fixture_init(&f);
    ASSERT_INT_EQ(fd_report_compare(f.e, 3, NULL, &cmp, &err), 0);
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(cmp, "rows"), 0)), "ipca");
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(cmp, "rows"), 1)), "ca1");
    ASSERT_INT_EQ(json_array_size(json_object_get(cmp, "rows")), 2);
    ASSERT_INT_EQ(json_integer_value(json_array_get(json_object_get(cmp, "columns"), 0)), 1);
    ASSERT_INT_EQ(json_integer_value(json_array_get(json_object_get(cmp, "columns"), 1)), 3);
    v = table_values(cmp, "total_r");
    ASSERT(v != NULL);
    ASSERT_NEAR(cell(v, 0, 0), 0.10, 0);
    ASSERT_NEAR(cell(v, 0, 1), 0.20, 0);
    ASSERT(isnan(cell(v, 1, 0))); /* no ca1 with K=1 */
    ASSERT_NEAR(cell(v, 1, 1), 0.30, 0);
    ASSERT(isnan(cell(table_values(cmp, "pred_r"), 0, 0))); /* null in the report */
    ASSERT_NEAR(cell(table_values(cmp, "sharpe_ew_ls"), 1, 1), 0.5, 0);
    ASSERT_NEAR(cell(table_values(cmp, "sharpe_net_ew_ls"), 1, 1), 0.25, 0);
    for (const char *const *t = fd_report_table_names(); *t; t++)
        if (strcmp(*t, "jk") != 0 && strcmp(*t, "spearman") != 0)
            ASSERT(table_values(cmp, *t) != NULL);
    json_decref(cmp);
    fixture_free(&f);
}

/* The ew_ls series of a and b over the months they share, by month key. */
static size_t aligned(const fd_report_entry *a, const fd_report_entry *b, double *x, double *y) {
    size_t m = 0;
    for (size_t i = 0; i < a->T; i++)
        for (size_t j = 0; j < b->T; j++)
            if (strcmp(a->months[i], b->months[j]) == 0) {
                x[m] = a->series[i * FD_REPORT_N_SERIES];
                y[m++] = b->series[j * FD_REPORT_N_SERIES];
            }
    return m;
}

TEST(tests_run_against_the_best_sharpe_on_common_months) {
    fixture f;
    json_t *cmp, *tests;
    fd_error err;
    double x[MAXT], y[MAXT];
    fd_jk_result jk;
    size_t m;
    fixture_init(&f);
    ASSERT_INT_EQ(fd_report_compare(f.e, 3, NULL, &cmp, &err), 0);
    /* ipca3 has the highest mean at a similar volatility: the base. */
    ASSERT_INT_EQ(json_integer_value(json_object_get(json_object_get(json_object_get(cmp, "jk"),
                                                                     "base"), "id")), 7);
    tests = json_object_get(json_object_get(cmp, "jk"), "tests");
    ASSERT_INT_EQ(json_array_size(tests), 2);
    m = aligned(&f.e[2], &f.e[1], x, y);
    ASSERT_INT_EQ(m, 9);
    fd_stats_jobson_korkie(x, y, m, &jk);
    ASSERT_INT_EQ(json_integer_value(json_object_get(json_array_get(tests, 1), "months")), 9);
    ASSERT_NEAR(json_number_value(json_object_get(json_array_get(tests, 1), "p_two_sided")),
                jk.p_two_sided, 1e-15);
    ASSERT_NEAR(json_number_value(json_object_get(json_array_get(tests, 1), "sharpe")),
                sqrt(12.0) * jk.sharpe_a, 1e-12);
    /* The p-value table: the base's own cell is empty. */
    ASSERT_NEAR(cell(table_values(cmp, "jk_p"), 1, 1), jk.p_two_sided, 1e-15);
    ASSERT(isnan(cell(table_values(cmp, "jk_p"), 0, 1)));
    ASSERT(cell(table_values(cmp, "jk_p"), 0, 0) >= 0);
    json_decref(cmp);
    fixture_free(&f);
}

TEST(a_chosen_base_and_strategy_are_used) {
    fixture f;
    fd_compare_opts o = {"vw_lo_net", 4, 0};
    json_t *cmp, *jk;
    fd_error err;
    fixture_init(&f);
    ASSERT_INT_EQ(fd_report_compare(f.e, 3, &o, &cmp, &err), 0);
    jk = json_object_get(cmp, "jk");
    ASSERT_STR_EQ(json_string_value(json_object_get(jk, "strategy")), "vw_lo_net");
    ASSERT_INT_EQ(json_integer_value(json_object_get(json_object_get(jk, "base"), "id")), 4);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(jk, "base"), "chosen")),
                  "given");
    json_decref(cmp);
    o.base = 5;
    ASSERT_INT_EQ(fd_report_compare(f.e, 3, &o, &cmp, &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    ASSERT(strstr(err.message, "base") != NULL);
    o.base = 0;
    o.strategy = "ic";
    ASSERT_INT_EQ(fd_report_compare(f.e, 3, &o, &cmp, &err), -1);
    ASSERT(strstr(err.message, "strategy") != NULL);
    fixture_free(&f);
}

TEST(spearman_matrix_is_symmetric_over_common_months) {
    fixture f;
    json_t *cmp, *sp;
    fd_error err;
    double x[MAXT], y[MAXT];
    size_t m;
    fixture_init(&f);
    ASSERT_INT_EQ(fd_report_compare(f.e, 3, NULL, &cmp, &err), 0);
    sp = json_object_get(cmp, "spearman");
    for (size_t i = 0; i < 3; i++) {
        ASSERT_NEAR(cell(json_object_get(sp, "matrix"), i, i), 1.0, 1e-12);
        for (size_t j = 0; j < 3; j++)
            ASSERT_NEAR(cell(json_object_get(sp, "matrix"), i, j),
                        cell(json_object_get(sp, "matrix"), j, i), 0);
    }
    m = aligned(&f.e[0], &f.e[2], x, y);
    ASSERT_NEAR(cell(json_object_get(sp, "matrix"), 0, 2), fd_stats_spearman(x, y, m), 1e-15);
    ASSERT_NEAR(cell(json_object_get(sp, "months"), 0, 2), 9, 0);
    ASSERT_NEAR(cell(json_object_get(sp, "months"), 0, 1), 12, 0);
    json_decref(cmp);
    fixture_free(&f);
}

TEST(two_backtests_in_one_cell_need_rows_by_name) {
    fixture f;
    fd_compare_opts o = {NULL, 0, 1};
    json_t *cmp;
    fd_error err;
    fixture_init(&f);
    f.e[2].k = 1;
    snprintf(f.e[2].kind, sizeof f.e[2].kind, "ipca");
    ASSERT_INT_EQ(fd_report_compare(f.e, 3, NULL, &cmp, &err), -1);
    ASSERT_INT_EQ(err.status, 422);
    ASSERT_STR_EQ(err.code, "duplicate_cell");
    ASSERT_INT_EQ(fd_report_compare(f.e, 3, &o, &cmp, &err), 0);
    ASSERT_INT_EQ(json_array_size(json_object_get(cmp, "rows")), 3);
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(cmp, "rows"), 2)), "ca1k3");
    json_decref(cmp);
    fixture_free(&f);
}

TEST(markdown_and_csv_show_the_same_tables) {
    fixture f;
    json_t *cmp;
    fd_error err;
    fd_textbuf b;
    fixture_init(&f);
    ASSERT_INT_EQ(fd_report_compare(f.e, 3, NULL, &cmp, &err), 0);
    fd_textbuf_init(&b);
    fd_report_markdown(cmp, &b);
    ASSERT(strstr(b.data, "## Total R^2, stocks (r) (%)\n\n| kind | K=1 | K=3 |\n|---|---:|---:|\n"
                          "| ipca | 10.00 | 20.00 |\n| ca1 | - | 30.00 |\n") != NULL);
    ASSERT(strstr(b.data, "Jobson-Korkie-Memmel tests of ew_ls against ipca3 (highest Sharpe") != NULL);
    ASSERT(strstr(b.data, "| ipca1 | 12 |") != NULL);
    ASSERT(strstr(b.data, "| backtest | ipca1 | ipca3 | ca1k3 |") != NULL);
    fd_textbuf_free(&b);
    fd_textbuf_init(&b);
    ASSERT_INT_EQ(fd_report_csv_table(cmp, "total_r", &b, &err), 0);
    ASSERT_STR_EQ(b.data, "kind,K=1,K=3\nipca,0.1,0.2\nca1,,0.3\n");
    fd_textbuf_free(&b);
    fd_textbuf_init(&b);
    ASSERT_INT_EQ(fd_report_csv_table(cmp, "nope", &b, &err), -1);
    ASSERT_INT_EQ(err.status, 404);
    fd_textbuf_free(&b);
    fd_textbuf_init(&b);
    fd_report_csv_long(cmp, &b);
    ASSERT(starts_with(b.data, "table,kind,k,value\ntotal_r,ipca,1,0.1\ntotal_r,ipca,3,0.2\n"
                               "total_r,ca1,1,\ntotal_r,ca1,3,0.3\n"));
    ASSERT(strstr(b.data, "\njk_p,ipca,3,\n") != NULL);
    fd_textbuf_free(&b);
    json_decref(cmp);
    fixture_free(&f);
}

TEST(a_metrics_document_flattens_to_one_row_per_metric) {
    json_t *doc = json_pack("{s:{s:f,s:n},s:s,s:[b]}", "r2", "total_r", 1.5, "pred_r", "name",
                            "a,b", "flags", 1);
    fd_textbuf b;
    fd_textbuf_init(&b);
    fd_report_flatten_csv(doc, &b);
    ASSERT_STR_EQ(b.data, "metric,value\nr2.total_r,1.5\nr2.pred_r,\nname,\"a,b\"\nflags.0,true\n");
    fd_textbuf_free(&b);
    json_decref(doc);
}

TEST(returns_csv_has_one_line_per_month) {
    fd_report_entry e;
    fd_textbuf b;
    entry(&e, 1, "x", "ipca", 1, 0, 2, 0.01, 1.0, 0.1);
    e.window[1] = 3;
    e.series[FD_REPORT_N_SERIES + 9] = NAN;
    fd_textbuf_init(&b);
    fd_report_returns_csv(&e, &b);
    ASSERT(starts_with(b.data, "month,window,ew_ls,ew_ls_net,ew_lo,ew_lo_net,vw_ls,vw_ls_net,"
                               "vw_lo,vw_lo_net,ic,rank_ic\n2001-01,0,"));
    ASSERT(strstr(b.data, "\n2001-02,3,") != NULL);
    ASSERT(b.data[b.len - 2] == ','); /* the missing rank IC is an empty cell */
    fd_textbuf_free(&b);
    fd_report_entry_free(&e);
}

TEST_MAIN(T(rows_are_kinds_columns_are_k_and_cells_hold_each_metric),
          T(tests_run_against_the_best_sharpe_on_common_months),
          T(a_chosen_base_and_strategy_are_used), T(spearman_matrix_is_symmetric_over_common_months),
          T(two_backtests_in_one_cell_need_rows_by_name), T(markdown_and_csv_show_the_same_tables),
          T(a_metrics_document_flattens_to_one_row_per_metric),
          T(returns_csv_has_one_line_per_month))
