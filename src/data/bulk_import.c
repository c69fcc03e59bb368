/* Streaming long-CSV import (bulk_import.h): tokenize -> stage rows in a temporary SQLite
 * database -> assemble and write one month at a time inside one transaction. */
#include "factord/bulk_import.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/clock.h"
#include "factord/csv.h"
#include "factord/numparse.h"
#include "factord/panel_build.h"
#include "factord/store_data.h"

/* How often (rows) the deadline is looked at while staging. */
#define DEADLINE_EVERY 65536

typedef struct staging {
    sqlite3 *tmp;
    sqlite3_stmt *insert;
    int have_header;
    size_t n_fields;
    long id_col, date_col;
    char **names;      /* (n_fields) header names */
    size_t n_data;     /* data columns: every field but id and date */
    long *data_field;  /* (n_data) field index of each data column */
    long ret_data;     /* data index of ret, or -1 */
    int ret_shift;     /* -2 for percent */
    double *vals;      /* (n_data) */
    const _Atomic double *deadline;
    fd_import_result *res;
} staging;

static int oom(fd_error *err) { return fd_error_set(err, 500, "out_of_memory", "out of memory"); }

static int tmp_error(sqlite3 *tmp, fd_error *err, const char *what) {
    return fd_error_set(err, 500, "staging_error", "%s: %s", what, sqlite3_errmsg(tmp));
}

static int past_deadline(const _Atomic double *deadline, fd_error *err) {
    if (fd_deadline_passed(deadline))
        return fd_error_set(err, 503, "timeout", "the import did not finish within its deadline; "
                                                 "nothing was written");
    return 0;
}

/* A private on-disk temporary database (filename ""): SQLite deletes it on close. The
 * page cache is capped so staging a 200 MB file stays within a few tens of MB. */
static int staging_open(staging *s, fd_error *err) {
    if (sqlite3_open("", &s->tmp) != SQLITE_OK) return tmp_error(s->tmp, err, "opening staging");
    const char *sql = "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
                      "PRAGMA cache_size=-16384; PRAGMA temp_store=FILE; "
                      "CREATE TABLE staging (month TEXT NOT NULL, id TEXT NOT NULL, vals BLOB);"
                      "BEGIN;";
    if (sqlite3_exec(s->tmp, sql, NULL, NULL, NULL) != SQLITE_OK)
        return tmp_error(s->tmp, err, "preparing staging");
    /* rowid = line number: rows keep their input order and errors can name their line. */
    if (sqlite3_prepare_v2(s->tmp, "INSERT INTO staging (rowid, month, id, vals) VALUES (?,?,?,?)",
                           -1, &s->insert, NULL) != SQLITE_OK)
        return tmp_error(s->tmp, err, "preparing staging");
    return 0;
}

static int take_header(staging *s, const fd_csv_row *row, fd_error *err) {
    fd_import_result *res = s->res;
    s->n_fields = row->n;
    s->names = calloc(row->n, sizeof *s->names);
    s->data_field = malloc(row->n * sizeof *s->data_field);
    s->vals = malloc(row->n * sizeof *s->vals);
    res->col_names = calloc(row->n, sizeof *res->col_names);
    if (!s->names || !s->data_field || !s->vals || !res->col_names) return oom(err);
    for (size_t j = 0; j < row->n; j++) {
        size_t n = row->lens[j];
        const char *t = fd_csv_trim(row->fields[j], &n);
        if (!(s->names[j] = strndup(t, n))) return oom(err);
    }
    if (fd_panel_header_check((const char *const *)s->names, row->n, &s->id_col, &s->date_col,
                              err) < 0)
        return fd_error_prefix(err, "line %ld (header)", row->line);
    s->ret_data = -1;
    for (size_t j = 0; j < row->n; j++) {
        if ((long)j == s->id_col || (long)j == s->date_col) continue;
        if (strcmp(s->names[j], "ret") == 0) {
            s->ret_data = (long)s->n_data;
            res->has_ret = 1;
        } else if (strcmp(s->names[j], "mktcap") == 0) {
            res->has_mktcap = 1;
        } else if (!(res->col_names[res->n_cols++] = strdup(s->names[j]))) {
            return oom(err);
        }
        s->data_field[s->n_data++] = (long)j;
    }
    s->have_header = 1;
    return 0;
}

static int stage_row(void *ctx, const fd_csv_row *row, fd_error *err) {
    staging *s = ctx;
    if (fd_csv_row_blank(row)) return 0;
    if (!s->have_header) return take_header(s, row, err);
    if (row->n != s->n_fields)
        return fd_error_set(err, 400, "ragged_row", "line %ld: expected %zu fields, got %zu",
                            row->line, s->n_fields, row->n);
    char month[FD_MONTH_LEN];
    if (fd_month_from_cell(row->fields[s->date_col], row->lens[s->date_col], month) != 0)
        return fd_error_set(err, 400, "bad_date",
                            "line %ld: date \"%.40s\" is not YYYY-MM, YYYY-MM-DD or YYYYMM",
                            row->line, row->fields[s->date_col]);
    size_t id_len = row->lens[s->id_col];
    const char *id = fd_csv_trim(row->fields[s->id_col], &id_len);
    char where[32];
    snprintf(where, sizeof where, "line %ld", row->line);
    if (fd_panel_id_check(id, id_len, where, err) < 0) return -1;
    for (size_t k = 0; k < s->n_data; k++) {
        long j = s->data_field[k];
        int shift = (long)k == s->ret_data ? s->ret_shift : 0;
        fd_num_status st = fd_num_parse_scaled(row->fields[j], row->lens[j], shift, &s->vals[k]);
        if (st < 0)
            return fd_error_set(err, 400, "bad_number",
                                "line %ld, column '%s': \"%.40s\" is not a %snumber", row->line,
                                s->names[j], row->fields[j], st == FD_NUM_RANGE ? "finite " : "");
    }
    sqlite3_bind_int64(s->insert, 1, row->line);
    sqlite3_bind_text(s->insert, 2, month, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->insert, 3, id, (int)id_len, SQLITE_STATIC);
    sqlite3_bind_blob(s->insert, 4, s->vals, (int)(s->n_data * sizeof *s->vals), SQLITE_STATIC);
    int rc = sqlite3_step(s->insert);
    sqlite3_reset(s->insert);
    if (rc != SQLITE_DONE) return tmp_error(s->tmp, err, "staging a row");
    if (++s->res->rows % DEADLINE_EVERY == 0) return past_deadline(s->deadline, err);
    return 0;
}

/* Builds month `month` from the staged rows (input order, so a duplicate id is reported
 * at its second line) and writes it in the open transaction on db. */
static int write_month(staging *s, sqlite3_stmt *rows, const char *month, fd_db *db,
                       fd_error *err) {
    fd_panel_builder b;
    fd_panel p;
    const char **data_names = malloc((s->n_data ? s->n_data : 1) * sizeof *data_names);
    if (!data_names) return oom(err);
    for (size_t k = 0; k < s->n_data; k++) data_names[k] = s->names[s->data_field[k]];
    int rc = fd_panel_builder_init(&b, month, data_names, s->n_data, FD_TAG_LINE, err);
    free(data_names);
    sqlite3_bind_text(rows, 1, month, -1, SQLITE_STATIC);
    int step;
    while (rc == 0 && (step = sqlite3_step(rows)) == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(rows, 2);
        if ((size_t)sqlite3_column_bytes(rows, 2) != s->n_data * sizeof(double)) {
            rc = fd_error_set(err, 500, "staging_error", "staged row of the wrong size");
            break;
        }
        if (s->n_data) memcpy(s->vals, blob, s->n_data * sizeof(double));
        rc = fd_panel_builder_add(&b, (const char *)sqlite3_column_text(rows, 1),
                                  (size_t)sqlite3_column_bytes(rows, 1), s->vals,
                                  (long)sqlite3_column_int64(rows, 0), err);
    }
    if (rc == 0 && step != SQLITE_DONE) rc = tmp_error(s->tmp, err, "reading staged rows");
    sqlite3_reset(rows);
    fd_panel_init(&p);
    if (rc == 0) rc = fd_panel_builder_finish(&b, &p, err);
    fd_panel_builder_free(&b);
    if (rc == 0) {
        s->res->missing += fd_panel_missing_cells(&p);
        fd_outlier_check_panel(&s->res->outliers, &p);
        rc = fd_store_panel_write(db, &p, err);
    }
    fd_panel_free(&p);
    return rc;
}

static int write_all_months(staging *s, fd_db *db, fd_error *err) {
    sqlite3_stmt *months = NULL, *rows = NULL;
    int rc = 0, step;
    /* The index is built once after loading: far cheaper than maintaining it per row. Every
     * index ends with the rowid, so (month) serves "WHERE month = ? ORDER BY rowid". */
    if (sqlite3_exec(s->tmp, "COMMIT; CREATE INDEX staging_month ON staging (month);",
                     NULL, NULL, NULL) != SQLITE_OK)
        return tmp_error(s->tmp, err, "indexing staged rows");
    if (sqlite3_prepare_v2(s->tmp, "SELECT DISTINCT month FROM staging ORDER BY month", -1,
                           &months, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->tmp, "SELECT rowid, id, vals FROM staging WHERE month = ? "
                                   "ORDER BY rowid", -1, &rows, NULL) != SQLITE_OK) {
        rc = tmp_error(s->tmp, err, "reading staged rows");
    }
    if (rc == 0) rc = fd_db_begin(db, err);
    if (rc == 0) {
        while (rc == 0 && (step = sqlite3_step(months)) == SQLITE_ROW) {
            char month[FD_MONTH_LEN];
            snprintf(month, sizeof month, "%s", (const char *)sqlite3_column_text(months, 0));
            rc = write_month(s, rows, month, db, err);
            if (rc == 0 && s->res->months++ == 0) memcpy(s->res->first, month, sizeof month);
            if (rc == 0) memcpy(s->res->last, month, sizeof month);
            if (rc == 0) rc = past_deadline(s->deadline, err);
        }
        if (rc == 0 && step != SQLITE_DONE) rc = tmp_error(s->tmp, err, "listing staged months");
        if (rc == 0) rc = fd_db_commit(db, err);
        else fd_db_rollback(db);
    }
    sqlite3_finalize(months);
    sqlite3_finalize(rows);
    return rc;
}

int fd_bulk_import_file(fd_db *db, const char *path, fd_units units,
                        const _Atomic double *deadline, fd_import_result *res, fd_error *err) {
    static const fd_outlier_policy check = {FD_OUTLIER_KEEP, 0};
    staging s;
    memset(&s, 0, sizeof s);
    memset(res, 0, sizeof *res);
    fd_outlier_log_init(&res->outliers, &check);
    s.res = res;
    s.deadline = deadline;
    s.ret_shift = units == FD_UNITS_PERCENT ? -2 : 0;
    int rc = staging_open(&s, err);
    if (rc == 0) rc = fd_csv_parse_file(path, stage_row, &s, err);
    if (rc == 0 && !s.have_header)
        rc = fd_error_set(err, 400, "empty_body", "the CSV has no header row");
    if (rc == 0 && res->rows == 0)
        rc = fd_error_set(err, 400, "no_rows", "the CSV has a header but no data rows");
    if (rc == 0) rc = write_all_months(&s, db, err);
    sqlite3_finalize(s.insert);
    sqlite3_close(s.tmp);
    for (size_t j = 0; s.names && j < s.n_fields; j++) free(s.names[j]);
    free(s.names);
    free(s.data_field);
    free(s.vals);
    if (rc != 0) {
        fd_import_result_free(res);
        res->months = 0;
    }
    return rc;
}

void fd_import_result_free(fd_import_result *res) {
    fd_outlier_log_free(&res->outliers);
    for (size_t j = 0; res->col_names && j < res->n_cols; j++) free(res->col_names[j]);
    free(res->col_names);
    res->col_names = NULL;
    res->n_cols = 0;
}
