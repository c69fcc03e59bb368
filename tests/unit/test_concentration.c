/* How concentrated an evaluation is (include/factord/eval_concentration.h): the shares by
 * hand, the warning past the threshold, and its absence on an even cross-section. */
#include <math.h>

#include "factord/eval_concentration.h"
#include "testlib.h"

static const char *const ids[] = {"A", "B", "C", "D"};

static double share_of(const json_t *doc, const char *key) {
    return json_real_value(json_object_get(json_object_get(doc, key), "share"));
}

/* Month 1: r = (0.1, -0.1, 0.2, 0), fitted = (0.1, 0, 0, 0), expected = 0.
 * Month 2: r = (8.0, 0.1, ...), fitted = (1, 0, ...), expected = (0.5, 0, ...).
 * sum r^2 = 0.01 + 0.01 + 0.04 + 64 + 0.01 = 64.07, largest 64 (B in month 2);
 * total errors: 0 + 0.01 + 0.04 + 0 + 49 + 0.01 = 49.06, largest 49;
 * pred errors: 0.01 + 0.01 + 0.04 + 0 + 56.25 + 0.01 = 56.32, largest 56.25. */
TEST(shares_are_the_largest_term_over_the_sum) {
    fd_concentration c = {0};
    double r1[] = {0.1, -0.1, 0.2, 0.0}, f1[] = {0.1, 0, 0, 0}, e1[] = {0, 0, 0, 0};
    double r2[] = {0.1, 8.0}, f2[] = {0, 1.0}, e2[] = {0, 0.5};
    const char *const ids2[] = {"A", "B"};
    fd_concentration_add(&c, "2020-01", ids, r1, f1, e1, 4);
    fd_concentration_add(&c, "2020-02", ids2, r2, f2, e2, 2);
    json_t *warnings = json_array();
    json_t *doc = fd_concentration_report(&c, warnings);
    ASSERT_NEAR(share_of(doc, "returns"), 64.0 / 64.07, 1e-12);
    ASSERT_NEAR(share_of(doc, "total_errors"), 49.0 / 49.06, 1e-12);
    ASSERT_NEAR(share_of(doc, "pred_errors"), 56.25 / 56.32, 1e-12);
    json_t *ret = json_object_get(doc, "returns");
    ASSERT_STR_EQ(json_string_value(json_object_get(ret, "id")), "B");
    ASSERT_STR_EQ(json_string_value(json_object_get(ret, "month")), "2020-02");
    ASSERT_NEAR(json_real_value(json_object_get(ret, "ret")), 8.0, 0);
    ASSERT_INT_EQ(json_array_size(warnings), 3);
    json_t *w = json_array_get(warnings, 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(w, "code")), "concentrated_error");
    ASSERT(strstr(json_string_value(json_object_get(w, "message")), "B 2020-02") != NULL);
    json_decref(doc);
    json_decref(warnings);
}

/* 100 equal squared returns: each holds 1%, below the 10% threshold: no warning. Non-finite
 * terms are skipped rather than poisoning the sums. */
TEST(an_even_cross_section_does_not_warn) {
    fd_concentration c = {0};
    const char *many[100];
    double r[100], f[100], e[100];
    for (int i = 0; i < 100; i++) {
        many[i] = "S";
        r[i] = i % 2 ? 0.05 : -0.05;
        f[i] = 0.0;
        e[i] = i == 3 ? NAN : 0.0;
    }
    fd_concentration_add(&c, "2020-01", many, r, f, e, 100);
    json_t *warnings = json_array();
    json_t *doc = fd_concentration_report(&c, warnings);
    ASSERT_NEAR(share_of(doc, "returns"), 0.01, 1e-12);
    ASSERT_NEAR(share_of(doc, "pred_errors"), 1.0 / 99, 1e-12);
    ASSERT_INT_EQ(json_array_size(warnings), 0);
    json_decref(doc);
    /* An empty evaluation has no shares. */
    fd_concentration empty = {0};
    doc = fd_concentration_report(&empty, warnings);
    ASSERT(json_is_null(json_object_get(json_object_get(doc, "returns"), "share")));
    ASSERT_INT_EQ(json_array_size(warnings), 0);
    json_decref(doc);
    json_decref(warnings);
}

TEST_MAIN(T(shares_are_the_largest_term_over_the_sum), T(an_even_cross_section_does_not_warn))
