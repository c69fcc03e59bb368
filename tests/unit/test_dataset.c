/* Building model-ready datasets from monthly panels: alignment of t-1 characteristics with
 * t returns by security id, drops, excess returns, column selection and the constant. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/dataset.h"
#include "factord/preprocess.h"
#include "testlib.h"

/* A panel with columns a, b (values row-major), optional ret and mktcap. */
static void make_panel(fd_panel *p, const char *month, size_t n, const char *const *ids,
                       const double *ab, const double *ret, const double *mktcap) {
    static const char *const names[2] = {"a", "b"};
    fd_panel_init(p);
    snprintf(p->month, sizeof p->month, "%s", month);
    p->n_rows = n;
    p->n_cols = 2;
    p->ids = calloc(n, sizeof *p->ids);
    p->col_names = calloc(2, sizeof *p->col_names);
    p->values = malloc(n * 2 * sizeof *p->values);
    for (size_t i = 0; i < n; i++) p->ids[i] = strdup(ids[i]);
    for (size_t j = 0; j < 2; j++) p->col_names[j] = strdup(names[j]);
    memcpy(p->values, ab, n * 2 * sizeof *ab);
    if (ret) {
        p->ret = malloc(n * sizeof *p->ret);
        memcpy(p->ret, ret, n * sizeof *ret);
    }
    if (mktcap) {
        p->mktcap = malloc(n * sizeof *p->mktcap);
        memcpy(p->mktcap, mktcap, n * sizeof *mktcap);
    }
}

/* Three months: 2001-01 (A..E), 2001-02 (rows shuffled, D's return missing, E absent,
 * F new), 2001-03 (all of A..F). */
static void three_months(fd_panel p[3]) {
    static const char *const ids1[5] = {"A", "B", "C", "D", "E"};
    static const double ab1[10] = {5, 1, 4, NAN, 3, 2, 2, 2, 1, 3};
    static const double cap1[5] = {100, 200, 300, 400, 500};
    static const char *const ids2[5] = {"C", "A", "F", "B", "D"};
    static const double ab2[10] = {1, 5, 2, 3, 3, 4, 4, 1, 5, 2};
    static const double ret2[5] = {0.03, 0.01, 0.06, 0.02, NAN};
    static const char *const ids3[6] = {"A", "B", "C", "D", "E", "F"};
    static const double ab3[12] = {0};
    static const double ret3[6] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
    make_panel(&p[0], "2001-01", 5, ids1, ab1, NULL, cap1);
    make_panel(&p[1], "2001-02", 5, ids2, ab2, ret2, NULL);
    make_panel(&p[2], "2001-03", 6, ids3, ab3, ret3, NULL);
}

static void free_panels(fd_panel *p, size_t n) {
    for (size_t i = 0; i < n; i++) fd_panel_free(&p[i]);
}

TEST(period_pairs_previous_characteristics_with_current_returns) {
    fd_panel p[3];
    fd_dataset ds;
    fd_dataset_stats stats;
    fd_dataset_opts opts = {0};
    fd_error err = {0};
    const fd_period *t1;
    opts.stats = &stats;
    three_months(p);
    ASSERT(fd_dataset_from_panels(p, 3, &opts, &ds, &err) == 0);
    ASSERT_INT_EQ(ds.T, 2);
    ASSERT_INT_EQ(ds.P, 2);
    ASSERT_STR_EQ(ds.col_names[0], "a");
    t1 = &ds.periods[0];
    ASSERT_STR_EQ(t1->month, "2001-02");
    /* Month 1 order is kept; D (missing return) and E (absent) are dropped. */
    ASSERT_INT_EQ(t1->n, 3);
    ASSERT_STR_EQ(t1->ids[0], "A");
    ASSERT_STR_EQ(t1->ids[1], "B");
    ASSERT_STR_EQ(t1->ids[2], "C");
    ASSERT_NEAR(t1->r[0], 0.01, 0);
    ASSERT_NEAR(t1->r[1], 0.02, 0);
    ASSERT_NEAR(t1->r[2], 0.03, 0);
    /* Column a of 2001-01 over all five: 5,4,3,2,1 -> ranks 5,4,3,2,1 -> 2r/6 - 1. */
    ASSERT_NEAR(t1->z[0], 2.0 * 5 / 6 - 1, 1e-15);
    ASSERT_NEAR(t1->z[2], 2.0 * 4 / 6 - 1, 1e-15);
    ASSERT_NEAR(t1->z[4], 2.0 * 3 / 6 - 1, 1e-15);
    /* Column b: 1, NaN, 2, 2, 3 -> B missing is 0; A rank 1 of 4 -> 2/5 - 1. */
    ASSERT_NEAR(t1->z[1], 2.0 * 1 / 5 - 1, 1e-15);
    ASSERT_NEAR(t1->z[3], 0.0, 0);
    ASSERT_NEAR(t1->z[5], 2.0 * 2.5 / 5 - 1, 1e-15);
    /* Market cap is month t-1's. */
    ASSERT(t1->mktcap != NULL);
    ASSERT_NEAR(t1->mktcap[2], 300, 0);
    ASSERT(ds.periods[1].mktcap == NULL);
    ASSERT_STR_EQ(ds.periods[1].month, "2001-03");
    ASSERT_INT_EQ(ds.periods[1].n, 5); /* all of 2001-02's securities have returns in 03 */
    ASSERT_INT_EQ(stats.n_dropped, 2);
    ASSERT_INT_EQ(stats.n_excess, 0);
    fd_dataset_free(&ds);
    free_panels(p, 3);
}

TEST(managed_portfolio_is_stored_per_period) {
    fd_panel p[3];
    fd_dataset ds;
    fd_error err = {0};
    fd_dataset_opts opts = {.add_constant = 1};
    double x[3];
    three_months(p);
    ASSERT(fd_dataset_from_panels(p, 3, &opts, &ds, &err) == 0);
    for (size_t t = 0; t < ds.T; t++) {
        const fd_period *q = &ds.periods[t];
        ASSERT(fd_preprocess_managed_portfolio(q->z, q->r, q->n, ds.P, x, NULL, NULL) == 0);
        for (size_t j = 0; j < ds.P; j++) ASSERT_NEAR(q->x[j], x[j], 1e-15);
    }
    fd_dataset_free(&ds);
    free_panels(p, 3);
}

TEST(excess_returns_subtract_that_months_rf) {
    fd_panel p[3];
    fd_dataset ds;
    fd_dataset_stats stats;
    fd_error err = {0};
    double rf[3] = {0.5, 0.001, NAN}; /* month 3's RF unknown: raw returns there */
    fd_dataset_opts opts = {.rf = rf, .stats = &stats};
    three_months(p);
    ASSERT(fd_dataset_from_panels(p, 3, &opts, &ds, &err) == 0);
    ASSERT_NEAR(ds.periods[0].r[0], 0.01 - 0.001, 1e-17);
    ASSERT_STR_EQ(ds.periods[1].ids[0], "C"); /* 2001-02's row order */
    ASSERT_NEAR(ds.periods[1].r[0], 0.3, 0);
    ASSERT_INT_EQ(stats.n_excess, 1);
    fd_dataset_free(&ds);
    free_panels(p, 3);
}

TEST(columns_are_selected_in_order_with_constant_last) {
    fd_panel p[3];
    fd_dataset ds;
    fd_error err = {0};
    static const char *const cols[2] = {"b", "a"};
    fd_dataset_opts opts = {.columns = cols, .n_columns = 2, .add_constant = 1};
    three_months(p);
    ASSERT(fd_dataset_from_panels(p, 3, &opts, &ds, &err) == 0);
    ASSERT_INT_EQ(ds.P, 3);
    ASSERT_STR_EQ(ds.col_names[0], "b");
    ASSERT_STR_EQ(ds.col_names[1], "a");
    ASSERT_STR_EQ(ds.col_names[2], "const");
    ASSERT_NEAR(ds.periods[0].z[0], 2.0 * 1 / 5 - 1, 1e-15); /* A's b */
    ASSERT_NEAR(ds.periods[0].z[1], 2.0 * 5 / 6 - 1, 1e-15); /* A's a */
    ASSERT_NEAR(ds.periods[0].z[2], 1.0, 0);
    fd_dataset_free(&ds);
    free_panels(p, 3);
}

TEST(bad_inputs_are_422_and_leave_an_empty_dataset) {
    fd_panel p[3];
    fd_dataset ds;
    fd_error err = {0};
    static const char *const cols[1] = {"nope"};
    fd_dataset_opts opts = {.columns = cols, .n_columns = 1};
    three_months(p);
    ASSERT(fd_dataset_from_panels(p, 3, &opts, &ds, &err) == -1);
    ASSERT_INT_EQ(err.status, 422);
    ASSERT_STR_EQ(err.code, "unknown_column");
    ASSERT(ds.periods == NULL && ds.T == 0);
    /* Descending months. */
    ASSERT(fd_dataset_from_panels(p + 1, 2, NULL, &ds, &err) == 0);
    fd_dataset_free(&ds);
    {
        fd_panel swapped[2] = {p[2], p[1]};
        ASSERT(fd_dataset_from_panels(swapped, 2, NULL, &ds, &err) == -1);
        ASSERT_STR_EQ(err.code, "bad_order");
    }
    /* A gap (2001-01 then 2001-03) leaves no period. */
    {
        fd_panel gap[2] = {p[0], p[2]};
        ASSERT(fd_dataset_from_panels(gap, 2, NULL, &ds, &err) == -1);
        ASSERT_STR_EQ(err.code, "empty_dataset");
    }
    free_panels(p, 3);
}

TEST(fewer_securities_than_characteristics_uses_the_ridge) {
    static const char *const ids[2] = {"A", "B"};
    static const double ab[4] = {1, 2, 2, 1}, ret[2] = {0.01, 0.02};
    fd_panel p[2];
    fd_dataset ds;
    fd_dataset_stats stats;
    fd_error err = {0};
    fd_dataset_opts opts = {.add_constant = 1, .stats = &stats};
    make_panel(&p[0], "2010-12", 2, ids, ab, NULL, NULL);
    make_panel(&p[1], "2011-01", 2, ids, ab, ret, NULL);
    ASSERT(fd_dataset_from_panels(p, 2, &opts, &ds, &err) == 0);
    ASSERT_INT_EQ(stats.n_ridge, 1);
    for (size_t j = 0; j < 3; j++) ASSERT(isfinite(ds.periods[0].x[j]));
    fd_dataset_free(&ds);
    free_panels(p, 2);
}

TEST_MAIN(T(period_pairs_previous_characteristics_with_current_returns),
          T(managed_portfolio_is_stored_per_period), T(excess_returns_subtract_that_months_rf),
          T(columns_are_selected_in_order_with_constant_last),
          T(bad_inputs_are_422_and_leave_an_empty_dataset),
          T(fewer_securities_than_characteristics_uses_the_ridge))
