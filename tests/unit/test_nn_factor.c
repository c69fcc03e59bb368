/* The factor layers of factord/nn_factor.h against central finite differences (gradcheck.h):
 * the instrumented least-squares factor differentiated through its K x K solve (with and
 * without the ridge, and chained into the fit's squared error as a model uses it), the
 * orthogonality penalty on a batch of factors and the deviation penalty with its Gamma; the
 * scale invariance both are designed for; and the degenerate cases (rank-deficient loadings,
 * a factor without variance, zero loadings). The values against numpy are in
 * test_nn_neurif_ref.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/nn.h"
#include "factord/nn_factor.h"
#include "gradcheck.h"
#include "testlib.h"

/* ---- the least-squares factor ---- */
enum { FN = 9, FK = 3 };
typedef struct {
    double B[FN * FK], r[FN], G[FK], f[FK], ridge, work[FK * (FK + 1)];
    int fit_loss; /* 1: the loss is mean (r - B f)^2, 0: G . f */
} ls_ctx;

static double ls_loss(void *p) {
    ls_ctx *c = p;
    if (fd_factor_ls_forward(c->f, c->work, c->B, c->r, FN, FK, c->ridge) != 0) return NAN;
    if (!c->fit_loss) return project(c->f, c->G, FK);
    double rhat[FN];
    fd_linear_forward(rhat, c->B, c->f, NULL, FN, FK, 1);
    return fd_loss_mse(NULL, rhat, c->r, FN);
}

static void ls_setup(ls_ctx *c, double ridge, int fit_loss, uint64_t seed) {
    fd_rng rng;
    memset(c, 0, sizeof *c);
    fd_rng_seed(&rng, seed);
    fill_uniform(c->B, FN * FK, -1, 1, &rng);
    fill_uniform(c->r, FN, -0.2, 0.2, &rng);
    fill_uniform(c->G, FK, -1, 1, &rng);
    c->ridge = ridge;
    c->fit_loss = fit_loss;
}

static void check_ls(double ridge, uint64_t seed) {
    ls_ctx c;
    ls_setup(&c, ridge, 0, seed);
    double dB[FN * FK] = {0}, dr[FN];
    ASSERT(!isnan(ls_loss(&c)));
    ASSERT_INT_EQ(fd_factor_ls_backward(dB, dr, c.work, c.G, c.f, c.B, c.r, FN, FK, ridge), 0);
    ASSERT(grad_ok("ls dB", c.B, FN * FK, dB, ls_loss, &c));
    ASSERT(grad_ok("ls dr", c.r, FN, dr, ls_loss, &c));
}

TEST(least_squares_factor_gradients_match_finite_differences) {
    check_ls(0.0, 21);
}

TEST(least_squares_factor_with_ridge_gradients_match_finite_differences) {
    check_ls(0.05, 22);
}

/* As a model uses it: rhat = B f(B), loss = mean (r - rhat)^2, with dB from both paths. */
TEST(fit_through_the_factor_solve_matches_finite_differences) {
    ls_ctx c;
    ls_setup(&c, 1e-3, 1, 23);
    double dB[FN * FK] = {0}, df[FK], rhat[FN], drhat[FN];
    ASSERT(!isnan(ls_loss(&c)));
    fd_linear_forward(rhat, c.B, c.f, NULL, FN, FK, 1);
    fd_loss_mse(drhat, rhat, c.r, FN);
    /* rhat = B f: dB += drhat f', df = B' drhat */
    for (int i = 0; i < FN; i++)
        for (int k = 0; k < FK; k++) dB[i * FK + k] += drhat[i] * c.f[k];
    for (int k = 0; k < FK; k++) {
        df[k] = 0;
        for (int i = 0; i < FN; i++) df[k] += c.B[i * FK + k] * drhat[i];
    }
    ASSERT_INT_EQ(fd_factor_ls_backward(dB, NULL, c.work, df, c.f, c.B, c.r, FN, FK, 1e-3), 0);
    ASSERT(grad_ok("fit dB", c.B, FN * FK, dB, ls_loss, &c));
}

TEST(least_squares_factor_refuses_loadings_of_lower_rank) {
    ls_ctx c;
    ls_setup(&c, 0.0, 0, 24);
    for (int i = 0; i < FN; i++) c.B[i * FK + 2] = 2 * c.B[i * FK + 0]; /* rank 2 */
    ASSERT_INT_EQ(fd_factor_ls_forward(c.f, c.work, c.B, c.r, FN, FK, 0.0), -1);
    memset(c.B, 0, sizeof c.B); /* zero loadings: no ridge can help */
    ASSERT_INT_EQ(fd_factor_ls_forward(c.f, c.work, c.B, c.r, FN, FK, 1e-3), -1);
    /* the solution's scale follows the loadings' inverse: B 4 -> f / 4 */
    ls_setup(&c, 1e-3, 0, 25);
    double f1[FK];
    ASSERT_INT_EQ(fd_factor_ls_forward(f1, c.work, c.B, c.r, FN, FK, 1e-3), 0);
    for (int i = 0; i < FN * FK; i++) c.B[i] *= 4;
    ASSERT_INT_EQ(fd_factor_ls_forward(c.f, c.work, c.B, c.r, FN, FK, 1e-3), 0);
    for (int k = 0; k < FK; k++) ASSERT_NEAR(c.f[k], f1[k] / 4, 1e-15);
}

/* ---- orthogonality ---- */
enum { OT = 8, OK_ = 4 };
typedef struct {
    double F[OT * OK_], weight, work[2 * OK_ * OK_ + 2 * OK_];
} orth_ctx;

static double orth_loss(void *p) {
    orth_ctx *c = p;
    return fd_orthogonality_penalty(NULL, c->work, c->F, OT, OK_, c->weight);
}

TEST(orthogonality_gradient_matches_finite_differences) {
    orth_ctx c = {.weight = 0.7};
    fd_rng rng;
    double dF[OT * OK_] = {0};
    fd_rng_seed(&rng, 31);
    fill_uniform(c.F, OT * OK_, -1, 1, &rng);
    for (int t = 0; t < OT; t++) c.F[t * OK_ + 1] += 0.8 * c.F[t * OK_]; /* correlated */
    double pen = fd_orthogonality_penalty(dF, c.work, c.F, OT, OK_, c.weight);
    ASSERT(pen > 0);
    ASSERT(grad_ok("orthogonality dF", c.F, OT * OK_, dF, orth_loss, &c));
    /* correlations ignore each factor's location and scale */
    for (int t = 0; t < OT; t++) c.F[t * OK_ + 2] = 5 * c.F[t * OK_ + 2] - 3;
    ASSERT_NEAR(orth_loss(&c), pen, 1e-13);
}

TEST(orthogonality_of_uncorrelated_factors_is_zero_and_a_constant_factor_has_no_terms) {
    /* two orthogonal centred columns */
    double F[4 * 2] = {1, 1, -1, 1, 1, -1, -1, -1}, work[2 * 2 * 2 + 2 * 2], dF[8] = {0};
    ASSERT_NEAR(fd_orthogonality_penalty(dF, work, F, 4, 2, 1.0), 0.0, 1e-15);
    for (int i = 0; i < 8; i++) ASSERT_NEAR(dF[i], 0.0, 1e-15);
    double G[3 * 2] = {1, 0.5, 2, 0.5, 3, 0.5}; /* the second is constant */
    double dG[6] = {0};
    ASSERT_NEAR(fd_orthogonality_penalty(dG, work, G, 3, 2, 1.0), 0.0, 0);
    for (int i = 0; i < 6; i++) ASSERT_NEAR(dG[i], 0.0, 0);
    ASSERT_NEAR(fd_orthogonality_penalty(NULL, work, G, 1, 2, 1.0), 0.0, 0); /* one month */
}

/* ---- deviation ---- */
enum { DN = 10, DP = 4, DK = 3 };
typedef struct {
    double B[DN * DK], Z[DN * DP], Gamma[DP * DK], weight, work[DN * DK];
} dev_ctx;

static double dev_loss(void *p) {
    dev_ctx *c = p;
    return fd_deviation_penalty(NULL, NULL, c->work, c->B, c->Z, c->Gamma, DN, DP, DK, c->weight);
}

TEST(deviation_gradients_match_finite_differences) {
    dev_ctx c = {.weight = 0.5};
    fd_rng rng;
    double dB[DN * DK] = {0}, dG[DP * DK] = {0};
    fd_rng_seed(&rng, 41);
    fill_uniform(c.B, DN * DK, -1, 1, &rng);
    fill_uniform(c.Z, DN * DP, -1, 1, &rng);
    fill_uniform(c.Gamma, DP * DK, -1, 1, &rng);
    double pen = fd_deviation_penalty(dB, dG, c.work, c.B, c.Z, c.Gamma, DN, DP, DK, c.weight);
    ASSERT(pen > 0);
    ASSERT(grad_ok("deviation dB", c.B, DN * DK, dB, dev_loss, &c));
    ASSERT(grad_ok("deviation dGamma", c.Gamma, DP * DK, dG, dev_loss, &c));
    /* the same share whatever the loadings' scale (B and Gamma scaled together) */
    for (int i = 0; i < DN * DK; i++) c.B[i] *= 3;
    for (int i = 0; i < DP * DK; i++) c.Gamma[i] *= 3;
    ASSERT_NEAR(dev_loss(&c), pen, 1e-14);
    /* loadings that are exactly Z Gamma deviate by nothing; Gamma = 0 deviates by all */
    for (int i = 0; i < DN; i++)
        for (int k = 0; k < DK; k++) {
            double s = 0;
            for (int j = 0; j < DP; j++) s += c.Z[i * DP + j] * c.Gamma[j * DK + k];
            c.B[i * DK + k] = s;
        }
    ASSERT_NEAR(dev_loss(&c), 0.0, 1e-15);
    memset(c.Gamma, 0, sizeof c.Gamma);
    ASSERT_NEAR(dev_loss(&c), c.weight, 1e-15);
    memset(c.B, 0, sizeof c.B);
    ASSERT_NEAR(dev_loss(&c), 0.0, 0);
}

TEST_MAIN(T(least_squares_factor_gradients_match_finite_differences),
          T(least_squares_factor_with_ridge_gradients_match_finite_differences),
          T(fit_through_the_factor_solve_matches_finite_differences),
          T(least_squares_factor_refuses_loadings_of_lower_rank),
          T(orthogonality_gradient_matches_finite_differences),
          T(orthogonality_of_uncorrelated_factors_is_zero_and_a_constant_factor_has_no_terms),
          T(deviation_gradients_match_finite_differences))
