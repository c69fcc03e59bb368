/* Named monthly series in the store: benchmark factor returns (`factors`, decimals) and
 * macro series (`macro_series`, migration 0006), one row per (month, name) cell, both
 * tables of the same shape. Reading a range rebuilds a dense table: the union of the names
 * present in the range (in the order they were first stored, which keeps a Ken French
 * file's column order), NaN where a name lacks a month. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/store_data.h"

#define FACTORS_RANGE "(?1 IS NULL OR month >= ?1) AND (?2 IS NULL OR month <= ?2)"

static const char *const tables[] = {"factors", "macro_series"};
static const char *const nouns[] = {"factor", "macro series"};

/* sql with every %s replaced by the kind's table. */
static int prepare(fd_db *db, fd_series_kind kind, const char *sql, sqlite3_stmt **st,
                   fd_error *err) {
    char buf[512];
    snprintf(buf, sizeof buf, sql, tables[kind]);
    return fd_db_prepare(db, buf, st, err);
}

int fd_store_series_put(fd_db *db, fd_series_kind kind, const fd_factor_table *t,
                        const char *source, fd_error *err) {
    sqlite3_stmt *st;
    int rc = 0;
    for (size_t i = 0; i < t->n_months; i++)
        if (fd_month_parse(t->months[i], NULL, NULL, err) != 0) return -1;
    for (size_t j = 0; j < t->n_factors; j++)
        if (!t->names[j] || !t->names[j][0])
            return fd_error_set(err, 400, "bad_factor", "%s %zu has an empty name", nouns[kind],
                                j + 1);
    if (fd_db_begin(db, err) != 0) return -1;
    if (prepare(db, kind,
                "INSERT INTO %s (month, name, value, source) VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT (month, name) DO UPDATE SET value = excluded.value, "
                "source = excluded.source, updated_at = excluded.updated_at",
                &st, err) != 0) {
        fd_db_rollback(db);
        return -1;
    }
    if (source) sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
    for (size_t i = 0; i < t->n_months && rc == 0; i++) {
        for (size_t j = 0; j < t->n_factors && rc == 0; j++) {
            double v = t->values[i * t->n_factors + j];
            if (isnan(v)) continue;
            if (isinf(v)) {
                rc = fd_error_set(err, 400, "bad_value", "%s %s in %s is infinite",
                                  nouns[kind], t->names[j], t->months[i]);
                break;
            }
            sqlite3_bind_text(st, 1, t->months[i], -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, t->names[j], -1, SQLITE_STATIC);
            sqlite3_bind_double(st, 3, v);
            if (sqlite3_step(st) != SQLITE_DONE) rc = fd_db_error(db, err, "storing series");
            sqlite3_reset(st);
        }
    }
    sqlite3_finalize(st);
    if (rc != 0) {
        fd_db_rollback(db);
        return -1;
    }
    return fd_db_commit(db, err);
}

static void bind_range(sqlite3_stmt *st, const char *from, const char *to) {
    if (from) sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    if (to) sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
}

/* Fills t->names with the distinct names stored in the range. */
static int load_names(fd_db *db, fd_series_kind kind, const char *from, const char *to,
                      fd_factor_table *t, fd_error *err) {
    sqlite3_stmt *st;
    size_t cap = 0;
    int step;
    if (prepare(db, kind, "SELECT name FROM %s WHERE " FACTORS_RANGE
                " GROUP BY name ORDER BY min(rowid)", &st, err) != 0)
        return -1;
    bind_range(st, from, to);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (t->n_factors == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **grown = realloc(t->names, ncap * sizeof *grown);
            if (!grown) break;
            t->names = grown;
            cap = ncap;
        }
        if (!(t->names[t->n_factors] = strdup((const char *)sqlite3_column_text(st, 0)))) break;
        t->n_factors++;
    }
    if (step == SQLITE_ROW) fd_error_set(err, 500, "out_of_memory", "reading factor names");
    else if (step != SQLITE_DONE) fd_db_error(db, err, "reading factor names");
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? 0 : -1;
}

static long name_index(const fd_factor_table *t, const char *name) {
    for (size_t j = 0; j < t->n_factors; j++)
        if (strcmp(t->names[j], name) == 0) return (long)j;
    return -1;
}

/* Appends a month row of NaN to t; returns -1 when out of memory. */
static int add_month(fd_factor_table *t, const char *month, size_t *cap) {
    if (t->n_months == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        void *m = realloc(t->months, ncap * sizeof *t->months);
        if (!m) return -1;
        t->months = m;
        m = realloc(t->values, ncap * t->n_factors * sizeof *t->values);
        if (!m) return -1;
        t->values = m;
        *cap = ncap;
    }
    memcpy(t->months[t->n_months], month, FD_MONTH_LEN);
    for (size_t j = 0; j < t->n_factors; j++) t->values[t->n_months * t->n_factors + j] = NAN;
    t->n_months++;
    return 0;
}

/* Fills t->months and t->values (months ascending) from the cells in the range. */
static int load_cells(fd_db *db, fd_series_kind kind, const char *from, const char *to,
                      fd_factor_table *t, fd_error *err) {
    sqlite3_stmt *st;
    size_t cap = 0;
    int step, oom = 0;
    if (prepare(db, kind, "SELECT month, name, value FROM %s WHERE " FACTORS_RANGE
                " ORDER BY month", &st, err) != 0)
        return -1;
    bind_range(st, from, to);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *month = (const char *)sqlite3_column_text(st, 0);
        long j = name_index(t, (const char *)sqlite3_column_text(st, 1));
        if (!month || strlen(month) != FD_MONTH_LEN - 1 || j < 0) continue;
        if ((t->n_months == 0 || strcmp(t->months[t->n_months - 1], month) != 0) &&
            (oom = add_month(t, month, &cap)) != 0)
            break;
        t->values[(t->n_months - 1) * t->n_factors + (size_t)j] = sqlite3_column_double(st, 2);
    }
    if (oom) fd_error_set(err, 500, "out_of_memory", "reading factors");
    else if (step != SQLITE_DONE) fd_db_error(db, err, "reading factors");
    sqlite3_finalize(st);
    return !oom && step == SQLITE_DONE ? 0 : -1;
}

int fd_store_series_get(fd_db *db, fd_series_kind kind, const char *from, const char *to,
                        fd_factor_table *out, fd_error *err) {
    int began, rc;
    fd_factor_table_init(out);
    if ((from && fd_month_parse(from, NULL, NULL, err) != 0) ||
        (to && fd_month_parse(to, NULL, NULL, err) != 0))
        return -1;
    if (fd_db_begin_read(db, &began, err) != 0) return -1;
    rc = load_names(db, kind, from, to, out, err);
    if (rc == 0 && out->n_factors > 0) rc = load_cells(db, kind, from, to, out, err);
    fd_db_end_read(db, began);
    if (rc != 0) fd_factor_table_free(out);
    return rc;
}

int fd_store_series_value(fd_db *db, fd_series_kind kind, const char *month, const char *name,
                          double *out, fd_error *err) {
    sqlite3_stmt *st;
    int step;
    if (fd_month_parse(month, NULL, NULL, err) != 0) return -1;
    if (prepare(db, kind, "SELECT value FROM %s WHERE month = ?1 AND name = ?2", &st, err) != 0)
        return -1;
    sqlite3_bind_text(st, 1, month, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) *out = sqlite3_column_double(st, 0);
    else if (step == SQLITE_DONE)
        fd_error_set(err, 404, kind == FD_SERIES_FACTOR ? "no_factor" : "no_macro",
                     "%s %s is not stored for %s", nouns[kind], name, month);
    else
        fd_db_error(db, err, "reading a series value");
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? 0 : -1;
}

int fd_store_factors_put(fd_db *db, const fd_factor_table *t, const char *source,
                         fd_error *err) {
    return fd_store_series_put(db, FD_SERIES_FACTOR, t, source, err);
}

int fd_store_factors_get(fd_db *db, const char *from, const char *to, fd_factor_table *out,
                         fd_error *err) {
    return fd_store_series_get(db, FD_SERIES_FACTOR, from, to, out, err);
}

int fd_store_factor_value(fd_db *db, const char *month, const char *name, double *out,
                          fd_error *err) {
    return fd_store_series_value(db, FD_SERIES_FACTOR, month, name, out, err);
}
