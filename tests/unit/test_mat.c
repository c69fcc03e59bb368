/* The matrix wrappers (products against hand-computed results, the LAPACK solvers) and the
 * seeded generator (reproducibility, ranges, moments). */
#include <math.h>
#include <string.h>

#include "factord/mat.h"
#include "factord/rng.h"
#include "testlib.h"

TEST(products_follow_their_shapes) {
    double A[6] = {1, 2, 3, 4, 5, 6}; /* (2, 3) */
    double B[6] = {1, 0, 0, 1, 1, 1}; /* (3, 2) */
    double C[4], D[9], y[3];
    fd_mat_mul_nn(C, A, B, 2, 2, 3, 1.0, 0.0); /* A B */
    ASSERT_NEAR(C[0], 4, 0); ASSERT_NEAR(C[1], 5, 0);
    ASSERT_NEAR(C[2], 10, 0); ASSERT_NEAR(C[3], 11, 0);
    fd_mat_mul_nt(C, A, A, 2, 2, 3, 1.0, 0.0); /* A A' */
    ASSERT_NEAR(C[0], 14, 0); ASSERT_NEAR(C[1], 32, 0); ASSERT_NEAR(C[3], 77, 0);
    fd_mat_mul_tn(D, A, A, 3, 3, 2, 1.0, 0.0); /* A' A */
    ASSERT_NEAR(D[0], 17, 0); ASSERT_NEAR(D[4], 29, 0); ASSERT_NEAR(D[2], 27, 0);
    double x2[2] = {1, -1};
    fd_mat_vec_t(y, A, x2, 2, 3, 1.0, 0.0); /* A' x */
    ASSERT_NEAR(y[0], -3, 0); ASSERT_NEAR(y[2], -3, 0);
    double x3[3] = {1, 1, 1}, z[2] = {100, 100};
    fd_mat_vec(z, A, x3, 2, 3, 2.0, 1.0); /* 2 A x + z */
    ASSERT_NEAR(z[0], 112, 0); ASSERT_NEAR(z[1], 130, 0);
    double s[3] = {1, 1, 1};
    fd_mat_col_sums(s, A, 2, 3, 1.0);
    ASSERT_NEAR(s[0], 6, 0); ASSERT_NEAR(s[2], 10, 0);
}

TEST(solvers_return_the_solution_and_flag_singular_systems) {
    /* S = [4 1; 1 3], B = [1 2; 3 4]: S^-1 B = [0 2/11; 1 14/11]. */
    double S[4] = {4, 1, 1, 3}, B[4] = {1, 2, 3, 4};
    ASSERT_INT_EQ(fd_mat_solve_spd(S, B, 2, 2), 0);
    ASSERT_NEAR(B[0], 0, 1e-15); ASSERT_NEAR(B[1], 2.0 / 11, 1e-15);
    ASSERT_NEAR(B[2], 1, 1e-15); ASSERT_NEAR(B[3], 14.0 / 11, 1e-15);
    /* Non-symmetric A = [2 1; 0 3]: A^-1 = [1/2 -1/6; 0 1/3]. */
    double A[4] = {2, 1, 0, 3}, I[4] = {1, 0, 0, 1};
    ASSERT_INT_EQ(fd_mat_solve(A, I, 2, 2), 0);
    ASSERT_NEAR(I[0], 0.5, 1e-15); ASSERT_NEAR(I[1], -1.0 / 6, 1e-15);
    ASSERT_NEAR(I[2], 0, 1e-15); ASSERT_NEAR(I[3], 1.0 / 3, 1e-15);
    double sing[4] = {1, 2, 2, 4}, b[2] = {1, 1}, indef[4] = {1, 0, 0, -1};
    ASSERT_INT_EQ(fd_mat_solve(sing, b, 2, 1), -1);
    ASSERT_INT_EQ(fd_mat_solve_spd(indef, b, 2, 1), -1);
}

TEST(the_same_seed_gives_the_same_stream) {
    fd_rng a, b, c;
    fd_rng_seed(&a, 42);
    fd_rng_seed(&b, 42);
    fd_rng_seed(&c, 43);
    int differs = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = fd_rng_u64(&a);
        ASSERT(x == fd_rng_u64(&b));
        differs |= x != fd_rng_u64(&c);
    }
    ASSERT(differs);
}

TEST(uniform_normal_and_below_have_the_right_ranges_and_moments) {
    enum { M = 200000 };
    fd_rng rng;
    double sum = 0, sq = 0, usum = 0;
    fd_rng_seed(&rng, 7);
    for (int i = 0; i < M; i++) {
        double u = fd_rng_uniform(&rng), z = fd_rng_normal(&rng);
        ASSERT(u >= 0.0 && u < 1.0);
        usum += u;
        sum += z;
        sq += z * z;
        ASSERT(fd_rng_below(&rng, 7) < 7);
    }
    /* Standard errors: uniform mean 0.00065, normal mean 0.0022, variance 0.0032. */
    ASSERT_NEAR(usum / M, 0.5, 0.005);
    ASSERT_NEAR(sum / M, 0.0, 0.015);
    ASSERT_NEAR(sq / M, 1.0, 0.02);
}

TEST(shuffle_gives_a_permutation) {
    size_t idx[50], seen[50] = {0};
    fd_rng rng;
    fd_rng_seed(&rng, 3);
    for (size_t i = 0; i < 50; i++) idx[i] = i;
    fd_rng_shuffle(&rng, idx, 50);
    int moved = 0;
    for (size_t i = 0; i < 50; i++) {
        ASSERT(idx[i] < 50);
        seen[idx[i]]++;
        moved |= idx[i] != i;
    }
    for (size_t i = 0; i < 50; i++) ASSERT_INT_EQ(seen[i], 1);
    ASSERT(moved);
}

TEST_MAIN(T(products_follow_their_shapes),
          T(solvers_return_the_solution_and_flag_singular_systems),
          T(the_same_seed_gives_the_same_stream),
          T(uniform_normal_and_below_have_the_right_ranges_and_moments),
          T(shuffle_gives_a_permutation))
