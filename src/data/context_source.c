/* Month sources over the store, and context specs from model JSON (see factord/context.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/context.h"
#include "factord/store_data.h"

static int store_month(void *state, const char *key, fd_month **out, fd_error *err) {
    fd_store_source *s = state;
    if (s->over && strcmp(fd_month_panel(s->over)->month, key) == 0) {
        fd_month_hold(s->over);
        *out = s->over;
        return 0;
    }
    return fd_month_load(s->db, key, out, err);
}

int fd_store_source_series(void *state, fd_series_kind kind, const char *name, const char *key,
                           double *value, fd_error *err) {
    fd_store_source *s = state;
    fd_error e;
    *value = NAN;
    if (fd_store_series_value(s->db, kind, key, name, value, &e) == 0) return 0;
    *value = NAN;
    if (e.status == 404) return 0;
    if (err) *err = e;
    return -1;
}

void fd_month_source_store(fd_month_source *src, fd_store_source *state, fd_db *db,
                           fd_month *over) {
    state->db = db;
    state->cache = NULL;
    state->over = over;
    src->month = store_month;
    src->series = fd_store_source_series;
    src->ctx = state;
    src->keep_months = 0;
}

/* Non-empty distinct strings of array a (absent or null: none) into *names (pointers into
 * the JSON). */
static int name_list(const json_t *a, const char *field, char ***names, size_t *n,
                     fd_error *err) {
    size_t i;
    json_t *v;
    *names = NULL;
    *n = 0;
    if (!a || json_is_null(a)) return 0;
    if (!json_is_array(a))
        return fd_error_set(err, 400, "bad_model", "%s: expected an array of names", field);
    *names = calloc(json_array_size(a) + 1, sizeof **names);
    if (!*names) return fd_error_set(err, 500, "out_of_memory", "%s", field);
    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v);
        if (!s || !s[0]) return fd_error_set(err, 400, "bad_model", "%s[%zu]: expected a "
                                             "non-empty string", field, i);
        for (size_t j = 0; j < i; j++)
            if (strcmp((*names)[j], s) == 0)
                return fd_error_set(err, 400, "bad_model", "%s[%zu]: \"%s\" is listed twice",
                                    field, i, s);
        (*names)[(*n)++] = (char *)s;
    }
    return 0;
}

int fd_context_spec_from_json(const json_t *spec, size_t history, fd_context_spec *cs,
                              fd_error *err) {
    const json_t *fitted = json_object_get(spec, "col_names");
    char **cols = NULL, **obs = NULL, **mac = NULL;
    size_t n_cols = 0, n_obs = 0, n_mac = 0;
    memset(cs, 0, sizeof *cs);
    cs->add_constant = json_is_true(json_object_get(spec, "add_constant"));
    cs->excess_returns = json_is_true(json_object_get(spec, "excess_returns"));
    cs->history = history > 1 ? history : 1;
    if (name_list(fitted ? fitted : json_object_get(spec, "columns"),
                  fitted ? "col_names" : "columns", &cols, &n_cols, err) ||
        name_list(json_object_get(spec, "observed"), "observed", &obs, &n_obs, err) ||
        name_list(json_object_get(spec, "macro"), "macro", &mac, &n_mac, err))
        goto fail;
    /* A fitted selection ends with the constant the builder appends itself. */
    if (fitted && cs->add_constant && n_cols && strcmp(cols[n_cols - 1], "const") == 0) n_cols--;
    if (!fitted && !n_cols) { /* no declared selection: every column of the first panel */
        free(cols);
        cols = NULL;
    } else if (!cols && !(cols = calloc(1, sizeof *cols))) {
        fd_error_set(err, 500, "out_of_memory", "columns");
        goto fail;
    }
    cs->columns = cols;
    cs->n_columns = n_cols;
    cs->observed = obs;
    cs->n_observed = n_obs;
    cs->macro = mac;
    cs->n_macro = n_mac;
    return 0;
fail:
    free(cols);
    free(obs);
    free(mac);
    return -1;
}

void fd_context_spec_free(fd_context_spec *cs) {
    free((void *)cs->columns);
    free((void *)cs->observed);
    free((void *)cs->macro);
    memset(cs, 0, sizeof *cs);
}
