/* Benchmark factors: the raw Ken French files as downloaded, clean CSVs, JSON, writers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/french.h"
#include "testlib.h"

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static long month_index(const fd_factor_table *t, const char *month) {
    for (size_t i = 0; i < t->n_months; i++)
        if (strcmp(t->months[i], month) == 0) return (long)i;
    return -1;
}

static long factor_index(const fd_factor_table *t, const char *name) {
    for (size_t j = 0; j < t->n_factors; j++)
        if (strcmp(t->names[j], name) == 0) return (long)j;
    return -1;
}

static double value(const fd_factor_table *t, const char *month, const char *name) {
    long i = month_index(t, month), j = factor_index(t, name);
    return i < 0 || j < 0 ? -12345 : t->values[i * t->n_factors + j];
}

static int parse_file(const char *name, int raw, fd_factor_table *t, fd_error *err) {
    char path[256];
    size_t len;
    snprintf(path, sizeof path, "tests/data/french/%s", name);
    char *body = slurp(path, &len);
    if (!body) return fd_error_set(err, 500, "fixture", "cannot read %s", path);
    int rc = raw ? fd_french_parse_raw(body, len, FD_UNITS_PERCENT, t, err)
                 : fd_french_parse_csv(body, len, FD_UNITS_PERCENT, t, err);
    free(body);
    return rc;
}

TEST(raw_ff3_monthly_block_in_decimals) {
    fd_factor_table t;
    fd_error err;
    int rc = parse_file("F-F_Research_Data_Factors.csv", 1, &t, &err);
    if (rc) tl_fail(__FILE__, __LINE__, "%s", err.message);
    ASSERT_INT_EQ(rc, 0);
    ASSERT_INT_EQ(t.n_factors, 4);
    ASSERT_STR_EQ(t.names[0], "Mkt-RF");
    ASSERT_STR_EQ(t.names[3], "RF");
    /* 1926-07 .. 2026-06: 1,200 months; the annual block (keyed 1927..2025) is not read. */
    ASSERT_INT_EQ(t.n_months, 1200);
    ASSERT_STR_EQ(t.months[0], "1926-07");
    ASSERT_STR_EQ(t.months[1199], "2026-06");
    ASSERT_NEAR(value(&t, "1926-07", "Mkt-RF"), 0.0289, 0); /* exactly the double nearest 0.0289 */
    ASSERT_NEAR(value(&t, "1926-07", "RF"), 0.0022, 0);
    ASSERT_NEAR(value(&t, "2020-01", "HML"), -0.0622, 1e-15);
    ASSERT_INT_EQ(month_index(&t, "1927-00"), -1);
    fd_factor_table_free(&t);
}

TEST(raw_ff5_and_momentum) {
    fd_factor_table t;
    fd_error err;
    ASSERT_INT_EQ(parse_file("F-F_Research_Data_5_Factors_2x3.csv", 1, &t, &err), 0);
    ASSERT_INT_EQ(t.n_factors, 6);
    ASSERT_INT_EQ(t.n_months, 756);
    ASSERT_NEAR(value(&t, "1963-07", "CMA"), -0.0115, 1e-15);
    ASSERT_NEAR(value(&t, "2020-01", "RMW"), -0.0119, 1e-15);
    fd_factor_table_free(&t);
    ASSERT_INT_EQ(parse_file("F-F_Momentum_Factor.csv", 1, &t, &err), 0);
    ASSERT_INT_EQ(t.n_factors, 1);
    ASSERT_STR_EQ(t.names[0], "Mom");
    ASSERT_INT_EQ(t.n_months, 1194);
    ASSERT_NEAR(value(&t, "1927-01", "Mom"), 0.0057, 1e-15);
    fd_factor_table_free(&t);
}

TEST(raw_missing_markers_become_nan) {
    const char *body = "Preamble, with a comma\r\nMissing data are -99.99 or -999.\r\n\r\n"
                       ",Mkt-RF,RF\r\n202001,  -99.99,  0.13\r\n202002, 1.5, -999\r\n\r\n"
                       " Annual Factors: January-December \r\n,Mkt-RF,RF\r\n  2020, 10.0, 1.0\r\n";
    fd_factor_table t;
    fd_error err;
    ASSERT_INT_EQ(fd_french_parse_raw(body, strlen(body), FD_UNITS_PERCENT, &t, &err), 0);
    ASSERT_INT_EQ(t.n_months, 2);
    ASSERT(isnan(value(&t, "2020-01", "Mkt-RF")));
    ASSERT_NEAR(value(&t, "2020-01", "RF"), 0.0013, 1e-15);
    ASSERT(isnan(value(&t, "2020-02", "RF")));
    fd_factor_table_free(&t);
}

TEST(raw_without_monthly_block_is_rejected) {
    const char *annual_only = "Some preamble\n\n Annual Factors: January-December \n"
                              ",Mkt-RF,RF\n  2020, 10.0, 1.0\n  2021, 11.0, 1.1\n";
    fd_factor_table t;
    fd_error err;
    ASSERT_INT_EQ(fd_french_parse_raw(annual_only, strlen(annual_only), FD_UNITS_PERCENT, &t,
                                      &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    ASSERT_STR_EQ(err.code, "no_monthly_block");
    fd_factor_table_free(&t);
}

TEST(raw_bad_cells_name_the_line) {
    const char *body = "x\n,Mkt-RF,RF\n202001,1,2\n202002,abc,2\n";
    fd_factor_table t;
    fd_error err;
    ASSERT_INT_EQ(fd_french_parse_raw(body, strlen(body), FD_UNITS_PERCENT, &t, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_number");
    ASSERT(strstr(err.message, "line 4, column 'Mkt-RF'") != NULL);
    fd_factor_table_free(&t);
    const char *ragged = ",Mkt-RF,RF\n202001,1,2\n202002,1\n";
    ASSERT_INT_EQ(fd_french_parse_raw(ragged, strlen(ragged), FD_UNITS_PERCENT, &t, &err), -1);
    ASSERT_STR_EQ(err.code, "ragged_row");
    ASSERT(strstr(err.message, "line 3") != NULL);
    fd_factor_table_free(&t);
    const char *dup = ",Mkt-RF\n202001,1\n202001,2\n";
    ASSERT_INT_EQ(fd_french_parse_raw(dup, strlen(dup), FD_UNITS_PERCENT, &t, &err), -1);
    ASSERT_STR_EQ(err.code, "duplicate_month");
    ASSERT(strstr(err.message, "line 3") != NULL && strstr(err.message, "line 2") != NULL);
    fd_factor_table_free(&t);
    const char *badmonth = ",Mkt-RF\n202013,1\n";
    ASSERT_INT_EQ(fd_french_parse_raw(badmonth, strlen(badmonth), FD_UNITS_PERCENT, &t, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_date");
    fd_factor_table_free(&t);
}

TEST(clean_csv_matches_raw_file) {
    fd_factor_table raw, clean;
    fd_error err;
    ASSERT_INT_EQ(parse_file("F-F_Research_Data_Factors.csv", 1, &raw, &err), 0);
    ASSERT_INT_EQ(parse_file("ff3_monthly_pct.csv", 0, &clean, &err), 0);
    ASSERT_INT_EQ(clean.n_months, raw.n_months);
    ASSERT_INT_EQ(clean.n_factors, raw.n_factors);
    ASSERT_INT_EQ(memcmp(clean.values, raw.values, raw.n_months * raw.n_factors * sizeof(double)), 0);
    fd_factor_table_free(&raw);
    fd_factor_table_free(&clean);
}

TEST(clean_csv_dates_units_and_sorting) {
    const char *body = "month,Mkt-RF,Mom\n2020-03,0.01,\n202001,0.02,NaN\n2020-02-29,0.03,0.5\n";
    fd_factor_table t;
    fd_error err;
    ASSERT_INT_EQ(fd_french_parse_csv(body, strlen(body), FD_UNITS_DECIMAL, &t, &err), 0);
    ASSERT_INT_EQ(t.n_months, 3);
    ASSERT_STR_EQ(t.months[0], "2020-01");
    ASSERT_STR_EQ(t.months[1], "2020-02");
    ASSERT_NEAR(value(&t, "2020-02", "Mom"), 0.5, 0);
    ASSERT(isnan(value(&t, "2020-03", "Mom")));
    fd_factor_table_free(&t);
    const char *bad = "date,Mkt-RF\n2020-02-30,1\n";
    ASSERT_INT_EQ(fd_french_parse_csv(bad, strlen(bad), FD_UNITS_DECIMAL, &t, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_date");
    fd_factor_table_free(&t);
    const char *inf = "date,Mkt-RF\n202001,inf\n";
    ASSERT_INT_EQ(fd_french_parse_csv(inf, strlen(inf), FD_UNITS_DECIMAL, &t, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_number");
    fd_factor_table_free(&t);
    const char *noheader = "202001,1\n";
    ASSERT_INT_EQ(fd_french_parse_csv(noheader, strlen(noheader), FD_UNITS_DECIMAL, &t, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_header");
    fd_factor_table_free(&t);
}

TEST(units_are_required_and_checked) {
    fd_units u;
    fd_error err;
    ASSERT_INT_EQ(fd_units_parse(NULL, &u, &err), -1);
    ASSERT_STR_EQ(err.code, "missing_units");
    ASSERT_INT_EQ(fd_units_parse("bps", &u, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_units");
    ASSERT_INT_EQ(fd_units_parse("percent", &u, &err), 0);
    ASSERT_INT_EQ(u, FD_UNITS_PERCENT);
    fd_factor_table t;
    const char *body = "date,Mkt-RF\n202001,1\n";
    ASSERT_INT_EQ(fd_french_parse_csv(body, strlen(body), FD_UNITS_UNSET, &t, &err), -1);
    ASSERT_STR_EQ(err.code, "missing_units");
    fd_factor_table_free(&t);
}

TEST(sniffing_raw_versus_clean) {
    ASSERT_INT_EQ(fd_french_is_raw("date,Mkt-RF\n", 12), 0);
    ASSERT_INT_EQ(fd_french_is_raw("\xEF\xBB\xBF\"Month\",x\n", 13), 0);
    ASSERT_INT_EQ(fd_french_is_raw("This file was created\r\n", 23), 1);
    ASSERT_INT_EQ(fd_french_is_raw(",Mkt-RF\n", 8), 1);
}

TEST(json_units_and_records) {
    const char *body = "{\"units\":\"percent\",\"factors\":[{\"month\":\"2020-02\",\"Mkt-RF\":2.5},"
                       "{\"month\":\"2020-01\",\"Mkt-RF\":null,\"RF\":0.1}]}";
    fd_factor_table t;
    fd_error err;
    ASSERT_INT_EQ(fd_french_parse_json(body, strlen(body), FD_UNITS_UNSET, &t, &err), 0);
    ASSERT_INT_EQ(t.n_months, 2);
    ASSERT_INT_EQ(t.n_factors, 2);
    ASSERT_NEAR(value(&t, "2020-02", "Mkt-RF"), 0.025, 1e-17);
    ASSERT(isnan(value(&t, "2020-02", "RF")));
    ASSERT(isnan(value(&t, "2020-01", "Mkt-RF")));
    ASSERT_NEAR(value(&t, "2020-01", "RF"), 0.001, 1e-18);
    fd_factor_table_free(&t);
    ASSERT_INT_EQ(fd_french_parse_json(body, strlen(body), FD_UNITS_DECIMAL, &t, &err), -1);
    ASSERT_STR_EQ(err.code, "units_conflict");
    fd_factor_table_free(&t);
    const char *nounits = "{\"factors\":[{\"month\":\"2020-01\",\"RF\":0.1}]}";
    ASSERT_INT_EQ(fd_french_parse_json(nounits, strlen(nounits), FD_UNITS_UNSET, &t, &err), -1);
    ASSERT_STR_EQ(err.code, "missing_units");
    fd_factor_table_free(&t);
    const char *bad[][2] = {
        {"{\"units\":\"decimal\",\"factors\":[{\"month\":\"2020-13\",\"RF\":1}]}", "bad_month"},
        {"{\"units\":\"decimal\",\"factors\":[{\"month\":\"2020-01\",\"RF\":\"1\"}]}", "bad_number"},
        {"{\"units\":\"decimal\",\"factors\":[{\"month\":\"2020-01\",\"RF\":1},{\"month\":\"2020-01\",\"RF\":2}]}",
         "duplicate_month"},
        {"{\"units\":\"decimal\",\"factors\":[\n{\"month\":]}", "bad_json"},
        {"{\"units\":\"bps\",\"factors\":[]}", "bad_units"},
        {"{\"units\":\"decimal\",\"factors\":[],\"extra\":1}", "unknown_field"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (fd_french_parse_json(bad[i][0], strlen(bad[i][0]), FD_UNITS_UNSET, &t, &err) != -1 ||
            strcmp(err.code, bad[i][1]) != 0) {
            tl_fail(__FILE__, __LINE__, "case %zu: wanted %s, got %s", i, bad[i][1], err.code);
            fd_factor_table_free(&t);
            return;
        }
        fd_factor_table_free(&t);
    }
}

TEST(writers_round_trip) {
    fd_factor_table t, back;
    fd_error err;
    ASSERT_INT_EQ(parse_file("F-F_Research_Data_5_Factors_2x3.csv", 1, &t, &err), 0);
    t.values[3] = NAN;
    char *text;
    size_t len;
    ASSERT_INT_EQ(fd_factors_write_csv(&t, &text, &len, &err), 0);
    ASSERT(strncmp(text, "date,Mkt-RF,SMB,HML,RMW,CMA,RF\n1963-07,-0.0039,-0.0048,-0.0081,,", 62) == 0);
    ASSERT_INT_EQ(fd_french_parse_csv(text, len, FD_UNITS_DECIMAL, &back, &err), 0);
    free(text);
    ASSERT_INT_EQ(back.n_months, t.n_months);
    ASSERT(isnan(back.values[3]));
    back.values[3] = t.values[3] = 0;
    ASSERT_INT_EQ(memcmp(back.values, t.values, t.n_months * t.n_factors * sizeof(double)), 0);
    fd_factor_table_free(&back);
    ASSERT_INT_EQ(fd_factors_write_json(&t, &text, &len, &err), 0);
    ASSERT_INT_EQ(fd_french_parse_json(text, len, FD_UNITS_UNSET, &back, &err), 0);
    free(text);
    ASSERT_INT_EQ(memcmp(back.values, t.values, t.n_months * t.n_factors * sizeof(double)), 0);
    fd_factor_table_free(&back);
    fd_factor_table_free(&t);
}

TEST_MAIN(T(raw_ff3_monthly_block_in_decimals), T(raw_ff5_and_momentum),
          T(raw_missing_markers_become_nan), T(raw_without_monthly_block_is_rejected),
          T(raw_bad_cells_name_the_line), T(clean_csv_matches_raw_file),
          T(clean_csv_dates_units_and_sorting), T(units_are_required_and_checked),
          T(sniffing_raw_versus_clean), T(json_units_and_records), T(writers_round_trip))
