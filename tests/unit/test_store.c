/* The store's data paths: matrix blobs, panels, factors and the connection pool. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "factord/matrix_blob.h"
#include "factord/store_data.h"
#include "testlib.h"

static fd_db *open_fresh(void) {
    static int n;
    char path[512];
    fd_db *db = NULL;
    fd_error err;
    snprintf(path, sizeof path, "%s/store-%d.db", tl_tmpdir(), n++);
    if (fd_db_open(path, &db, &err) != 0) printf("open %s: %s\n", path, err.message);
    return db;
}

static long long query_int(fd_db *db, const char *sql) {
    sqlite3_stmt *st;
    long long v = -12345;
    if (sqlite3_prepare_v2(fd_db_handle(db), sql, -1, &st, NULL) != SQLITE_OK) return v;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int same_double(double a, double b) {
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

/* ---- matrices ---- */

TEST(matrix_f64_round_trip_is_bit_exact) {
    fd_db *db = open_fresh();
    fd_error err;
    double m[6] = {1.5, NAN, -0.0, INFINITY, 1e-300, -123456.789}; /* (2, 3) */
    double *back = NULL;
    size_t rows = 0, cols = 0;
    int64_t id;
    ASSERT(db != NULL);
    ASSERT_INT_EQ(fd_matrix_put(db, FD_DTYPE_F64, m, 2, 3, &id, &err), 0);
    ASSERT_INT_EQ(fd_matrix_get_f64(db, id, &back, &rows, &cols, &err), 0);
    ASSERT_INT_EQ(rows, 2);
    ASSERT_INT_EQ(cols, 3);
    for (int i = 0; i < 6; i++) {
        if (!same_double(back[i], m[i])) {
            tl_fail(__FILE__, __LINE__, "cell %d: %g != %g", i, back[i], m[i]);
            break;
        }
    }
    free(back);
    ASSERT_INT_EQ(query_int(db, "SELECT length(data) FROM matrices"), 48);
    fd_db_close(db);
}

TEST(matrix_f32_round_trip_and_widening) {
    fd_db *db = open_fresh();
    fd_error err;
    float m[4] = {0.25f, -1.0f, NAN, 3.0e7f}; /* (4, 1) */
    float back32[4];
    double back64[4];
    fd_dtype dtype;
    size_t rows, cols;
    int64_t id;
    ASSERT(db != NULL);
    ASSERT_INT_EQ(fd_matrix_put(db, FD_DTYPE_F32, m, 4, 1, &id, &err), 0);
    ASSERT_INT_EQ(fd_matrix_info(db, id, &dtype, &rows, &cols, &err), 0);
    ASSERT_INT_EQ(dtype, FD_DTYPE_F32);
    ASSERT_INT_EQ(rows, 4);
    ASSERT_INT_EQ(query_int(db, "SELECT length(data) FROM matrices"), 16);
    ASSERT_INT_EQ(fd_matrix_read(db, id, FD_DTYPE_F32, back32, 4, 1, &err), 0);
    ASSERT_INT_EQ(memcmp(back32, m, sizeof m), 0);
    ASSERT_INT_EQ(fd_matrix_read(db, id, FD_DTYPE_F64, back64, 4, 1, &err), 0);
    for (int i = 0; i < 4; i++) ASSERT_NEAR(back64[i], (double)m[i], 0.0);
    fd_db_close(db);
}

TEST(matrix_empty_round_trip) {
    fd_db *db = open_fresh();
    fd_error err;
    double *back = (double *)&err;
    size_t rows = 9, cols = 9;
    int64_t id;
    ASSERT(db != NULL);
    ASSERT_INT_EQ(fd_matrix_put(db, FD_DTYPE_F64, NULL, 0, 3, &id, &err), 0);
    ASSERT_INT_EQ(fd_matrix_get_f64(db, id, &back, &rows, &cols, &err), 0);
    ASSERT(back == NULL);
    ASSERT_INT_EQ(rows, 0);
    ASSERT_INT_EQ(cols, 3);
    fd_db_close(db);
}

TEST(matrix_corruption_is_detected_and_names_the_id) {
    fd_db *db = open_fresh();
    fd_error err;
    double m[3] = {1, 2, 3}, back[3];
    char idtext[32], flip = 0x55;
    sqlite3_blob *blob;
    int64_t id;
    ASSERT(db != NULL);
    ASSERT_INT_EQ(fd_matrix_put(db, FD_DTYPE_F64, m, 1, 3, &id, &err), 0);
    snprintf(idtext, sizeof idtext, "matrix %lld", (long long)id);
    /* Flip one byte of the data in place: the checksum no longer matches. */
    ASSERT_INT_EQ(sqlite3_blob_open(fd_db_handle(db), "main", "matrices", "data", id, 1, &blob),
                  SQLITE_OK);
    ASSERT_INT_EQ(sqlite3_blob_write(blob, &flip, 1, 9), SQLITE_OK);
    sqlite3_blob_close(blob);
    ASSERT_INT_EQ(fd_matrix_read(db, id, FD_DTYPE_F64, back, 1, 3, &err), -1);
    ASSERT_INT_EQ(err.status, 500);
    ASSERT_STR_EQ(err.code, "corrupt_matrix");
    ASSERT(strstr(err.message, idtext) != NULL);
    ASSERT(strstr(err.message, "checksum") != NULL);
    /* Truncated data is caught before the checksum. */
    ASSERT_INT_EQ(sqlite3_exec(fd_db_handle(db), "UPDATE matrices SET data = substr(data, 9)",
                               NULL, NULL, NULL), SQLITE_OK);
    ASSERT_INT_EQ(fd_matrix_read(db, id, FD_DTYPE_F64, back, 1, 3, &err), -1);
    ASSERT_STR_EQ(err.code, "corrupt_matrix");
    fd_db_close(db);
}

TEST(matrix_shape_mismatch_and_absence) {
    fd_db *db = open_fresh();
    fd_error err;
    double m[6] = {0}, back[6];
    int64_t id;
    ASSERT(db != NULL);
    ASSERT_INT_EQ(fd_matrix_put(db, FD_DTYPE_F64, m, 2, 3, &id, &err), 0);
    ASSERT_INT_EQ(fd_matrix_read(db, id, FD_DTYPE_F64, back, 3, 2, &err), -1);
    ASSERT_STR_EQ(err.code, "corrupt_matrix");
    ASSERT_INT_EQ(fd_matrix_read(db, id + 100, FD_DTYPE_F64, back, 2, 3, &err), -1);
    ASSERT_INT_EQ(err.status, 404);
    ASSERT_STR_EQ(err.code, "no_matrix");
    ASSERT_INT_EQ(fd_matrix_delete(db, id, &err), 0);
    ASSERT_INT_EQ(fd_matrix_delete(db, id, &err), -1);
    ASSERT_STR_EQ(err.code, "no_matrix");
    fd_db_close(db);
}

/* ---- panels ---- */

/* A panel of n rows ("S0", "S1", ...) and columns "c0", "c1", ... with value
 * seed + 10 i + j; every third characteristic cell NaN; optional ret / mktcap. */
static void make_panel(fd_panel *p, const char *month, size_t n, size_t k, double seed,
                       int with_ret, int with_mktcap) {
    char buf[32];
    fd_panel_init(p);
    snprintf(p->month, sizeof p->month, "%s", month);
    p->n_rows = n;
    p->n_cols = k;
    p->ids = calloc(n, sizeof *p->ids);
    p->col_names = calloc(k, sizeof *p->col_names);
    p->values = calloc(n * k, sizeof *p->values);
    for (size_t i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "S%zu", i);
        p->ids[i] = strdup(buf);
        for (size_t j = 0; j < k; j++)
            p->values[i * k + j] = (i * k + j) % 3 == 1 ? NAN : seed + 10.0 * i + j;
    }
    for (size_t j = 0; j < k; j++) {
        snprintf(buf, sizeof buf, "c%zu", j);
        p->col_names[j] = strdup(buf);
    }
    if (with_ret) {
        p->ret = calloc(n, sizeof *p->ret);
        for (size_t i = 0; i < n; i++) p->ret[i] = i == 0 ? NAN : 0.01 * (double)i;
    }
    if (with_mktcap) {
        p->mktcap = calloc(n, sizeof *p->mktcap);
        for (size_t i = 0; i < n; i++) p->mktcap[i] = 1e9 + (double)i;
    }
}

/* Fails the test (returning 0) unless a and b hold the same panel, NaN for NaN. */
static int panels_equal(const fd_panel *a, const fd_panel *b) {
    if (strcmp(a->month, b->month) || a->n_rows != b->n_rows || a->n_cols != b->n_cols) return 0;
    if (!a->ret != !b->ret || !a->mktcap != !b->mktcap) return 0;
    for (size_t i = 0; i < a->n_rows; i++) {
        if (strcmp(a->ids[i], b->ids[i])) return 0;
        if (a->ret && !same_double(a->ret[i], b->ret[i])) return 0;
        if (a->mktcap && !same_double(a->mktcap[i], b->mktcap[i])) return 0;
        for (size_t j = 0; j < a->n_cols; j++)
            if (!same_double(a->values[i * a->n_cols + j], b->values[i * b->n_cols + j])) return 0;
    }
    for (size_t j = 0; j < a->n_cols; j++)
        if (strcmp(a->col_names[j], b->col_names[j])) return 0;
    return 1;
}

TEST(panel_round_trip_keeps_nan_ret_and_mktcap) {
    fd_db *db = open_fresh();
    fd_error err;
    fd_panel p, q;
    ASSERT(db != NULL);
    make_panel(&p, "2020-03", 5, 4, 0.5, 1, 1);
    ASSERT_INT_EQ(fd_store_panel_put(db, &p, &err), 0);
    ASSERT_INT_EQ(fd_store_panel_get(db, "2020-03", &q, &err), 0);
    ASSERT(panels_equal(&p, &q));
    ASSERT(isnan(q.values[1]) && isnan(q.ret[0]));
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM matrices"), 3);
    fd_panel_free(&p);
    fd_panel_free(&q);
    fd_db_close(db);
}

TEST(panel_without_ret_or_mktcap_round_trips_as_null) {
    fd_db *db = open_fresh();
    fd_error err;
    fd_panel p, q;
    ASSERT(db != NULL);
    make_panel(&p, "2021-12", 3, 2, 7.0, 0, 0);
    ASSERT_INT_EQ(fd_store_panel_put(db, &p, &err), 0);
    ASSERT_INT_EQ(fd_store_panel_get(db, "2021-12", &q, &err), 0);
    ASSERT(q.ret == NULL && q.mktcap == NULL);
    ASSERT(panels_equal(&p, &q));
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM matrices"), 1);
    fd_panel_free(&p);
    fd_panel_free(&q);
    fd_db_close(db);
}

TEST(panel_replace_with_fewer_rows_leaves_no_stale_matrices) {
    fd_db *db = open_fresh();
    fd_error err;
    fd_panel p, r, q;
    ASSERT(db != NULL);
    make_panel(&p, "2020-01", 6, 3, 1.0, 1, 1);
    make_panel(&r, "2020-01", 2, 2, 100.0, 1, 0);
    ASSERT_INT_EQ(fd_store_panel_put(db, &p, &err), 0);
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM matrices"), 3);
    ASSERT_INT_EQ(fd_store_panel_put(db, &r, &err), 0);
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM matrices"), 2);
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM panels"), 1);
    ASSERT_INT_EQ(fd_store_panel_get(db, "2020-01", &q, &err), 0);
    ASSERT(panels_equal(&r, &q));
    /* Matrix ids are never reused: the new month's ids are past the old ones. */
    ASSERT_INT_EQ(query_int(db, "SELECT min(id) FROM matrices"), 4);
    fd_panel_free(&p);
    fd_panel_free(&r);
    fd_panel_free(&q);
    fd_db_close(db);
}

TEST(panel_delete_removes_month_and_matrices) {
    fd_db *db = open_fresh();
    fd_error err;
    fd_panel p, q;
    ASSERT(db != NULL);
    make_panel(&p, "2019-07", 3, 2, 0.0, 1, 1);
    ASSERT_INT_EQ(fd_store_panel_put(db, &p, &err), 0);
    ASSERT_INT_EQ(fd_store_panel_delete(db, "2019-07", &err), 0);
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM matrices"), 0);
    ASSERT_INT_EQ(fd_store_panel_get(db, "2019-07", &q, &err), -1);
    ASSERT_INT_EQ(err.status, 404);
    ASSERT_STR_EQ(err.code, "no_panel");
    ASSERT(q.ids == NULL && q.n_rows == 0);
    ASSERT_INT_EQ(fd_store_panel_delete(db, "2019-07", &err), -1);
    ASSERT_STR_EQ(err.code, "no_panel");
    ASSERT_INT_EQ(fd_store_panel_delete(db, "2019-13", &err), -1);
    ASSERT_STR_EQ(err.code, "bad_month");
    fd_panel_free(&p);
    fd_db_close(db);
}

TEST(panel_list_and_months_are_ascending_with_counts) {
    fd_db *db = open_fresh();
    fd_error err;
    fd_panel a, b;
    json_t *list, *first, *second;
    char (*months)[FD_MONTH_LEN];
    size_t n;
    ASSERT(db != NULL);
    make_panel(&a, "2020-02", 4, 3, 0.0, 1, 0);  /* NaN: cells 1, 4, 7, 10 + ret[0] */
    make_panel(&b, "2019-11", 2, 1, 0.0, 0, 1);  /* NaN: cell 1 */
    ASSERT_INT_EQ(fd_store_panel_put(db, &a, &err), 0);
    ASSERT_INT_EQ(fd_store_panel_put(db, &b, &err), 0);
    ASSERT_INT_EQ(fd_store_panel_list(db, &list, &err), 0);
    ASSERT_INT_EQ(json_array_size(list), 2);
    first = json_array_get(list, 0);
    second = json_array_get(list, 1);
    ASSERT_STR_EQ(json_string_value(json_object_get(first, "month")), "2019-11");
    ASSERT_INT_EQ(json_integer_value(json_object_get(first, "rows")), 2);
    ASSERT_INT_EQ(json_integer_value(json_object_get(first, "missing")), 1);
    ASSERT(json_is_false(json_object_get(first, "has_ret")));
    ASSERT(json_is_true(json_object_get(first, "has_mktcap")));
    ASSERT_STR_EQ(json_string_value(json_object_get(second, "month")), "2020-02");
    ASSERT_INT_EQ(json_integer_value(json_object_get(second, "missing")), 5);
    ASSERT_INT_EQ(json_array_size(json_object_get(second, "columns")), 3);
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(second, "columns"), 2)), "c2");
    ASSERT(json_is_string(json_object_get(second, "updated_at")));
    json_decref(list);
    ASSERT_INT_EQ(fd_store_panel_months(db, &months, &n, &err), 0);
    ASSERT_INT_EQ(n, 2);
    ASSERT_STR_EQ(months[0], "2019-11");
    ASSERT_STR_EQ(months[1], "2020-02");
    free(months);
    fd_panel_free(&a);
    fd_panel_free(&b);
    fd_db_close(db);
}

TEST(panel_put_records_security_month_ranges) {
    fd_db *db = open_fresh();
    fd_error err;
    fd_panel a, b;
    ASSERT(db != NULL);
    make_panel(&a, "2020-05", 3, 1, 0.0, 0, 0);
    make_panel(&b, "2020-02", 1, 1, 0.0, 0, 0);
    ASSERT_INT_EQ(fd_store_panel_put(db, &a, &err), 0);
    ASSERT_INT_EQ(fd_store_panel_put(db, &b, &err), 0);
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM securities"), 3);
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM securities WHERE id = 'S0' AND "
                                "first_month = '2020-02' AND last_month = '2020-05'"), 1);
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM securities WHERE id = 'S2' AND "
                                "first_month = '2020-05' AND last_month = '2020-05'"), 1);
    fd_panel_free(&a);
    fd_panel_free(&b);
    fd_db_close(db);
}

TEST(failed_panel_put_changes_nothing) {
    fd_db *db = open_fresh();
    fd_error err;
    fd_panel p, bad, q;
    ASSERT(db != NULL);
    make_panel(&p, "2020-01", 3, 2, 1.0, 1, 1);
    make_panel(&bad, "2020-01", 2, 2, 9.0, 1, 1);
    ASSERT_INT_EQ(fd_store_panel_put(db, &p, &err), 0);
    /* Fail at the last step (securities), after the old month was deleted and the new
     * matrices and row inserted: the transaction must undo all of it. */
    free(bad.ids[1]);
    bad.ids[1] = strdup("BOOM");
    ASSERT_INT_EQ(sqlite3_exec(fd_db_handle(db),
                               "CREATE TEMP TRIGGER boom BEFORE INSERT ON securities "
                               "WHEN NEW.id = 'BOOM' BEGIN SELECT RAISE(ABORT, 'boom'); END",
                               NULL, NULL, NULL), SQLITE_OK);
    ASSERT_INT_EQ(fd_store_panel_put(db, &bad, &err), -1);
    ASSERT_INT_EQ(err.status, 500);
    ASSERT(strstr(err.message, "2020-01") != NULL);
    ASSERT(strstr(err.message, "boom") != NULL);
    ASSERT(sqlite3_get_autocommit(fd_db_handle(db)));
    ASSERT_INT_EQ(fd_store_panel_get(db, "2020-01", &q, &err), 0);
    ASSERT(panels_equal(&p, &q));
    fd_panel_free(&q);
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM matrices"), 3);
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM securities"), 3);
    /* Bad input is refused before anything is touched. */
    free(bad.ids[1]);
    bad.ids[1] = strdup("\xff\xfe");
    ASSERT_INT_EQ(fd_store_panel_put(db, &bad, &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    snprintf(bad.month, sizeof bad.month, "2020-1");
    ASSERT_INT_EQ(fd_store_panel_put(db, &bad, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_month");
    ASSERT_INT_EQ(fd_store_panel_get(db, "20-01", &q, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_month");
    fd_panel_free(&p);
    fd_panel_free(&bad);
    fd_db_close(db);
}

TEST(snapshot_is_a_consistent_openable_copy) {
    fd_db *db = open_fresh(), *copy;
    fd_error err;
    fd_panel p, q;
    char path[512];
    ASSERT(db != NULL);
    snprintf(path, sizeof path, "%s/snapshot.db", tl_tmpdir());
    make_panel(&p, "2020-04", 4, 3, 2.0, 1, 1);
    ASSERT_INT_EQ(fd_store_panel_put(db, &p, &err), 0);
    ASSERT_INT_EQ(fd_db_snapshot(db, path, &err), 0);
    ASSERT_INT_EQ(fd_db_snapshot(db, path, &err), -1); /* never overwrites */
    ASSERT_INT_EQ(fd_db_open(path, &copy, &err), 0);
    ASSERT_INT_EQ(fd_store_panel_get(copy, "2020-04", &q, &err), 0);
    ASSERT(panels_equal(&p, &q));
    fd_panel_free(&q);
    fd_panel_free(&p);
    fd_db_close(copy);
    fd_db_close(db);
}

/* ---- factors ---- */

/* months x names table with values month_index + name_index / 10. */
static void make_factors(fd_factor_table *t, const char *const *months, size_t n_months,
                         const char *const *names, size_t n_names) {
    fd_factor_table_init(t);
    t->n_months = n_months;
    t->n_factors = n_names;
    t->months = calloc(n_months, sizeof *t->months);
    t->names = calloc(n_names, sizeof *t->names);
    t->values = calloc(n_months * n_names, sizeof *t->values);
    for (size_t i = 0; i < n_months; i++) snprintf(t->months[i], FD_MONTH_LEN, "%s", months[i]);
    for (size_t j = 0; j < n_names; j++) t->names[j] = strdup(names[j]);
    for (size_t i = 0; i < n_months; i++)
        for (size_t j = 0; j < n_names; j++) t->values[i * n_names + j] = (double)i + j / 10.0;
}

TEST(factors_put_get_union_and_nan_cells) {
    static const char *const m1[] = {"2020-01", "2020-02", "2020-03"};
    static const char *const n1[] = {"Mkt-RF", "SMB", "RF"};
    static const char *const m2[] = {"2020-03", "2020-04"};
    static const char *const n2[] = {"Mom", "SMB"};
    fd_db *db = open_fresh();
    fd_error err;
    fd_factor_table a, b, t;
    ASSERT(db != NULL);
    make_factors(&a, m1, 3, n1, 3);
    a.values[1 * 3 + 1] = NAN; /* SMB 2020-02 not stored */
    make_factors(&b, m2, 2, n2, 2);
    ASSERT_INT_EQ(fd_store_factors_put(db, &a, "test", &err), 0);
    ASSERT_INT_EQ(fd_store_factors_put(db, &b, "test2", &err), 0);
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM factors"), 8 + 4 - 1);
    ASSERT_INT_EQ(fd_store_factors_get(db, NULL, NULL, &t, &err), 0);
    ASSERT_INT_EQ(t.n_months, 4);
    ASSERT_INT_EQ(t.n_factors, 4);
    /* Names in first-stored order. */
    ASSERT_STR_EQ(t.names[0], "Mkt-RF");
    ASSERT_STR_EQ(t.names[1], "SMB");
    ASSERT_STR_EQ(t.names[2], "RF");
    ASSERT_STR_EQ(t.names[3], "Mom");
    ASSERT_STR_EQ(t.months[0], "2020-01");
    ASSERT_STR_EQ(t.months[3], "2020-04");
    ASSERT_NEAR(t.values[0 * 4 + 0], 0.0, 0.0);
    ASSERT(isnan(t.values[1 * 4 + 1]));          /* skipped NaN */
    ASSERT(isnan(t.values[0 * 4 + 3]));          /* Mom lacks 2020-01 */
    ASSERT_NEAR(t.values[2 * 4 + 1], 0.1, 0.0);  /* SMB 2020-03 overwritten by b (0 + 1/10) */
    ASSERT_NEAR(t.values[2 * 4 + 2], 2.2, 1e-15);
    ASSERT_NEAR(t.values[3 * 4 + 3], 1.0, 0.0);
    ASSERT(isnan(t.values[3 * 4 + 0]));
    fd_factor_table_free(&t);
    fd_factor_table_free(&a);
    fd_factor_table_free(&b);
    fd_db_close(db);
}

TEST(factors_range_and_single_value) {
    static const char *const m[] = {"2019-12", "2020-01", "2020-02", "2020-03"};
    static const char *const names[] = {"HML", "RF"};
    fd_db *db = open_fresh();
    fd_error err;
    fd_factor_table a, t;
    double v = 0;
    ASSERT(db != NULL);
    make_factors(&a, m, 4, names, 2);
    ASSERT_INT_EQ(fd_store_factors_put(db, &a, NULL, &err), 0);
    ASSERT_INT_EQ(fd_store_factors_get(db, "2020-01", "2020-02", &t, &err), 0);
    ASSERT_INT_EQ(t.n_months, 2);
    ASSERT_STR_EQ(t.months[0], "2020-01");
    ASSERT_NEAR(t.values[1 * 2 + 1], 2.1, 1e-15);
    fd_factor_table_free(&t);
    ASSERT_INT_EQ(fd_store_factors_get(db, "2020-02", NULL, &t, &err), 0);
    ASSERT_INT_EQ(t.n_months, 2);
    ASSERT_STR_EQ(t.months[1], "2020-03");
    fd_factor_table_free(&t);
    ASSERT_INT_EQ(fd_store_factors_get(db, "2021-01", NULL, &t, &err), 0);
    ASSERT_INT_EQ(t.n_months, 0);
    ASSERT_INT_EQ(t.n_factors, 0);
    fd_factor_table_free(&t);
    ASSERT_INT_EQ(fd_store_factors_get(db, "2021-1", NULL, &t, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_month");
    ASSERT_INT_EQ(fd_store_factor_value(db, "2019-12", "RF", &v, &err), 0);
    ASSERT_NEAR(v, 0.1, 0.0);
    ASSERT_INT_EQ(fd_store_factor_value(db, "2019-12", "SMB", &v, &err), -1);
    ASSERT_INT_EQ(err.status, 404);
    ASSERT_STR_EQ(err.code, "no_factor");
    fd_factor_table_free(&a);
    fd_db_close(db);
}

TEST(factors_put_rejects_bad_input_atomically) {
    static const char *const m[] = {"2020-01", "2020-02"};
    static const char *const names[] = {"SMB"};
    fd_db *db = open_fresh();
    fd_error err;
    fd_factor_table a;
    ASSERT(db != NULL);
    make_factors(&a, m, 2, names, 1);
    a.values[1] = INFINITY;
    ASSERT_INT_EQ(fd_store_factors_put(db, &a, "x", &err), -1);
    ASSERT_STR_EQ(err.code, "bad_value");
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM factors"), 0);
    a.values[1] = 0.5;
    snprintf(a.months[1], FD_MONTH_LEN, "2020-13");
    ASSERT_INT_EQ(fd_store_factors_put(db, &a, "x", &err), -1);
    ASSERT_STR_EQ(err.code, "bad_month");
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM factors"), 0);
    fd_factor_table_free(&a);
    fd_db_close(db);
}

/* ---- pool ---- */

typedef struct { fd_db_pool *pool; int index; int failures; } pool_arg;

/* Each thread writes 20 one-cell factor tables under its own name, one connection each. */
static void *pool_worker(void *p) {
    pool_arg *a = p;
    for (int i = 0; i < 20; i++) {
        fd_error err;
        fd_factor_table t;
        char name[16];
        fd_db *db = fd_db_pool_acquire(a->pool, &err);
        if (!db) { a->failures++; continue; }
        fd_factor_table_init(&t);
        snprintf(name, sizeof name, "F%d", a->index);
        t.n_months = t.n_factors = 1;
        t.months = calloc(1, sizeof *t.months);
        t.names = calloc(1, sizeof *t.names);
        t.values = calloc(1, sizeof *t.values);
        snprintf(t.months[0], FD_MONTH_LEN, "%04u-01", (2000u + (unsigned)i) % 10000u);
        t.names[0] = strdup(name);
        t.values[0] = a->index + i / 100.0;
        if (fd_store_factors_put(db, &t, "pool", &err) != 0) a->failures++;
        fd_factor_table_free(&t);
        fd_db_pool_release(a->pool, db);
    }
    return NULL;
}

TEST(pool_serves_four_writing_threads) {
    enum { N = 4 };
    char path[512];
    fd_db_pool *pool;
    fd_error err;
    pthread_t th[N];
    pool_arg args[N];
    fd_db *db;
    double v;
    snprintf(path, sizeof path, "%s/pool.db", tl_tmpdir());
    ASSERT_INT_EQ(fd_db_pool_create(path, &pool, &err), 0);
    for (int i = 0; i < N; i++) {
        args[i] = (pool_arg){.pool = pool, .index = i};
        pthread_create(&th[i], NULL, pool_worker, &args[i]);
    }
    for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) ASSERT_INT_EQ(args[i].failures, 0);
    db = fd_db_pool_acquire(pool, &err);
    ASSERT(db != NULL);
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM factors"), N * 20);
    ASSERT_INT_EQ(fd_store_factor_value(db, "2019-01", "F3", &v, &err), 0);
    ASSERT_NEAR(v, 3.19, 1e-12);
    /* A connection released mid-transaction is rolled back, not handed on half-done. */
    ASSERT_INT_EQ(fd_db_begin(db, &err), 0);
    ASSERT_INT_EQ(sqlite3_exec(fd_db_handle(db), "DELETE FROM factors", NULL, NULL, NULL),
                  SQLITE_OK);
    fd_db_pool_release(pool, db);
    db = fd_db_pool_acquire(pool, &err);
    ASSERT(db != NULL);
    ASSERT(sqlite3_get_autocommit(fd_db_handle(db)));
    ASSERT_INT_EQ(query_int(db, "SELECT count(*) FROM factors"), N * 20);
    fd_db_pool_release(pool, db);
    fd_db_pool_destroy(pool);
}

typedef struct { fd_db_pool *pool; const fd_panel *variants[2]; int bad; } replace_arg;

static void *replace_writer(void *p) {
    replace_arg *a = p;
    fd_error err;
    fd_db *db = fd_db_pool_acquire(a->pool, &err);
    if (!db) { a->bad++; return NULL; }
    for (int i = 0; i < 40; i++)
        if (fd_store_panel_put(db, a->variants[i % 2], &err) != 0) a->bad++;
    fd_db_pool_release(a->pool, db);
    return NULL;
}

/* A reader racing a writer that keeps replacing the month sees one whole version each time:
 * never new row counts with old matrices or a missing matrix. */
TEST(panel_reads_see_a_replace_wholly_or_not_at_all) {
    char path[512];
    fd_db_pool *pool;
    fd_error err;
    fd_panel a, b, q;
    pthread_t th;
    replace_arg arg;
    fd_db *db;
    int seen[2] = {0, 0};
    snprintf(path, sizeof path, "%s/race.db", tl_tmpdir());
    ASSERT_INT_EQ(fd_db_pool_create(path, &pool, &err), 0);
    make_panel(&a, "2020-06", 30, 4, 1.0, 1, 1);
    make_panel(&b, "2020-06", 50, 3, 500.0, 1, 0);
    db = fd_db_pool_acquire(pool, &err);
    ASSERT(db != NULL);
    ASSERT_INT_EQ(fd_store_panel_put(db, &a, &err), 0);
    arg = (replace_arg){.pool = pool, .variants = {&b, &a}};
    pthread_create(&th, NULL, replace_writer, &arg);
    for (int i = 0; i < 60; i++) {
        if (fd_store_panel_get(db, "2020-06", &q, &err) != 0) {
            tl_fail(__FILE__, __LINE__, "read %d failed: %s", i, err.message);
            break;
        }
        if (panels_equal(&q, &a)) seen[0]++;
        else if (panels_equal(&q, &b)) seen[1]++;
        else tl_fail(__FILE__, __LINE__, "read %d saw a mixed panel (%zu rows)", i, q.n_rows);
        fd_panel_free(&q);
        if (tl_failed) break;
    }
    pthread_join(th, NULL);
    fd_db_pool_release(pool, db);
    fd_db_pool_destroy(pool);
    fd_panel_free(&a);
    fd_panel_free(&b);
    ASSERT_INT_EQ(arg.bad, 0);
    ASSERT_INT_EQ(seen[0] + seen[1], 60);
}

TEST_MAIN(T(matrix_f64_round_trip_is_bit_exact), T(matrix_f32_round_trip_and_widening),
          T(matrix_empty_round_trip), T(matrix_corruption_is_detected_and_names_the_id),
          T(matrix_shape_mismatch_and_absence), T(panel_round_trip_keeps_nan_ret_and_mktcap),
          T(panel_without_ret_or_mktcap_round_trips_as_null),
          T(panel_replace_with_fewer_rows_leaves_no_stale_matrices),
          T(panel_delete_removes_month_and_matrices),
          T(panel_list_and_months_are_ascending_with_counts),
          T(panel_put_records_security_month_ranges), T(failed_panel_put_changes_nothing),
          T(snapshot_is_a_consistent_openable_copy),
          T(factors_put_get_union_and_nan_cells), T(factors_range_and_single_value),
          T(factors_put_rejects_bad_input_atomically), T(pool_serves_four_writing_threads),
          T(panel_reads_see_a_replace_wholly_or_not_at_all))
