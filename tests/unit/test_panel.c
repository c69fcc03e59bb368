/* Month keys and fd_panel helpers (include/factord/panel.h). */
#include <stdlib.h>

#include "factord/panel.h"
#include "testlib.h"

TEST(month_parse_accepts_valid_keys) {
    int y = 0, m = 0;
    ASSERT_INT_EQ(fd_month_parse("2020-01", &y, &m, NULL), 0);
    ASSERT_INT_EQ(y, 2020);
    ASSERT_INT_EQ(m, 1);
    ASSERT_INT_EQ(fd_month_parse("1900-12", &y, &m, NULL), 0);
    ASSERT_INT_EQ(m, 12);
    ASSERT_INT_EQ(fd_month_parse("2999-06", NULL, NULL, NULL), 0);
}

TEST(month_parse_rejects_bad_keys_with_400) {
    static const char *const bad[] = {"2020-13", "2020-00", "2020-1", "20201", "abcd-ef",
                                      "2020-01x", "", " 2020-01", "2020/01", "1899-12", "3000-01",
                                      "2020-+1", "2020-01-01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fd_error err;
        fd_error_clear(&err);
        if (fd_month_parse(bad[i], NULL, NULL, &err) != -1) {
            tl_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
            return;
        }
        ASSERT_INT_EQ(err.status, 400);
        ASSERT_STR_EQ(err.code, "bad_month");
    }
}

TEST(month_parse_message_names_the_key) {
    fd_error err;
    ASSERT_INT_EQ(fd_month_parse("2020-13", NULL, NULL, &err), -1);
    ASSERT(strstr(err.message, "2020-13") != NULL);
    ASSERT_INT_EQ(fd_month_parse(NULL, NULL, NULL, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_month");
}

TEST(month_add_crosses_years) {
    char out[FD_MONTH_LEN];
    fd_month_add("2020-11", 3, out);
    ASSERT_STR_EQ(out, "2021-02");
    fd_month_add("2020-01", -1, out);
    ASSERT_STR_EQ(out, "2019-12");
    fd_month_add("2020-01", -25, out);
    ASSERT_STR_EQ(out, "2017-12");
    fd_month_add("2020-12", 12, out);
    ASSERT_STR_EQ(out, "2021-12");
    fd_month_add("2020-06", 0, out);
    ASSERT_STR_EQ(out, "2020-06");
    fd_month_add("2020-13", 1, out);
    ASSERT_STR_EQ(out, "");
}

/* Regression (issue 17, fault 1): stepping back from 1900-01 gave "1899-12", a key no parser
 * accepts, and the next step from it gave "" forever; arithmetic must stay in the range. */
TEST(month_add_never_leaves_the_range_of_keys) {
    char out[FD_MONTH_LEN];
    fd_month_add("1900-01", -1, out);
    ASSERT_STR_EQ(out, "");
    fd_month_add("2999-12", 1, out);
    ASSERT_STR_EQ(out, "");
    fd_month_add("1900-02", -1, out);
    ASSERT_STR_EQ(out, "1900-01");
    fd_month_add("1900-01", 12 * 1100 - 1, out);
    ASSERT_STR_EQ(out, "2999-12");
    fd_month_add("2000-01", -2000000000, out);
    ASSERT_STR_EQ(out, "");
    for (int d = -1300; d <= 13000; d += 97) {
        fd_month_add("1950-06", d, out);
        ASSERT(out[0] == '\0' || fd_month_parse(out, NULL, NULL, NULL) == 0);
    }
}

TEST(month_diff_counts_months) {
    ASSERT_INT_EQ(fd_month_diff("2020-01", "2020-01"), 0);
    ASSERT_INT_EQ(fd_month_diff("2020-01", "2021-03"), 14);
    ASSERT_INT_EQ(fd_month_diff("2021-03", "2020-01"), -14);
    ASSERT_INT_EQ(fd_month_diff("1999-12", "2000-01"), 1);
}

TEST(month_add_and_diff_are_inverse) {
    char out[FD_MONTH_LEN];
    for (int d = -300; d <= 300; d += 7) {
        fd_month_add("2005-07", d, out);
        ASSERT_INT_EQ(fd_month_diff("2005-07", out), d);
    }
}

TEST(panel_lookup_and_free) {
    fd_panel p;
    fd_panel_init(&p);
    ASSERT_INT_EQ(p.n_rows, 0);
    ASSERT(p.ids == NULL && p.values == NULL);
    p.n_rows = 2;
    p.n_cols = 2;
    p.ids = malloc(2 * sizeof *p.ids);
    p.col_names = malloc(2 * sizeof *p.col_names);
    p.ids[0] = strdup("AAPL");
    p.ids[1] = strdup("MSFT");
    p.col_names[0] = strdup("size");
    p.col_names[1] = strdup("bm");
    p.values = calloc(4, sizeof *p.values);
    ASSERT_INT_EQ(fd_panel_col(&p, "bm"), 1);
    ASSERT_INT_EQ(fd_panel_col(&p, "mom"), -1);
    ASSERT_INT_EQ(fd_panel_row(&p, "AAPL"), 0);
    ASSERT_INT_EQ(fd_panel_row(&p, "IBM"), -1);
    fd_panel_free(&p);
    ASSERT_INT_EQ(p.n_rows, 0);
    ASSERT(p.ids == NULL && p.values == NULL && p.col_names == NULL);
    fd_panel_free(&p); /* freeing an empty panel is harmless */
}

TEST_MAIN(T(month_parse_accepts_valid_keys), T(month_parse_rejects_bad_keys_with_400),
          T(month_parse_message_names_the_key), T(month_add_crosses_years),
          T(month_diff_counts_months), T(month_add_never_leaves_the_range_of_keys), T(month_add_and_diff_are_inverse),
          T(panel_lookup_and_free))
