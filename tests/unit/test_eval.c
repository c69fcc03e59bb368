/* src/eval statistics and decile portfolios against tests/data/eval_expected.json, which
 * tests/ref/eval_ref.py computes independently with numpy/scipy. Tolerance 1e-12 (same
 * double arithmetic, different order of operations). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "factord/eval_portfolio.h"
#include "factord/eval_stats.h"
#include "testlib.h"

#define TOL 1e-12

static json_t *expected;

static json_t *ref(void) {
    if (!expected) {
        json_error_t e;
        expected = json_load_file("tests/data/eval_expected.json", 0, &e);
        if (!expected) fprintf(stderr, "eval_expected.json: %s\n", e.text);
    }
    return expected;
}

/* JSON array of numbers/nulls into a malloc'd double array (null -> NaN). */
static double *vec(json_t *arr, size_t *n) {
    size_t i;
    json_t *v;
    double *out = malloc((json_array_size(arr) + 1) * sizeof *out);
    json_array_foreach(arr, i, v) out[i] = json_is_null(v) ? NAN : json_number_value(v);
    *n = json_array_size(arr);
    return out;
}

static double num(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    return !v || json_is_null(v) ? NAN : json_number_value(v);
}

static void check_series(const char *series, const char *stats_key) {
    size_t n;
    json_t *r = ref();
    double *x = vec(json_object_get(r, series), &n), mu, sd;
    json_t *s = json_object_get(r, stats_key);
    fd_stats_mean_sd(x, n, &mu, &sd, NULL);
    if (fabs(mu - num(s, "mean")) > TOL) tl_fail(__FILE__, __LINE__, "%s mean", series);
    if (fabs(sd - num(s, "sd")) > TOL) tl_fail(__FILE__, __LINE__, "%s sd", series);
    if (fabs(fd_stats_sharpe(x, n) - num(s, "sharpe")) > TOL) tl_fail(__FILE__, __LINE__, "sharpe");
    if (fabs(fd_stats_sortino(x, n) - num(s, "sortino")) > TOL) tl_fail(__FILE__, __LINE__, "sortino");
    if (fabs(fd_stats_max_drawdown(x, n) - num(s, "max_drawdown")) > TOL)
        tl_fail(__FILE__, __LINE__, "max drawdown %g vs %g", fd_stats_max_drawdown(x, n),
                num(s, "max_drawdown"));
    if (fabs(fd_stats_calmar(x, n) - num(s, "calmar")) > TOL) tl_fail(__FILE__, __LINE__, "calmar");
    if (fabs(fd_stats_tstat(x, n) - num(s, "tstat")) > TOL) tl_fail(__FILE__, __LINE__, "tstat");
    free(x);
}

TEST(series_statistics_match_numpy) {
    ASSERT(ref());
    check_series("a", "stats_a");
    check_series("b", "stats_b");
}

TEST(correlations_match_numpy_and_scipy) {
    size_t n;
    double *a = vec(json_object_get(ref(), "a"), &n), *b = vec(json_object_get(ref(), "b"), &n);
    double p = fd_stats_pearson(a, b, n), s = fd_stats_spearman(a, b, n);
    free(a);
    free(b);
    ASSERT_NEAR(p, num(ref(), "pearson"), TOL);
    ASSERT_NEAR(s, num(ref(), "spearman"), TOL);
}

TEST(jobson_korkie_memmel_matches_reference) {
    size_t n;
    fd_jk_result jk;
    json_t *e = json_object_get(ref(), "jk");
    double *a = vec(json_object_get(ref(), "a"), &n), *b = vec(json_object_get(ref(), "b"), &n);
    fd_stats_jobson_korkie(a, b, n, &jk);
    free(a);
    free(b);
    ASSERT_INT_EQ(jk.months, (long long)num(e, "months"));
    ASSERT_NEAR(jk.sharpe_a, num(e, "sharpe_a"), TOL);
    ASSERT_NEAR(jk.sharpe_b, num(e, "sharpe_b"), TOL);
    ASSERT_NEAR(jk.rho, num(e, "rho"), TOL);
    ASSERT_NEAR(jk.z, num(e, "z"), 1e-10);
    ASSERT_NEAR(jk.p_two_sided, num(e, "p_two_sided"), 1e-10);
    ASSERT_NEAR(jk.p_one_sided, num(e, "p_one_sided"), 1e-10);
}

TEST(constant_strategy_has_undefined_ratios) {
    double x[12];
    for (int i = 0; i < 12; i++) x[i] = 0.01;
    ASSERT(isnan(fd_stats_sharpe(x, 12)));
    ASSERT(isnan(fd_stats_sortino(x, 12)));  /* no downside */
    ASSERT(isnan(fd_stats_tstat(x, 12)));
    ASSERT_NEAR(fd_stats_max_drawdown(x, 12), 0.0, 0.0);
    ASSERT(isnan(fd_stats_calmar(x, 12)));
}

TEST(deciles_with_ties_and_missing_match_reference) {
    json_t *d = json_object_get(ref(), "deciles");
    size_t n, k;
    int nb = (int)json_integer_value(json_object_get(d, "nb"));
    double *er = vec(json_object_get(d, "er"), &n), *cap = vec(json_object_get(d, "mktcap"), &k);
    double *ret = vec(json_object_get(d, "ret"), &k), *eb = vec(json_object_get(d, "bucket"), &k);
    double *ew = vec(json_object_get(d, "ew"), &k), *vw = vec(json_object_get(d, "vw"), &k);
    double *ewr = vec(json_object_get(d, "ew_returns"), &k);
    double *vwr = vec(json_object_get(d, "vw_returns"), &k);
    int *bucket = malloc(n * sizeof *bucket);
    double *w = malloc(n * sizeof *w), out[10];
    size_t sorted = fd_portfolio_buckets(er, n, nb, bucket), no_cap;
    int ok = sorted == n - 1;
    for (size_t i = 0; i < n; i++) ok &= bucket[i] == (int)eb[i];
    fd_portfolio_weights(bucket, n, nb, FD_WEIGHT_EQUAL, NULL, w);
    for (size_t i = 0; i < n; i++) ok &= fabs(w[i] - ew[i]) <= TOL;
    fd_portfolio_bucket_returns(bucket, w, ret, n, nb, out);
    for (int b = 0; b < nb; b++) ok &= (isnan(out[b]) && isnan(ewr[b])) || fabs(out[b] - ewr[b]) <= TOL;
    no_cap = fd_portfolio_weights(bucket, n, nb, FD_WEIGHT_VALUE, cap, w);
    ok &= no_cap == (size_t)num(d, "vw_missing_cap");
    for (size_t i = 0; i < n; i++) ok &= fabs(w[i] - vw[i]) <= TOL;
    fd_portfolio_bucket_returns(bucket, w, ret, n, nb, out);
    for (int b = 0; b < nb; b++) ok &= (isnan(out[b]) && isnan(vwr[b])) || fabs(out[b] - vwr[b]) <= TOL;
    free(er); free(cap); free(ret); free(eb); free(ew); free(vw); free(ewr); free(vwr);
    free(bucket); free(w);
    ASSERT(ok);
}

TEST(tied_expected_returns_share_a_bucket) {
    double er[20];
    int bucket[20];
    for (int i = 0; i < 20; i++) er[i] = i < 4 ? 1.0 : (double)i;
    ASSERT_INT_EQ(fd_portfolio_buckets(er, 20, 10, bucket), 20);
    for (int i = 1; i < 4; i++) ASSERT_INT_EQ(bucket[i], bucket[0]);
    ASSERT_INT_EQ(bucket[19], 9);
}

TEST(month_with_fewer_securities_than_buckets_is_not_sorted) {
    double er[7] = {1, 2, 3, 4, 5, 6, 7};
    int bucket[7];
    ASSERT_INT_EQ(fd_portfolio_buckets(er, 7, 10, bucket), 0);
    for (int i = 0; i < 7; i++) ASSERT_INT_EQ(bucket[i], -1);
}

TEST(turnover_drifts_previous_weights) {
    json_t *t = json_object_get(ref(), "turnover");
    size_t n;
    double *pw = vec(json_object_get(t, "prev_w"), &n), *pr = vec(json_object_get(t, "prev_r"), &n);
    double *cw = vec(json_object_get(t, "cur_w"), &n);
    const char *pids[] = {"A", "B", "C", "D"}, *cids[] = {"B", "C", "E"};
    fd_leg prev = {4, pids, pw, pr}, cur = {3, cids, cw, NULL};
    double turn = fd_portfolio_turnover(&prev, &cur), from_cash = fd_portfolio_turnover(NULL, &cur);
    free(pw); free(pr); free(cw);
    ASSERT_NEAR(turn, num(t, "expected"), TOL);
    ASSERT_NEAR(from_cash, 1.0, TOL);
}

int main(int argc, char **argv) {
    static const tl_case cases[] = {
        T(series_statistics_match_numpy), T(correlations_match_numpy_and_scipy),
        T(jobson_korkie_memmel_matches_reference), T(constant_strategy_has_undefined_ratios),
        T(deciles_with_ties_and_missing_match_reference), T(tied_expected_returns_share_a_bucket),
        T(month_with_fewer_securities_than_buckets_is_not_sorted),
        T(turnover_drifts_previous_weights), {NULL, NULL}};
    int rc = tl_run(cases, argc, argv);
    json_decref(expected);
    return rc;
}
