/* The NeurIF layers against tests/data/neurif_expected.json, which tests/ref/neurif_ref.py
 * computes independently: the penalties and the least-squares factor with numpy, layer
 * normalisation and both attention layers with torch.nn.LayerNorm and
 * torch.nn.MultiheadAttention (outputs and every gradient), float64 on both sides.
 * Tolerance 1e-12 (same arithmetic in another order). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/nn_attention.h"
#include "factord/nn_factor.h"
#include "testlib.h"

#define TOL 1e-12

static json_t *expected;

static json_t *ref(const char *key) {
    if (!expected) {
        json_error_t e;
        expected = json_load_file("tests/data/neurif_expected.json", 0, &e);
        if (!expected) fprintf(stderr, "neurif_expected.json: %s\n", e.text);
    }
    return expected ? json_object_get(expected, key) : NULL;
}

/* The array obj[key] as a malloc'd double array of its length (at least one element). */
static double *vec(const json_t *obj, const char *key, size_t *n) {
    json_t *arr = json_object_get(obj, key), *v;
    size_t i, len = json_array_size(arr);
    double *out = malloc((len + 1) * sizeof *out);
    json_array_foreach(arr, i, v) out[i] = json_number_value(v);
    if (n) *n = len;
    return out;
}

static size_t dim(const json_t *obj, const char *key) {
    return (size_t)json_integer_value(json_object_get(obj, key));
}

/* max |a - b| over n values, failing the test (and returning 0) beyond TOL. */
static int close_all(const char *what, const double *a, const double *b, size_t n) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(a[i] - b[i]));
    if (!(worst <= TOL)) {
        tl_fail(__FILE__, __LINE__, "%s: max |C - reference| %.3g", what, worst);
        return 0;
    }
    return 1;
}

TEST(orthogonality_penalty_matches_numpy_corrcoef) {
    json_t *cases = ref("orthogonality"), *c;
    size_t i;
    ASSERT(json_array_size(cases) == 3);
    json_array_foreach(cases, i, c) {
        size_t T = dim(c, "T"), K = dim(c, "K");
        double *F = vec(c, "F", NULL), *work = malloc(fd_orthogonality_work_count(K) * sizeof *work);
        double v = fd_orthogonality_penalty(NULL, work, F, T, K, 1.0);
        double want = json_number_value(json_object_get(c, "value"));
        free(F), free(work);
        ASSERT(want > 0.01);
        ASSERT_NEAR(v, want, TOL);
    }
}

TEST(deviation_penalty_matches_numpy) {
    json_t *cases = ref("deviation"), *c;
    size_t i;
    ASSERT(json_array_size(cases) == 2);
    json_array_foreach(cases, i, c) {
        size_t n = dim(c, "n"), P = dim(c, "P"), K = dim(c, "K");
        double *B = vec(c, "B", NULL), *Z = vec(c, "Z", NULL), *G = vec(c, "Gamma", NULL);
        double *work = malloc(n * K * sizeof *work);
        double v = fd_deviation_penalty(NULL, NULL, work, B, Z, G, n, P, K, 1.0);
        free(B), free(Z), free(G), free(work);
        ASSERT_NEAR(v, json_number_value(json_object_get(c, "value")), TOL);
    }
}

TEST(least_squares_factor_matches_numpy_solve) {
    json_t *cases = ref("factor_ls"), *c;
    size_t i;
    ASSERT(json_array_size(cases) == 2);
    json_array_foreach(cases, i, c) {
        size_t n = dim(c, "n"), K = dim(c, "K");
        double *B = vec(c, "B", NULL), *r = vec(c, "r", NULL), *want = vec(c, "f", NULL);
        double *f = malloc(K * sizeof *f), *work = malloc(fd_factor_ls_work_count(K) * sizeof *work);
        int rc = fd_factor_ls_forward(f, work, B, r, n, K,
                                      json_number_value(json_object_get(c, "ridge")));
        int ok = rc == 0 && close_all("factor", f, want, K);
        free(B), free(r), free(want), free(f), free(work);
        if (!ok) return;
    }
}

TEST(layernorm_matches_pytorch) {
    json_t *c = ref("layernorm");
    ASSERT(c);
    size_t n = dim(c, "n"), C = dim(c, "C");
    double *x = vec(c, "x", NULL), *g = vec(c, "gamma", NULL), *b = vec(c, "beta", NULL);
    double *G = vec(c, "G", NULL), *want_y = vec(c, "y", NULL), *want_dx = vec(c, "grad_x", NULL);
    double *want_dg = vec(c, "grad_gamma", NULL), *want_db = vec(c, "grad_beta", NULL);
    double *y = malloc(n * C * sizeof *y), *xhat = malloc(n * C * sizeof *xhat);
    double *rstd = malloc(n * sizeof *rstd), *dx = malloc(n * C * sizeof *dx);
    double *dg = calloc(C, sizeof *dg), *db = calloc(C, sizeof *db);
    fd_layernorm_forward(y, xhat, rstd, x, g, b, n, C);
    fd_layernorm_backward(dx, dg, db, G, xhat, rstd, g, n, C);
    int ok = close_all("layernorm y", y, want_y, n * C) &&
             close_all("layernorm dx", dx, want_dx, n * C) &&
             close_all("layernorm dgamma", dg, want_dg, C) &&
             close_all("layernorm dbeta", db, want_db, C);
    free(x), free(g), free(b), free(G), free(want_y), free(want_dx), free(want_dg), free(want_db);
    free(y), free(xhat), free(rstd), free(dx), free(dg), free(db);
    ASSERT(ok);
}

TEST(time_attention_matches_pytorch_multihead_attention_with_key_padding) {
    json_t *c = ref("time_attention");
    ASSERT(c);
    fd_mha_spec s = {.d = dim(c, "d"), .heads = dim(c, "heads")};
    size_t L = dim(c, "L"), B = dim(c, "B"), nm, np = fd_mha_param_count(&s);
    double *X = vec(c, "X", NULL), *maskd = vec(c, "mask", &nm), *p = vec(c, "params", NULL);
    double *G = vec(c, "G", NULL), *want = vec(c, "out", NULL);
    double *want_dx = vec(c, "grad_x", NULL), *want_dp = vec(c, "grad_params", NULL);
    double *out = malloc(B * s.d * sizeof *out), *dX = malloc(L * B * s.d * sizeof *dX);
    double *dp = calloc(np, sizeof *dp);
    double *cache = malloc(fd_time_attention_cache_count(&s, L, B) * sizeof *cache);
    double *work = malloc(fd_time_attention_work_count(&s, L, B) * sizeof *work);
    unsigned char *mask = malloc(nm);
    for (size_t i = 0; i < nm; i++) mask[i] = maskd[i] != 0.0;
    fd_time_attention_forward(&s, out, cache, X, mask, p, L, B);
    fd_time_attention_backward(&s, dX, dp, work, G, cache, X, mask, p, L, B);
    int ok = close_all("time out", out, want, B * s.d) &&
             close_all("time dX", dX, want_dx, L * B * s.d) &&
             close_all("time dparams", dp, want_dp, np);
    free(X), free(maskd), free(p), free(G), free(want), free(want_dx), free(want_dp);
    free(out), free(dX), free(dp), free(cache), free(work), free(mask);
    ASSERT(ok);
}

TEST(tiled_cross_attention_matches_pytorch_multihead_attention) {
    static const size_t tiles[] = {5, 16, 64}; /* 37 securities: partial tiles, one tile */
    json_t *c = ref("cross_attention");
    ASSERT(c);
    size_t N = dim(c, "N");
    double *U = vec(c, "U", NULL), *p = vec(c, "params", NULL), *G = vec(c, "G", NULL);
    double *want = vec(c, "out", NULL), *want_du = vec(c, "grad_u", NULL);
    double *want_dp = vec(c, "grad_params", NULL);
    int ok = 1;
    for (size_t t = 0; ok && t < 3; t++) {
        fd_mha_spec s = {.d = dim(c, "d"), .heads = dim(c, "heads"), .tile = tiles[t]};
        size_t np = fd_mha_param_count(&s);
        double *out = malloc(N * s.d * sizeof *out), *dU = malloc(N * s.d * sizeof *dU);
        double *dp = calloc(np, sizeof *dp);
        double *cache = malloc(fd_cross_attention_cache_count(&s, N) * sizeof *cache);
        double *work = malloc(fd_cross_attention_work_count(&s, N) * sizeof *work);
        fd_cross_attention_forward(&s, out, cache, work, U, p, N);
        fd_cross_attention_backward(&s, dU, dp, work, G, cache, U, p, N);
        ok = close_all("cross out", out, want, N * s.d) &&
             close_all("cross dU", dU, want_du, N * s.d) && close_all("cross dparams", dp, want_dp, np);
        free(out), free(dU), free(dp), free(cache), free(work);
    }
    free(U), free(p), free(G), free(want), free(want_du), free(want_dp);
    ASSERT(ok);
}

TEST_MAIN(T(orthogonality_penalty_matches_numpy_corrcoef), T(deviation_penalty_matches_numpy),
          T(least_squares_factor_matches_numpy_solve), T(layernorm_matches_pytorch),
          T(time_attention_matches_pytorch_multihead_attention_with_key_padding),
          T(tiled_cross_attention_matches_pytorch_multihead_attention))
