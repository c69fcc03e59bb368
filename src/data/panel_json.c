/* A month's panel from a JSON body (panel_io.h): columnar, pandas' `split` orient or records
 * (wrapped in {"rows": [...]} or pandas' bare `records` array). */
#include "factord/panel_io.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/panel_build.h"
#include "factord/text.h"

static int oom(fd_error *err) { return fd_error_set(err, 500, "out_of_memory", "out of memory"); }

static const char *json_kind(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    default: return "a number";
    }
}

/* A cell: number or null (missing). */
static int cell_value(const json_t *v, size_t row, const char *col, double *out, fd_error *err) {
    if (json_is_null(v)) {
        *out = NAN;
        return 0;
    }
    if (!json_is_number(v))
        return fd_error_set(err, 400, "bad_number",
                            "rows[%zu], column '%s': expected a number or null, got %s", row,
                            col, json_kind(v));
    *out = json_number_value(v);
    return 0;
}

/* An id: a string, or an integral number such as a PERMNO (written without a fraction). */
static int cell_id(const json_t *v, size_t row, char *buf, size_t cap, const char **id,
                   size_t *len, fd_error *err) {
    if (json_is_string(v)) {
        *id = json_string_value(v);
        *len = json_string_length(v);
        return 0;
    }
    double x = json_is_number(v) ? json_number_value(v) : NAN;
    if (isfinite(x) && x == floor(x) && fabs(x) < 9007199254740992.0) {
        *len = (size_t)snprintf(buf, cap, "%.0f", x);
        *id = buf;
        return 0;
    }
    return fd_error_set(err, 400, "bad_id", "rows[%zu]: id must be a string, got %s", row,
                        json_is_number(v) ? "a non-integral number" : json_kind(v));
}

/* 1 if the array `cols` names an "id" column. */
static int names_id(const json_t *cols) {
    for (size_t j = 0; j < json_array_size(cols); j++) {
        const char *c = json_string_value(json_array_get(cols, j));
        if (c && strcmp(c, "id") == 0) return 1;
    }
    return 0;
}

/* Cell j of row i: columns 0..n_cols-1 come from the row; a virtual last column "id" (split
 * orient without an id column) comes from index[i]. */
static const json_t *row_cell(const json_t *row, const json_t *index, size_t i, size_t j,
                              size_t n_cols) {
    return j < n_cols ? json_array_get(row, j) : json_array_get(index, i);
}

/* Columnar rows under `cols`. `index` (pandas' split orient, may be NULL) holds the ids when
 * `cols` has no "id" column; with one, the index (pandas' 0..N-1) is ignored. */
static int parse_columnar(const json_t *cols, const json_t *rows, const json_t *index,
                          const char *month, fd_panel *out, fd_error *err) {
    size_t n_cols = json_array_size(cols);
    int ids_from_index = index && !names_id(cols);
    size_t n = n_cols + (ids_from_index ? 1 : 0); /* with the virtual id column */
    const char **names = calloc(n ? n : 1, sizeof *names);
    double *vals = malloc((n ? n : 1) * sizeof *vals);
    fd_panel_builder b;
    int ready = 0, rc = 0;
    long id_col = -1;
    if (!names || !vals) rc = oom(err);
    for (size_t j = 0; rc == 0 && j < n_cols; j++) {
        names[j] = json_string_value(json_array_get(cols, j));
        if (!names[j]) rc = fd_error_set(err, 400, "bad_column", "columns[%zu] is not a string", j);
    }
    if (rc == 0 && ids_from_index) {
        names[n_cols] = "id";
        if (json_array_size(index) != json_array_size(rows))
            rc = fd_error_set(err, 400, "bad_index",
                              "\"index\" has %zu ids for %zu rows", json_array_size(index),
                              json_array_size(rows));
    }
    if (rc == 0) rc = fd_panel_header_check(names, n, &id_col, NULL, err);
    if (rc == 0) {
        /* The builder sees the data columns only: the header without `id`. */
        const char **data_names = malloc((n ? n : 1) * sizeof *data_names);
        size_t k = 0;
        for (size_t j = 0; data_names && j < n; j++)
            if ((long)j != id_col) data_names[k++] = names[j];
        rc = data_names ? fd_panel_builder_init(&b, month, data_names, k, FD_TAG_INDEX, err)
                        : oom(err);
        ready = data_names != NULL;
        free(data_names);
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(rows); i++) {
        const json_t *row = json_array_get(rows, i);
        if (!json_is_array(row)) {
            rc = fd_error_set(err, 400, "bad_row", "rows[%zu]: expected an array, got %s", i,
                              json_kind(row));
            break;
        }
        if (json_array_size(row) != n_cols) {
            rc = fd_error_set(err, 400, "ragged_row", "rows[%zu]: expected %zu values, got %zu",
                              i, n_cols, json_array_size(row));
            break;
        }
        const char *id = NULL;
        size_t id_len = 0, k = 0;
        char idbuf[32];
        for (size_t j = 0; rc == 0 && j < n; j++) {
            const json_t *v = row_cell(row, index, i, j, n_cols);
            if ((long)j == id_col)
                rc = cell_id(v, i, idbuf, sizeof idbuf, &id, &id_len, err);
            else
                rc = cell_value(v, i, names[j], &vals[k++], err);
        }
        if (rc == 0) rc = fd_panel_builder_add(&b, id, id_len, vals, (long)i, err);
    }
    if (rc == 0) rc = fd_panel_builder_finish(&b, out, err);
    if (ready) fd_panel_builder_free(&b);
    free(names);
    free(vals);
    return rc;
}

/* Records: the columns are every key seen, in order of first appearance. */
static int parse_records(const json_t *rows, const char *month, fd_panel *out, fd_error *err) {
    json_t *index = json_object(); /* name -> data column position */
    const char **names = NULL;
    double *vals = NULL;
    size_t n = 0, cap = 0;
    int rc = index ? 0 : oom(err), ready = 0, seen_id = 0;
    fd_panel_builder b;
    for (size_t i = 0; rc == 0 && i < json_array_size(rows); i++) {
        const json_t *row = json_array_get(rows, i);
        const char *key;
        json_t *v;
        if (!json_is_object(row)) {
            rc = fd_error_set(err, 400, "bad_row", "rows[%zu]: expected an object, got %s", i,
                              json_kind(row));
            break;
        }
        json_object_foreach((json_t *)row, key, v) {
            if (strcmp(key, "id") == 0) {
                seen_id = 1;
                continue;
            }
            if (json_object_get(index, key)) continue;
            if (key[0] == '\0') {
                rc = fd_error_set(err, 400, "empty_column_name", "rows[%zu]: empty column name", i);
                break;
            }
            if (fd_name_check(key, strlen(key), "a column name", "bad_column_name", err) < 0) {
                rc = fd_error_prefix(err, "rows[%zu]", i);
                break;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 32;
                const char **nn = realloc(names, cap * sizeof *nn);
                if (!nn) { rc = oom(err); break; }
                names = nn;
            }
            names[n] = key; /* owned by `rows`, which outlives this parse */
            if (json_object_set_new(index, key, json_integer((json_int_t)n)) < 0) {
                rc = oom(err);
                break;
            }
            n++;
        }
    }
    if (rc == 0 && !seen_id && json_array_size(rows) > 0)
        rc = fd_error_set(err, 400, "no_id_column",
                          "no record has an 'id' field (pandas: reset_index() first, or use "
                          "orient=\"split\", whose index holds the ids)");
    if (rc == 0 && !(vals = malloc((n ? n : 1) * sizeof *vals))) rc = oom(err);
    if (rc == 0) {
        rc = fd_panel_builder_init(&b, month, names, n, FD_TAG_INDEX, err);
        ready = 1;
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(rows); i++) {
        const json_t *row = json_array_get(rows, i), *v;
        const char *key, *id = NULL;
        size_t id_len = 0;
        char idbuf[32];
        for (size_t j = 0; j < n; j++) vals[j] = NAN;
        json_object_foreach((json_t *)row, key, v) {
            if (strcmp(key, "id") == 0) {
                rc = cell_id(v, i, idbuf, sizeof idbuf, &id, &id_len, err);
            } else {
                size_t j = (size_t)json_integer_value(json_object_get(index, key));
                rc = cell_value(v, i, key, &vals[j], err);
            }
            if (rc) break;
        }
        if (rc == 0 && !id) rc = fd_error_set(err, 400, "empty_id", "rows[%zu]: no id", i);
        if (rc == 0) rc = fd_panel_builder_add(&b, id, id_len, vals, (long)i, err);
    }
    if (rc == 0) rc = fd_panel_builder_finish(&b, out, err);
    if (ready) fd_panel_builder_free(&b);
    free(names);
    free(vals);
    json_decref(index);
    return rc;
}

int fd_panel_parse_json(const char *body, size_t len, const char *month, fd_panel *out,
                        fd_error *err) {
    json_error_t jerr;
    fd_panel_init(out);
    /* Integers as reals: a value like 12345678901234567890 is a number, not an overflow. */
    json_t *doc = json_loadb(body, len, JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return fd_error_set(err, 400, "bad_json", "line %d, column %d: %s", jerr.line,
                            jerr.column, jerr.text);
    int rc = 0;
    const char *key, *rows_key = "rows";
    json_t *v, *rows = NULL, *cols = NULL, *index = NULL;
    /* Without JSON_DECODE_ANY the document is an object or an array. */
    if (json_is_array(doc)) rows = doc; /* pandas' orient="records": a bare array of objects */
    if (json_is_object(doc)) json_object_foreach(doc, key, v) {
        if (strcmp(key, "rows") == 0 || strcmp(key, "data") == 0) {
            if (rows) {
                rc = fd_error_set(err, 400, "bad_json", "give \"rows\" or \"data\", not both");
                break;
            }
            rows = v;
            rows_key = strcmp(key, "data") == 0 ? "data" : "rows";
        } else if (strcmp(key, "columns") == 0) {
            cols = v;
        } else if (strcmp(key, "index") == 0) {
            index = v;
        } else if (strcmp(key, "month") == 0) {
            if (!json_is_string(v) || strcmp(json_string_value(v), month) != 0) {
                rc = fd_error_set(err, 400, "month_mismatch",
                                  "\"month\" in the body does not match the URL's %s", month);
                break;
            }
        } else {
            rc = fd_error_set(err, 400, "unknown_field",
                              "unknown member \"%.60s\" (expected \"columns\", \"rows\" or "
                              "\"data\", \"index\", \"month\"; pandas: orient=\"split\" or "
                              "\"records\")", key);
            break;
        }
    }
    if (rc == 0 && !json_is_array(rows))
        rc = fd_error_set(err, 400, "bad_json", "\"rows\" (or \"data\") must be an array");
    if (rc == 0 && cols && !json_is_array(cols))
        rc = fd_error_set(err, 400, "bad_json", "\"columns\" must be an array of names");
    if (rc == 0 && index && (!cols || !json_is_array(index)))
        rc = fd_error_set(err, 400, "bad_index",
                          "\"index\" must be an array of ids and comes with \"columns\"");
    if (rc == 0 && !cols && strcmp(rows_key, "data") == 0)
        rc = fd_error_set(err, 400, "bad_json", "\"data\" (split orient) needs \"columns\"");
    if (rc == 0)
        rc = cols ? parse_columnar(cols, rows, index, month, out, err)
                  : parse_records(rows, month, out, err);
    json_decref(doc);
    return rc;
}
