/* The outlier policy (include/factord/outliers.h): what each action stores, the count, the
 * bounded listing of the largest outliers and the parameter parser. */
#include <math.h>
#include <stdlib.h>

#include "factord/outliers.h"
#include "testlib.h"

TEST(each_action_stores_what_it_says) {
    fd_outlier_log cap, drop, keep;
    fd_outlier_policy d = {FD_OUTLIER_DROP, 0.5}, k = {FD_OUTLIER_KEEP, 0};
    fd_outlier_log_init(&cap, NULL);
    fd_outlier_log_init(&drop, &d);
    fd_outlier_log_init(&keep, &k);
    ASSERT_NEAR(cap.policy.threshold, 1.0, 0);
    ASSERT_NEAR(fd_outlier_apply(&cap, "A", "2020-01", 8205.17, 1), 1.0, 0);
    ASSERT_NEAR(fd_outlier_apply(&cap, "A", "2020-02", 0.99, 1), 0.99, 0);
    ASSERT(isnan(fd_outlier_apply(&cap, "A", "2020-03", NAN, 1)));
    ASSERT_NEAR(fd_outlier_apply(&drop, "A", "2020-01", -0.4, 1), -0.4, 0);
    ASSERT(isnan(fd_outlier_apply(&drop, "B", "2020-01", -0.6, 1)));
    ASSERT_NEAR(fd_outlier_apply(&keep, "A", "2020-01", 3.0, 1), 3.0, 0);
    ASSERT_INT_EQ(cap.count, 1);
    ASSERT_INT_EQ(drop.count, 1);
    ASSERT_INT_EQ(keep.count, 1);
    /* Not noted: applied, not counted. */
    ASSERT_NEAR(fd_outlier_apply(&cap, "A", "2019-12", -5.0, 0), -1.0, 0);
    ASSERT_INT_EQ(cap.count, 1);
    fd_outlier_log_free(&cap);
    fd_outlier_log_free(&drop);
    fd_outlier_log_free(&keep);
}

/* 1,500 outliers 1.001, 1.002, ...: all counted, the 1,000 largest listed, largest first. */
TEST(the_listing_keeps_the_largest_and_is_bounded) {
    fd_outlier_log log;
    fd_outlier_log_init(&log, NULL);
    for (int i = 1; i <= 1500; i++) {
        char id[16];
        snprintf(id, sizeof id, "S%04d", i);
        fd_outlier_apply(&log, id, "2020-01", 1.0 + i * 1e-3, 1);
    }
    ASSERT_INT_EQ(log.count, 1500);
    ASSERT_INT_EQ(log.n_rows, FD_OUTLIER_LISTED);
    json_t *doc = fd_outlier_log_json(&log);
    json_t *rows = json_object_get(doc, "rows");
    ASSERT_INT_EQ(json_array_size(rows), FD_OUTLIER_LISTED);
    ASSERT(json_is_true(json_object_get(doc, "truncated")));
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(rows, 0), "id")), "S1500");
    ASSERT_STR_EQ(json_string_value(json_object_get(json_array_get(rows, 999), "id")), "S0501");
    ASSERT_STR_EQ(json_string_value(json_object_get(doc, "action")), "cap");
    json_decref(doc);
    fd_outlier_log_free(&log);
}

TEST(a_pushed_panel_is_checked_not_changed) {
    char *ids[] = {"A", "B", "C"};
    double ret[] = {0.1, 12.0, NAN};
    fd_panel p = {.month = "2020-05", .n_rows = 3, .ids = ids, .ret = ret};
    fd_outlier_policy k = {FD_OUTLIER_KEEP, 0};
    fd_outlier_log log;
    fd_outlier_log_init(&log, &k);
    fd_outlier_check_panel(&log, &p);
    ASSERT_NEAR(ret[1], 12.0, 0);
    json_t *warnings = json_array();
    fd_outlier_warn(&log, warnings);
    ASSERT_INT_EQ(json_array_size(warnings), 1);
    json_t *w = json_array_get(warnings, 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(w, "code")), "extreme_returns");
    ASSERT_INT_EQ(json_integer_value(json_object_get(w, "count")), 1);
    json_t *row = json_array_get(json_object_get(w, "rows"), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(row, "id")), "B");
    ASSERT_STR_EQ(json_string_value(json_object_get(row, "month")), "2020-05");
    json_decref(warnings);
    fd_outlier_log_free(&log);
    /* No outliers, no warning. */
    fd_outlier_log_init(&log, &k);
    warnings = json_array();
    fd_outlier_warn(&log, warnings);
    ASSERT_INT_EQ(json_array_size(warnings), 0);
    json_decref(warnings);
}

TEST(the_parameters_parse_strictly) {
    fd_outlier_policy p;
    fd_error err;
    ASSERT_INT_EQ(fd_outlier_policy_parse(NULL, NULL, "outliers", "max_abs_ret", &p, &err), 0);
    ASSERT_INT_EQ(p.action, FD_OUTLIER_CAP);
    ASSERT_INT_EQ(fd_outlier_policy_parse("drop", "2.5", "outliers", "max_abs_ret", &p, &err), 0);
    ASSERT_INT_EQ(p.action, FD_OUTLIER_DROP);
    ASSERT_NEAR(p.threshold, 2.5, 0);
    ASSERT_INT_EQ(fd_outlier_policy_parse("clip", NULL, "outliers", "max_abs_ret", &p, &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    ASSERT(strstr(err.message, "outliers") != NULL);
    ASSERT_INT_EQ(fd_outlier_policy_parse(NULL, "-1", "outliers", "max_abs_ret", &p, &err), -1);
    ASSERT(strstr(err.message, "max_abs_ret") != NULL);
    ASSERT_INT_EQ(fd_outlier_policy_parse(NULL, "0", "o", "--max-abs-ret", &p, &err), -1);
    ASSERT(strstr(err.message, "--max-abs-ret") != NULL);
}

TEST_MAIN(T(each_action_stores_what_it_says), T(the_listing_keeps_the_largest_and_is_bounded),
          T(a_pushed_panel_is_checked_not_changed), T(the_parameters_parse_strictly))
