/* Gradient checks for the sequence layers of factord/nn_seq.h (sigmoid and softmax, the
 * RNN, GRU and LSTM cells through time, the bilinear attention, the attention decoder and
 * the whole factor network of seed 003), against central finite differences (method and
 * tolerances in gradcheck.h), with absent steps in every sequence; and the masking rules:
 * an absent step is skipped by the recurrence, never read, and weighted 0 by attention.
 * ReLU variants draw fresh random data; the checks' perturbations (1e-6) are far below the
 * typical distance of a pre-activation from the kink, and the seeds are fixed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/nn.h"
#include "factord/nn_seq.h"
#include "gradcheck.h"
#include "testlib.h"

/* ---- sigmoid and softmax ---- */
enum { SN = 5, SC = 6 };
typedef struct {
    double x[SN * SC], G[SN * SC], y[SN * SC];
    unsigned char mask[SN * SC];
    int softmax;
} act_ctx;

static double act_loss(void *p) {
    act_ctx *c = p;
    if (c->softmax) fd_softmax_forward(c->y, c->x, c->mask, SN, SC);
    else fd_sigmoid_forward(c->y, c->x, SN * SC);
    return project(c->y, c->G, SN * SC);
}

TEST(sigmoid_gradient_matches_finite_differences_and_is_stable) {
    act_ctx c = {.softmax = 0};
    fd_rng rng;
    double dx[SN * SC];
    fd_rng_seed(&rng, 21);
    fill_uniform(c.x, SN * SC, -4, 4, &rng);
    fill_uniform(c.G, SN * SC, -1, 1, &rng);
    act_loss(&c);
    fd_sigmoid_backward(dx, c.G, c.y, SN * SC);
    ASSERT(grad_ok("sigmoid dx", c.x, SN * SC, dx, act_loss, &c));
    double big[4] = {800, -800, 0, -1}, out[4];
    fd_sigmoid_forward(out, big, 4);
    ASSERT_NEAR(out[0], 1.0, 0);
    ASSERT_NEAR(out[1], 0.0, 1e-300);
    ASSERT_NEAR(out[2], 0.5, 0);
    ASSERT_NEAR(out[3], 1.0 / (1.0 + exp(1.0)), 1e-16);
}

TEST(masked_softmax_gradient_matches_finite_differences) {
    act_ctx c = {.softmax = 1};
    fd_rng rng;
    double dx[SN * SC];
    fd_rng_seed(&rng, 22);
    fill_uniform(c.x, SN * SC, -3, 3, &rng);
    fill_uniform(c.G, SN * SC, -1, 1, &rng);
    for (int i = 0; i < SN * SC; i++) c.mask[i] = (i % 4) != 1; /* some entries absent */
    act_loss(&c);
    fd_softmax_backward(dx, c.G, c.y, SN, SC);
    ASSERT(grad_ok("softmax dx", c.x, SN * SC, dx, act_loss, &c));
    for (int i = 0; i < SN; i++) {
        double sum = 0;
        for (int j = 0; j < SC; j++) {
            if (!c.mask[i * SC + j]) ASSERT_NEAR(c.y[i * SC + j], 0.0, 0);
            sum += c.y[i * SC + j];
        }
        ASSERT_NEAR(sum, 1.0, 1e-15);
    }
}

TEST(softmax_of_a_row_with_nothing_present_is_zero_and_large_scores_do_not_overflow) {
    double x[4] = {1000, 999, 2, 3}, y[4];
    unsigned char mask[4] = {1, 1, 0, 0};
    fd_softmax_forward(y, x, mask, 2, 2);
    ASSERT_NEAR(y[0], 1.0 / (1.0 + exp(-1.0)), 1e-15);
    ASSERT_NEAR(y[1], exp(-1.0) / (1.0 + exp(-1.0)), 1e-15);
    ASSERT_NEAR(y[2], 0.0, 0);
    ASSERT_NEAR(y[3], 0.0, 0);
}

/* ---- recurrent layers over a sequence ---- */
enum { RL = 5, RB = 3, RIN = 4, RH = 3 };

/* Step l of sequence b present? Sequence 0 has every step, 1 starts late (two leading
 * absent months), 2 has a hole in the middle. */
static void seq_mask(unsigned char *mask, size_t L, size_t B) {
    for (size_t b = 0; b < B; b++)
        for (size_t l = 0; l < L; l++)
            mask[b * L + l] = !((b % 3 == 1 && l < 2) || (b % 3 == 2 && l == L / 2));
}

typedef struct {
    fd_cell_spec s;
    double *X, *params, *G, *H, *cache, *work;
    unsigned char mask[RL * RB];
} rec_ctx;

static double rec_loss(void *p) {
    rec_ctx *c = p;
    memset(c->H, 0, RB * RH * sizeof *c->H);
    fd_recurrent_forward(&c->s, c->H, c->cache, c->work, c->X, c->mask, c->params, RL, RB);
    return project(c->H + RB * RH, c->G, RL * RB * RH); /* every state h_1 .. h_L */
}

static void rec_setup(rec_ctx *c, fd_cell_kind kind, fd_seq_act act, uint64_t seed) {
    fd_rng rng;
    c->s = (fd_cell_spec){.kind = kind, .act = act, .in = RIN, .hidden = RH};
    size_t np = fd_cell_param_count(&c->s);
    c->X = calloc(RL * RB * RIN, sizeof *c->X);
    c->params = calloc(np, sizeof *c->params);
    c->G = calloc(RL * RB * RH, sizeof *c->G);
    c->H = calloc((RL + 1) * RB * RH, sizeof *c->H);
    c->cache = calloc(fd_cell_cache_count(&c->s, RL, RB) + 1, sizeof *c->cache);
    c->work = calloc(fd_cell_work_count(&c->s, RL, RB), sizeof *c->work);
    fd_rng_seed(&rng, seed);
    fill_uniform(c->X, RL * RB * RIN, -1, 1, &rng);
    fd_cell_init(&c->s, c->params, &rng);
    for (size_t i = 0; i < np; i++) c->params[i] *= 2.0; /* livelier than the default scale */
    fill_uniform(c->G, RL * RB * RH, -1, 1, &rng);
    seq_mask(c->mask, RL, RB);
}

static void rec_free(rec_ctx *c) {
    free(c->X), free(c->params), free(c->G), free(c->H), free(c->cache), free(c->work);
}

static void check_recurrent(fd_cell_kind kind, fd_seq_act act, uint64_t seed) {
    rec_ctx c;
    rec_setup(&c, kind, act, seed);
    size_t np = fd_cell_param_count(&c.s);
    double *dX = calloc(RL * RB * RIN, sizeof *dX), *dp = calloc(np, sizeof *dp);
    double *dH = calloc((RL + 1) * RB * RH, sizeof *dH);
    rec_loss(&c);
    memcpy(dH + RB * RH, c.G, RL * RB * RH * sizeof *dH);
    fd_recurrent_backward(&c.s, dX, dp, dH, c.work, c.X, c.mask, c.params, c.H, c.cache, RL, RB);
    int ok = grad_ok("dX", c.X, RL * RB * RIN, dX, rec_loss, &c) &&
             grad_ok("dparams", c.params, np, dp, rec_loss, &c);
    /* Absent steps are never read: their input gradient is exactly 0. */
    for (size_t b = 0; ok && b < RB; b++)
        for (size_t l = 0; l < RL; l++)
            if (!c.mask[b * RL + l])
                for (size_t k = 0; k < RIN; k++)
                    if (dX[(l * RB + b) * RIN + k] != 0.0) {
                        tl_fail(__FILE__, __LINE__, "dX at absent step (%zu, %zu) is not 0", b, l);
                        ok = 0;
                    }
    free(dX), free(dp), free(dH);
    rec_free(&c);
}

TEST(rnn_tanh_gradients_through_time_match_finite_differences) {
    check_recurrent(FD_CELL_RNN, FD_SEQ_TANH, 31);
}

TEST(rnn_relu_gradients_through_time_match_finite_differences) {
    check_recurrent(FD_CELL_RNN, FD_SEQ_RELU, 32);
}

TEST(gru_gradients_through_time_match_finite_differences) {
    check_recurrent(FD_CELL_GRU, FD_SEQ_TANH, 33);
}

TEST(lstm_gradients_through_time_match_finite_differences) {
    check_recurrent(FD_CELL_LSTM, FD_SEQ_TANH, 34);
}

/* A sequence whose first steps are absent gives the states of the shorter sequence that
 * starts at its first present step, and a hole carries the state over it: for each cell,
 * sequence 1 (two leading absent steps) and 2 (one hole) against runs of the present steps
 * alone. Inputs at absent steps are set to garbage to show they are never read. */
static void check_absent_steps_are_skipped(fd_cell_kind kind) {
    rec_ctx c;
    rec_setup(&c, kind, FD_SEQ_TANH, 40 + kind);
    for (size_t b = 0; b < RB; b++)
        for (size_t l = 0; l < RL; l++)
            if (!c.mask[b * RL + l])
                for (size_t k = 0; k < RIN; k++) c.X[(l * RB + b) * RIN + k] = 1e6;
    rec_loss(&c);
    for (size_t b = 1; b < RB; b++) {
        /* the present steps of sequence b, as a batch of one with no mask */
        double Xs[RL * RIN], Hs[(RL + 1) * RH] = {0};
        double *cache = calloc(fd_cell_cache_count(&c.s, RL, 1) + 1, sizeof *cache);
        double *work = calloc(fd_cell_work_count(&c.s, RL, 1), sizeof *work);
        size_t n = 0, at[RL];
        for (size_t l = 0; l < RL; l++)
            if (c.mask[b * RL + l]) {
                memcpy(Xs + n * RIN, c.X + (l * RB + b) * RIN, RIN * sizeof *Xs);
                at[n++] = l;
            }
        fd_recurrent_forward(&c.s, Hs, cache, work, Xs, NULL, c.params, n, 1);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < RH; j++)
                if (fabs(Hs[(i + 1) * RH + j] - c.H[((at[i] + 1) * RB + b) * RH + j]) > 1e-15)
                    tl_fail(__FILE__, __LINE__, "sequence %zu step %zu differs", b, at[i]);
        /* the final state is the state after the last present step */
        for (size_t j = 0; j < RH; j++)
            if (fabs(Hs[n * RH + j] - c.H[(RL * RB + b) * RH + j]) > 1e-15)
                tl_fail(__FILE__, __LINE__, "sequence %zu final state differs", b);
        free(cache), free(work);
    }
    rec_free(&c);
}

TEST(absent_steps_are_skipped_by_every_cell) {
    check_absent_steps_are_skipped(FD_CELL_RNN);
    check_absent_steps_are_skipped(FD_CELL_GRU);
    check_absent_steps_are_skipped(FD_CELL_LSTM);
}

/* The cells against hand-written one-step formulas (PyTorch's definitions), one sequence of
 * one step from h_0 = 0, so a transposed gate block cannot hide behind a matching gradient. */
TEST(one_step_of_each_cell_follows_the_pytorch_equations) {
    enum { IN = 2, HD = 2 };
    double x[IN] = {0.3, -0.7};
    for (int kind = 0; kind < 3; kind++) {
        fd_cell_spec s = {.kind = (fd_cell_kind)kind, .act = FD_SEQ_TANH, .in = IN, .hidden = HD};
        size_t G = fd_cell_gates(&s), np = fd_cell_param_count(&s);
        double p[64], H[2 * HD] = {0}, cache[6 * HD], work[64], want[HD];
        fd_rng rng;
        fd_rng_seed(&rng, 50 + kind);
        fd_cell_init(&s, p, &rng);
        ASSERT(np <= 64 && fd_cell_work_count(&s, 1, 1) <= 64);
        fd_recurrent_forward(&s, H, cache, work, x, NULL, p, 1, 1);
        const double *Wih = p, *bih = p + G * HD * (IN + HD), *bhh = bih + G * HD;
        for (int j = 0; j < HD; j++) {
            double a[4]; /* pre-activations of each gate for unit j; h_0 = 0 */
            for (size_t g = 0; g < G; g++) {
                size_t row = g * HD + j;
                a[g] = bih[row] + Wih[row * IN] * x[0] + Wih[row * IN + 1] * x[1];
            }
            if (kind == FD_CELL_RNN) want[j] = tanh(a[0] + bhh[j]);
            else if (kind == FD_CELL_GRU) {
                double r = 1 / (1 + exp(-(a[0] + bhh[j]))), z = 1 / (1 + exp(-(a[1] + bhh[HD + j])));
                double n = tanh(a[2] + r * bhh[2 * HD + j]);
                want[j] = (1 - z) * n; /* + z h_0 */
            } else {
                double i = 1 / (1 + exp(-(a[0] + bhh[j])));
                double g = tanh(a[2] + bhh[2 * HD + j]), o = 1 / (1 + exp(-(a[3] + bhh[3 * HD + j])));
                want[j] = o * tanh(i * g); /* c = f c_0 + i g, c_0 = 0 */
            }
            ASSERT_NEAR(H[HD + j], want[j], 1e-15);
        }
    }
}

/* ---- attention and decoder ---- */
enum { AL = 4, AB = 3, AH = 3 };
typedef struct {
    double hq[AB * AH], E[AL * AB * AH], W[AH * AH], G[AB * AH];
    double ctx[AB * AH], alpha[AB * AL], q[AB * AH];
    unsigned char mask[AB * AL];
} att_ctx;

static double att_loss(void *p) {
    att_ctx *c = p;
    fd_seq_attention_forward(c->ctx, c->alpha, c->q, c->hq, AH, c->E, c->mask, c->W, AL, AB, AH);
    return project(c->ctx, c->G, AB * AH);
}

TEST(bilinear_attention_gradients_match_finite_differences) {
    att_ctx c;
    fd_rng rng;
    double dhq[AB * AH] = {0}, dE[AL * AB * AH] = {0}, dW[AH * AH] = {0}, work[AB * (AL + AH)];
    fd_rng_seed(&rng, 60);
    fill_uniform(c.hq, AB * AH, -1, 1, &rng);
    fill_uniform(c.E, AL * AB * AH, -1, 1, &rng);
    fill_uniform(c.W, AH * AH, -1.5, 1.5, &rng);
    fill_uniform(c.G, AB * AH, -1, 1, &rng);
    seq_mask(c.mask, AL, AB);
    att_loss(&c);
    fd_seq_attention_backward(dhq, AH, dE, dW, work, c.G, c.alpha, c.q, c.hq, c.E, c.W, AL, AB,
                              AH);
    ASSERT(grad_ok("dhq", c.hq, AB * AH, dhq, att_loss, &c));
    ASSERT(grad_ok("dE", c.E, AL * AB * AH, dE, att_loss, &c));
    ASSERT(grad_ok("dW_att", c.W, AH * AH, dW, att_loss, &c));
    /* eq. 8 by hand for sequence 0, step 2; absent steps weigh exactly 0 */
    att_loss(&c); /* at the unperturbed point again */
    double e[AL], mx = -INFINITY, sum = 0;
    for (int t = 0; t < AL; t++) {
        e[t] = 0;
        for (int i = 0; i < AH; i++)
            for (int j = 0; j < AH; j++) e[t] += c.hq[i] * c.W[i * AH + j] * c.E[(t * AB) * AH + j];
        mx = fmax(mx, e[t]);
    }
    for (int t = 0; t < AL; t++) sum += exp(e[t] - mx);
    ASSERT_NEAR(c.alpha[2], exp(e[2] - mx) / sum, 1e-15);
    for (int b = 0; b < AB; b++)
        for (int t = 0; t < AL; t++)
            if (!c.mask[b * AL + t]) ASSERT_NEAR(c.alpha[b * AL + t], 0.0, 0);
}

typedef struct {
    fd_seq_act act;
    double h0[AB * AH], E[AL * AB * AH], *params, G[AB * AL * AH], D[AB * AL * AH], *cache;
    unsigned char mask[AB * AL];
} dec_ctx;

static double dec_loss(void *p) {
    dec_ctx *c = p;
    fd_seq_decoder_forward(c->D, c->cache, c->h0, c->E, c->mask, c->params, c->act, AL, AB, AH);
    return project(c->D, c->G, AB * AL * AH);
}

static void check_decoder(fd_seq_act act, uint64_t seed) {
    dec_ctx c = {.act = act};
    fd_rng rng;
    size_t np = fd_decoder_param_count(AH);
    double dh0[AB * AH], dE[AL * AB * AH] = {0}, dD[AB * AL * AH];
    double *dp = calloc(np, sizeof *dp), *work = calloc(fd_decoder_work_count(AH, AL, AB), 8);
    c.params = calloc(np, sizeof *c.params);
    c.cache = calloc(fd_decoder_cache_count(AH, AL, AB), sizeof *c.cache);
    fd_rng_seed(&rng, seed);
    fill_uniform(c.h0, AB * AH, -1, 1, &rng);
    fill_uniform(c.E, AL * AB * AH, -1, 1, &rng);
    fill_uniform(c.params, np, -1, 1, &rng);
    fill_uniform(c.G, AB * AL * AH, -1, 1, &rng);
    seq_mask(c.mask, AL, AB);
    dec_loss(&c);
    memcpy(dD, c.G, sizeof dD);
    fd_seq_decoder_backward(dh0, dE, dp, dD, work, c.cache, c.h0, c.E, c.params, c.D, act, AL, AB,
                            AH);
    (void)(grad_ok("dh0", c.h0, AB * AH, dh0, dec_loss, &c) &&
           grad_ok("dE", c.E, AL * AB * AH, dE, dec_loss, &c) &&
           grad_ok("dparams", c.params, np, dp, dec_loss, &c));
    free(dp), free(work), free(c.params), free(c.cache);
}

TEST(attention_decoder_gradients_match_finite_differences) {
    check_decoder(FD_SEQ_TANH, 70);
    check_decoder(FD_SEQ_RELU, 71);
}

/* ---- the whole factor network ---- */
enum { NL = 4, NB = 3, NP = 5, NH = 3, NK = 2 };
typedef struct {
    fd_seqnet_spec s;
    double *X, *params, *G, *f, *cache, *work;
    unsigned char mask[NB * NL];
} net_ctx;

static double net_loss(void *p) {
    net_ctx *c = p;
    fd_seqnet_forward(&c->s, c->f, c->cache, c->work, c->X, c->mask, c->params, NB);
    return project(c->f, c->G, NB * NK);
}

static void net_setup(net_ctx *c, fd_cell_kind kind, fd_seq_act act, uint64_t seed) {
    fd_rng rng;
    c->s = (fd_seqnet_spec){.cell = {.kind = kind, .act = act, .in = NP, .hidden = NH},
                            .dec_act = act, .L = NL, .K = NK};
    size_t np = fd_seqnet_param_count(&c->s);
    c->X = calloc(NL * NB * NP, sizeof *c->X);
    c->params = calloc(np, sizeof *c->params);
    c->G = calloc(NB * NK, sizeof *c->G);
    c->f = calloc(NB * NK, sizeof *c->f);
    c->cache = calloc(fd_seqnet_cache_count(&c->s, NB), sizeof *c->cache);
    c->work = calloc(fd_seqnet_work_count(&c->s, NB), sizeof *c->work);
    fd_rng_seed(&rng, seed);
    fill_uniform(c->X, NL * NB * NP, -1, 1, &rng);
    fd_seqnet_init(&c->s, c->params, &rng);
    for (size_t i = 0; i < np; i++) c->params[i] *= 2.0;
    fill_uniform(c->G, NB * NK, -1, 1, &rng);
    seq_mask(c->mask, NL, NB);
}

static void net_free(net_ctx *c) {
    free(c->X), free(c->params), free(c->G), free(c->f), free(c->cache), free(c->work);
}

static void check_network(fd_cell_kind kind, fd_seq_act act, uint64_t seed) {
    net_ctx c;
    net_setup(&c, kind, act, seed);
    size_t np = fd_seqnet_param_count(&c.s);
    double *dX = calloc(NL * NB * NP, sizeof *dX), *dp = calloc(np, sizeof *dp);
    net_loss(&c);
    fd_seqnet_backward(&c.s, dX, dp, c.work, c.G, c.cache, c.X, c.mask, c.params, NB);
    (void)(grad_ok("dX", c.X, NL * NB * NP, dX, net_loss, &c) &&
           grad_ok("dparams", c.params, np, dp, net_loss, &c));
    free(dX), free(dp);
    net_free(&c);
}

TEST(seqrat_factor_network_gradients_match_finite_differences) {
    check_network(FD_CELL_RNN, FD_SEQ_TANH, 80);
    check_network(FD_CELL_RNN, FD_SEQ_RELU, 81);
}

TEST(seqgat_factor_network_gradients_match_finite_differences) {
    check_network(FD_CELL_GRU, FD_SEQ_TANH, 82);
}

TEST(seqlat_factor_network_gradients_match_finite_differences) {
    check_network(FD_CELL_LSTM, FD_SEQ_TANH, 83);
}

/* The float instantiation computes what the double one does, to float precision. */
TEST(float_factor_network_matches_double) {
    for (int kind = 0; kind < 3; kind++) {
        net_ctx c;
        net_setup(&c, (fd_cell_kind)kind, FD_SEQ_TANH, 90 + kind);
        size_t np = fd_seqnet_param_count(&c.s), nx = NL * NB * NP;
        float *Xf = malloc(nx * sizeof *Xf), *pf = malloc(np * sizeof *pf), ff[NB * NK];
        float *cf = calloc(fd_seqnet_cache_count(&c.s, NB), sizeof *cf);
        float *wf = calloc(fd_seqnet_work_count(&c.s, NB), sizeof *wf);
        float *dpf = calloc(np, sizeof *dpf), Gf[NB * NK];
        double *dp = calloc(np, sizeof *dp);
        for (size_t i = 0; i < nx; i++) Xf[i] = (float)c.X[i];
        for (size_t i = 0; i < np; i++) pf[i] = (float)c.params[i];
        for (size_t i = 0; i < NB * NK; i++) Gf[i] = (float)c.G[i];
        net_loss(&c);
        fd_seqnet_forward_f32(&c.s, ff, cf, wf, Xf, c.mask, pf, NB);
        for (size_t i = 0; i < NB * NK; i++) ASSERT_NEAR(ff[i], c.f[i], 2e-5);
        fd_seqnet_backward(&c.s, NULL, dp, c.work, c.G, c.cache, c.X, c.mask, c.params, NB);
        fd_seqnet_backward_f32(&c.s, NULL, dpf, wf, Gf, cf, Xf, c.mask, pf, NB);
        for (size_t i = 0; i < np; i++) ASSERT_NEAR(dpf[i], dp[i], 1e-4 * (1 + fabs(dp[i])));
        free(Xf), free(pf), free(cf), free(wf), free(dpf), free(dp);
        net_free(&c);
    }
}

TEST_MAIN(T(sigmoid_gradient_matches_finite_differences_and_is_stable),
          T(masked_softmax_gradient_matches_finite_differences),
          T(softmax_of_a_row_with_nothing_present_is_zero_and_large_scores_do_not_overflow),
          T(rnn_tanh_gradients_through_time_match_finite_differences),
          T(rnn_relu_gradients_through_time_match_finite_differences),
          T(gru_gradients_through_time_match_finite_differences),
          T(lstm_gradients_through_time_match_finite_differences),
          T(absent_steps_are_skipped_by_every_cell),
          T(one_step_of_each_cell_follows_the_pytorch_equations),
          T(bilinear_attention_gradients_match_finite_differences),
          T(attention_decoder_gradients_match_finite_differences),
          T(seqrat_factor_network_gradients_match_finite_differences),
          T(seqgat_factor_network_gradients_match_finite_differences),
          T(seqlat_factor_network_gradients_match_finite_differences),
          T(float_factor_network_matches_double))
