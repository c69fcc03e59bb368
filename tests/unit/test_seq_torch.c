/* The sequence factor network (factord/nn_seq.h) against the PyTorch reference
 * bench/seq_ref.py: identical weights and data (absent steps included), float64 on both
 * sides; the losses agree to 1e-10 and every gradient (parameters and inputs) to 1e-8.
 * Loss: mean squared error of f (B, K) against a random target. Needs Debian's python3-torch
 * (.ci/install-deps installs it for the test group); without it each test prints SKIP and
 * passes. Run from the repository root (tests/run does). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/nn.h"
#include "factord/nn_seq.h"
#include "gradcheck.h"
#include "testlib.h"

#define PY "/usr/bin/python3"
#define REF "bench/seq_ref.py"
#define LOSS_TOL 1e-10
#define GRAD_TOL 1e-8

enum { CL = 6, CB = 5, CP = 7, CH = 4, CK = 3 };

/* Whether torch is importable, without paying for the import (seconds). */
static int have_torch(void) {
    return system(PY " -c 'import importlib.util as u, sys; sys.exit(u.find_spec(\"torch\") is None)'"
                     " >/dev/null 2>&1") == 0;
}

static void put_array(FILE *f, const char *name, const double *v, size_t n) {
    fprintf(f, "\"%s\": [", name);
    for (size_t i = 0; i < n; i++) fprintf(f, "%s%.17g", i ? "," : "", v[i]);
    fprintf(f, "],\n");
}

typedef struct { fd_cell_kind kind; fd_seq_act act, dec_act; } net_case;
static const char *cell_names[] = {"rnn", "gru", "lstm"}, *act_names[] = {"tanh", "relu"};

/* Computes the case in C and writes it with the C loss and gradients to path. */
static int write_case(const net_case *nc, uint64_t seed, const char *path) {
    fd_seqnet_spec s = {.cell = {.kind = nc->kind, .act = nc->act, .in = CP, .hidden = CH},
                        .dec_act = nc->dec_act, .L = CL, .K = CK};
    size_t np = fd_seqnet_param_count(&s), nx = CL * CB * CP;
    double *X = malloc(nx * sizeof *X), *p = malloc(np * sizeof *p), f[CB * CK], target[CB * CK];
    double df[CB * CK], *dp = calloc(np, sizeof *dp), *dX = malloc(nx * sizeof *dX);
    double *cache = calloc(fd_seqnet_cache_count(&s, CB), sizeof *cache);
    double *work = calloc(fd_seqnet_work_count(&s, CB), sizeof *work);
    unsigned char mask[CB * CL];
    double maskd[CB * CL];
    fd_rng rng;
    fd_rng_seed(&rng, seed);
    fill_uniform(X, nx, -1, 1, &rng);
    fd_seqnet_init(&s, p, &rng);
    for (size_t i = 0; i < np; i++) p[i] *= 2.0;
    fill_uniform(target, CB * CK, -1, 1, &rng);
    /* sequence 1 starts two months late, 2 has a hole, 3 only its last month */
    for (size_t b = 0; b < CB; b++)
        for (size_t l = 0; l < CL; l++) {
            int absent = (b == 1 && l < 2) || (b == 2 && l == 3) || (b == 3 && l < CL - 1);
            mask[b * CL + l] = !absent;
            maskd[b * CL + l] = !absent;
        }
    fd_seqnet_forward(&s, f, cache, work, X, mask, p, CB);
    double loss = fd_loss_mse(df, f, target, CB * CK);
    fd_seqnet_backward(&s, dX, dp, work, df, cache, X, mask, p, CB);
    FILE *out = fopen(path, "w");
    if (out) {
        fprintf(out, "{\"L\": %d, \"B\": %d, \"P\": %d, \"H\": %d, \"K\": %d,\n", CL, CB, CP,
                CH, CK);
        fprintf(out, "\"cell\": \"%s\", \"act\": \"%s\", \"dec_act\": \"%s\",\n",
                cell_names[nc->kind], act_names[nc->act], act_names[nc->dec_act]);
        put_array(out, "X", X, nx);
        put_array(out, "mask", maskd, CB * CL);
        put_array(out, "params", p, np);
        put_array(out, "target", target, CB * CK);
        put_array(out, "grad_params", dp, np);
        put_array(out, "grad_x", dX, nx);
        fprintf(out, "\"loss\": %.17g}\n", loss);
        fclose(out);
    }
    free(X), free(p), free(dp), free(dX), free(cache), free(work);
    return out != NULL;
}

TEST(factor_network_of_every_cell_equals_pytorch) {
    static const net_case cases[] = {
        {FD_CELL_RNN, FD_SEQ_TANH, FD_SEQ_TANH},  {FD_CELL_RNN, FD_SEQ_RELU, FD_SEQ_RELU},
        {FD_CELL_GRU, FD_SEQ_TANH, FD_SEQ_TANH},  {FD_CELL_LSTM, FD_SEQ_TANH, FD_SEQ_TANH},
        {FD_CELL_LSTM, FD_SEQ_TANH, FD_SEQ_RELU},
    };
    enum { NCASES = sizeof cases / sizeof cases[0] };
    if (!have_torch()) {
        printf("SKIP python3-torch is not installed (.ci/install-deps installs it)\n");
        return;
    }
    char cmd[8192];
    size_t at = (size_t)snprintf(cmd, sizeof cmd, PY " " REF " --check");
    for (size_t c = 0; c < NCASES; c++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/net-%zu.json", tl_tmpdir(), c);
        ASSERT(write_case(&cases[c], 101 + c, path));
        at += (size_t)snprintf(cmd + at, sizeof cmd - at, " '%s'", path);
        ASSERT(at < sizeof cmd);
    }
    FILE *pipe = popen(cmd, "r");
    ASSERT(pipe);
    char line[4096];
    size_t c = 0;
    for (; c < NCASES && fgets(line, sizeof line, pipe); c++) {
        json_error_t jerr;
        json_t *res = json_loads(line, 0, &jerr);
        if (!res) {
            tl_fail(__FILE__, __LINE__, "case %zu: not JSON: %s", c, line);
            break;
        }
        double dl = json_real_value(json_object_get(res, "loss_diff"));
        double dg = json_real_value(json_object_get(res, "grad_params_diff"));
        double dx = json_real_value(json_object_get(res, "grad_x_diff"));
        printf("  %s/%s/%s: |loss diff| %.3g, max |grad diff| %.3g (params) %.3g (x)\n",
               cell_names[cases[c].kind], act_names[cases[c].act], act_names[cases[c].dec_act],
               dl, dg, dx);
        json_decref(res);
        if (!(dl <= LOSS_TOL && dg <= GRAD_TOL && dx <= GRAD_TOL)) {
            tl_fail(__FILE__, __LINE__, "case %zu: C and PyTorch differ beyond tolerance", c);
            break;
        }
    }
    int rc = pclose(pipe);
    ASSERT_INT_EQ(rc, 0);
    ASSERT_INT_EQ(c, NCASES);
}

TEST_MAIN(T(factor_network_of_every_cell_equals_pytorch))
