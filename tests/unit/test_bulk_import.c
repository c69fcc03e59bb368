/* Bulk import of a long CSV into the store: many months, any order, all-or-nothing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/bulk_import.h"
#include "factord/http.h"
#include "factord/store_data.h"
#include "testlib.h"

static const char *write_file(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tl_tmpdir(), name);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(text, f);
    fclose(f);
    return path;
}

static fd_db *open_db(const char *name) {
    char path[512];
    fd_db *db = NULL;
    fd_error err;
    snprintf(path, sizeof path, "%s/%s", tl_tmpdir(), name);
    if (fd_db_open(path, &db, &err) != 0) fprintf(stderr, "open: %s\n", err.message);
    return db;
}

static size_t stored_months(fd_db *db) {
    char (*months)[FD_MONTH_LEN] = NULL;
    size_t n = 0;
    fd_error err;
    if (fd_store_panel_months(db, &months, &n, &err) != 0) return (size_t)-1;
    free(months);
    return n;
}

/* Rows for three months, interleaved and out of order; dates in all three spellings. */
static const char *three_months =
    "id,date,ret,mktcap,mom12,size\n"
    "B,2020-02-29,0.02,200,0.5,\n"
    "A,2020-01,0.01,100,0.1,1.0\n"
    "A,202003,,100,0.3,3.0\n"
    "A,2020-02,0.03,110,NaN,2.0\n"
    "B,2020-01-31,-0.01,190,0.4,4.0\n";

TEST(imports_several_unsorted_months) {
    fd_db *db = open_db("a.db");
    ASSERT(db != NULL);
    const char *path = write_file("long.csv", three_months);
    fd_import_result res;
    fd_error err;
    int rc = fd_bulk_import_file(db, path, FD_UNITS_DECIMAL, NULL, &res, &err);
    if (rc) tl_fail(__FILE__, __LINE__, "%s", err.message);
    ASSERT_INT_EQ(rc, 0);
    ASSERT_INT_EQ(res.months, 3);
    ASSERT_INT_EQ(res.rows, 5);
    ASSERT_INT_EQ(res.n_cols, 2);
    ASSERT_STR_EQ(res.col_names[0], "mom12");
    ASSERT(res.has_ret && res.has_mktcap);
    ASSERT_INT_EQ(res.missing, 3); /* B size (Feb), A ret (Mar), A mom12 (Feb) */
    ASSERT_STR_EQ(res.first, "2020-01");
    ASSERT_STR_EQ(res.last, "2020-03");
    fd_import_result_free(&res);

    fd_panel p;
    ASSERT_INT_EQ(fd_store_panel_get(db, "2020-02", &p, &err), 0);
    ASSERT_INT_EQ(p.n_rows, 2);
    ASSERT_STR_EQ(p.ids[0], "B"); /* input order within the month */
    ASSERT_STR_EQ(p.ids[1], "A");
    ASSERT_NEAR(p.ret[0], 0.02, 0);
    ASSERT_NEAR(p.mktcap[1], 110, 0);
    ASSERT_NEAR(p.values[0], 0.5, 0);
    ASSERT(isnan(p.values[1]));
    ASSERT(isnan(p.values[2]));
    ASSERT_NEAR(p.values[3], 2.0, 0);
    fd_panel_free(&p);
    ASSERT_INT_EQ(fd_store_panel_get(db, "2020-03", &p, &err), 0);
    ASSERT_INT_EQ(p.n_rows, 1);
    ASSERT(isnan(p.ret[0]));
    fd_panel_free(&p);
    fd_db_close(db);
}

TEST(percent_units_scale_ret_only) {
    fd_db *db = open_db("b.db");
    ASSERT(db != NULL);
    const char *path = write_file("pct.csv", "id,date,ret,x\nA,2021-05,2.89,2.89\n");
    fd_import_result res;
    fd_error err;
    ASSERT_INT_EQ(fd_bulk_import_file(db, path, FD_UNITS_PERCENT, NULL, &res, &err), 0);
    fd_import_result_free(&res);
    fd_panel p;
    ASSERT_INT_EQ(fd_store_panel_get(db, "2021-05", &p, &err), 0);
    ASSERT_NEAR(p.ret[0], 0.0289, 0);
    ASSERT_NEAR(p.values[0], 2.89, 0);
    fd_panel_free(&p);
    fd_db_close(db);
}

/* A failure in any month, found while staging or while writing, leaves the store as it
 * was: the months written earlier in the transaction are rolled back. */
TEST(bad_input_changes_nothing) {
    fd_db *db = open_db("c.db");
    ASSERT(db != NULL);
    fd_import_result res;
    fd_error err;
    const char *before = write_file("before.csv", "id,date,x\nOLD,2020-01,9\n");
    ASSERT_INT_EQ(fd_bulk_import_file(db, before, FD_UNITS_DECIMAL, NULL, &res, &err), 0);
    fd_import_result_free(&res);
    const struct { const char *text, *code, *needle; } cases[] = {
        /* Duplicate id in the last month: found after earlier months were written. */
        {"id,date,x\nA,2020-01,1\nB,2020-02,1\nC,2020-03,1\nC,2020-03,2\n", "duplicate_id",
         "line 5: duplicate id 'C' (first at line 4)"},
        {"id,date,x\nA,2020-01,1\nA,2020-13,1\n", "bad_date", "line 3"},
        {"id,date,x\nA,2020-01,1\nB,2020-01\n", "ragged_row", "line 3: expected 3 fields, got 2"},
        {"id,date,x\nA,2020-01,1\nB,2020-01,1e999\n", "bad_number", "line 3, column 'x'"},
        {"id,date,x\nA,2020-01,\"1\n", "bad_csv", "line 2: unterminated"},
        {"id,x\nA,1\n", "no_date_column", "date"},
        {"date,x\n2020-01,1\n", "no_id_column", "id"},
        {"id,date,x,x\nA,2020-01,1,2\n", "duplicate_column", "'x'"},
        {"", "empty_body", "header"},
        {"id,date,x\n", "no_rows", "no data rows"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *path = write_file("bad.csv", cases[i].text);
        int rc = fd_bulk_import_file(db, path, FD_UNITS_DECIMAL, NULL, &res, &err);
        if (rc != -1 || err.status != 400 || strcmp(err.code, cases[i].code) != 0 ||
            !strstr(err.message, cases[i].needle)) {
            tl_fail(__FILE__, __LINE__, "case %zu: rc %d, %d %s: %s", i, rc, err.status, err.code,
                    err.message);
            return;
        }
        ASSERT_INT_EQ(stored_months(db), 1);
    }
    fd_panel p;
    ASSERT_INT_EQ(fd_store_panel_get(db, "2020-01", &p, &err), 0);
    ASSERT_STR_EQ(p.ids[0], "OLD");
    fd_panel_free(&p);
    fd_db_close(db);
}

TEST(deadline_passed_writes_nothing) {
    fd_db *db = open_db("d.db");
    ASSERT(db != NULL);
    const char *path = write_file("late.csv", three_months);
    fd_import_result res;
    fd_error err;
    _Atomic double past = fd_now() - 1;
    ASSERT_INT_EQ(fd_bulk_import_file(db, path, FD_UNITS_DECIMAL, &past, &res, &err), -1);
    ASSERT_INT_EQ(err.status, 503);
    ASSERT_STR_EQ(err.code, "timeout");
    ASSERT_INT_EQ(stored_months(db), 0);
    fd_db_close(db);
}

/* 120 months x 500 securities, generated in reverse month order: the staging path with
 * a file many times larger than one month. */
TEST(many_months_round_trip) {
    char path[512];
    snprintf(path, sizeof path, "%s/many.csv", tl_tmpdir());
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs("id,date,ret,c1,c2,c3\n", f);
    for (int m = 119; m >= 0; m--)
        for (int i = 0; i < 500; i++)
            fprintf(f, "S%03d,%04d-%02d,%d.25,%d,%d.5,-%d\n", i, 2000 + m / 12, m % 12 + 1, i,
                    m, i, m * 1000 + i);
    fclose(f);
    fd_db *db = open_db("e.db");
    ASSERT(db != NULL);
    fd_import_result res;
    fd_error err;
    ASSERT_INT_EQ(fd_bulk_import_file(db, path, FD_UNITS_DECIMAL, NULL, &res, &err), 0);
    ASSERT_INT_EQ(res.months, 120);
    ASSERT_INT_EQ(res.rows, 60000);
    ASSERT_STR_EQ(res.first, "2000-01");
    ASSERT_STR_EQ(res.last, "2009-12");
    fd_import_result_free(&res);
    fd_panel p;
    ASSERT_INT_EQ(fd_store_panel_get(db, "2005-07", &p, &err), 0);
    ASSERT_INT_EQ(p.n_rows, 500);
    ASSERT_STR_EQ(p.ids[499], "S499");
    ASSERT_NEAR(p.ret[7], 7.25, 0);
    ASSERT_NEAR(p.values[7 * 3 + 2], -(66 * 1000 + 7), 0);
    fd_panel_free(&p);
    fd_db_close(db);
}

TEST_MAIN(T(imports_several_unsorted_months), T(percent_units_scale_ret_only),
          T(bad_input_changes_nothing), T(deadline_passed_writes_nothing),
          T(many_months_round_trip))
