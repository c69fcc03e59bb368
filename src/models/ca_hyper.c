/* Hyper-parameters of the conditional autoencoders: defaults, validation, ranges.
 *
 * Defaults follow Gu, Kelly and Xiu (2021) where they state one (Adam at lr 1e-3, L1 on the
 * weights, early stopping, batch norm) and PyTorch's conventions elsewhere. batch_months = 5
 * gives about 10,000 observations per batch on a 2,000-stock universe, GKX's batch size,
 * while keeping every batch made of whole months (the factor network needs a month's
 * managed portfolio). ensemble defaults to 1 so tests stay fast; GKX average 10. Training
 * runs in float32 by default, as PyTorch and GKX's TensorFlow do; "float64" trains in double
 * (slower, for comparisons with a double-precision reference). Stored weights are double
 * either way. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ca_model.h"

static const char *const known_keys[] = {
    "seed", "epochs", "patience", "batch_months", "ensemble", "lr", "adam_beta1",
    "adam_beta2", "adam_eps", "l1", "l2", "dropout", "loss", "huber_delta", "precision", NULL,
};

static int bad(fd_error *err, const char *key, const char *want) {
    return fd_error_set(err, 400, "bad_hyper", "hyper.%s: must be %s", key, want);
}

/* Integer key in [lo, hi]; absent keeps *out. */
static int get_int(const json_t *hyper, const char *key, long long lo, long long hi,
                   long long *out, fd_error *err) {
    const json_t *v = hyper ? json_object_get(hyper, key) : NULL;
    char want[96];
    if (!v) return 0;
    snprintf(want, sizeof want, "an integer in [%lld, %lld]", lo, hi);
    if (!json_is_integer(v)) return bad(err, key, want);
    long long x = json_integer_value(v);
    if (x < lo || x > hi) return bad(err, key, want);
    *out = x;
    return 0;
}

/* Number key with lo < x (or lo <= x when lo_closed) and x < hi (or x <= hi when hi_closed). */
static int get_num(const json_t *hyper, const char *key, double lo, int lo_closed, double hi,
                   int hi_closed, double *out, fd_error *err) {
    const json_t *v = hyper ? json_object_get(hyper, key) : NULL;
    char want[96];
    if (!v) return 0;
    snprintf(want, sizeof want, "a number in %c%g, %g%c", lo_closed ? '[' : '(', lo, hi,
             hi_closed ? ']' : ')');
    if (!json_is_number(v)) return bad(err, key, want);
    double x = json_number_value(v);
    if (!isfinite(x) || (lo_closed ? x < lo : x <= lo) || (hi_closed ? x > hi : x >= hi))
        return bad(err, key, want);
    *out = x;
    return 0;
}

int fd_ca_hyper_parse(const json_t *hyper, fd_ca_hyper *out, fd_error *err) {
    const char *key;
    const json_t *value;
    long long seed = 0, epochs = 100, patience = 5, batch_months = 5, ensemble = 1;
    fd_ca_hyper h = {
        .lr = 1e-3, .adam_beta1 = 0.9, .adam_beta2 = 0.999, .adam_eps = 1e-8,
        .l1 = 1e-5, .l2 = 0.0, .dropout = 0.0, .huber = 0, .huber_delta = 1.0,
    };
    if (hyper && json_is_null(hyper)) hyper = NULL;
    if (hyper && !json_is_object(hyper))
        return fd_error_set(err, 400, "bad_hyper", "hyper: must be a JSON object");
    json_object_foreach((json_t *)hyper, key, value) {
        int known = 0;
        char list[256] = "";
        for (const char *const *k = known_keys; *k; k++) {
            known |= strcmp(*k, key) == 0;
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                     k == known_keys ? "" : ", ", *k);
        }
        if (!known)
            return fd_error_set(err, 400, "unknown_hyper",
                                "hyper.%s: unknown key for a conditional autoencoder "
                                "(known: %s)", key, list);
    }
    if (get_int(hyper, "seed", 0, (long long)1 << 53, &seed, err) ||
        get_int(hyper, "epochs", 1, 100000, &epochs, err) ||
        get_int(hyper, "patience", 1, 100000, &patience, err) ||
        get_int(hyper, "batch_months", 1, 100000, &batch_months, err) ||
        get_int(hyper, "ensemble", 1, 100, &ensemble, err) ||
        get_num(hyper, "lr", 0, 0, 1, 1, &h.lr, err) ||
        get_num(hyper, "adam_beta1", 0, 1, 1, 0, &h.adam_beta1, err) ||
        get_num(hyper, "adam_beta2", 0, 1, 1, 0, &h.adam_beta2, err) ||
        get_num(hyper, "adam_eps", 0, 0, 1, 1, &h.adam_eps, err) ||
        get_num(hyper, "l1", 0, 1, 1e3, 1, &h.l1, err) ||
        get_num(hyper, "l2", 0, 1, 1e3, 1, &h.l2, err) ||
        get_num(hyper, "dropout", 0, 1, 1, 0, &h.dropout, err) ||
        get_num(hyper, "huber_delta", 0, 0, 1e6, 1, &h.huber_delta, err))
        return -1;
    value = hyper ? json_object_get(hyper, "loss") : NULL;
    if (value) {
        const char *s = json_string_value(value);
        if (s && strcmp(s, "mse") == 0) h.huber = 0;
        else if (s && strcmp(s, "huber") == 0) h.huber = 1;
        else return bad(err, "loss", "\"mse\" or \"huber\"");
    }
    value = hyper ? json_object_get(hyper, "precision") : NULL;
    if (value) {
        const char *s = json_string_value(value);
        if (s && strcmp(s, "float32") == 0) h.float64 = 0;
        else if (s && strcmp(s, "float64") == 0) h.float64 = 1;
        else return bad(err, "precision", "\"float32\" or \"float64\"");
    }
    h.seed = (uint64_t)seed;
    h.epochs = (int)epochs;
    h.patience = (int)patience;
    h.batch_months = (int)batch_months;
    h.ensemble = (int)ensemble;
    *out = h;
    return 0;
}
