/* Benchmark factors as JSON in (french.h's JSON form), and as CSV/JSON out. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factor_rows.h"
#include "factord/french.h"
#include "factord/numparse.h"
#include "factord/textbuf.h"

static int oom(fd_error *err) { return fd_error_set(err, 500, "out_of_memory", "out of memory"); }

/* The body's "units" reconciled with the request's. */
static int json_units(const json_t *doc, fd_units req, fd_units *out, fd_error *err) {
    const json_t *u = json_object_get(doc, "units");
    if (!u) return req == FD_UNITS_UNSET ? fd_units_parse(NULL, out, err) : (*out = req, 0);
    if (!json_is_string(u))
        return fd_error_set(err, 400, "bad_units", "\"units\" must be \"percent\" or \"decimal\"");
    if (fd_units_parse(json_string_value(u), out, err) < 0) return -1;
    if (req != FD_UNITS_UNSET && req != *out)
        return fd_error_set(err, 400, "units_conflict",
                            "the units parameter and the body's \"units\" disagree");
    return 0;
}

/* Factor names: every key but "month" across the records, in order of first appearance. */
static int collect_names(const json_t *arr, const char ***names, size_t *n, fd_error *err) {
    json_t *seen = json_object();
    size_t cap = 0;
    *names = NULL;
    *n = 0;
    if (!seen) return oom(err);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *rec = json_array_get(arr, i), *v;
        const char *key;
        if (!json_is_object(rec)) {
            json_decref(seen);
            return fd_error_set(err, 400, "bad_row", "factors[%zu] is not an object", i);
        }
        json_object_foreach((json_t *)rec, key, v) {
            if (strcmp(key, "month") == 0 || json_object_get(seen, key)) continue;
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                const char **nn = realloc(*names, cap * sizeof *nn);
                if (!nn) {
                    json_decref(seen);
                    return oom(err);
                }
                *names = nn;
            }
            (*names)[(*n)++] = key; /* owned by the document, which outlives the parse */
            json_object_set_new(seen, key, json_true());
        }
    }
    json_decref(seen);
    return 0;
}

static int records(const json_t *arr, double divisor, const char **names, size_t n,
                   factor_rows *rows, fd_error *err) {
    double *vals = malloc((n ? n : 1) * sizeof *vals);
    if (!vals) return oom(err);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
        const json_t *rec = json_array_get(arr, i), *m = json_object_get(rec, "month");
        char month[FD_MONTH_LEN];
        if (!json_is_string(m) ||
            fd_month_from_cell(json_string_value(m), json_string_length(m), month) != 0) {
            rc = fd_error_set(err, 400, "bad_month",
                              "factors[%zu]: \"month\" must be a string YYYY-MM (or YYYYMM)", i);
            break;
        }
        for (size_t j = 0; rc == 0 && j < n; j++) {
            const json_t *v = json_object_get(rec, names[j]);
            if (!v || json_is_null(v))
                vals[j] = NAN;
            else if (json_is_number(v))
                vals[j] = json_number_value(v) / divisor;
            else
                rc = fd_error_set(err, 400, "bad_number",
                                  "factors[%zu], factor '%s': expected a number or null", i,
                                  names[j]);
        }
        if (rc == 0) rc = factor_rows_add(rows, month, vals, (long)i, err);
    }
    free(vals);
    return rc;
}

int fd_french_parse_json(const char *body, size_t len, fd_units units, fd_factor_table *out,
                         fd_error *err) {
    json_error_t jerr;
    fd_factor_table_init(out);
    json_t *doc = json_loadb(body, len, JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return fd_error_set(err, 400, "bad_json", "line %d, column %d: %s", jerr.line,
                            jerr.column, jerr.text);
    const char **names = NULL, *key;
    size_t n = 0;
    json_t *arr = json_object_get(doc, "factors"), *v;
    factor_rows rows;
    int rc = 0, ready = 0;
    if (!json_is_object(doc) || !json_is_array(arr))
        rc = fd_error_set(err, 400, "bad_json",
                          "expected {\"units\":...,\"factors\":[{\"month\":...},...]}");
    if (rc == 0) json_object_foreach(doc, key, v) {
        /* "names" is what GET /v1/factors writes; it is implied by the records. */
        if (strcmp(key, "units") != 0 && strcmp(key, "factors") != 0 &&
            strcmp(key, "names") != 0) {
            rc = fd_error_set(err, 400, "unknown_field",
                              "unknown member \"%.60s\" (expected \"units\", \"factors\")", key);
            break;
        }
    }
    if (rc == 0) rc = json_units(doc, units, &units, err);
    if (rc == 0) rc = collect_names(arr, &names, &n, err);
    if (rc == 0) {
        ready = 1;
        rc = factor_rows_init(&rows, names, n, 1, err);
    }
    if (rc == 0)
        rc = records(arr, units == FD_UNITS_PERCENT ? 100.0 : 1.0, names, n, &rows, err);
    if (rc == 0) rc = factor_rows_finish(&rows, out, err);
    if (ready) factor_rows_free(&rows);
    free(names);
    json_decref(doc);
    return rc;
}

static int finish(fd_textbuf *b, char **body, size_t *len, fd_error *err) {
    if (b->oom || !b->data) {
        fd_textbuf_free(b);
        return oom(err);
    }
    *body = b->data;
    *len = b->len;
    return 0;
}

int fd_factors_write_csv(const fd_factor_table *t, char **body, size_t *len, fd_error *err) {
    fd_textbuf b;
    fd_textbuf_init(&b);
    fd_textbuf_puts(&b, "date");
    for (size_t j = 0; j < t->n_factors; j++) {
        fd_textbuf_putc(&b, ',');
        fd_textbuf_csv_field(&b, t->names[j]);
    }
    fd_textbuf_putc(&b, '\n');
    for (size_t i = 0; i < t->n_months; i++) {
        fd_textbuf_puts(&b, t->months[i]);
        for (size_t j = 0; j < t->n_factors; j++) {
            fd_textbuf_putc(&b, ',');
            fd_textbuf_num(&b, t->values[i * t->n_factors + j], "");
        }
        fd_textbuf_putc(&b, '\n');
    }
    return finish(&b, body, len, err);
}

int fd_factors_write_json(const fd_factor_table *t, char **body, size_t *len, fd_error *err) {
    fd_textbuf b;
    fd_textbuf_init(&b);
    fd_textbuf_puts(&b, "{\"units\":\"decimal\",\"names\":[");
    for (size_t j = 0; j < t->n_factors; j++) {
        if (j) fd_textbuf_putc(&b, ',');
        fd_textbuf_json_string(&b, t->names[j]);
    }
    fd_textbuf_puts(&b, "],\"factors\":[");
    for (size_t i = 0; i < t->n_months; i++) {
        fd_textbuf_puts(&b, i ? ",{\"month\":" : "{\"month\":");
        fd_textbuf_json_string(&b, t->months[i]);
        for (size_t j = 0; j < t->n_factors; j++) {
            fd_textbuf_putc(&b, ',');
            fd_textbuf_json_string(&b, t->names[j]);
            fd_textbuf_putc(&b, ':');
            fd_textbuf_num(&b, t->values[i * t->n_factors + j], "null");
        }
        fd_textbuf_putc(&b, '}');
    }
    fd_textbuf_puts(&b, "]}");
    return finish(&b, body, len, err);
}
