/* Regressions for hostile input to every parser (issue 17, faults 2 and 3): a NUL byte or
 * another control character inside an id or a name, text that is not UTF-8, and a header
 * so wide that a quadratic duplicate check took minutes. Each parser must answer a 400
 * that names the line (or row) at fault, and store nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "factord/bulk_import.h"
#include "factord/csv.h"
#include "factord/daily.h"
#include "factord/french.h"
#include "factord/panel_build.h"
#include "factord/panel_io.h"
#include "factord/store_data.h"
#include "testlib.h"

/* The error must be a 400 with `code` whose message holds `needle`. */
#define ASSERT_400(rc, err, want_code, needle) do {                                         \
        ASSERT_INT_EQ(rc, -1);                                                              \
        ASSERT_INT_EQ((err).status, 400);                                                   \
        ASSERT_STR_EQ((err).code, want_code);                                               \
        if (!strstr((err).message, needle)) {                                               \
            tl_fail(__FILE__, __LINE__, "message \"%s\" lacks \"%s\"", (err).message,       \
                    needle);                                                                \
            return;                                                                         \
        }                                                                                   \
    } while (0)

static int panel_csv(const char *text, size_t len, fd_error *err) {
    fd_panel p;
    int rc = fd_panel_parse_csv(text, len, "2020-01", &p, err);
    fd_panel_free(&p);
    return rc;
}

static int panel_json(const char *text, fd_error *err) {
    fd_panel p;
    int rc = fd_panel_parse_json(text, strlen(text), "2020-01", &p, err);
    fd_panel_free(&p);
    return rc;
}

/* The report's case: "A" and "A\0" "1094" hashed as different ids but stored as the same. */
TEST(panel_csv_rejects_a_nul_inside_an_id_naming_the_line) {
    static const char body[] = "id,a\nA,1\nA\0" "1094,2\n";
    fd_error err;
    ASSERT_400(panel_csv(body, sizeof body - 1, &err), err, "bad_csv", "line 3");
}

TEST(panel_csv_rejects_a_nul_in_a_header_or_a_quoted_field) {
    static const char header[] = "id,a\0b\nA,1\n";
    static const char quoted[] = "id,a\nA,1\n\"B\0\",2\n";
    fd_error err;
    ASSERT_400(panel_csv(header, sizeof header - 1, &err), err, "bad_csv", "line 1");
    ASSERT_400(panel_csv(quoted, sizeof quoted - 1, &err), err, "bad_csv", "line 3");
}

TEST(panel_csv_rejects_control_characters_in_ids_and_names) {
    fd_error err;
    const char *tab = "id,a\nA,1\nB\tC,2\n", *newline = "id,a\nA,1\n\"B\nC\",2\n";
    const char *esc = "id,a\x1b[2J\nA,1\n", *del = "id,a\nA\x7f,1\n";
    const char *c1 = "id,a\nA\xc2\x85,1\n";
    ASSERT_400(panel_csv(tab, strlen(tab), &err), err, "bad_id", "line 3");
    ASSERT_400(panel_csv(newline, strlen(newline), &err), err, "bad_id", "line 3");
    ASSERT_400(panel_csv(esc, strlen(esc), &err), err, "bad_column_name", "column 2");
    ASSERT_400(panel_csv(del, strlen(del), &err), err, "bad_id", "line 2");
    ASSERT_400(panel_csv(c1, strlen(c1), &err), err, "bad_id", "U+0085");
}

/* A Latin-1 id used to be accepted, then silently dropped from JSON answers. */
TEST(panel_csv_rejects_ids_that_are_not_utf8) {
    fd_error err;
    const char *latin1 = "id,a\nA,1\nCaf\xe9,2\n", *overlong = "id,a\n\xc0\xaf,1\n";
    const char *surrogate = "id,a\n\xed\xa0\x80,1\n", *ok = "id,a\nCaf\xc3\xa9,1\n";
    ASSERT_400(panel_csv(latin1, strlen(latin1), &err), err, "bad_id", "line 3");
    ASSERT_400(panel_csv(overlong, strlen(overlong), &err), err, "bad_id", "UTF-8");
    ASSERT_400(panel_csv(surrogate, strlen(surrogate), &err), err, "bad_id", "UTF-8");
    ASSERT_INT_EQ(panel_csv(ok, strlen(ok), &err), 0);
}

TEST(panel_json_rejects_control_characters_in_ids_and_keys) {
    fd_error err;
    ASSERT_400(panel_json("{\"columns\":[\"id\",\"a\"],\"rows\":[[\"A\",1],[\"B\\u0001\",2]]}",
                          &err), err, "bad_id", "rows[1]");
    ASSERT_400(panel_json("{\"rows\":[{\"id\":\"A\",\"a\\u001f\":1}]}", &err), err,
               "bad_column_name", "rows[0]");
    ASSERT_400(panel_json("{\"columns\":[\"id\",\"a\\u007f\"],\"rows\":[[\"A\",1]]}", &err),
               err, "bad_column_name", "column 2");
    /* A NUL escape never reaches the builder: the JSON parser refuses it. */
    ASSERT_INT_EQ(panel_json("{\"rows\":[{\"id\":\"A\\u0000B\",\"a\":1}]}", &err), -1);
    ASSERT_INT_EQ(err.status, 400);
}

static const char *write_file(const char *name, const char *text, size_t len) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tl_tmpdir(), name);
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    fwrite(text, 1, len, f);
    fclose(f);
    return path;
}

TEST(bulk_import_rejects_nul_and_control_characters_and_writes_nothing) {
    static const char nul[] = "id,date,a\nA,2020-01,1\nA\0" "1094,2020-01,2\n";
    static const char ctl[] = "id,date,a\nA,2020-01,1\nB,2020-02,2\n\"A\x01\",2020-02,3\n";
    char path[512];
    fd_db *db = NULL;
    fd_error err;
    fd_import_result res;
    char (*months)[FD_MONTH_LEN] = NULL;
    size_t n = 0;
    snprintf(path, sizeof path, "%s/import.db", tl_tmpdir());
    ASSERT_INT_EQ(fd_db_open(path, &db, &err), 0);
    ASSERT_400(fd_bulk_import_file(db, write_file("nul.csv", nul, sizeof nul - 1),
                                   FD_UNITS_DECIMAL, NULL, &res, &err), err, "bad_csv", "line 3");
    ASSERT_400(fd_bulk_import_file(db, write_file("ctl.csv", ctl, sizeof ctl - 1),
                                   FD_UNITS_DECIMAL, NULL, &res, &err), err, "bad_id", "line 4");
    ASSERT_INT_EQ(fd_store_panel_months(db, &months, &n, &err), 0);
    free(months);
    ASSERT_INT_EQ(n, 0);
    fd_db_close(db);
}

TEST(daily_bars_reject_a_nul_in_a_ticker) {
    static const char body[] = "ticker,date,open,high,low,close,volume\n"
                               "AB\0C,2020-01-02,1,1,1,1,100\n";
    fd_bars *b = fd_bars_new();
    fd_error err;
    ASSERT(b != NULL);
    int rc = fd_bars_read_buffer(b, body, sizeof body - 1, &err);
    fd_bars_free(b);
    ASSERT_400(rc, err, "bad_csv", "line 2");
}

TEST(factor_files_reject_control_characters_in_factor_names) {
    fd_factor_table t;
    fd_error err;
    static const char nul[] = "date,Mkt-RF,S\0MB\n202001,1,2\n";
    const char *ctl = "date,Mkt-RF,S\x02MB\n202001,1,2\n";
    int rc = fd_french_parse_csv(nul, sizeof nul - 1, FD_UNITS_PERCENT, &t, &err);
    fd_factor_table_free(&t);
    ASSERT_400(rc, err, "bad_csv", "line 1");
    rc = fd_french_parse_csv(ctl, strlen(ctl), FD_UNITS_PERCENT, &t, &err);
    fd_factor_table_free(&t);
    ASSERT_400(rc, err, "bad_column_name", "factor column 2");
    const char *js = "{\"units\":\"decimal\",\"factors\":[{\"month\":\"2020-01\",\"M\\u0007\":1}]}";
    rc = fd_french_parse_json(js, strlen(js), FD_UNITS_UNSET, &t, &err);
    fd_factor_table_free(&t);
    ASSERT_INT_EQ(rc, -1);
    ASSERT_INT_EQ(err.status, 400);
}

/* A header of n distinct names "c0,c1,..." plus "id" (and a duplicate of c0 at the end
 * when dup). */
static char **header_names(size_t n, int dup, size_t *count) {
    char **names = malloc((n + 2) * sizeof *names);
    size_t k = 0;
    names[k++] = strdup("id");
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "c%zu", i);
        names[k++] = strdup(buf);
    }
    if (dup) names[k++] = strdup("c0");
    *count = k;
    return names;
}

static void names_free(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

static double cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds of one header check of n columns (best of `reps`). */
static double header_check_cost(size_t n, int reps) {
    size_t count;
    char **names = header_names(n, 0, &count);
    double best = 1e9;
    for (int r = 0; r < reps; r++) {
        long id_col;
        fd_error err;
        double t0 = cpu_seconds();
        int rc = fd_panel_header_check((const char *const *)names, count, &id_col, NULL, &err);
        double dt = cpu_seconds() - t0;
        if (rc != 0) best = -1;
        else if (dt < best) best = dt;
    }
    names_free(names, count);
    return best;
}

TEST(duplicate_columns_are_found_wherever_they_are) {
    size_t count;
    char **names = header_names(99999, 1, &count);
    long id_col;
    fd_error err;
    int rc = fd_panel_header_check((const char *const *)names, count, &id_col, NULL, &err);
    names_free(names, count);
    ASSERT_400(rc, err, "duplicate_column", "columns 2 and 100001");
}

/* The cost of the check grows linearly with the header: 16 times the columns may cost far
 * less than the 256 times a pairwise comparison needs (a ratio in one run, not a time). */
TEST(header_check_is_linear_in_the_number_of_columns) {
    double small = header_check_cost(4000, 9), large = header_check_cost(64000, 3);
    ASSERT(small > 0 && large > 0);
    if (large / small > 64) {
        tl_fail(__FILE__, __LINE__, "64,000 columns cost %.4f s, %.0f times 4,000 columns "
                "(%.5f s): quadratic", large, large / small, small);
        return;
    }
}

TEST_MAIN(T(panel_csv_rejects_a_nul_inside_an_id_naming_the_line),
          T(panel_csv_rejects_a_nul_in_a_header_or_a_quoted_field),
          T(panel_csv_rejects_control_characters_in_ids_and_names),
          T(panel_csv_rejects_ids_that_are_not_utf8),
          T(panel_json_rejects_control_characters_in_ids_and_keys),
          T(bulk_import_rejects_nul_and_control_characters_and_writes_nothing),
          T(daily_bars_reject_a_nul_in_a_ticker),
          T(factor_files_reject_control_characters_in_factor_names),
          T(duplicate_columns_are_found_wherever_they_are),
          T(header_check_is_linear_in_the_number_of_columns))
