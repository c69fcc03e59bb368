/* What a client asks to backtest: parsing and validating the request, resolving its
 * defaults against the stored data and laying out the rolling windows (see backtest.h).
 * Nothing here touches the store. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/backtest.h"
#include "factord/json_fields.h"

static int month_field(const json_t *body, const char *key, char out[FD_MONTH_LEN],
                       fd_error *err) {
    const json_t *v = json_object_get(body, key);
    const char *s = json_string_value(v);
    int y, m;
    out[0] = '\0';
    if (!v || json_is_null(v)) return 0;
    if (!s || strlen(s) != 7 || fd_month_parse(s, &y, &m, NULL) != 0)
        return fd_error_set(err, 400, "bad_backtest", "%s: expected a month \"YYYY-MM\"", key);
    memcpy(out, s, FD_MONTH_LEN);
    return 0;
}

/* An integer field in [lo, hi], or `dflt` when absent. */
static int int_field(const json_t *obj, const char *where, const char *key, int lo, int hi,
                     int dflt, int *out, fd_error *err) {
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return fd_error_set(err, 400, "bad_backtest", "%s%s: expected an integer from %d to %d",
                            where, key, lo, hi);
    *out = (int)json_integer_value(v);
    return 0;
}

static int only_keys(const json_t *obj, const char *where, const char *const *known,
                     fd_error *err) {
    return fd_json_known_fields(obj, known, where, "bad_backtest", err);
}

static int parse_windows(const json_t *w, fd_backtest_spec *s, fd_error *err) {
    static const char *const known[] = {"train", "valid", "test", "step", NULL};
    const int max = FD_BACKTEST_MAX_MONTHS;
    if (!w || json_is_null(w)) w = NULL;
    else if (!json_is_object(w))
        return fd_error_set(err, 400, "bad_backtest", "windows: expected an object "
                            "{\"train\",\"valid\",\"test\",\"step\"} in months");
    if (w && only_keys(w, "windows.", known, err)) return -1;
    /* Defaults: the seed protocol, 20 years train, 4 validation, 1 test, rolled yearly. */
    if (int_field(w, "windows.", "train", 1, max, 240, &s->train, err) ||
        int_field(w, "windows.", "valid", 0, max, 48, &s->valid, err) ||
        int_field(w, "windows.", "test", 1, max, 12, &s->test, err) ||
        int_field(w, "windows.", "step", 1, max, s->test, &s->step, err))
        return -1;
    if (s->step < s->test)
        return fd_error_set(err, 400, "bad_backtest", "windows.step: %d is shorter than "
                            "windows.test (%d); test blocks must not overlap", s->step, s->test);
    return 0;
}

static int parse_model(const json_t *model, const char *name, fd_backtest_spec *s,
                       fd_error *err) {
    char model_name[FD_MODEL_NAME_MAX + 1];
    json_t *decl;
    int rc;
    if (!json_is_object(model))
        return fd_error_set(err, 400, "bad_backtest", "model: expected an object "
                            "{\"kind\",\"k\",\"hyper\",\"columns\",...}");
    if (json_object_get(model, "name"))
        return fd_error_set(err, 400, "bad_backtest", "model.name: not allowed; the model is "
                            "named after the backtest");
    decl = json_deep_copy(model);
    json_object_set_new(decl, "name", json_string(name));
    rc = fd_model_decl_parse(decl, model_name, &s->kind, &s->k, &s->model_spec, err);
    json_decref(decl);
    return rc ? fd_error_prefix(err, "model") : 0;
}

int fd_backtest_spec_parse(const json_t *body, fd_backtest_spec *s, fd_error *err) {
    static const char *const known[] = {"name", "model", "windows", "start", "end",
                                        "n", "cost", NULL};
    const json_t *cost;
    const char *name;
    memset(s, 0, sizeof *s);
    if (!json_is_object(body))
        return fd_error_set(err, 400, "bad_backtest", "expected a JSON object");
    if (only_keys(body, "", known, err)) return -1;
    name = json_string_value(json_object_get(body, "name"));
    if (!fd_model_name_valid(name))
        return fd_error_set(err, 400, "bad_backtest", "name: expected 1 to %d characters of "
                            "A-Z a-z 0-9 _ . -", FD_MODEL_NAME_MAX);
    snprintf(s->name, sizeof s->name, "%s", name);
    if (parse_model(json_object_get(body, "model"), name, s, err) ||
        parse_windows(json_object_get(body, "windows"), s, err) ||
        month_field(body, "start", s->start, err) || month_field(body, "end", s->end, err) ||
        int_field(body, "", "n", 2, 100, 10, &s->n_buckets, err))
        return -1;
    if (s->start[0] && s->end[0] && strcmp(s->start, s->end) > 0)
        return fd_error_set(err, 400, "bad_backtest", "start: %s is after end %s", s->start,
                            s->end);
    cost = json_object_get(body, "cost");
    s->cost = 0.003;
    if (cost) {
        double c = json_number_value(cost);
        if (!json_is_number(cost) || !isfinite(c) || c < 0 || c >= 1)
            return fd_error_set(err, 400, "bad_backtest", "cost: expected a number in [0, 1) "
                                "per unit of turnover (0.003 = 30 bp)");
        s->cost = c;
    }
    return 0;
}

void fd_backtest_spec_free(fd_backtest_spec *s) {
    json_decref(s->model_spec);
    s->model_spec = NULL;
}

static json_t *month_or_null(const char *m) { return m[0] ? json_string(m) : json_null(); }

json_t *fd_backtest_spec_json(const fd_backtest_spec *s) {
    json_t *model = json_deep_copy(s->model_spec);
    json_object_set_new(model, "kind", json_string(s->kind));
    json_object_set_new(model, "k", json_integer((json_int_t)s->k));
    return json_pack("{s:s,s:o,s:{s:i,s:i,s:i,s:i},s:o,s:o,s:i,s:f}", "name", s->name, "model",
                     model, "windows", "train", s->train, "valid", s->valid, "test", s->test,
                     "step", s->step, "start", month_or_null(s->start), "end",
                     month_or_null(s->end), "n", s->n_buckets, "cost", s->cost);
}

int fd_backtest_resolve(fd_backtest_spec *s, const char *first, const char *last,
                        fd_error *err) {
    if (!s->start[0]) {
        if (!first || !first[0])
            return fd_error_set(err, 422, "no_data", "start: no stored panels to start from");
        snprintf(s->start, sizeof s->start, "%s", first);
    }
    if (!s->end[0]) {
        if (!last || !last[0])
            return fd_error_set(err, 422, "no_data", "end: no stored panel has returns");
        snprintf(s->end, sizeof s->end, "%s", last);
    }
    return 0;
}

int fd_backtest_plan(const fd_backtest_spec *s, fd_backtest_window **out, size_t *n,
                     fd_error *err) {
    int span = s->start[0] && s->end[0] ? fd_month_diff(s->start, s->end) + 1 : 0;
    int first_test = s->train + s->valid; /* offset of a window's first test month */
    size_t count = span > first_test ? (size_t)((span - first_test - 1) / s->step + 1) : 0;
    fd_backtest_window *w;
    *out = NULL;
    *n = 0;
    if (count == 0)
        return fd_error_set(err, 422, "too_little_data", "%s..%s holds %d month(s); one "
                            "window needs %d (train %d + valid %d + at least 1 test month)",
                            s->start, s->end, span, first_test + 1, s->train, s->valid);
    if (count > FD_BACKTEST_MAX_WINDOWS)
        return fd_error_set(err, 422, "too_many_windows", "windows: %zu windows over %s..%s; "
                            "at most %d (lengthen windows.step)", count, s->start, s->end,
                            FD_BACKTEST_MAX_WINDOWS);
    w = calloc(count, sizeof *w);
    if (!w) return fd_error_set(err, 500, "out_of_memory", "backtest windows");
    for (size_t i = 0; i < count; i++) {
        int s0 = (int)i * s->step;
        w[i].idx = (int)i;
        fd_month_add(s->start, s0, w[i].fit.train_from);
        fd_month_add(s->start, s0 + s->train - 1, w[i].fit.train_to);
        if (s->valid > 0) {
            fd_month_add(s->start, s0 + s->train, w[i].fit.valid_from);
            fd_month_add(s->start, s0 + first_test - 1, w[i].fit.valid_to);
        }
        fd_month_add(s->start, s0 + first_test, w[i].test_from);
        if (fd_month_add(s->start, s0 + first_test + s->test - 1, w[i].test_to) != 0 ||
            strcmp(w[i].test_to, s->end) > 0)
            memcpy(w[i].test_to, s->end, FD_MONTH_LEN);
    }
    *out = w;
    *n = count;
    return 0;
}
