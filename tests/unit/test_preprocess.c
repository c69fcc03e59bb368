/* Cross-sectional rank normalisation and managed portfolios. */
#include <math.h>
#include <stdlib.h>

#include "factord/eval_stats.h"
#include "factord/preprocess.h"
#include "factord/rng.h"
#include "testlib.h"

TEST(ranks_map_to_open_interval_with_ties_averaged) {
    /* Finite values 3, 1, 2, 2 (m = 4): ranks 4, 1, 2.5, 2.5 -> 2 r / 5 - 1. */
    double x[5] = {3, 1, 2, NAN, 2};
    ASSERT(fd_preprocess_rank_normalize(x, 5, 1, NULL) == 0);
    ASSERT_NEAR(x[0], 0.6, 1e-15);
    ASSERT_NEAR(x[1], -0.6, 1e-15);
    ASSERT_NEAR(x[2], 0.0, 1e-15);
    ASSERT_NEAR(x[4], 0.0, 1e-15);
}

TEST(missing_values_become_the_median_zero) {
    double x[4] = {NAN, 10, NAN, -5};
    ASSERT(fd_preprocess_rank_normalize(x, 4, 1, NULL) == 0);
    ASSERT_NEAR(x[0], 0.0, 0);
    ASSERT_NEAR(x[2], 0.0, 0);
    ASSERT_NEAR(x[1], 2.0 * 2 / 3 - 1, 1e-15);
    ASSERT_NEAR(x[3], 2.0 * 1 / 3 - 1, 1e-15);
}

TEST(columns_are_ranked_independently) {
    /* (3, 2) row-major: column 0 ascending, column 1 descending, all missing in none. */
    double x[6] = {1, 30, 2, 20, 3, 10};
    ASSERT(fd_preprocess_rank_normalize(x, 3, 2, NULL) == 0);
    ASSERT_NEAR(x[0], -0.5, 1e-15);
    ASSERT_NEAR(x[2], 0.0, 1e-15);
    ASSERT_NEAR(x[4], 0.5, 1e-15);
    ASSERT_NEAR(x[1], 0.5, 1e-15);
    ASSERT_NEAR(x[5], -0.5, 1e-15);
}

TEST(all_missing_column_is_zero_and_constant_column_is_zero) {
    double x[6] = {NAN, 7, NAN, 7, NAN, 7};
    ASSERT(fd_preprocess_rank_normalize(x, 3, 2, NULL) == 0);
    for (int i = 0; i < 6; i++) ASSERT_NEAR(x[i], 0.0, 0);
}

TEST(managed_portfolio_recovers_exact_coefficients) {
    /* r = Z b exactly: (Z'Z)^{-1} Z'r = b. */
    double z[12] = {1, 0.5, -0.2, 1, -0.3, 0.4, 1, 0.1, 0.9, 1, -0.8, -0.6};
    double b[3] = {0.01, -0.02, 0.03}, r[4], x[3];
    int ridged = -1;
    for (int i = 0; i < 4; i++) r[i] = z[i * 3] * b[0] + z[i * 3 + 1] * b[1] + z[i * 3 + 2] * b[2];
    ASSERT(fd_preprocess_managed_portfolio(z, r, 4, 3, x, &ridged, NULL) == 0);
    ASSERT_INT_EQ(ridged, 0);
    for (int j = 0; j < 3; j++) ASSERT_NEAR(x[j], b[j], 1e-14);
}

TEST(managed_portfolio_residual_is_orthogonal_to_z) {
    double z[10] = {1, 0.2, 1, -0.4, 1, 0.6, 1, -0.1, 1, 0.3}, r[5] = {0.1, -0.2, 0.05, 0.3, 0};
    double x[2];
    ASSERT(fd_preprocess_managed_portfolio(z, r, 5, 2, x, NULL, NULL) == 0);
    for (int j = 0; j < 2; j++) {
        double s = 0;
        for (int i = 0; i < 5; i++)
            s += z[i * 2 + j] * (r[i] - z[i * 2] * x[0] - z[i * 2 + 1] * x[1]);
        ASSERT_NEAR(s, 0.0, 1e-14);
    }
}

TEST(singular_zz_falls_back_to_ridge) {
    /* Two securities, three characteristics: Z'Z has rank 2. */
    double z[6] = {1, 0.5, -0.5, 1, -0.5, 0.5}, r[2] = {0.02, -0.01}, x[3];
    int ridged = 0;
    ASSERT(fd_preprocess_managed_portfolio(z, r, 2, 3, x, &ridged, NULL) == 0);
    ASSERT_INT_EQ(ridged, 1);
    /* The tiny ridge still fits the two returns almost exactly. */
    for (int i = 0; i < 2; i++)
        ASSERT_NEAR(z[i * 3] * x[0] + z[i * 3 + 1] * x[1] + z[i * 3 + 2] * x[2], r[i], 1e-7);
    for (int j = 0; j < 3; j++) ASSERT(isfinite(x[j]));
}

TEST(radix_ranks_agree_with_comparison_ranks) {
    /* 3000 values with many ties, negative zeros, NaNs and both signs, against the
     * comparison-sort ranks of fd_stats_rank. */
    enum { N = 3000 };
    static double x[N], z[N], rank[N];
    fd_rng rng;
    size_t m;
    fd_rng_seed(&rng, 42);
    for (size_t i = 0; i < N; i++) {
        double u = fd_rng_uniform(&rng);
        x[i] = u < 0.05 ? NAN : u < 0.1 ? -0.0 : u < 0.15 ? 0.0
               : floor(fd_rng_normal(&rng) * 20) / 4 * (u < 0.5 ? 1e-3 : 1e5);
        z[i] = x[i];
    }
    ASSERT(fd_preprocess_rank_normalize(z, N, 1, NULL) == 0);
    m = fd_stats_rank(x, N, rank);
    for (size_t i = 0; i < N; i++)
        ASSERT_NEAR(z[i], isnan(x[i]) ? 0.0 : 2.0 * rank[i] / ((double)m + 1) - 1, 1e-14);
}

TEST_MAIN(T(radix_ranks_agree_with_comparison_ranks),
          T(ranks_map_to_open_interval_with_ties_averaged),
          T(missing_values_become_the_median_zero), T(columns_are_ranked_independently),
          T(all_missing_column_is_zero_and_constant_column_is_zero),
          T(managed_portfolio_recovers_exact_coefficients),
          T(managed_portfolio_residual_is_orthogonal_to_z), T(singular_zz_falls_back_to_ridge))
