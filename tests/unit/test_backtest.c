/* Backtest requests and their rolling windows (factord/backtest.h): parsing with defaults,
 * rejections naming the field, default start/end, and the window arithmetic for the seed
 * protocol, short data, gaps between test blocks and a cut last window. */
#include <jansson.h>
#include <stdlib.h>

#include "factord/backtest.h"
#include "testlib.h"

static json_t *body(const char *text) {
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j) fprintf(stderr, "bad test JSON: %s\n", je.text);
    return j;
}

/* Parses text; returns the status (0 on success) and fills err's message. */
static int parse(const char *text, fd_backtest_spec *s, fd_error *err) {
    json_t *j = body(text);
    int rc = fd_backtest_spec_parse(j, s, err);
    json_decref(j);
    return rc == 0 ? 0 : err->status;
}

static fd_backtest_spec plan_spec(int train, int valid, int test, int step, const char *start,
                                  const char *end) {
    fd_backtest_spec s;
    memset(&s, 0, sizeof s);
    s.train = train;
    s.valid = valid;
    s.test = test;
    s.step = step;
    snprintf(s.start, sizeof s.start, "%s", start);
    snprintf(s.end, sizeof s.end, "%s", end);
    return s;
}

TEST(parse_fills_seed_protocol_defaults) {
    fd_backtest_spec s;
    fd_error err;
    json_t *back;
    ASSERT_INT_EQ(parse("{\"name\":\"ipca-k3\",\"model\":{\"kind\":\"ipca\",\"k\":3}}", &s, &err), 0);
    ASSERT_STR_EQ(s.name, "ipca-k3");
    ASSERT_STR_EQ(s.kind, "ipca");
    ASSERT_INT_EQ(s.k, 3);
    ASSERT_INT_EQ(s.train, 240);
    ASSERT_INT_EQ(s.valid, 48);
    ASSERT_INT_EQ(s.test, 12);
    ASSERT_INT_EQ(s.step, 12);
    ASSERT_INT_EQ(s.n_buckets, 10);
    ASSERT_NEAR(s.cost, 0.003, 0);
    ASSERT_STR_EQ(s.start, "");
    ASSERT_STR_EQ(s.end, "");
    /* The JSON form parses back to the same spec (the job's params). */
    back = fd_backtest_spec_json(&s);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(back, "model"), "kind")),
                  "ipca");
    fd_backtest_spec_free(&s);
    ASSERT_INT_EQ(fd_backtest_spec_parse(back, &s, &err), 0);
    json_decref(back);
    ASSERT_INT_EQ(s.k, 3);
    ASSERT_INT_EQ(s.train, 240);
    fd_backtest_spec_free(&s);
}

TEST(parse_takes_every_field) {
    fd_backtest_spec s;
    fd_error err;
    ASSERT_INT_EQ(parse("{\"name\":\"a\",\"model\":{\"kind\":\"ca1\",\"k\":2,\"hyper\":{\"seed\":3},"
                        "\"columns\":[\"x\",\"y\"],\"excess_returns\":true},\"windows\":{\"train\":"
                        "24,\"valid\":0,\"test\":6},\"start\":\"2001-02\",\"end\":\"2010-12\","
                        "\"n\":5,\"cost\":0}",
                        &s, &err),
                  0);
    ASSERT_INT_EQ(s.valid, 0);
    ASSERT_INT_EQ(s.step, 6); /* defaults to test */
    ASSERT_STR_EQ(s.start, "2001-02");
    ASSERT_STR_EQ(s.end, "2010-12");
    ASSERT_INT_EQ(s.n_buckets, 5);
    ASSERT_NEAR(s.cost, 0, 0);
    ASSERT(json_is_true(json_object_get(s.model_spec, "excess_returns")));
    ASSERT_INT_EQ(json_array_size(json_object_get(s.model_spec, "columns")), 2);
    fd_backtest_spec_free(&s);
}

TEST(parse_rejects_bad_fields_by_name) {
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"[]", "object"},
        {"{\"model\":{\"kind\":\"ipca\",\"k\":1}}", "name"},
        {"{\"name\":\"a b\",\"model\":{\"kind\":\"ipca\",\"k\":1}}", "name"},
        {"{\"name\":\"a\"}", "model"},
        {"{\"name\":\"a\",\"model\":{\"kind\":\"ipca\",\"k\":1,\"name\":\"b\"}}", "model.name"},
        {"{\"name\":\"a\",\"model\":{\"kind\":\"ipca\",\"k\":0}}", "k"},
        {"{\"name\":\"a\",\"model\":{\"kind\":\"ipca\",\"k\":1},\"windows\":[]}", "windows"},
        {"{\"name\":\"a\",\"model\":{\"kind\":\"ipca\",\"k\":1},\"windows\":{\"test\":0}}",
         "windows.test"},
        {"{\"name\":\"a\",\"model\":{\"kind\":\"ipca\",\"k\":1},\"windows\":{\"valid\":-1}}",
         "windows.valid"},
        {"{\"name\":\"a\",\"model\":{\"kind\":\"ipca\",\"k\":1},\"windows\":{\"train\":1201}}",
         "windows.train"},
        {"{\"name\":\"a\",\"model\":{\"kind\":\"ipca\",\"k\":1},\"windows\":{\"test\":12,"
         "\"step\":6}}",
         "windows.step"},
        {"{\"name\":\"a\",\"model\":{\"kind\":\"ipca\",\"k\":1},\"windows\":{\"size\":6}}",
         "windows.size"},
        {"{\"name\":\"a\",\"model\":{\"kind\":\"ipca\",\"k\":1},\"start\":\"2001-1\"}", "start"},
        {"{\"name\":\"a\",\"model\":{\"kind\":\"ipca\",\"k\":1},\"end\":7}", "end"},
        {"{\"name\":\"a\",\"model\":{\"kind\":\"ipca\",\"k\":1},\"start\":\"2002-01\","
         "\"end\":\"2001-12\"}",
         "start"},
        {"{\"name\":\"a\",\"model\":{\"kind\":\"ipca\",\"k\":1},\"n\":101}", "n"},
        {"{\"name\":\"a\",\"model\":{\"kind\":\"ipca\",\"k\":1},\"cost\":1}", "cost"},
        {"{\"name\":\"a\",\"model\":{\"kind\":\"ipca\",\"k\":1},\"cost\":\"x\"}", "cost"},
        {"{\"name\":\"a\",\"model\":{\"kind\":\"ipca\",\"k\":1},\"seed\":1}", "seed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fd_backtest_spec s;
        fd_error err;
        int status = parse(cases[i].body, &s, &err);
        fd_backtest_spec_free(&s);
        if (status != 400 || !strstr(err.message, cases[i].field)) {
            tl_fail(__FILE__, __LINE__, "case %zu %s: status %d, message \"%s\" should name %s",
                    i, cases[i].body, status, status ? err.message : "", cases[i].field);
            return;
        }
    }
}

TEST(resolve_fills_only_missing_months) {
    fd_backtest_spec s = plan_spec(2, 0, 1, 1, "", "2005-06");
    fd_error err;
    ASSERT_INT_EQ(fd_backtest_resolve(&s, "2001-02", "2009-12", &err), 0);
    ASSERT_STR_EQ(s.start, "2001-02");
    ASSERT_STR_EQ(s.end, "2005-06");
    s = plan_spec(2, 0, 1, 1, "", "");
    ASSERT_INT_EQ(fd_backtest_resolve(&s, "", "", &err), -1);
    ASSERT_INT_EQ(err.status, 422);
    ASSERT_STR_EQ(err.code, "no_data");
}

TEST(seed_protocol_rolls_yearly_and_cuts_the_last_test_year) {
    /* Gu, Kelly and Xiu: 1957-03..2016-12, 20 years train, 4 validation, 1 test. */
    fd_backtest_spec s = plan_spec(240, 48, 12, 12, "1957-03", "2016-12");
    fd_backtest_window *w;
    fd_error err;
    size_t n;
    ASSERT_INT_EQ(fd_backtest_plan(&s, &w, &n, &err), 0);
    ASSERT_INT_EQ(n, 36);
    ASSERT_INT_EQ(w[0].idx, 0);
    ASSERT_STR_EQ(w[0].fit.train_from, "1957-03");
    ASSERT_STR_EQ(w[0].fit.train_to, "1977-02");
    ASSERT_STR_EQ(w[0].fit.valid_from, "1977-03");
    ASSERT_STR_EQ(w[0].fit.valid_to, "1981-02");
    ASSERT_STR_EQ(w[0].test_from, "1981-03");
    ASSERT_STR_EQ(w[0].test_to, "1982-02");
    ASSERT_STR_EQ(w[1].fit.train_from, "1958-03");
    ASSERT_STR_EQ(w[1].test_from, "1982-03");
    ASSERT_INT_EQ(w[35].idx, 35);
    ASSERT_STR_EQ(w[35].fit.train_from, "1992-03");
    ASSERT_STR_EQ(w[35].test_from, "2016-03");
    ASSERT_STR_EQ(w[35].test_to, "2016-12"); /* 10 months: the data end there */
    for (size_t i = 1; i < n; i++) /* consecutive test blocks, no overlap, no gap */
        ASSERT_INT_EQ(fd_month_diff(w[i - 1].test_to, w[i].test_from), 1);
    free(w);
}

TEST(a_window_needs_one_test_month) {
    fd_backtest_spec s = plan_spec(24, 6, 6, 6, "2000-02", "2002-12");
    fd_backtest_window *w;
    fd_error err;
    size_t n;
    /* 2000-02..2002-12 is 35 months: one window, its test block cut to 5 months. */
    ASSERT_INT_EQ(fd_backtest_plan(&s, &w, &n, &err), 0);
    ASSERT_INT_EQ(n, 1);
    ASSERT_STR_EQ(w[0].test_from, "2002-08");
    ASSERT_STR_EQ(w[0].test_to, "2002-12");
    free(w);
    /* 30 months hold training and validation but no test month. */
    s = plan_spec(24, 6, 6, 6, "2000-02", "2002-07");
    ASSERT_INT_EQ(fd_backtest_plan(&s, &w, &n, &err), -1);
    ASSERT_INT_EQ(err.status, 422);
    ASSERT_STR_EQ(err.code, "too_little_data");
    ASSERT(w == NULL && n == 0);
}

TEST(no_validation_block_and_a_step_longer_than_the_test_leave_gaps) {
    fd_backtest_spec s = plan_spec(12, 0, 2, 5, "2010-01", "2012-12");
    fd_backtest_window *w;
    fd_error err;
    size_t n;
    ASSERT_INT_EQ(fd_backtest_plan(&s, &w, &n, &err), 0);
    /* Tests start 2011-01, 2011-06, 2011-11, 2012-04, 2012-09. */
    ASSERT_INT_EQ(n, 5);
    ASSERT_STR_EQ(w[0].fit.valid_from, "");
    ASSERT_STR_EQ(w[0].fit.train_to, "2010-12");
    ASSERT_STR_EQ(w[0].test_from, "2011-01");
    ASSERT_STR_EQ(w[0].test_to, "2011-02");
    ASSERT_STR_EQ(w[1].fit.train_from, "2010-06");
    ASSERT_STR_EQ(w[1].test_from, "2011-06");
    ASSERT_STR_EQ(w[4].test_from, "2012-09");
    ASSERT_STR_EQ(w[4].test_to, "2012-10");
    free(w);
}

TEST(too_many_windows_is_refused) {
    fd_backtest_spec s = plan_spec(1, 0, 1, 1, "1900-01", "2000-12");
    fd_backtest_window *w;
    fd_error err;
    size_t n;
    ASSERT_INT_EQ(fd_backtest_plan(&s, &w, &n, &err), -1);
    ASSERT_STR_EQ(err.code, "too_many_windows");
}

TEST_MAIN(T(parse_fills_seed_protocol_defaults), T(parse_takes_every_field),
          T(parse_rejects_bad_fields_by_name), T(resolve_fills_only_missing_months),
          T(seed_protocol_rolls_yearly_and_cuts_the_last_test_year),
          T(a_window_needs_one_test_month),
          T(no_validation_block_and_a_step_longer_than_the_test_leave_gaps),
          T(too_many_windows_is_refused))
