/* The attention layers of factord/nn_attention.h: gradient checks of layer normalisation, the
 * time attention (with absent months) and the tiled cross-sectional attention against central
 * finite differences (method and tolerances in gradcheck.h); the tiled attention against a
 * plain one that holds the whole N x N score matrix (written here, independently: scores,
 * fd_softmax, weighted sums) to 1e-12 in double for tile sizes that do and do not divide N;
 * the masking rules; the positional encoding's values; and the float instantiation against
 * the double one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/nn.h"
#include "factord/nn_attention.h"
#include "gradcheck.h"
#include "testlib.h"

/* ---- layer normalisation ---- */
enum { LN_N = 4, LN_C = 6 };
typedef struct {
    double x[LN_N * LN_C], gamma[LN_C], beta[LN_C], G[LN_N * LN_C];
    double y[LN_N * LN_C], xhat[LN_N * LN_C], rstd[LN_N];
} ln_ctx;

static double ln_loss(void *p) {
    ln_ctx *c = p;
    fd_layernorm_forward(c->y, c->xhat, c->rstd, c->x, c->gamma, c->beta, LN_N, LN_C);
    return project(c->y, c->G, LN_N * LN_C);
}

TEST(layernorm_gradients_match_finite_differences) {
    ln_ctx c;
    fd_rng rng;
    double dx[LN_N * LN_C], dg[LN_C] = {0}, db[LN_C] = {0};
    fd_rng_seed(&rng, 11);
    fill_uniform(c.x, LN_N * LN_C, -2, 2, &rng);
    fill_uniform(c.gamma, LN_C, 0.5, 1.5, &rng);
    fill_uniform(c.beta, LN_C, -0.5, 0.5, &rng);
    fill_uniform(c.G, LN_N * LN_C, -1, 1, &rng);
    ln_loss(&c);
    fd_layernorm_backward(dx, dg, db, c.G, c.xhat, c.rstd, c.gamma, LN_N, LN_C);
    ASSERT(grad_ok("layernorm dx", c.x, LN_N * LN_C, dx, ln_loss, &c));
    ASSERT(grad_ok("layernorm dgamma", c.gamma, LN_C, dg, ln_loss, &c));
    ASSERT(grad_ok("layernorm dbeta", c.beta, LN_C, db, ln_loss, &c));
    /* each row of xhat has mean 0 and variance var / (var + eps) */
    for (int i = 0; i < LN_N; i++) {
        double m = 0, v = 0;
        for (int j = 0; j < LN_C; j++) m += c.xhat[i * LN_C + j] / LN_C;
        for (int j = 0; j < LN_C; j++) v += pow(c.xhat[i * LN_C + j] - m, 2) / LN_C;
        ASSERT_NEAR(m, 0.0, 1e-15);
        ASSERT_NEAR(v, 1.0, 1e-4);
    }
}

/* ---- positional encoding ---- */
TEST(positional_encoding_puts_the_latest_month_at_position_zero) {
    enum { L = 5, D = 6 };
    double pe[L * D];
    fd_posenc_sinusoid(pe, L, D);
    for (int c = 0; c < D; c++) ASSERT_NEAR(pe[(L - 1) * D + c], c % 2 ? 1.0 : 0.0, 0);
    /* step 0 is p = 4 months back: pair j has frequency 10000^(-2j/6) */
    for (int j = 0; j < D / 2; j++) {
        double w = pow(10000.0, -2.0 * j / D);
        ASSERT_NEAR(pe[2 * j], sin(4 * w), 1e-15);
        ASSERT_NEAR(pe[2 * j + 1], cos(4 * w), 1e-15);
    }
}

/* ---- time attention ---- */
enum { TL = 5, TB = 4, TD = 6, TH = 2 };

/* Security 0 has every month, 1 starts two months late, 2 has a hole, 3 only its latest. */
static void time_mask(unsigned char *mask) {
    for (int b = 0; b < TB; b++)
        for (int l = 0; l < TL; l++)
            mask[b * TL + l] = !((b == 1 && l < 2) || (b == 2 && l == 2) || (b == 3 && l < TL - 1));
}

typedef struct {
    fd_mha_spec s;
    double X[TL * TB * TD], *params, G[TB * TD], out[TB * TD], *cache;
    unsigned char mask[TB * TL];
} ta_ctx;

static double ta_loss(void *p) {
    ta_ctx *c = p;
    fd_time_attention_forward(&c->s, c->out, c->cache, c->X, c->mask, c->params, TL, TB);
    return project(c->out, c->G, TB * TD);
}

static void ta_setup(ta_ctx *c, uint64_t seed) {
    fd_rng rng;
    c->s = (fd_mha_spec){.d = TD, .heads = TH, .tile = 0};
    size_t np = fd_mha_param_count(&c->s);
    c->params = calloc(np, sizeof *c->params);
    c->cache = calloc(fd_time_attention_cache_count(&c->s, TL, TB), sizeof *c->cache);
    fd_rng_seed(&rng, seed);
    fill_uniform(c->X, TL * TB * TD, -1, 1, &rng);
    fill_uniform(c->params, np, -0.6, 0.6, &rng); /* biases non-zero too */
    fill_uniform(c->G, TB * TD, -1, 1, &rng);
    time_mask(c->mask);
}

TEST(time_attention_gradients_match_finite_differences_with_absent_months) {
    ta_ctx c;
    ta_setup(&c, 12);
    size_t np = fd_mha_param_count(&c.s);
    double *dp = calloc(np, sizeof *dp), dX[TL * TB * TD];
    double *work = calloc(fd_time_attention_work_count(&c.s, TL, TB), sizeof *work);
    ta_loss(&c);
    fd_time_attention_backward(&c.s, dX, dp, work, c.G, c.cache, c.X, c.mask, c.params, TL, TB);
    int ok = grad_ok("time dX", c.X, TL * TB * TD, dX, ta_loss, &c) &&
             grad_ok("time dparams", c.params, np, dp, ta_loss, &c);
    for (int b = 0; ok && b < TB; b++)
        for (int l = 0; l < TL; l++)
            for (int j = 0; j < TD; j++)
                if (!c.mask[b * TL + l] && dX[(l * TB + b) * TD + j] != 0.0) {
                    tl_fail(__FILE__, __LINE__, "dX at absent month (%d, %d) is not 0", b, l);
                    ok = 0;
                }
    free(dp), free(work), free(c.params), free(c.cache);
}

/* Inputs at absent months change nothing, and a security with only its latest month attends
 * to it alone: out = (x W_v' + b_v) W_o' + b_o. */
TEST(time_attention_never_reads_absent_months) {
    ta_ctx c;
    ta_setup(&c, 13);
    double before[TB * TD];
    ta_loss(&c);
    memcpy(before, c.out, sizeof before);
    for (int b = 0; b < TB; b++)
        for (int l = 0; l < TL; l++)
            if (!c.mask[b * TL + l])
                for (int j = 0; j < TD; j++) c.X[(l * TB + b) * TD + j] = 1e6 * (j + 1);
    ta_loss(&c);
    for (int i = 0; i < TB * TD; i++) ASSERT_NEAR(c.out[i], before[i], 0);
    const double *Wv = c.params + 2 * TD * TD, *bv = c.params + fd_mha_bin_offset(&c.s) + 2 * TD;
    const double *Wo = c.params + fd_mha_wo_offset(&c.s), *bo = c.params + fd_mha_bo_offset(&c.s);
    const double *x = c.X + ((TL - 1) * TB + 3) * TD;
    double v[TD];
    for (int o = 0; o < TD; o++) {
        v[o] = bv[o];
        for (int j = 0; j < TD; j++) v[o] += Wv[o * TD + j] * x[j];
    }
    for (int o = 0; o < TD; o++) {
        double y = bo[o];
        for (int j = 0; j < TD; j++) y += Wo[o * TD + j] * v[j];
        ASSERT_NEAR(c.out[3 * TD + o], y, 1e-14);
    }
    free(c.params), free(c.cache);
}

/* ---- cross-sectional attention ---- */
enum { XN = 23, XD = 8, XH = 2 };

/* The plain computation: per head the whole (N, N) score matrix, fd_softmax over each row,
 * ctx = A V, then the output projection. */
static void cross_attention_plain(double *out, const double *U, const double *params, size_t N,
                                  size_t d, size_t heads) {
    fd_mha_spec s = {.d = d, .heads = heads};
    size_t dh = d / heads;
    double *qkv = malloc(N * 3 * d * sizeof *qkv), *S = malloc(N * N * sizeof *S);
    double *ctx = calloc(N * d, sizeof *ctx);
    fd_linear_forward(qkv, U, params, params + fd_mha_bin_offset(&s), N, d, 3 * d);
    for (size_t h = 0; h < heads; h++) {
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < N; j++) {
                double dot = 0;
                for (size_t c = 0; c < dh; c++)
                    dot += qkv[i * 3 * d + h * dh + c] * qkv[j * 3 * d + d + h * dh + c];
                S[i * N + j] = dot / sqrt((double)dh);
            }
        fd_softmax_forward(S, S, NULL, N, N);
        for (size_t i = 0; i < N; i++)
            for (size_t j = 0; j < N; j++)
                for (size_t c = 0; c < dh; c++)
                    ctx[i * d + h * dh + c] += S[i * N + j] * qkv[j * 3 * d + 2 * d + h * dh + c];
    }
    fd_linear_forward(out, ctx, params + fd_mha_wo_offset(&s), params + fd_mha_bo_offset(&s), N,
                      d, d);
    free(qkv), free(S), free(ctx);
}

typedef struct {
    fd_mha_spec s;
    size_t N;
    double *U, *params, *G, *out, *cache, *work;
} xa_ctx;

static double xa_loss(void *p) {
    xa_ctx *c = p;
    fd_cross_attention_forward(&c->s, c->out, c->cache, c->work, c->U, c->params, c->N);
    return project(c->out, c->G, c->N * c->s.d);
}

static void xa_setup(xa_ctx *c, size_t N, size_t tile, double spread, uint64_t seed) {
    fd_rng rng;
    c->s = (fd_mha_spec){.d = XD, .heads = XH, .tile = tile};
    c->N = N;
    size_t np = fd_mha_param_count(&c->s);
    c->U = malloc(N * XD * sizeof *c->U);
    c->params = malloc(np * sizeof *c->params);
    c->G = malloc(N * XD * sizeof *c->G);
    c->out = malloc(N * XD * sizeof *c->out);
    c->cache = malloc(fd_cross_attention_cache_count(&c->s, N) * sizeof *c->cache);
    c->work = malloc(fd_cross_attention_work_count(&c->s, N) * sizeof *c->work);
    fd_rng_seed(&rng, seed);
    fill_uniform(c->U, N * XD, -spread, spread, &rng);
    fill_uniform(c->params, np, -0.6, 0.6, &rng);
    fill_uniform(c->G, N * XD, -1, 1, &rng);
}

static void xa_free(xa_ctx *c) {
    free(c->U), free(c->params), free(c->G), free(c->out), free(c->cache), free(c->work);
}

/* Tiles of 1, 3 and 7 (not dividing 23), 4 rows short of N, N and more than N; inputs spread
 * wide enough that scores differ by tens, so the running maximum moves between tiles. */
TEST(tiled_cross_attention_equals_the_whole_score_matrix) {
    static const size_t tiles[] = {1, 3, 7, 19, XN, XN + 5};
    double plain[XN * XD];
    for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++) {
        xa_ctx c;
        xa_setup(&c, XN, tiles[t], 4.0, 14);
        xa_loss(&c);
        cross_attention_plain(plain, c.U, c.params, XN, XD, XH);
        double worst = 0;
        for (size_t i = 0; i < XN * XD; i++) worst = fmax(worst, fabs(c.out[i] - plain[i]));
        xa_free(&c);
        if (worst > 1e-12) {
            tl_fail(__FILE__, __LINE__, "tile %zu: max |tiled - plain| %.3g", tiles[t], worst);
            return;
        }
    }
}

TEST(cross_attention_gradients_match_finite_differences) {
    static const size_t tiles[] = {4, 11}; /* several tiles, the last partial; one tile */
    for (size_t t = 0; t < 2; t++) {
        xa_ctx c;
        xa_setup(&c, 11, tiles[t], 1.5, 15);
        size_t np = fd_mha_param_count(&c.s);
        double *dp = calloc(np, sizeof *dp), *dU = malloc(c.N * XD * sizeof *dU);
        xa_loss(&c);
        fd_cross_attention_backward(&c.s, dU, dp, c.work, c.G, c.cache, c.U, c.params, c.N);
        int ok = grad_ok("cross dU", c.U, c.N * XD, dU, xa_loss, &c) &&
                 grad_ok("cross dparams", c.params, np, dp, xa_loss, &c);
        free(dp), free(dU);
        xa_free(&c);
        if (!ok) return;
    }
}

/* The backward pass recomputes scores per tile: its gradients do not depend on the tiling. */
TEST(cross_attention_gradients_do_not_depend_on_the_tile) {
    static const size_t tiles[] = {1, 5, 9, XN};
    size_t np = fd_mha_param_count(&(fd_mha_spec){.d = XD, .heads = XH});
    double *ref_dp = NULL, ref_dU[XN * XD];
    for (size_t t = 0; t < 4; t++) {
        xa_ctx c;
        xa_setup(&c, XN, tiles[t], 4.0, 16);
        double *dp = calloc(np, sizeof *dp), dU[XN * XD];
        xa_loss(&c);
        fd_cross_attention_backward(&c.s, dU, dp, c.work, c.G, c.cache, c.U, c.params, c.N);
        xa_free(&c);
        if (!ref_dp) {
            ref_dp = dp;
            memcpy(ref_dU, dU, sizeof dU);
            continue;
        }
        double worst = 0;
        for (size_t i = 0; i < np; i++) worst = fmax(worst, fabs(dp[i] - ref_dp[i]));
        for (size_t i = 0; i < XN * XD; i++) worst = fmax(worst, fabs(dU[i] - ref_dU[i]));
        free(dp);
        if (worst > 1e-12) {
            tl_fail(__FILE__, __LINE__, "tile %zu: gradients differ by %.3g", tiles[t], worst);
            break;
        }
    }
    free(ref_dp);
}

/* ---- float against double ---- */
static void to_float(float *out, const double *in, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (float)in[i];
}

static double max_rel_diff(const float *a, const double *b, size_t n) {
    double scale = 0, worst = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(b[i]));
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)a[i] - b[i]));
    return worst / (scale > 0 ? scale : 1);
}

TEST(float_attention_layers_agree_with_double) {
    xa_ctx c;
    xa_setup(&c, XN, 5, 2.0, 17);
    size_t np = fd_mha_param_count(&c.s), nu = XN * XD;
    float *U = malloc(nu * sizeof *U), *p = malloc(np * sizeof *p), *G = malloc(nu * sizeof *G);
    float *out = malloc(nu * sizeof *out), *dU = malloc(nu * sizeof *dU);
    float *dp = calloc(np, sizeof *dp);
    float *cache = malloc(fd_cross_attention_cache_count(&c.s, XN) * sizeof *cache);
    float *work = malloc(fd_cross_attention_work_count(&c.s, XN) * sizeof *work);
    double *dU64 = malloc(nu * sizeof *dU64), *dp64 = calloc(np, sizeof *dp64);
    to_float(U, c.U, nu), to_float(p, c.params, np), to_float(G, c.G, nu);
    xa_loss(&c);
    fd_cross_attention_backward(&c.s, dU64, dp64, c.work, c.G, c.cache, c.U, c.params, XN);
    fd_cross_attention_forward_f32(&c.s, out, cache, work, U, p, XN);
    fd_cross_attention_backward_f32(&c.s, dU, dp, work, G, cache, U, p, XN);
    double e_out = max_rel_diff(out, c.out, nu), e_dU = max_rel_diff(dU, dU64, nu);
    double e_dp = max_rel_diff(dp, dp64, np);
    free(U), free(p), free(G), free(out), free(dU), free(dp), free(cache), free(work);
    free(dU64), free(dp64);
    xa_free(&c);
    ASSERT(e_out < 1e-5 && e_dU < 1e-5 && e_dp < 1e-5);

    ta_ctx t;
    ta_setup(&t, 18);
    size_t nx = TL * TB * TD, nt = fd_mha_param_count(&t.s);
    float X[TL * TB * TD], tout[TB * TD], *tp = malloc(nt * sizeof *tp);
    float *tcache = malloc(fd_time_attention_cache_count(&t.s, TL, TB) * sizeof *tcache);
    to_float(X, t.X, nx), to_float(tp, t.params, nt);
    ta_loss(&t);
    fd_time_attention_forward_f32(&t.s, tout, tcache, X, t.mask, tp, TL, TB);
    double e_t = max_rel_diff(tout, t.out, TB * TD);
    free(tp), free(tcache), free(t.params), free(t.cache);
    ASSERT(e_t < 1e-5);
}

TEST_MAIN(T(layernorm_gradients_match_finite_differences),
          T(positional_encoding_puts_the_latest_month_at_position_zero),
          T(time_attention_gradients_match_finite_differences_with_absent_months),
          T(time_attention_never_reads_absent_months),
          T(tiled_cross_attention_equals_the_whole_score_matrix),
          T(cross_attention_gradients_match_finite_differences),
          T(cross_attention_gradients_do_not_depend_on_the_tile),
          T(float_attention_layers_agree_with_double))
