/* Sizes, layouts and initialisation of the sequence layers: see include/factord/nn_seq.h.
 * The typed passes (src/nn/recurrent.inc and the files beside it) read these layouts. */
#include "factord/nn_seq.h"

#include <math.h>

#include "factord/nn.h"

size_t fd_cell_gates(const fd_cell_spec *s) {
    switch (s->kind) {
    case FD_CELL_GRU: return 3;
    case FD_CELL_LSTM: return 4;
    default: return 1;
    }
}

size_t fd_cell_param_count(const fd_cell_spec *s) {
    return fd_cell_gates(s) * s->hidden * (s->in + s->hidden + 2);
}

size_t fd_cell_cache_count(const fd_cell_spec *s, size_t L, size_t B) {
    size_t per = s->kind == FD_CELL_GRU ? 4 : s->kind == FD_CELL_LSTM ? 6 : 0;
    return per * s->hidden * L * B;
}

size_t fd_cell_work_count(const fd_cell_spec *s, size_t L, size_t B) {
    size_t GH = fd_cell_gates(s) * s->hidden;
    return GH * L * B + GH * B + 3 * s->hidden * B;
}

static void uniform_fill(double *v, size_t n, double bound, fd_rng *rng) {
    for (size_t i = 0; i < n; i++) v[i] = bound * (2.0 * fd_rng_uniform(rng) - 1.0);
}

void fd_cell_init(const fd_cell_spec *s, double *params, fd_rng *rng) {
    uniform_fill(params, fd_cell_param_count(s), 1.0 / sqrt((double)s->hidden), rng);
}

size_t fd_decoder_param_count(size_t hidden) {
    return 3 * hidden * hidden + hidden;
}

size_t fd_decoder_cache_count(size_t hidden, size_t L, size_t B) {
    return L * B * (2 * hidden + L);
}

size_t fd_decoder_work_count(size_t hidden, size_t L, size_t B) {
    return B * (2 * hidden + L);
}

void fd_decoder_init(size_t hidden, double *params, fd_rng *rng) {
    uniform_fill(params, fd_decoder_param_count(hidden), 1.0 / sqrt((double)hidden), rng);
}

size_t fd_seqnet_decoder_offset(const fd_seqnet_spec *s) {
    return fd_cell_param_count(&s->cell);
}

size_t fd_seqnet_factor_offset(const fd_seqnet_spec *s) {
    return fd_seqnet_decoder_offset(s) + fd_decoder_param_count(s->cell.hidden);
}

size_t fd_seqnet_param_count(const fd_seqnet_spec *s) {
    return fd_seqnet_factor_offset(s) + s->K * (s->L * s->cell.hidden + 1);
}

size_t fd_seqnet_cache_count(const fd_seqnet_spec *s, size_t B) {
    size_t H = s->cell.hidden, L = s->L;
    return (L + 1) * B * H + fd_cell_cache_count(&s->cell, L, B) + B * L * H +
           fd_decoder_cache_count(H, L, B);
}

size_t fd_seqnet_work_count(const fd_seqnet_spec *s, size_t B) {
    size_t H = s->cell.hidden, L = s->L;
    size_t cell = fd_cell_work_count(&s->cell, L, B), dec = fd_decoder_work_count(H, L, B);
    return (2 * L + 1) * B * H + (cell > dec ? cell : dec);
}

void fd_seqnet_init(const fd_seqnet_spec *s, double *params, fd_rng *rng) {
    size_t o_f = fd_seqnet_factor_offset(s), LH = s->L * s->cell.hidden;
    fd_cell_init(&s->cell, params, rng);
    fd_decoder_init(s->cell.hidden, params + fd_seqnet_decoder_offset(s), rng);
    fd_linear_init(params + o_f, params + o_f + s->K * LH, LH, s->K, rng);
}
