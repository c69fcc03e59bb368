/* Gradient checks for every layer, loss and penalty in src/nn, and for a whole CA network
 * (beta network + factor network + loss + penalties), against central finite differences.
 *
 * Method: each check reduces the layer's output y to a scalar L = sum(y * G) with a fixed
 * random G (so dL/dy = G), then compares the analytic gradient of every input and
 * parameter with (L(t + EPS) - L(t - EPS)) / (2 EPS), EPS = 1e-6, all in double. Tolerance:
 * |analytic - numeric| <= 1e-6 max(|analytic|, |numeric|) + 1e-8; the absolute floor covers
 * the rounding error of the difference quotient, about ulp(L) / EPS, times the many terms
 * summed in the whole-network loss (gradients that are exactly 0, like the bias in front of
 * a batch norm, come out of the quotient as ~1e-9). ReLU is not
 * differentiable at 0 and L1 not at w = 0: inputs are drawn away from those kinks (by far
 * more than EPS), so the checks never straddle one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/ca_net.h"
#include "factord/nn.h"
#include "gradcheck.h"
#include "testlib.h"

/* ---- linear ---- */
enum { LN = 7, LIN = 5, LOUT = 4 };
typedef struct { double x[LN * LIN], W[LOUT * LIN], b[LOUT], G[LN * LOUT], y[LN * LOUT]; } lin_ctx;

static double lin_loss(void *p) {
    lin_ctx *c = p;
    fd_linear_forward(c->y, c->x, c->W, c->b, LN, LIN, LOUT);
    return project(c->y, c->G, LN * LOUT);
}

TEST(linear_gradients_match_finite_differences) {
    lin_ctx c;
    fd_rng rng;
    double dx[LN * LIN], dW[LOUT * LIN] = {0}, db[LOUT] = {0};
    fd_rng_seed(&rng, 1);
    fill_uniform(c.x, LN * LIN, -1, 1, &rng);
    fill_uniform(c.W, LOUT * LIN, -1, 1, &rng);
    fill_uniform(c.b, LOUT, -1, 1, &rng);
    fill_uniform(c.G, LN * LOUT, -1, 1, &rng);
    fd_linear_backward(dx, dW, db, c.G, c.x, c.W, LN, LIN, LOUT);
    ASSERT(grad_ok("dx", c.x, LN * LIN, dx, lin_loss, &c));
    ASSERT(grad_ok("dW", c.W, LOUT * LIN, dW, lin_loss, &c));
    ASSERT(grad_ok("db", c.b, LOUT, db, lin_loss, &c));
}

TEST(linear_backward_accumulates_parameter_gradients) {
    lin_ctx c;
    fd_rng rng;
    double dW[LOUT * LIN] = {0}, db[LOUT] = {0}, dW2[LOUT * LIN] = {0}, db2[LOUT] = {0};
    fd_rng_seed(&rng, 2);
    fill_uniform(c.x, LN * LIN, -1, 1, &rng);
    fill_uniform(c.W, LOUT * LIN, -1, 1, &rng);
    fill_uniform(c.G, LN * LOUT, -1, 1, &rng);
    fd_linear_backward(NULL, dW, db, c.G, c.x, c.W, LN, LIN, LOUT);
    fd_linear_backward(NULL, dW2, db2, c.G, c.x, c.W, LN, LIN, LOUT);
    fd_linear_backward(NULL, dW2, db2, c.G, c.x, c.W, LN, LIN, LOUT);
    for (int i = 0; i < LOUT * LIN; i++) ASSERT_NEAR(dW2[i], 2.0 * dW[i], 1e-12);
    for (int i = 0; i < LOUT; i++) ASSERT_NEAR(db2[i], 2.0 * db[i], 1e-12);
}

/* ---- elementwise activations ---- */
enum { AN = 40 };
typedef struct { double x[AN], G[AN], y[AN]; int tanh; } act_ctx;

static double act_loss(void *p) {
    act_ctx *c = p;
    if (c->tanh) fd_tanh_forward(c->y, c->x, AN);
    else fd_relu_forward(c->y, c->x, AN);
    return project(c->y, c->G, AN);
}

static void check_activation(int use_tanh) {
    act_ctx c = {.tanh = use_tanh};
    fd_rng rng;
    double dx[AN];
    fd_rng_seed(&rng, 3);
    fill_away_from_zero(c.x, AN, &rng);
    fill_uniform(c.G, AN, -1, 1, &rng);
    act_loss(&c);
    if (use_tanh) fd_tanh_backward(dx, c.G, c.y, AN);
    else fd_relu_backward(dx, c.G, c.y, AN);
    ASSERT(grad_ok(use_tanh ? "tanh dx" : "relu dx", c.x, AN, dx, act_loss, &c));
}

TEST(relu_gradient_matches_finite_differences) {
    check_activation(0);
}

TEST(tanh_gradient_matches_finite_differences) {
    check_activation(1);
}

TEST(relu_and_tanh_in_place_give_the_same_values) {
    double x[4] = {-1.5, -0.0, 0.25, 3.0}, y[4];
    fd_relu_forward(y, x, 4);
    fd_relu_forward(x, x, 4);
    for (int i = 0; i < 4; i++) ASSERT_NEAR(x[i], y[i], 0);
    ASSERT_NEAR(y[0], 0.0, 0);
    ASSERT_NEAR(y[3], 3.0, 0);
    double t[2] = {0.5, -2.0};
    fd_tanh_forward(t, t, 2);
    ASSERT_NEAR(t[0], tanh(0.5), 1e-15);
    ASSERT_NEAR(t[1], tanh(-2.0), 1e-15);
}

/* ---- batch normalisation (training mode) ---- */
enum { BN_N = 9, BN_C = 4 };
typedef struct {
    double x[BN_N * BN_C], gamma[BN_C], beta[BN_C], G[BN_N * BN_C];
    double y[BN_N * BN_C], xhat[BN_N * BN_C], rstd[BN_C];
} bn_ctx;

static double bn_loss(void *p) {
    bn_ctx *c = p;
    fd_batchnorm_forward_train(c->y, c->xhat, c->rstd, NULL, NULL, c->x, c->gamma, c->beta,
                               BN_N, BN_C, 0);
    return project(c->y, c->G, BN_N * BN_C);
}

TEST(batchnorm_gradients_match_finite_differences) {
    bn_ctx c;
    fd_rng rng;
    double dx[BN_N * BN_C], dgamma[BN_C] = {0}, dbeta[BN_C] = {0};
    fd_rng_seed(&rng, 4);
    fill_uniform(c.x, BN_N * BN_C, -2, 3, &rng);
    fill_uniform(c.gamma, BN_C, 0.5, 1.5, &rng);
    fill_uniform(c.beta, BN_C, -1, 1, &rng);
    fill_uniform(c.G, BN_N * BN_C, -1, 1, &rng);
    bn_loss(&c);
    fd_batchnorm_backward(dx, dgamma, dbeta, c.G, c.xhat, c.rstd, c.gamma, NULL, BN_N, BN_C);
    ASSERT(grad_ok("dx", c.x, BN_N * BN_C, dx, bn_loss, &c));
    ASSERT(grad_ok("dgamma", c.gamma, BN_C, dgamma, bn_loss, &c));
    ASSERT(grad_ok("dbeta", c.beta, BN_C, dbeta, bn_loss, &c));
}

TEST(batchnorm_running_averages_follow_pytorch) {
    /* One feature, x = 1, 2, 3, 6: mean 3, biased variance 3.5, unbiased 14/3. */
    double x[4] = {1, 2, 3, 6}, y[4], xhat[4], rstd[1], g[1] = {2}, b[1] = {0.5};
    double rm[1] = {1.0}, rv[1] = {2.0};
    fd_batchnorm_forward_train(y, xhat, rstd, rm, rv, x, g, b, 4, 1, 0);
    ASSERT_NEAR(rm[0], 0.9 * 1.0 + 0.1 * 3.0, 1e-15);
    ASSERT_NEAR(rv[0], 0.9 * 2.0 + 0.1 * 14.0 / 3.0, 1e-15);
    ASSERT_NEAR(rstd[0], 1.0 / sqrt(3.5 + 1e-5), 1e-15);
    ASSERT_NEAR(y[3], 2.0 * (6.0 - 3.0) / sqrt(3.5 + 1e-5) + 0.5, 1e-14);
}

TEST(batchnorm_inference_with_batch_statistics_equals_training_output) {
    double x[BN_N * BN_C], y[BN_N * BN_C], xhat[BN_N * BN_C], rstd[BN_C], yi[BN_N * BN_C];
    double gamma[BN_C], beta[BN_C], mean[BN_C] = {0}, var[BN_C] = {0};
    fd_rng rng;
    fd_rng_seed(&rng, 5);
    fill_uniform(x, BN_N * BN_C, -2, 3, &rng);
    fill_uniform(gamma, BN_C, 0.5, 1.5, &rng);
    fill_uniform(beta, BN_C, -1, 1, &rng);
    fd_batchnorm_forward_train(y, xhat, rstd, NULL, NULL, x, gamma, beta, BN_N, BN_C, 0);
    for (int i = 0; i < BN_N; i++)
        for (int c = 0; c < BN_C; c++) mean[c] += x[i * BN_C + c] / BN_N;
    for (int i = 0; i < BN_N; i++)
        for (int c = 0; c < BN_C; c++) {
            double d = x[i * BN_C + c] - mean[c];
            var[c] += d * d / BN_N;
        }
    fd_batchnorm_forward_infer(yi, x, gamma, beta, mean, var, BN_N, BN_C);
    for (int i = 0; i < BN_N * BN_C; i++) ASSERT_NEAR(yi[i], y[i], 1e-12);
}

/* ---- dropout with a fixed mask ---- */
typedef struct { double x[AN], mask[AN], G[AN], y[AN]; } drop_ctx;

static double drop_loss(void *p) {
    drop_ctx *c = p;
    fd_dropout_forward(c->y, c->x, c->mask, AN);
    return project(c->y, c->G, AN);
}

TEST(dropout_gradient_with_fixed_mask_matches_finite_differences) {
    drop_ctx c;
    fd_rng rng;
    double dx[AN];
    fd_rng_seed(&rng, 6);
    fill_uniform(c.x, AN, -1, 1, &rng);
    fill_uniform(c.G, AN, -1, 1, &rng);
    fd_dropout_mask(c.mask, AN, 0.3, &rng);
    fd_dropout_backward(dx, c.G, c.mask, AN);
    ASSERT(grad_ok("dropout dx", c.x, AN, dx, drop_loss, &c));
}

TEST(dropout_mask_drops_at_the_rate_and_rescales_the_rest) {
    enum { M = 20000 };
    static double mask[M];
    fd_rng rng;
    size_t dropped = 0;
    fd_rng_seed(&rng, 7);
    fd_dropout_mask(mask, M, 0.25, &rng);
    for (size_t i = 0; i < M; i++) {
        if (mask[i] == 0.0) dropped++;
        else ASSERT_NEAR(mask[i], 1.0 / 0.75, 1e-15);
    }
    /* Binomial(20000, 0.25): sd ~ 61, so +-400 is a > 6 sd band. */
    ASSERT(dropped > 4600 && dropped < 5400);
}

/* ---- losses and penalties ---- */
typedef struct { double pred[AN], target[AN], w[AN]; int which; double delta, lambda; } loss_ctx;

static double loss_value(void *p) {
    loss_ctx *c = p;
    switch (c->which) {
    case 0: return fd_loss_mse(NULL, c->pred, c->target, AN);
    case 1: return fd_loss_huber(NULL, c->pred, c->target, AN, c->delta);
    case 2: return fd_penalty_l1(NULL, c->w, AN, c->lambda);
    default: return fd_penalty_l2(NULL, c->w, AN, c->lambda);
    }
}

TEST(mse_gradient_matches_finite_differences) {
    loss_ctx c = {.which = 0};
    fd_rng rng;
    double d[AN];
    fd_rng_seed(&rng, 8);
    fill_uniform(c.pred, AN, -1, 1, &rng);
    fill_uniform(c.target, AN, -1, 1, &rng);
    double l = fd_loss_mse(d, c.pred, c.target, AN);
    ASSERT_NEAR(l, loss_value(&c), 0);
    ASSERT(grad_ok("mse", c.pred, AN, d, loss_value, &c));
}

TEST(huber_gradient_matches_finite_differences_on_both_branches) {
    loss_ctx c = {.which = 1, .delta = 0.5};
    fd_rng rng;
    double d[AN];
    size_t inside = 0;
    fd_rng_seed(&rng, 9);
    fill_uniform(c.pred, AN, -1, 1, &rng);
    fill_uniform(c.target, AN, -1, 1, &rng);
    /* Keep every error clear of the branch point |e| = delta. */
    for (size_t i = 0; i < AN; i++) {
        double e = c.pred[i] - c.target[i];
        if (fabs(fabs(e) - c.delta) < 0.01) c.pred[i] += 0.05;
        if (fabs(c.pred[i] - c.target[i]) <= c.delta) inside++;
    }
    ASSERT(inside > 0 && inside < AN);
    fd_loss_huber(d, c.pred, c.target, AN, c.delta);
    ASSERT(grad_ok("huber", c.pred, AN, d, loss_value, &c));
}

TEST(huber_values_match_the_definition) {
    double pred[2] = {0.3, 2.0}, target[2] = {0.0, 0.0};
    /* 0.5 * 0.09 inside, 1 * (2 - 0.5) outside, averaged. */
    ASSERT_NEAR(fd_loss_huber(NULL, pred, target, 2, 1.0), (0.045 + 1.5) / 2.0, 1e-15);
}

TEST(l1_and_l2_penalty_gradients_match_finite_differences) {
    loss_ctx c = {.lambda = 0.3};
    fd_rng rng;
    double d[AN];
    fd_rng_seed(&rng, 10);
    fill_away_from_zero(c.w, AN, &rng);
    c.which = 2;
    memset(d, 0, sizeof d);
    fd_penalty_l1(d, c.w, AN, c.lambda);
    ASSERT(grad_ok("l1", c.w, AN, d, loss_value, &c));
    c.which = 3;
    memset(d, 0, sizeof d);
    fd_penalty_l2(d, c.w, AN, c.lambda);
    ASSERT(grad_ok("l2", c.w, AN, d, loss_value, &c));
    double w[3] = {-2, 0, 1}, g[3] = {0};
    ASSERT_NEAR(fd_penalty_l1(g, w, 3, 0.5), 1.5, 1e-15);
    ASSERT_NEAR(g[1], 0.0, 0); /* subgradient 0 at the kink */
    ASSERT_NEAR(fd_penalty_l2(NULL, w, 3, 0.5), 2.5, 1e-15);
}

/* ---- Adam ---- */
TEST(adam_two_steps_match_hand_computed_values) {
    /* lr 0.1, betas 0.9/0.999, eps 1e-8, gradients 0.5 then -1 from p = 1:
     * step 1: m = 0.05, v = 0.00025, mhat = 0.5, vhat = 0.25, p = 1 - 0.1 * 0.5 / (0.5 + 1e-8);
     * step 2: m = -0.055, v = 0.00124975, mhat = -0.055/0.19, vhat = 0.00124975/0.001999. */
    fd_adam opt = {.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .t = 0};
    double p = 1.0, m = 0.0, v = 0.0, g = 0.5;
    fd_adam_step(&opt, &p, &g, &m, &v, 1);
    ASSERT_NEAR(p, 0.900000002, 1e-15);
    ASSERT_NEAR(m, 0.05, 1e-15);
    ASSERT_NEAR(v, 0.00025, 1e-18);
    g = -1.0;
    fd_adam_step(&opt, &p, &g, &m, &v, 1);
    ASSERT_NEAR(m, -0.055, 1e-15);
    ASSERT_NEAR(v, 0.00124975, 1e-17);
    ASSERT_NEAR(p, 0.9366103542405654, 1e-13);
    ASSERT_INT_EQ(opt.t, 2);
}

/* ---- the whole conditional autoencoder ---- */
typedef struct {
    fd_ca_net net;
    fd_ca_work w;
    double *params, l1, l2, dropout;
} ca_ctx;

/* MSE of the predictions plus the penalties on the weights, as training minimises. */
static double ca_loss(void *p) {
    ca_ctx *c = p;
    fd_ca_net_forward_train(&c->net, c->params, &c->w, c->dropout, NULL);
    return fd_loss_mse(NULL, c->w.pred, c->w.r, c->w.n_rows) +
           fd_penalty_l1(NULL, c->params, c->net.n_weights, c->l1) +
           fd_penalty_l2(NULL, c->params, c->net.n_weights, c->l2);
}

static void check_ca_network(size_t n_hidden, const size_t *hidden, double dropout) {
    enum { P = 4, K = 3, B = 3 };
    size_t rows[B] = {6, 5, 7}, total = 18;
    double z[18 * P], r[18], x[B * P];
    ca_ctx c = {.l1 = 1e-3, .l2 = 1e-3, .dropout = dropout};
    fd_rng rng;
    fd_rng_seed(&rng, 11);
    fd_ca_net_layout(&c.net, P, K, n_hidden, hidden);
    ASSERT_INT_EQ(fd_ca_work_alloc(&c.w, &c.net, total, B, dropout > 0), 0);
    c.params = malloc(c.net.n_total * sizeof *c.params);
    double *grads = calloc(c.net.n_train, sizeof *grads);
    ASSERT(c.params && grads);
    fd_ca_net_init(&c.net, c.params, &rng);
    /* Perturb gamma/beta away from 1/0 so their gradients are exercised generically, and
     * move every weight clear of the L1 kink. */
    fill_away_from_zero(c.params, c.net.n_weights, &rng);
    for (size_t i = c.net.n_weights; i < c.net.n_train; i++)
        c.params[i] += 0.3 * (fd_rng_uniform(&rng) - 0.5);
    fill_uniform(z, total * P, -1, 1, &rng);
    fill_uniform(r, total, -0.5, 0.5, &rng);
    fill_uniform(x, B * P, -1, 1, &rng);
    fd_ca_work_clear(&c.w);
    for (size_t p = 0, at = 0; p < B; at += rows[p], p++)
        fd_ca_work_add_period(&c.w, &c.net, z + at * P, r + at, x + p * P, rows[p]);
    fd_ca_net_forward_train(&c.net, c.params, &c.w, dropout, dropout > 0 ? &rng : NULL);
    fd_loss_mse(c.w.dpred, c.w.pred, c.w.r, c.w.n_rows);
    fd_ca_net_backward(&c.net, c.params, grads, &c.w, dropout);
    fd_penalty_l1(grads, c.params, c.net.n_weights, c.l1);
    fd_penalty_l2(grads, c.params, c.net.n_weights, c.l2);
    int ok = grad_ok("params", c.params, c.net.n_train, grads, ca_loss, &c);
    free(grads);
    free(c.params);
    fd_ca_work_free(&c.w);
    ASSERT(ok);
}

TEST(ca0_network_gradients_match_finite_differences) {
    check_ca_network(0, NULL, 0.0);
}

TEST(ca2_network_gradients_match_finite_differences) {
    size_t hidden[2] = {32, 16};
    check_ca_network(2, hidden, 0.0);
}

TEST(ca3_network_with_dropout_gradients_match_finite_differences) {
    size_t hidden[3] = {32, 16, 8};
    check_ca_network(3, hidden, 0.2);
}

/* ---- the float family against the double one ----
 * Training runs in float (fd_*_f32). Its layers are the same source as the double ones, so
 * the check is that one float pass equals the double pass to float's precision: relative
 * error about n_terms * 2^-24 for sums of n_terms, i.e. 1e-5 here, and 1e-4 for gradients,
 * whose batch-norm backward subtracts means of nearly cancelling terms. */
static double max_abs(const double *v, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
    return m;
}

/* Fails unless |f - d| <= rel * max|d| everywhere, naming the worst element. */
static int close_to_double(const char *what, const float *f, const double *d, size_t n,
                           double rel) {
    double tol = rel * max_abs(d, n);
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)f[i] - d[i]) <= tol)) {
            tl_fail(__FILE__, __LINE__, "%s[%zu]: float %.9g vs double %.9g (tolerance %.3g)",
                    what, i, (double)f[i], d[i], tol);
            return 0;
        }
    return 1;
}

TEST(float_network_matches_double_network) {
    enum { P = 6, K = 3, B = 3, N = 150 };
    size_t hidden[3] = {32, 16, 8}, rows[B] = {40, 50, 60};
    double *z = malloc(N * P * sizeof *z), r[N], x[B * P], dropout = 0.2;
    fd_ca_net net;
    fd_ca_work w;
    fd_ca_work_f32 wf;
    fd_rng rng;
    fd_rng_seed(&rng, 5);
    fd_ca_net_layout(&net, P, K, 3, hidden);
    ASSERT(z != NULL);
    ASSERT_INT_EQ(fd_ca_work_alloc(&w, &net, N, B, 1), 0);
    ASSERT_INT_EQ(fd_ca_work_alloc_f32(&wf, &net, N, B, 1), 0);
    double *params = malloc(net.n_total * sizeof *params);
    double *grads = calloc(net.n_train, sizeof *grads);
    float *params_f = malloc(net.n_total * sizeof *params_f);
    float *grads_f = calloc(net.n_train, sizeof *grads_f);
    ASSERT(params && grads && params_f && grads_f);
    fd_ca_net_init(&net, params, &rng);
    for (size_t i = 0; i < net.n_total; i++) params_f[i] = (float)params[i];
    fill_uniform(z, N * P, -1, 1, &rng);
    fill_uniform(r, N, -0.5, 0.5, &rng);
    fill_uniform(x, B * P, -1, 1, &rng);
    fd_ca_work_clear(&w);
    fd_ca_work_clear_f32(&wf);
    for (size_t p = 0, at = 0; p < B; at += rows[p], p++) {
        fd_ca_work_add_period(&w, &net, z + at * P, r + at, x + p * P, rows[p]);
        fd_ca_work_add_period_f32(&wf, &net, z + at * P, r + at, x + p * P, rows[p]);
    }
    /* The same dropout masks on both sides: drawn in double, copied. */
    for (size_t l = 0; l < 3; l++) {
        fd_dropout_mask(w.mask[l], N * hidden[l], dropout, &rng);
        for (size_t i = 0; i < N * hidden[l]; i++) wf.mask[l][i] = (float)w.mask[l][i];
    }
    fd_ca_net_forward_train(&net, params, &w, dropout, NULL);
    fd_ca_net_forward_train_f32(&net, params_f, &wf, dropout, NULL);
    double loss = fd_loss_mse(w.dpred, w.pred, w.r, N);
    double loss_f = fd_loss_mse_f32(wf.dpred, wf.pred, wf.r, N);
    fd_ca_net_backward(&net, params, grads, &w, dropout);
    fd_ca_net_backward_f32(&net, params_f, grads_f, &wf, dropout);
    int ok = close_to_double("pred", wf.pred, w.pred, N, 1e-5) &&
             close_to_double("running stats", params_f + net.n_train, params + net.n_train,
                             net.n_total - net.n_train, 1e-5) &&
             close_to_double("grads", grads_f, grads, net.n_train, 1e-4);
    double loss_err = fabs(loss_f - loss) / loss;
    free(z);
    free(params);
    free(grads);
    free(params_f);
    free(grads_f);
    fd_ca_work_free(&w);
    fd_ca_work_free_f32(&wf);
    ASSERT(ok);
    ASSERT(loss_err < 1e-5);
}

TEST(float_adam_and_penalties_match_double) {
    enum { N = 64 };
    double p[N], g[N], m[N] = {0}, v[N] = {0};
    float pf[N], gf[N], mf[N] = {0}, vf[N] = {0};
    fd_adam a = {.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8}, af = a;
    fd_rng rng;
    fd_rng_seed(&rng, 9);
    fill_away_from_zero(p, N, &rng);
    for (size_t i = 0; i < N; i++) pf[i] = (float)p[i];
    for (int step = 0; step < 5; step++) {
        fill_uniform(g, N, -1, 1, &rng);
        for (size_t i = 0; i < N; i++) gf[i] = (float)g[i];
        double l1 = fd_penalty_l1(g, p, N, 1e-3), l1f = fd_penalty_l1_f32(gf, pf, N, 1e-3);
        double l2 = fd_penalty_l2(g, p, N, 1e-2), l2f = fd_penalty_l2_f32(gf, pf, N, 1e-2);
        ASSERT_NEAR(l1f, l1, 1e-6 * l1);
        ASSERT_NEAR(l2f, l2, 1e-6 * l2);
        fd_adam_step(&a, p, g, m, v, N);
        fd_adam_step_f32(&af, pf, gf, mf, vf, N);
    }
    ASSERT(close_to_double("params after 5 Adam steps", pf, p, N, 1e-6));
}

/* ---- data-parallel steps ----
 * fd_ca_net_train_step splits the batch's rows across a team; it must equal the serial
 * forward pass + loss + backward pass (which the gradient checks above cover) up to the
 * order of the workers' sums: 1e-12 relative in double. Shares end inside periods (the
 * factor gradient is split), and a team larger than the batch leaves members empty. */
static void check_team_step(int members, size_t N, double dropout, int huber) {
    enum { P = 5, K = 3, B = 3 };
    size_t hidden[2] = {16, 8}, rows[B] = {N / 3, N / 3, N - 2 * (N / 3)};
    double *z = malloc(N * P * sizeof *z), *r = malloc(N * sizeof *r), x[B * P];
    fd_ca_net net;
    fd_ca_work w;
    fd_ca_step step;
    fd_rng rng, rng_a, rng_b;
    fd_team *team = fd_team_create(members);
    ASSERT(z && r && team);
    fd_rng_seed(&rng, 21);
    fd_ca_net_layout(&net, P, K, 2, hidden);
    ASSERT_INT_EQ(fd_ca_work_alloc(&w, &net, N, B, dropout > 0), 0);
    ASSERT_INT_EQ(fd_ca_step_alloc(&step, &net, B, team), 0);
    double *pa = malloc(net.n_total * sizeof *pa), *pb = malloc(net.n_total * sizeof *pb);
    double *ga = calloc(net.n_train, sizeof *ga), *gb = calloc(net.n_train, sizeof *gb);
    ASSERT(pa && pb && ga && gb);
    fd_ca_net_init(&net, pa, &rng);
    memcpy(pb, pa, net.n_total * sizeof *pa);
    fill_uniform(z, N * P, -1, 1, &rng);
    fill_uniform(r, N, -0.5, 0.5, &rng);
    fill_uniform(x, B * P, -1, 1, &rng);
    fd_ca_work_clear(&w);
    for (size_t p = 0, at = 0; p < B; at += rows[p], p++)
        fd_ca_work_add_period(&w, &net, z + at * P, r + at, x + p * P, rows[p]);
    /* Serial: forward, loss, backward (the same mask draws: twin generators). */
    rng_a = rng;
    rng_b = rng;
    fd_ca_net_forward_train(&net, pa, &w, dropout, &rng_a);
    double la = huber ? fd_loss_huber(w.dpred, w.pred, w.r, N, 0.3)
                      : fd_loss_mse(w.dpred, w.pred, w.r, N);
    fd_ca_net_backward(&net, pa, ga, &w, dropout);
    double lb = fd_ca_net_train_step(&net, pb, gb, &w, &step, dropout, huber, 0.3, &rng_b);
    ASSERT_NEAR(lb, la, 1e-12 * la);
    for (size_t i = 0; i < net.n_total; i++) /* trained and running statistics */
        ASSERT_NEAR(pb[i], pa[i], 1e-12 * fmax(1.0, fabs(pa[i])));
    double gmax = 0.0;
    for (size_t i = 0; i < net.n_train; i++) gmax = fmax(gmax, fabs(ga[i]));
    for (size_t i = 0; i < net.n_train; i++) ASSERT_NEAR(gb[i], ga[i], 1e-12 * gmax);
    free(z);
    free(r);
    free(pa);
    free(pb);
    free(ga);
    free(gb);
    fd_ca_step_free(&step);
    fd_ca_work_free(&w);
    fd_team_destroy(team);
}

TEST(team_steps_equal_the_serial_passes) {
    check_team_step(1, 61, 0.0, 0);
    check_team_step(2, 61, 0.0, 0);
    check_team_step(3, 200, 0.0, 1);
    check_team_step(3, 200, 0.25, 0);
    check_team_step(4, 3, 0.0, 0); /* one row per member, one member empty */
}

TEST_MAIN(T(linear_gradients_match_finite_differences),
          T(linear_backward_accumulates_parameter_gradients),
          T(relu_gradient_matches_finite_differences),
          T(tanh_gradient_matches_finite_differences),
          T(relu_and_tanh_in_place_give_the_same_values),
          T(batchnorm_gradients_match_finite_differences),
          T(batchnorm_running_averages_follow_pytorch),
          T(batchnorm_inference_with_batch_statistics_equals_training_output),
          T(dropout_gradient_with_fixed_mask_matches_finite_differences),
          T(dropout_mask_drops_at_the_rate_and_rescales_the_rest),
          T(mse_gradient_matches_finite_differences),
          T(huber_gradient_matches_finite_differences_on_both_branches),
          T(huber_values_match_the_definition),
          T(l1_and_l2_penalty_gradients_match_finite_differences),
          T(adam_two_steps_match_hand_computed_values),
          T(ca0_network_gradients_match_finite_differences),
          T(ca2_network_gradients_match_finite_differences),
          T(float_network_matches_double_network),
          T(float_adam_and_penalties_match_double),
          T(team_steps_equal_the_serial_passes),
          T(ca3_network_with_dropout_gradients_match_finite_differences))
