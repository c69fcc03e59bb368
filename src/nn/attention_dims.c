/* Sizes, layouts, initialisation and the positional encoding of the attention layers: see
 * include/factord/nn_attention.h. The typed passes (src/nn/time_attention.inc,
 * cross_attention.inc) read these layouts. */
#include "factord/nn_attention.h"

#include <math.h>

size_t fd_mha_bin_offset(const fd_mha_spec *s) {
    return 3 * s->d * s->d;
}

size_t fd_mha_wo_offset(const fd_mha_spec *s) {
    return fd_mha_bin_offset(s) + 3 * s->d;
}

size_t fd_mha_bo_offset(const fd_mha_spec *s) {
    return fd_mha_wo_offset(s) + s->d * s->d;
}

size_t fd_mha_param_count(const fd_mha_spec *s) {
    return fd_mha_bo_offset(s) + s->d;
}

static void uniform_fill(double *v, size_t n, double bound, fd_rng *rng) {
    for (size_t i = 0; i < n; i++) v[i] = bound * (2.0 * fd_rng_uniform(rng) - 1.0);
}

void fd_mha_init(const fd_mha_spec *s, double *params, fd_rng *rng) {
    size_t d = s->d;
    /* xavier_uniform_ on in_proj_weight (3d, d): fan_in d, fan_out 3d */
    uniform_fill(params, 3 * d * d, sqrt(6.0 / (double)(4 * d)), rng);
    for (size_t i = 0; i < 3 * d; i++) params[fd_mha_bin_offset(s) + i] = 0.0;
    uniform_fill(params + fd_mha_wo_offset(s), d * d, 1.0 / sqrt((double)d), rng);
    for (size_t i = 0; i < d; i++) params[fd_mha_bo_offset(s) + i] = 0.0;
}

size_t fd_time_attention_cache_count(const fd_mha_spec *s, size_t L, size_t B) {
    return B * s->d + L * B * 2 * s->d + B * s->heads * L + B * s->d;
}

size_t fd_time_attention_work_count(const fd_mha_spec *s, size_t L, size_t B) {
    return L * B * 2 * s->d + 2 * B * s->d + B * s->heads * L;
}

size_t fd_cross_attention_cache_count(const fd_mha_spec *s, size_t N) {
    return N * 3 * s->d + N * s->d + s->heads * N;
}

size_t fd_cross_attention_work_count(const fd_mha_spec *s, size_t N) {
    size_t T = s->tile < N ? s->tile : N;
    return 2 * T * T + 2 * T + N * 3 * s->d + N * s->d + N;
}

void fd_posenc_sinusoid(double *pe, size_t L, size_t d) {
    for (size_t l = 0; l < L; l++) {
        double p = (double)(L - 1 - l);
        for (size_t c = 0; c < d; c++) {
            size_t j2 = c - c % 2; /* 2j for both members of a pair */
            double angle = p / pow(10000.0, (double)j2 / (double)d);
            pe[l * d + c] = c % 2 ? cos(angle) : sin(angle);
        }
    }
}
