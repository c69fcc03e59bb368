/* Validation of what a client asks to train: model declarations and training windows.
 * Every rejection is a 4xx naming the field, and nothing here writes to the store. */
#include <stdlib.h>
#include <string.h>

#include "factord/json_fields.h"
#include "factord/store_data.h"
#include "factord/text.h"
#include "factord/train.h"

int fd_model_name_valid(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > FD_MODEL_NAME_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

static int decl_columns(const json_t *cols, fd_error *err) {
    size_t i, n = json_array_size(cols);
    const char **names;
    json_t *c;
    int rc = 0;
    if (!json_is_array(cols) || n == 0)
        return fd_error_set(err, 400, "bad_model", "columns: expected a non-empty array of "
                                                   "characteristic names");
    if (!(names = malloc(n * sizeof *names)))
        return fd_error_set(err, 500, "out_of_memory", "checking %zu columns", n);
    json_array_foreach(cols, i, c) {
        if (!(names[i] = json_string_value(c))) {
            free(names);
            return fd_error_set(err, 400, "bad_model", "columns[%zu]: expected a string", i);
        }
    }
    /* Names as a panel header must spell them (bad_column_name, duplicate_column, ...). */
    if (fd_column_names_check(names, n, "column", err) < 0)
        rc = fd_error_prefix(err, "columns");
    free(names);
    return rc;
}

/* A declaration's list of series names (absent or null: none): distinct non-empty strings,
 * and only for kinds that read that kind of series. */
static int decl_series(const json_t *list, const char *field, const fd_model_ops *ops,
                       unsigned needs, size_t *n, fd_error *err) {
    size_t i;
    json_t *c;
    *n = 0;
    if (!list || json_is_null(list)) return 0;
    if (!json_is_array(list))
        return fd_error_set(err, 400, "bad_model", "%s: expected an array of series names",
                            field);
    if (json_array_size(list) && !(ops->inputs & needs))
        return fd_error_set(err, 400, "bad_model", "%s: the %s kind does not read %s", field,
                            ops->kind, needs == FD_INPUTS_OBSERVED ? "observed factor series"
                                                                    : "macro series");
    json_array_foreach(list, i, c) {
        const char *s = json_string_value(c);
        if (!s || !s[0] || strlen(s) > 64)
            return fd_error_set(err, 400, "bad_model", "%s[%zu]: expected a series name of 1 "
                                "to 64 characters", field, i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s, json_string_value(json_array_get(list, j))) == 0)
                return fd_error_set(err, 400, "bad_model", "%s[%zu]: \"%s\" is listed twice",
                                    field, i, s);
    }
    *n = json_array_size(list);
    return 0;
}

int fd_model_decl_parse(const json_t *body, char name[FD_MODEL_NAME_MAX + 1],
                        const char **kind, size_t *k, json_t **spec, fd_error *err) {
    static const char *const known[] = {"name", "kind", "k", "hyper", "columns",
                                        "excess_returns", "add_constant", "observed", "macro",
                                        NULL};
    const json_t *jname, *jkind, *jk, *hyper, *cols, *excess, *constant, *observed, *macro;
    const fd_model_ops *ops;
    fd_model *probe = NULL;
    fd_model_dims dims;
    *spec = NULL;
    if (!json_is_object(body))
        return fd_error_set(err, 400, "bad_model", "expected a JSON object");
    if (fd_json_known_fields(body, known, "", "bad_model", err) != 0) return -1;
    jname = json_object_get(body, "name");
    if (!fd_model_name_valid(json_string_value(jname)))
        return fd_error_set(err, 400, "bad_model",
                            "name: expected 1 to %d characters of A-Z a-z 0-9 _ . -",
                            FD_MODEL_NAME_MAX);
    jkind = json_object_get(body, "kind");
    ops = json_is_string(jkind) ? fd_model_kind(json_string_value(jkind)) : NULL;
    if (!ops)
        return fd_error_set(err, 400, "unknown_kind", "kind: \"%s\" is not one of %s",
                            json_is_string(jkind) ? json_string_value(jkind) : "(missing)",
                            fd_model_kind_names());
    jk = json_object_get(body, "k");
    if (!json_is_integer(jk) || json_integer_value(jk) < 1 || json_integer_value(jk) > 1000)
        return fd_error_set(err, 400, "bad_model", "k: expected an integer from 1 to 1000");
    hyper = json_object_get(body, "hyper");
    if (hyper && !json_is_object(hyper) && !json_is_null(hyper))
        return fd_error_set(err, 400, "bad_model", "hyper: expected an object");
    cols = json_object_get(body, "columns");
    if (cols && !json_is_null(cols) && decl_columns(cols, err) != 0) return -1;
    excess = json_object_get(body, "excess_returns");
    if (excess && !json_is_boolean(excess))
        return fd_error_set(err, 400, "bad_model", "excess_returns: expected true or false");
    constant = json_object_get(body, "add_constant");
    if (constant && !json_is_boolean(constant))
        return fd_error_set(err, 400, "bad_model", "add_constant: expected true or false");
    observed = json_object_get(body, "observed");
    macro = json_object_get(body, "macro");
    memset(&dims, 0, sizeof dims);
    if (decl_series(observed, "observed", ops, FD_INPUTS_OBSERVED, &dims.n_observed, err) ||
        decl_series(macro, "macro", ops, FD_INPUTS_MACRO, &dims.n_macro, err))
        return -1;
    *k = (size_t)json_integer_value(jk);
    /* The hyper-parameters are the model's to judge; P is not known before training, so
     * probe with the declared column count (or a nominal one). */
    dims.P = (json_is_array(cols) ? json_array_size(cols) : *k + 1) + json_is_true(constant);
    dims.K = *k;
    if (!json_is_object(hyper)) hyper = NULL;
    {
        json_t *empty = hyper ? NULL : json_object();
        int rc = ops->create(&dims, hyper ? hyper : empty, &probe, err);
        json_decref(empty);
        if (rc != 0) return fd_error_prefix(err, "hyper");
        fd_model_destroy(probe);
    }
    snprintf(name, FD_MODEL_NAME_MAX + 1, "%s", json_string_value(jname));
    *kind = ops->kind;
    *spec = json_pack("{s:o,s:O,s:b,s:b,s:o,s:o}", "hyper",
                      hyper ? json_deep_copy(hyper) : json_object(), "columns",
                      json_is_array(cols) ? cols : json_null(), "excess_returns",
                      json_is_true(excess), "add_constant", json_is_true(constant), "observed",
                      json_is_array(observed) ? json_deep_copy(observed) : json_array(), "macro",
                      json_is_array(macro) ? json_deep_copy(macro) : json_array());
    return 0;
}

/* Reads window `which` ("train"/"valid") into from/to. */
static int window_parse(const json_t *body, const char *which, char *from, char *to,
                        fd_error *err) {
    static const char *const keys[] = {"from", "to", NULL};
    const json_t *w = json_object_get(body, which);
    char *outs[2] = {from, to};
    char where[16];
    if (!json_is_object(w))
        return fd_error_set(err, 400, "bad_window", "%s: expected {\"from\":\"YYYY-MM\","
                                                    "\"to\":\"YYYY-MM\"}", which);
    snprintf(where, sizeof where, "%s.", which);
    if (fd_json_known_fields(w, keys, where, "bad_window", err) != 0) return -1;
    for (int i = 0; i < 2; i++) {
        const char *s = json_string_value(json_object_get(w, keys[i]));
        int y, m;
        fd_error merr;
        if (!s || strlen(s) != 7 || fd_month_parse(s, &y, &m, &merr) != 0)
            return fd_error_set(err, 400, "bad_window", "%s.%s: expected a month \"YYYY-MM\"",
                                which, keys[i]);
        memcpy(outs[i], s, FD_MONTH_LEN);
    }
    if (fd_month_diff(from, to) < 0)
        return fd_error_set(err, 400, "bad_window", "%s: from %s is after to %s", which, from,
                            to);
    return 0;
}

int fd_train_windows_parse(const json_t *body, fd_train_windows *w, fd_error *err) {
    static const char *const known[] = {"train", "valid", NULL};
    memset(w, 0, sizeof *w);
    if (!json_is_object(body))
        return fd_error_set(err, 400, "bad_window", "expected a JSON object with \"train\"");
    if (fd_json_known_fields(body, known, "", "bad_window", err) != 0) return -1;
    if (window_parse(body, "train", w->train_from, w->train_to, err) != 0) return -1;
    if (json_object_get(body, "valid") && !json_is_null(json_object_get(body, "valid"))) {
        if (window_parse(body, "valid", w->valid_from, w->valid_to, err) != 0) return -1;
        if (fd_month_diff(w->train_to, w->valid_from) <= 0)
            return fd_error_set(err, 400, "bad_window",
                                "valid.from %s must come after train.to %s", w->valid_from,
                                w->train_to);
    }
    return 0;
}

json_t *fd_train_windows_json(const fd_train_windows *w) {
    json_t *j = json_pack("{s:{s:s,s:s}}", "train", "from", w->train_from, "to", w->train_to);
    if (w->valid_from[0])
        json_object_set_new(j, "valid", json_pack("{s:s,s:s}", "from", w->valid_from, "to",
                                                  w->valid_to));
    return j;
}

/* 1 if key is in the ascending list. */
static int month_stored(char (*months)[FD_MONTH_LEN], size_t n, const char *key) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(months[mid], key);
        if (c == 0) return 1;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

/* Appends the months of [from-1, to] that are not stored to msg; returns how many. */
static size_t window_missing(char (*months)[FD_MONTH_LEN], size_t n, const char *from,
                             const char *to, char *msg, size_t cap, size_t listed) {
    char key[FD_MONTH_LEN];
    size_t missing = 0;
    int span = fd_month_diff(from, to) + 1;
    for (int i = -1; i < span; i++) {
        /* Only the month before from can fall outside the range of keys: named as it is. */
        if (fd_month_add(from, i, key) != 0) snprintf(key, sizeof key, "%04d-12", FD_YEAR_FIRST - 1);
        if (month_stored(months, n, key) || strstr(msg, key)) continue;
        missing++;
        if (listed + missing <= 24) {
            size_t len = strlen(msg);
            snprintf(msg + len, cap - len, "%s%s", listed + missing > 1 ? ", " : "", key);
        }
    }
    return missing;
}

int fd_train_windows_check(fd_db *db, const fd_train_windows *w, fd_error *err) {
    char (*months)[FD_MONTH_LEN] = NULL;
    char list[256] = "";
    size_t n = 0, missing;
    if (fd_store_panel_months(db, &months, &n, err) != 0) return -1;
    missing = window_missing(months, n, w->train_from, w->train_to, list, sizeof list, 0);
    if (w->valid_from[0])
        missing += window_missing(months, n, w->valid_from, w->valid_to, list, sizeof list,
                                  missing);
    free(months);
    if (missing)
        return fd_error_set(err, 422, "missing_panels",
                            "no stored panel for %zu month(s) the windows need (each window "
                            "also needs the month before its start): %s%s",
                            missing, list, missing > 24 ? ", ..." : "");
    return 0;
}
