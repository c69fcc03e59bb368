/* Daily bars -> monthly panels (include/factord/daily.h): the CSV reader, the monthly
 * aggregation and every characteristic against values computed by hand (formulas in the
 * comments) or, for the regression-based ones, by a separate textbook OLS in this file. */
#include <math.h>
#include <stdlib.h>

#include "factord/daily.h"
#include "testlib.h"

/* ---- helpers ---- */

static fd_bars *parse(const char *csv, fd_error *err) {
    fd_bars *b = fd_bars_new();
    if (fd_bars_read_buffer(b, csv, strlen(csv), err) != 0) {
        fd_bars_free(b);
        return NULL;
    }
    return b;
}

typedef struct built {
    fd_panel *p;
    size_t n;
    fd_daily_stats st;
} built;

/* policy NULL: the default outlier policy (cap at 100%). */
static int build_with(const fd_bars *bars, const char *from, const char *to,
                      const fd_outlier_policy *policy, built *out) {
    fd_daily_opts o = {.outliers = policy ? *policy : (fd_outlier_policy){0}};
    snprintf(o.from, sizeof o.from, "%s", from ? from : "");
    snprintf(o.to, sizeof o.to, "%s", to ? to : "");
    fd_error err;
    int rc = fd_daily_build(bars, &o, &out->p, &out->n, &out->st, &err);
    if (rc != 0) fprintf(stderr, "build: %s\n", err.message);
    return rc;
}

static int build(const fd_bars *bars, const char *from, const char *to, built *out) {
    return build_with(bars, from, to, NULL, out);
}

static void built_free(built *b) {
    for (size_t i = 0; i < b->n; i++) fd_panel_free(&b->p[i]);
    free(b->p);
    fd_daily_stats_free(&b->st);
}

static const fd_panel *month(const built *b, const char *key) {
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->p[i].month, key) == 0) return &b->p[i];
    return NULL;
}

/* Value of column `col` ("ret" for the return) for ticker id in month key; -1e300 when the
 * month or the row is absent, so an absent row never passes for a NaN. */
static double cell(const built *b, const char *key, const char *id, const char *col) {
    const fd_panel *p = month(b, key);
    if (!p) return -1e300;
    long r = fd_panel_row(p, id);
    if (r < 0) return -1e300;
    if (strcmp(col, "ret") == 0) return p->ret[r];
    long c = fd_panel_col(p, col);
    if (c < 0) return -1e300;
    return p->values[(size_t)r * p->n_cols + (size_t)c];
}

static void add(fd_bars *b, const char *t, int y, int m, int d, double close, double vol) {
    fd_bar bar = {fd_date_from_ymd(y, m, d), NAN, NAN, NAN, close, vol};
    fd_error err;
    if (fd_bars_add(b, t, &bar, 0, &err) != 0) fprintf(stderr, "add: %s\n", err.message);
}

/* ---- calendar ---- */

TEST(dates_round_trip_and_reject_impossible_days) {
    int32_t d;
    ASSERT_INT_EQ(fd_date_parse("1970-01-01", 10, &d), 0);
    ASSERT_INT_EQ(d, 0);
    ASSERT_INT_EQ(fd_date_parse("2020-02-29", 10, &d), 0);
    char out[FD_DATE_LEN];
    fd_date_format(d, out);
    ASSERT_STR_EQ(out, "2020-02-29");
    ASSERT_INT_EQ(fd_date_parse("2019-02-29", 10, &d), -1);
    ASSERT_INT_EQ(fd_date_parse("2020-13-01", 10, &d), -1);
    ASSERT_INT_EQ(fd_date_parse("2020-1-01", 9, &d), -1);
    ASSERT_INT_EQ(fd_date_parse("20200101xx", 10, &d), -1);
    fd_date_format(fd_date_from_ymd(1905, 3, 7), out);
    ASSERT_STR_EQ(out, "1905-03-07");
}

/* ---- CSV reader ---- */

TEST(csv_reads_rows_in_any_order_and_summarises) {
    fd_error err;
    fd_bars *b = parse("ticker,date,open,high,low,close,volume\n"
                       "BBB,2020-01-03,1,1,1,2.5,100\n"
                       "AAA,2020-01-03,,,,10,0\n"
                       "AAA,2020-01-02,9,11,8,9.5,300\r\n"
                       "\n",
                       &err);
    ASSERT(b != NULL);
    ASSERT_INT_EQ(fd_bars_count(b), 3);
    ASSERT_INT_EQ(fd_bars_n_tickers(b), 2);
    ASSERT_STR_EQ(fd_bars_ticker(b, 0), "AAA");
    size_t n;
    const fd_bar *s = fd_bars_series(b, 0, &n);
    ASSERT_INT_EQ(n, 2);
    ASSERT(s[0].date < s[1].date);
    ASSERT_NEAR(s[0].close, 9.5, 0);
    ASSERT(isnan(s[1].open));
    fd_bars_summary sum;
    fd_bars_summarize(b, &sum);
    ASSERT_INT_EQ(sum.rows, 3);
    ASSERT_INT_EQ(sum.zero_volume_days, 1);
    ASSERT_STR_EQ(sum.first_date, "2020-01-02");
    ASSERT_STR_EQ(sum.last_date, "2020-01-03");
    fd_bars_free(b);
}

TEST(csv_header_may_reorder_columns) {
    fd_error err;
    fd_bars *b = parse("Date,Ticker,Close,Volume,Open,High,Low\n2020-01-02,X,5,1,,,\n", &err);
    ASSERT(b != NULL);
    size_t n;
    ASSERT_NEAR(fd_bars_series(b, 0, &n)[0].close, 5, 0);
    fd_bars_free(b);
}

TEST(csv_duplicate_bar_names_both_lines) {
    fd_error err;
    fd_bars *b = parse("ticker,date,open,high,low,close,volume\n"
                       "AAA,2020-01-02,1,1,1,1,1\n"
                       "BBB,2020-01-02,1,1,1,1,1\n"
                       "AAA,2020-01-02,1,1,1,2,1\n",
                       &err);
    ASSERT(b == NULL);
    ASSERT_INT_EQ(err.status, 400);
    ASSERT_STR_EQ(err.code, "duplicate_bar");
    ASSERT(strstr(err.message, "line 4") != NULL);
    ASSERT(strstr(err.message, "first at line 2") != NULL);
}

static int rejects(const char *row, const char *code, const char *needle) {
    char csv[512];
    snprintf(csv, sizeof csv,
             "ticker,date,open,high,low,close,volume\nOK,2020-01-01,1,1,1,1,1\n%s\n", row);
    fd_error err;
    fd_bars *b = parse(csv, &err);
    if (b) {
        fd_bars_free(b);
        tl_fail(__FILE__, __LINE__, "accepted %s", row);
        return 0;
    }
    if (err.status != 400 || strcmp(err.code, code) != 0 || !strstr(err.message, "line 3") ||
        !strstr(err.message, needle)) {
        tl_fail(__FILE__, __LINE__, "%s: %d %s %s", row, err.status, err.code, err.message);
        return 0;
    }
    return 1;
}

TEST(csv_rejects_bad_rows_naming_the_line) {
    ASSERT(rejects("AAA,2020-01-02,1,1,1,0,5", "bad_bar", "close"));
    ASSERT(rejects("AAA,2020-01-02,1,1,1,-3,5", "bad_bar", "close"));
    ASSERT(rejects("AAA,2020-01-02,1,1,1,abc,5", "bad_bar", "close"));
    ASSERT(rejects("AAA,2020-01-02,1,1,1,,5", "bad_bar", "close"));
    ASSERT(rejects("AAA,2020-01-02,1,1,1,2,-1", "bad_bar", "volume"));
    ASSERT(rejects("AAA,2020-01-02,1,1,1,2,", "bad_bar", "volume"));
    ASSERT(rejects("AAA,2020-02-30,1,1,1,2,5", "bad_bar", "date"));
    ASSERT(rejects("AAA,2020-01-02,x,1,1,2,5", "bad_bar", "open"));
    ASSERT(rejects("A A,2020-01-02,1,1,1,2,5", "bad_bar", "ticker"));
    ASSERT(rejects("AAA,2020-01-02,1,1,1,2", "bad_csv", "fields"));
}

TEST(csv_rejects_bad_header_and_empty_input) {
    fd_error err;
    ASSERT(parse("ticker,date,close,volume\nA,2020-01-02,1,1\n", &err) == NULL);
    ASSERT_STR_EQ(err.code, "bad_csv");
    ASSERT(strstr(err.message, "open") != NULL);
    ASSERT(parse("ticker,date,open,high,low,close,volume,extra\n", &err) == NULL);
    ASSERT(strstr(err.message, "extra") != NULL);
    ASSERT(parse("", &err) == NULL);
    ASSERT_INT_EQ(err.status, 400);
}

/* ---- monthly aggregation ---- */

/* AAA trades through Jan..Mar 2020. February's last trading day is Fri 28 (29 is a
 * Saturday) and January's is Fri 31: ret(Feb) = 12.1 / 11 - 1 = 0.1, using the last close of
 * each month whatever its calendar day; ret(Mar) = 9.68 / 12.1 - 1 = -0.2. January is AAA's
 * first month: no previous close, so ret(Jan) is missing. BBB lists on Fri 14 Feb (a late
 * ticker, partial month): row in Feb with ret missing, ret(Mar) = 30 / 20 - 1 = 0.5. */
static const char *const two_tickers =
    "ticker,date,open,high,low,close,volume\n"
    "AAA,2020-01-30,,,,10,100\n"
    "AAA,2020-01-31,,,,11,100\n"
    "AAA,2020-02-03,,,,11.5,100\n"
    "AAA,2020-02-14,,,,11.8,100\n"
    "AAA,2020-02-28,,,,12.1,100\n"
    "AAA,2020-03-02,,,,12,100\n"
    "AAA,2020-03-31,,,,9.68,100\n"
    "BBB,2020-02-14,,,,25,10\n"
    "BBB,2020-02-28,,,,20,10\n"
    "BBB,2020-03-31,,,,30,10\n";

TEST(monthly_return_compounds_last_closes_across_holidays) {
    fd_error err;
    fd_bars *b = parse(two_tickers, &err);
    ASSERT(b != NULL);
    built o;
    ASSERT_INT_EQ(build(b, NULL, NULL, &o), 0);
    ASSERT_INT_EQ(o.n, 3);
    ASSERT_STR_EQ(o.p[0].month, "2020-01");
    ASSERT(o.p[0].mktcap == NULL);
    ASSERT_INT_EQ(o.p[0].n_cols, FD_DAILY_N_CHARS);
    ASSERT(isnan(cell(&o, "2020-01", "AAA", "ret")));
    ASSERT_NEAR(cell(&o, "2020-02", "AAA", "ret"), 0.1, 1e-12);
    ASSERT_NEAR(cell(&o, "2020-03", "AAA", "ret"), -0.2, 1e-12);
    ASSERT_NEAR(cell(&o, "2020-03", "AAA", "mom1m"), -0.2, 1e-12);
    built_free(&o);
    fd_bars_free(b);
}

TEST(late_ticker_gets_rows_from_its_first_month_with_ret_missing) {
    fd_error err;
    fd_bars *b = parse(two_tickers, &err);
    ASSERT(b != NULL);
    built o;
    ASSERT_INT_EQ(build(b, NULL, NULL, &o), 0);
    ASSERT(fd_panel_row(month(&o, "2020-01"), "BBB") < 0);
    ASSERT_INT_EQ(month(&o, "2020-02")->n_rows, 2);
    ASSERT_STR_EQ(month(&o, "2020-02")->ids[1], "BBB"); /* rows sorted by ticker */
    ASSERT(isnan(cell(&o, "2020-02", "BBB", "ret")));
    ASSERT_NEAR(cell(&o, "2020-03", "BBB", "ret"), 0.5, 1e-12);
    ASSERT_INT_EQ(o.st.late_tickers, 1);
    ASSERT_INT_EQ(o.st.ended_tickers, 0);
    ASSERT_INT_EQ(o.st.missing_ret, 2); /* AAA Jan, BBB Feb */
    ASSERT_INT_EQ(o.st.panel_rows, 5);
    ASSERT_INT_EQ(o.st.rows, 10);
    ASSERT_INT_EQ(o.st.tickers, 2);
    ASSERT_INT_EQ(o.st.months, 3);
    ASSERT_STR_EQ(o.st.first_month, "2020-01");
    ASSERT_STR_EQ(o.st.last_month, "2020-03");
    built_free(&o);
    fd_bars_free(b);
}

/* A month is partial when the last bar of the input in it comes more than 4 days before
 * its last day. 2021-05-31 is Memorial Day (a Monday): bars through Friday 28th make May
 * complete (3 days). June's bars stop on Thursday 10th: June is partial through 06-10. A
 * ticker that stops trading (EEE, last bar 2021-04-15) does not make April partial. */
TEST(a_month_the_bars_end_inside_is_partial) {
    fd_error err;
    fd_bars *b = parse("ticker,date,open,high,low,close,volume\n"
                       "DDD,2021-04-30,,,,10,5\n"
                       "DDD,2021-05-28,,,,11,5\n"
                       "DDD,2021-06-10,,,,12,5\n"
                       "EEE,2021-04-01,,,,5,5\n"
                       "EEE,2021-04-15,,,,6,5\n",
                       &err);
    ASSERT(b != NULL);
    built o;
    ASSERT_INT_EQ(build(b, NULL, NULL, &o), 0);
    ASSERT_STR_EQ(month(&o, "2021-04")->partial_through, "");
    ASSERT_STR_EQ(month(&o, "2021-05")->partial_through, "");
    ASSERT_STR_EQ(month(&o, "2021-06")->partial_through, "2021-06-10");
    ASSERT_INT_EQ(o.st.partial_months, 1);
    ASSERT_STR_EQ(o.st.partial[0].month, "2021-06");
    ASSERT_STR_EQ(o.st.partial[0].through, "2021-06-10");
    json_t *doc = fd_daily_stats_json(&o.st);
    json_t *p = json_array_get(json_object_get(doc, "partial"), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(p, "through")), "2021-06-10");
    ASSERT_INT_EQ(json_integer_value(json_object_get(json_object_get(doc, "counts"),
                                                     "partial_months")),
                  1);
    json_decref(doc);
    built_free(&o);
    /* Built up to May only, nothing is partial. */
    ASSERT_INT_EQ(build(b, NULL, "2021-05", &o), 0);
    ASSERT_INT_EQ(o.st.partial_months, 0);
    built_free(&o);
    fd_bars_free(b);
}

/* The universe calendar is every day anyone traded: AAA's seven days. BBB, listed from
 * Feb 14, lacks Mar 2 between its Feb 28 and Mar 31 bars: one gap day (days before its
 * listing are not gaps). BBB's March is a single-day month. */
TEST(gaps_and_single_day_months_are_counted) {
    fd_error err;
    fd_bars *b = parse(two_tickers, &err);
    ASSERT(b != NULL);
    built o;
    ASSERT_INT_EQ(build(b, NULL, NULL, &o), 0);
    ASSERT_INT_EQ(o.st.gap_days, 1);
    ASSERT_INT_EQ(o.st.single_day_months, 1); /* BBB, March */
    built_free(&o);
    fd_bars_free(b);
}

/* CCC doubles and more in February: ret = 25 / 10 - 1 = 1.5, an outlier (> 100%). By
 * default it is capped at 1.0 before it is stored and before momentum compounds it, counted
 * and listed; `drop` stores it as missing, `keep` as 1.5, and a threshold of 0.8 caps it at
 * 0.8. Its March bar comes 20 days after the last February one: that daily return spans more
 * than 14 days, so it is dropped (a long gap) although the monthly return (25 -> 30 = 0.2)
 * stands. */
TEST(monthly_outliers_are_capped_by_default_counted_and_listed) {
    fd_error err;
    fd_bars *b = parse("ticker,date,open,high,low,close,volume\n"
                       "CCC,2020-01-31,,,,10,5\n"
                       "CCC,2020-02-03,,,,24,5\n"
                       "CCC,2020-02-10,,,,25,5\n"
                       "CCC,2020-03-01,,,,30,5\n",
                       &err);
    ASSERT(b != NULL);
    built o;
    ASSERT_INT_EQ(build(b, NULL, NULL, &o), 0);
    ASSERT_NEAR(cell(&o, "2020-02", "CCC", "ret"), 1.0, 1e-15);
    ASSERT_NEAR(cell(&o, "2020-02", "CCC", "mom1m"), 1.0, 1e-15);
    ASSERT_INT_EQ(o.st.ret_over_100pct, 1);
    ASSERT_INT_EQ(o.st.daily_ret_over_100pct, 1); /* 24 / 10 - 1 = 1.4: daily returns stay */
    ASSERT_INT_EQ(o.st.outliers.policy.action, FD_OUTLIER_CAP);
    ASSERT_NEAR(o.st.outliers.policy.threshold, 1.0, 0);
    ASSERT_INT_EQ(o.st.outliers.count, 1);
    ASSERT_INT_EQ(o.st.outliers.n_rows, 1);
    ASSERT_STR_EQ(o.st.outliers.rows[0].id, "CCC");
    ASSERT_STR_EQ(o.st.outliers.rows[0].month, "2020-02");
    ASSERT_NEAR(o.st.outliers.rows[0].ret, 1.5, 1e-12);
    ASSERT_INT_EQ(o.st.long_gaps, 1);
    ASSERT(isnan(cell(&o, "2020-03", "CCC", "maxret")));
    ASSERT_NEAR(cell(&o, "2020-03", "CCC", "ret"), 0.2, 1e-12);
    json_t *doc = fd_daily_stats_json(&o.st);
    json_t *row = json_array_get(json_object_get(json_object_get(doc, "outliers"), "rows"), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(row, "id")), "CCC");
    ASSERT_NEAR(json_real_value(json_object_get(row, "ret")), 1.5, 1e-12);
    ASSERT_NEAR(json_real_value(json_object_get(row, "stored")), 1.0, 0);
    json_decref(doc);
    built_free(&o);

    fd_outlier_policy drop = {FD_OUTLIER_DROP, 0}, keep = {FD_OUTLIER_KEEP, 0};
    fd_outlier_policy cap08 = {FD_OUTLIER_CAP, 0.8};
    ASSERT_INT_EQ(build_with(b, NULL, NULL, &drop, &o), 0);
    ASSERT(isnan(cell(&o, "2020-02", "CCC", "ret")));
    ASSERT(isnan(cell(&o, "2020-02", "CCC", "mom1m")));
    ASSERT_INT_EQ(o.st.outliers.count, 1);
    built_free(&o);
    ASSERT_INT_EQ(build_with(b, NULL, NULL, &keep, &o), 0);
    ASSERT_NEAR(cell(&o, "2020-02", "CCC", "ret"), 1.5, 1e-12);
    ASSERT_INT_EQ(o.st.outliers.count, 1);
    built_free(&o);
    ASSERT_INT_EQ(build_with(b, NULL, NULL, &cap08, &o), 0);
    ASSERT_NEAR(cell(&o, "2020-02", "CCC", "ret"), 0.8, 1e-12);
    ASSERT_NEAR(cell(&o, "2020-02", "CCC", "mom1m"), 0.8, 1e-12);
    ASSERT_INT_EQ(o.st.ret_over_100pct, 1);
    ASSERT_INT_EQ(o.st.outliers.count, 1);
    built_free(&o);
    /* Months outside the build feed momentum capped too, but are not reported. */
    ASSERT_INT_EQ(build(b, "2020-03", NULL, &o), 0);
    ASSERT_INT_EQ(o.st.outliers.count, 0);
    built_free(&o);
    fd_bars_free(b);
}

/* DDD, March 2020, after two February bars (close 100; volumes 1000 and 3000):
 *   day      close   volume  r = c/c_prev - 1   dollar volume c*v
 *   03-02    110     1000     0.1               110000
 *   03-03     99     2000    -0.1               198000
 *   03-04    108.9      0     0.1                    0   (zero volume)
 *   03-05    108.9   1000     0                 108900
 *   03-06    119.79   500     0.1                59895
 *   03-09    119.79  1000     0                 119790
 * maxret = 0.1; retvol = sample sd of the six r: sum r = 0.2, sum r^2 = 0.04,
 *   var = (0.04 - 0.2^2 / 6) / 5 = 1/150, retvol = sqrt(1/150);
 * dolvol = ln(Feb dollar volume) = ln(100*1000 + 100*3000) = ln(400000);
 * std_dolvol = sample sd of ln(dollar volume) over the 5 days with volume > 0;
 * ill = mean over those 5 days of |r| / (c*v) = (0.1/110000 + 0.1/198000 + 0 + 0.1/59895
 *   + 0) / 5;
 * zerotrade = 1 zero-volume day * 21 / 6 days = 3.5;
 * mom1m = ret(Mar) = 119.79 / 100 - 1 = 0.1979. */
TEST(daily_characteristics_match_hand_computation) {
    fd_error err;
    fd_bars *b = parse("ticker,date,open,high,low,close,volume\n"
                       "DDD,2020-02-27,,,,100,1000\n"
                       "DDD,2020-02-28,,,,100,3000\n"
                       "DDD,2020-03-02,,,,110,1000\n"
                       "DDD,2020-03-03,,,,99,2000\n"
                       "DDD,2020-03-04,,,,108.9,0\n"
                       "DDD,2020-03-05,,,,108.9,1000\n"
                       "DDD,2020-03-06,,,,119.79,500\n"
                       "DDD,2020-03-09,,,,119.79,1000\n",
                       &err);
    ASSERT(b != NULL);
    built o;
    ASSERT_INT_EQ(build(b, NULL, NULL, &o), 0);
    const char *m = "2020-03";
    ASSERT_NEAR(cell(&o, m, "DDD", "maxret"), 0.1, 1e-12);
    ASSERT_NEAR(cell(&o, m, "DDD", "retvol"), sqrt(1.0 / 150), 1e-12);
    ASSERT_NEAR(cell(&o, m, "DDD", "dolvol"), log(400000.0), 1e-12);
    double l[5] = {log(110000.0), log(198000.0), log(108900.0), log(59895.0), log(119790.0)};
    double mean = (l[0] + l[1] + l[2] + l[3] + l[4]) / 5, ss = 0;
    for (int i = 0; i < 5; i++) ss += (l[i] - mean) * (l[i] - mean);
    ASSERT_NEAR(cell(&o, m, "DDD", "std_dolvol"), sqrt(ss / 4), 1e-12);
    ASSERT_NEAR(cell(&o, m, "DDD", "ill"), (0.1 / 110000 + 0.1 / 198000 + 0.1 / 59895) / 5,
                1e-18);
    ASSERT_NEAR(cell(&o, m, "DDD", "zerotrade"), 3.5, 1e-12);
    ASSERT_NEAR(cell(&o, m, "DDD", "mom1m"), 0.1979, 1e-12);
    ASSERT_INT_EQ(o.st.zero_volume_days, 1);
    /* February: two bars, one daily return (0): under the 5 observations retvol needs. */
    ASSERT(isnan(cell(&o, "2020-02", "DDD", "retvol")));
    ASSERT_NEAR(cell(&o, "2020-02", "DDD", "maxret"), 0, 0);
    ASSERT_NEAR(cell(&o, "2020-02", "DDD", "zerotrade"), 0, 0);
    ASSERT(isnan(cell(&o, "2020-02", "DDD", "dolvol"))); /* no January */
    ASSERT(isnan(cell(&o, m, "DDD", "beta")));          /* one ticker, 2 weeks */
    built_free(&o);
    fd_bars_free(b);
}

/* MOM has one bar per month (every month is a single-day month), on the 15th, from
 * 2015-01 (k = 0) to 2018-12 (k = 47), close c_k = 100 + 10 sin(k) + k. With returns in
 * every month, compounding telescopes into ratios of closes, so for month k:
 *   mom1m  = c_k / c_{k-1} - 1            mom6m  = c_{k-1} / c_{k-6} - 1
 *   mom12m = c_{k-1} / c_{k-12} - 1       mom36m = c_{k-12} / c_{k-36} - 1
 *   chmom  = (c_k / c_{k-6} - 1) - (c_{k-6} / c_{k-12} - 1)
 * and each is missing while its window reaches before 2015-01. */
static double mom_close(int k) { return 100 + 10 * sin(k) + k; }

static fd_bars *momentum_bars(int months) {
    fd_bars *b = fd_bars_new();
    for (int k = 0; k < months; k++)
        add(b, "MOM", 2015 + k / 12, k % 12 + 1, 15, mom_close(k), 1e6);
    fd_error err;
    fd_bars_finish(b, &err);
    return b;
}

TEST(momentum_windows_skip_as_documented) {
    fd_bars *b = momentum_bars(48);
    built o;
    ASSERT_INT_EQ(build(b, NULL, NULL, &o), 0);
    ASSERT_INT_EQ(o.n, 48);
    ASSERT_INT_EQ(o.st.single_day_months, 48);
    double (*c)(int) = mom_close;
    int k = 40; /* 2018-05 */
    const char *m = "2018-05";
    ASSERT_NEAR(cell(&o, m, "MOM", "mom1m"), c(k) / c(k - 1) - 1, 1e-12);
    ASSERT_NEAR(cell(&o, m, "MOM", "mom6m"), c(k - 1) / c(k - 6) - 1, 1e-12);
    ASSERT_NEAR(cell(&o, m, "MOM", "mom12m"), c(k - 1) / c(k - 12) - 1, 1e-12);
    ASSERT_NEAR(cell(&o, m, "MOM", "mom36m"), c(k - 12) / c(k - 36) - 1, 1e-12);
    ASSERT_NEAR(cell(&o, m, "MOM", "chmom"),
                (c(k) / c(k - 6) - 1) - (c(k - 6) / c(k - 12) - 1), 1e-12);
    /* 2015-06 (k = 5): mom6m needs c_{k-6} = c_{-1}: missing; 2015-07 (k = 6) has it. */
    ASSERT(isnan(cell(&o, "2015-06", "MOM", "mom6m")));
    ASSERT_NEAR(cell(&o, "2015-07", "MOM", "mom6m"), c(5) / c(0) - 1, 1e-12);
    ASSERT(isnan(cell(&o, "2015-12", "MOM", "mom12m")));
    ASSERT_NEAR(cell(&o, "2016-01", "MOM", "mom12m"), c(11) / c(0) - 1, 1e-12);
    ASSERT(isnan(cell(&o, "2017-12", "MOM", "mom36m")));
    ASSERT_NEAR(cell(&o, "2018-01", "MOM", "mom36m"), c(24) / c(0) - 1, 1e-12);
    ASSERT(isnan(cell(&o, "2015-12", "MOM", "chmom")));
    ASSERT_NEAR(cell(&o, "2016-01", "MOM", "chmom"), (c(12) / c(6) - 1) - (c(6) / c(0) - 1),
                1e-12);
    /* dolvol uses the previous month: ln(c_{k-1} * 1e6). */
    ASSERT_NEAR(cell(&o, m, "MOM", "dolvol"), log(c(k - 1) * 1e6), 1e-12);
    built_free(&o);
    fd_bars_free(b);
}

TEST(momentum_is_missing_across_a_missing_month) {
    fd_bars *b = fd_bars_new();
    for (int k = 0; k < 14; k++)
        if (k != 3) add(b, "GAP", 2015 + k / 12, k % 12 + 1, 15, mom_close(k), 1e6);
    fd_error err;
    ASSERT_INT_EQ(fd_bars_finish(b, &err), 0);
    built o;
    ASSERT_INT_EQ(build(b, NULL, NULL, &o), 0);
    ASSERT(month(&o, "2015-04") == NULL);            /* nobody traded in April */
    ASSERT(isnan(cell(&o, "2015-05", "GAP", "ret"))); /* no close at the end of April */
    ASSERT(isnan(cell(&o, "2015-10", "GAP", "mom6m"))); /* window 2015-05..09 lacks May */
    ASSERT_NEAR(cell(&o, "2015-11", "GAP", "mom6m"), mom_close(9) / mom_close(4) - 1, 1e-12);
    built_free(&o);
    fd_bars_free(b);
}

/* ---- beta, betasq, idiovol ---- */

/* Weekly bars on Wednesdays from 2019-01-02 (week 0) for 70 weeks. A's weekly return in
 * week k >= 1 is a_k, FLAT's is 0, C's is c_k. Every ticker trades once a week on the same
 * day, so the equal-weighted daily market is the weekly market: m_k = mean of the weekly
 * returns of the tickers present. */
static double wa(int k) { return 0.02 * sin(0.7 * k) + 0.01 * cos(1.3 * k); }
static double wc(int k) { return 0.5 * wa(k) + 0.01 * ((k % 3) - 1); }

static fd_bars *weekly_bars(int with_c) {
    fd_bars *b = fd_bars_new();
    int32_t d0 = fd_date_from_ymd(2019, 1, 2);
    double pa = 100, pc = 50;
    for (int k = 0; k < 70; k++) {
        if (k > 0) {
            pa *= 1 + wa(k);
            pc *= 1 + wc(k);
        }
        int y, m, d;
        fd_date_to_ymd(d0 + 7 * k, &y, &m, &d);
        add(b, "A", y, m, d, pa, 1000);
        add(b, "FLAT", y, m, d, 20, 1000);
        if (with_c) add(b, "C", y, m, d, pc, 1000);
    }
    fd_error err;
    fd_bars_finish(b, &err);
    return b;
}

/* With A and FLAT only, m_k = a_k / 2 exactly: beta(A) = 2, residuals 0; beta(FLAT) = 0. */
TEST(beta_against_equal_weighted_market_by_hand) {
    fd_bars *b = weekly_bars(0);
    built o;
    ASSERT_INT_EQ(build(b, NULL, NULL, &o), 0);
    /* 2020-03: weeks 1..64 carry returns (week 65 = 2020-04-01 is after the month end). */
    ASSERT_NEAR(cell(&o, "2020-03", "A", "beta"), 2.0, 1e-9);
    ASSERT_NEAR(cell(&o, "2020-03", "A", "betasq"), 4.0, 1e-8);
    ASSERT_NEAR(cell(&o, "2020-03", "A", "idiovol"), 0.0, 1e-9);
    ASSERT_NEAR(cell(&o, "2020-03", "FLAT", "beta"), 0.0, 1e-12);
    /* 2019-12-31: weeks 1..52 (2019-12-25 is week 51; 2020-01-01 week 52 is after) = 51
     * weekly returns < 52: missing. 2020-01: weeks 1..56, enough. */
    ASSERT(isnan(cell(&o, "2019-12", "A", "beta")));
    ASSERT(isnan(cell(&o, "2019-12", "A", "idiovol")));
    ASSERT(!isnan(cell(&o, "2020-01", "A", "beta")));
    built_free(&o);
    fd_bars_free(b);
}

/* Three tickers: reference OLS of y_k on m_k = (a_k + 0 + c_k) / 3 over weeks 1..K:
 * beta = S_xy / S_xx, idiovol = sqrt(sum e^2 / (K - 2)). */
static void ols(int K, double (*y)(int), double *beta, double *idio) {
    double sx = 0, sy = 0;
    for (int k = 1; k <= K; k++) {
        sx += (wa(k) + wc(k)) / 3;
        sy += y(k);
    }
    double mx = sx / K, my = sy / K, sxx = 0, sxy = 0;
    for (int k = 1; k <= K; k++) {
        double x = (wa(k) + wc(k)) / 3 - mx;
        sxx += x * x;
        sxy += x * (y(k) - my);
    }
    *beta = sxy / sxx;
    double a = my - *beta * mx, sse = 0;
    for (int k = 1; k <= K; k++) {
        double e = y(k) - a - *beta * (wa(k) + wc(k)) / 3;
        sse += e * e;
    }
    *idio = sqrt(sse / (K - 2));
}

TEST(beta_and_idiovol_match_reference_ols) {
    fd_bars *b = weekly_bars(1);
    built o;
    ASSERT_INT_EQ(build(b, NULL, NULL, &o), 0);
    double beta, idio;
    ols(64, wc, &beta, &idio); /* 2020-03: weeks 1..64 */
    ASSERT_NEAR(cell(&o, "2020-03", "C", "beta"), beta, 1e-9);
    ASSERT_NEAR(cell(&o, "2020-03", "C", "betasq"), beta * beta, 1e-9);
    ASSERT_NEAR(cell(&o, "2020-03", "C", "idiovol"), idio, 1e-9);
    ASSERT(idio > 1e-3); /* the check has teeth: C is not a multiple of the market */
    ols(60, wa, &beta, &idio); /* 2020-02-26 is week 60 */
    ASSERT_NEAR(cell(&o, "2020-02", "A", "beta"), beta, 1e-9);
    ASSERT_NEAR(cell(&o, "2020-02", "A", "idiovol"), idio, 1e-9);
    built_free(&o);
    fd_bars_free(b);
}

/* ---- incremental builds ---- */

static int panels_equal(const fd_panel *a, const fd_panel *b) {
    if (strcmp(a->month, b->month) || a->n_rows != b->n_rows || a->n_cols != b->n_cols) return 0;
    for (size_t i = 0; i < a->n_rows; i++) {
        if (strcmp(a->ids[i], b->ids[i])) return 0;
        if (memcmp(&a->ret[i], &b->ret[i], sizeof(double))) return 0;
    }
    return memcmp(a->values, b->values, a->n_rows * a->n_cols * sizeof(double)) == 0;
}

/* Bars of the three weekly tickers plus MOM (to 2020-04): a full build against a build of the last
 * months only, first from all bars, then from only the bars since
 * fd_daily_history_start(from), as the store does for an incremental build. */
TEST(incremental_build_equals_full_build_for_new_months) {
    fd_bars *w = weekly_bars(1);
    fd_bars *all = fd_bars_new(), *recent = fd_bars_new();
    char start[FD_DATE_LEN];
    fd_daily_history_start("2020-03", start);
    ASSERT_STR_EQ(start, "2017-02-01");
    int32_t start_day;
    ASSERT_INT_EQ(fd_date_parse(start, 10, &start_day), 0);
    fd_bars *m = momentum_bars(64); /* to 2020-04 */
    const fd_bars *src[2] = {w, m};
    fd_error err;
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < fd_bars_n_tickers(src[s]); i++) {
            size_t n;
            const fd_bar *bars = fd_bars_series(src[s], i, &n);
            for (size_t k = 0; k < n; k++) {
                ASSERT_INT_EQ(fd_bars_add(all, fd_bars_ticker(src[s], i), &bars[k], 0, &err), 0);
                if (bars[k].date >= start_day)
                    ASSERT_INT_EQ(
                        fd_bars_add(recent, fd_bars_ticker(src[s], i), &bars[k], 0, &err), 0);
            }
        }
    ASSERT_INT_EQ(fd_bars_finish(all, &err), 0);
    ASSERT_INT_EQ(fd_bars_finish(recent, &err), 0);
    built full, inc, inc2;
    ASSERT_INT_EQ(build(all, NULL, NULL, &full), 0);
    ASSERT_INT_EQ(build(all, "2020-03", NULL, &inc), 0);
    ASSERT_INT_EQ(build(recent, "2020-03", NULL, &inc2), 0);
    ASSERT_INT_EQ(inc.n, 2); /* 2020-03, 2020-04 (last bars 2020-04-15 and 04-29) */
    ASSERT_INT_EQ(inc2.n, 2);
    ASSERT_STR_EQ(inc.st.first_month, "2020-03");
    for (size_t i = 0; i < inc.n; i++) {
        const fd_panel *f = month(&full, inc.p[i].month);
        ASSERT(f != NULL);
        ASSERT(panels_equal(f, &inc.p[i]));
        ASSERT(panels_equal(f, &inc2.p[i]));
    }
    /* the comparison is not vacuous: the new months hold betas and 36-month momentum */
    ASSERT(!isnan(cell(&inc2, "2020-03", "C", "beta")));
    ASSERT(!isnan(cell(&inc2, "2020-03", "MOM", "mom36m")));
    built_free(&full);
    built_free(&inc);
    built_free(&inc2);
    fd_bars_free(all);
    fd_bars_free(recent);
    fd_bars_free(w);
    fd_bars_free(m);
}

TEST(build_range_and_empty_input_errors) {
    fd_bars *b = fd_bars_new();
    fd_error err;
    ASSERT_INT_EQ(fd_bars_finish(b, &err), 0);
    fd_panel *p;
    size_t n;
    ASSERT_INT_EQ(fd_daily_build(b, NULL, &p, &n, NULL, &err), -1);
    ASSERT_INT_EQ(err.status, 422);
    ASSERT_STR_EQ(err.code, "no_bars");
    fd_bars_free(b);
    b = momentum_bars(48);
    fd_daily_opts o = {.from = "2030-01"};
    ASSERT_INT_EQ(fd_daily_build(b, &o, &p, &n, NULL, &err), -1);
    ASSERT_INT_EQ(err.status, 422);
    fd_daily_opts bad = {.from = "2020-13"};
    ASSERT_INT_EQ(fd_daily_build(b, &bad, &p, &n, NULL, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_month");
    fd_daily_opts one = {.from = "2016-02", .to = "2016-02"};
    ASSERT_INT_EQ(fd_daily_build(b, &one, &p, &n, NULL, &err), 0);
    ASSERT_INT_EQ(n, 1);
    ASSERT_STR_EQ(p[0].month, "2016-02");
    fd_panel_free(&p[0]);
    free(p);
    fd_bars_free(b);
}

TEST_MAIN(T(dates_round_trip_and_reject_impossible_days),
          T(csv_reads_rows_in_any_order_and_summarises), T(csv_header_may_reorder_columns),
          T(csv_duplicate_bar_names_both_lines), T(csv_rejects_bad_rows_naming_the_line),
          T(csv_rejects_bad_header_and_empty_input),
          T(monthly_return_compounds_last_closes_across_holidays),
          T(late_ticker_gets_rows_from_its_first_month_with_ret_missing),
          T(gaps_and_single_day_months_are_counted), T(a_month_the_bars_end_inside_is_partial),
          T(monthly_outliers_are_capped_by_default_counted_and_listed),
          T(daily_characteristics_match_hand_computation),
          T(momentum_windows_skip_as_documented), T(momentum_is_missing_across_a_missing_month),
          T(beta_against_equal_weighted_market_by_hand),
          T(beta_and_idiovol_match_reference_ols),
          T(incremental_build_equals_full_build_for_new_months),
          T(build_range_and_empty_input_errors))
