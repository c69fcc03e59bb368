/* Text forms of backtest results: the comparison as Markdown and CSV, a metrics document
 * as "metric,value" CSV and the monthly series as CSV (see factord/report.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "factord/report.h"

static void putf(fd_textbuf *b, const char *fmt, double v) {
    char cell[64];
    snprintf(cell, sizeof cell, fmt, v);
    fd_textbuf_puts(b, cell);
}

/* Units shown in percent: R^2 and shares of a sum. */
static int in_percent(const char *unit) {
    return strcmp(unit, "r2") == 0 || strcmp(unit, "share") == 0;
}

/* A Markdown cell: R^2 and shares in percent, p-values to three decimals, ratios to two. */
static void md_value(fd_textbuf *b, const json_t *v, const char *unit) {
    if (!json_is_number(v)) {
        fd_textbuf_puts(b, "-");
        return;
    }
    if (in_percent(unit)) putf(b, "%.2f", 100.0 * json_number_value(v));
    else if (strcmp(unit, "p") == 0) putf(b, "%.3f", json_number_value(v));
    else putf(b, "%.2f", json_number_value(v));
}

static void md_header(fd_textbuf *b, const char *first, const json_t *cols, int k_prefix) {
    size_t i;
    json_t *c;
    fd_textbuf_puts(b, "| ");
    fd_textbuf_puts(b, first);
    json_array_foreach(cols, i, c) {
        fd_textbuf_puts(b, k_prefix ? " | K=" : " | ");
        if (json_is_integer(c)) putf(b, "%.0f", (double)json_integer_value(c));
        else fd_textbuf_puts(b, json_string_value(c));
    }
    fd_textbuf_puts(b, " |\n|---");
    for (i = 0; i < json_array_size(cols); i++) fd_textbuf_puts(b, "|---:");
    fd_textbuf_puts(b, "|\n");
}

static void md_table(fd_textbuf *b, const json_t *cmp, const json_t *t) {
    const json_t *rows = json_object_get(cmp, "rows"), *values = json_object_get(t, "values");
    const char *unit = json_string_value(json_object_get(t, "unit"));
    size_t r, c;
    json_t *row, *v;
    fd_textbuf_puts(b, "\n## ");
    fd_textbuf_puts(b, json_string_value(json_object_get(t, "title")));
    fd_textbuf_puts(b, in_percent(unit) ? " (%)\n\n" : "\n\n");
    md_header(b, json_string_value(json_object_get(cmp, "rows_by")), json_object_get(cmp, "columns"), 1);
    json_array_foreach(values, r, row) {
        fd_textbuf_puts(b, "| ");
        fd_textbuf_puts(b, json_string_value(json_array_get(rows, r)));
        json_array_foreach(row, c, v) {
            fd_textbuf_puts(b, " | ");
            md_value(b, v, unit);
        }
        fd_textbuf_puts(b, " |\n");
    }
}

static void md_tests(fd_textbuf *b, const json_t *jk) {
    const json_t *base = json_object_get(jk, "base");
    static const char *const keys[] = {"sharpe", "base_sharpe", "rho", "z", "p_two_sided",
                                       "p_one_sided"};
    size_t i;
    json_t *t;
    fd_textbuf_puts(b, "\n## Jobson-Korkie-Memmel tests of ");
    fd_textbuf_puts(b, json_string_value(json_object_get(jk, "strategy")));
    fd_textbuf_puts(b, " against ");
    fd_textbuf_puts(b, json_string_value(json_object_get(base, "name")));
    fd_textbuf_puts(b, strcmp(json_string_value(json_object_get(base, "chosen")), "best") == 0
                           ? " (highest Sharpe ratio)\n\n"
                           : "\n\n");
    fd_textbuf_puts(b, "| backtest | months | Sharpe | base Sharpe | rho | z | p (two-sided) | "
                       "p (one-sided) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    json_array_foreach(json_object_get(jk, "tests"), i, t) {
        fd_textbuf_puts(b, "| ");
        fd_textbuf_puts(b, json_string_value(json_object_get(t, "name")));
        putf(b, " | %.0f", (double)json_integer_value(json_object_get(t, "months")));
        for (int k = 0; k < 6; k++) {
            fd_textbuf_puts(b, " | ");
            md_value(b, json_object_get(t, keys[k]), k >= 4 ? "p" : "ratio");
        }
        fd_textbuf_puts(b, " |\n");
    }
}

static void md_spearman(fd_textbuf *b, const json_t *sp) {
    const json_t *names = json_object_get(sp, "names");
    size_t r, c;
    json_t *row, *v;
    fd_textbuf_puts(b, "\n## Spearman correlation of ");
    fd_textbuf_puts(b, json_string_value(json_object_get(sp, "strategy")));
    fd_textbuf_puts(b, " returns over common months\n\n");
    md_header(b, "backtest", names, 0);
    json_array_foreach(json_object_get(sp, "matrix"), r, row) {
        fd_textbuf_puts(b, "| ");
        fd_textbuf_puts(b, json_string_value(json_array_get(names, r)));
        json_array_foreach(row, c, v) {
            fd_textbuf_puts(b, " | ");
            md_value(b, v, "ratio");
        }
        fd_textbuf_puts(b, " |\n");
    }
}

void fd_report_markdown(const json_t *cmp, fd_textbuf *b) {
    size_t i;
    json_t *t;
    fd_textbuf_puts(b, "# Out-of-sample comparison\n\nRows: ");
    fd_textbuf_puts(b, strcmp(json_string_value(json_object_get(cmp, "rows_by")), "name") == 0
                           ? "backtest names"
                           : "model kinds");
    fd_textbuf_puts(b, "; columns: number of factors K. Backtests:");
    json_array_foreach(json_object_get(cmp, "backtests"), i, t) {
        const json_t *from = json_object_get(t, "from"), *to = json_object_get(t, "to");
        fd_textbuf_puts(b, i ? ", " : " ");
        fd_textbuf_puts(b, json_string_value(json_object_get(t, "name")));
        putf(b, " (id %.0f, ", (double)json_integer_value(json_object_get(t, "id")));
        fd_textbuf_puts(b, json_is_string(from) ? json_string_value(from) : "-");
        fd_textbuf_puts(b, "..");
        fd_textbuf_puts(b, json_is_string(to) ? json_string_value(to) : "-");
        fd_textbuf_puts(b, ")");
    }
    fd_textbuf_puts(b, ".\n");
    json_array_foreach(json_object_get(cmp, "tables"), i, t) md_table(b, cmp, t);
    md_tests(b, json_object_get(cmp, "jk"));
    md_spearman(b, json_object_get(cmp, "spearman"));
    json_array_foreach(json_object_get(cmp, "warnings"), i, t) {
        fd_textbuf_puts(b, i ? "- " : "\n## Warnings\n\n- ");
        fd_textbuf_puts(b, json_string_value(json_object_get(t, "name")));
        fd_textbuf_puts(b, ": ");
        fd_textbuf_puts(b, json_string_value(json_object_get(t, "message")));
        fd_textbuf_puts(b, "\n");
    }
}

static void csv_value(fd_textbuf *b, const json_t *v) {
    fd_textbuf_num(b, json_is_number(v) ? json_number_value(v) : NAN, "");
}

void fd_report_csv_long(const json_t *cmp, fd_textbuf *b) {
    const json_t *rows = json_object_get(cmp, "rows"), *cols = json_object_get(cmp, "columns");
    size_t i, r, c;
    json_t *t, *row, *v;
    fd_textbuf_puts(b, "table,");
    fd_textbuf_puts(b, json_string_value(json_object_get(cmp, "rows_by")));
    fd_textbuf_puts(b, ",k,value\n");
    json_array_foreach(json_object_get(cmp, "tables"), i, t) {
        json_array_foreach(json_object_get(t, "values"), r, row) {
            json_array_foreach(row, c, v) {
                fd_textbuf_csv_field(b, json_string_value(json_object_get(t, "name")));
                fd_textbuf_putc(b, ',');
                fd_textbuf_csv_field(b, json_string_value(json_array_get(rows, r)));
                putf(b, ",%.0f,", (double)json_integer_value(json_array_get(cols, c)));
                csv_value(b, v);
                fd_textbuf_putc(b, '\n');
            }
        }
    }
}

static void csv_tests(const json_t *jk, fd_textbuf *b) {
    static const char *const keys[] = {"sharpe", "base_sharpe", "rho", "z", "p_two_sided",
                                       "p_one_sided"};
    size_t i;
    json_t *t;
    fd_textbuf_puts(b, "id,name,base,months,sharpe,base_sharpe,rho,z,p_two_sided,p_one_sided\n");
    json_array_foreach(json_object_get(jk, "tests"), i, t) {
        putf(b, "%.0f,", (double)json_integer_value(json_object_get(t, "id")));
        fd_textbuf_csv_field(b, json_string_value(json_object_get(t, "name")));
        fd_textbuf_putc(b, ',');
        fd_textbuf_csv_field(b, json_string_value(json_object_get(json_object_get(jk, "base"),
                                                                  "name")));
        putf(b, ",%.0f", (double)json_integer_value(json_object_get(t, "months")));
        for (int k = 0; k < 6; k++) {
            fd_textbuf_putc(b, ',');
            csv_value(b, json_object_get(t, keys[k]));
        }
        fd_textbuf_putc(b, '\n');
    }
}

/* A wide grid: header `first,labels...`, then one line per row label. */
static void csv_grid(fd_textbuf *b, const char *first, const json_t *row_labels,
                     const json_t *col_labels, const char *col_prefix, const json_t *values) {
    size_t r, c;
    json_t *row, *v;
    fd_textbuf_csv_field(b, first);
    json_array_foreach(col_labels, c, v) {
        fd_textbuf_putc(b, ',');
        fd_textbuf_puts(b, col_prefix);
        if (json_is_integer(v)) putf(b, "%.0f", (double)json_integer_value(v));
        else fd_textbuf_csv_field(b, json_string_value(v));
    }
    fd_textbuf_putc(b, '\n');
    json_array_foreach(values, r, row) {
        fd_textbuf_csv_field(b, json_string_value(json_array_get(row_labels, r)));
        json_array_foreach(row, c, v) {
            fd_textbuf_putc(b, ',');
            csv_value(b, v);
        }
        fd_textbuf_putc(b, '\n');
    }
}

int fd_report_csv_table(const json_t *cmp, const char *name, fd_textbuf *b, fd_error *err) {
    size_t i;
    json_t *t;
    if (strcmp(name, "jk") == 0) {
        csv_tests(json_object_get(cmp, "jk"), b);
        return 0;
    }
    if (strcmp(name, "spearman") == 0) {
        const json_t *sp = json_object_get(cmp, "spearman");
        csv_grid(b, "backtest", json_object_get(sp, "names"), json_object_get(sp, "names"), "",
                 json_object_get(sp, "matrix"));
        return 0;
    }
    json_array_foreach(json_object_get(cmp, "tables"), i, t) {
        if (strcmp(json_string_value(json_object_get(t, "name")), name) != 0) continue;
        csv_grid(b, json_string_value(json_object_get(cmp, "rows_by")),
                 json_object_get(cmp, "rows"), json_object_get(cmp, "columns"), "K=",
                 json_object_get(t, "values"));
        return 0;
    }
    return fd_error_set(err, 404, "no_table", "table: \"%s\" is not a comparison table", name);
}

static void flatten(const json_t *v, char *key, size_t len, size_t cap, fd_textbuf *b) {
    if (json_is_object(v) || json_is_array(v)) {
        size_t i;
        const char *k;
        json_t *child;
        if (json_is_object(v)) {
            json_object_foreach((json_t *)v, k, child) {
                snprintf(key + len, cap - len, "%s%s", len ? "." : "", k);
                flatten(child, key, strlen(key), cap, b);
            }
        } else {
            json_array_foreach(v, i, child) {
                snprintf(key + len, cap - len, "%s%zu", len ? "." : "", i);
                flatten(child, key, strlen(key), cap, b);
            }
        }
        key[len] = '\0';
        return;
    }
    fd_textbuf_csv_field(b, key);
    fd_textbuf_putc(b, ',');
    if (json_is_string(v)) fd_textbuf_csv_field(b, json_string_value(v));
    else if (json_is_boolean(v)) fd_textbuf_puts(b, json_is_true(v) ? "true" : "false");
    else csv_value(b, v);
    fd_textbuf_putc(b, '\n');
}

void fd_report_flatten_csv(const json_t *doc, fd_textbuf *b) {
    char key[512] = "";
    fd_textbuf_puts(b, "metric,value\n");
    flatten(doc, key, 0, sizeof key, b);
}

void fd_report_returns_csv(const fd_report_entry *e, fd_textbuf *b) {
    fd_textbuf_puts(b, "month,window");
    for (int s = 0; s < FD_REPORT_N_SERIES; s++) {
        fd_textbuf_putc(b, ',');
        fd_textbuf_puts(b, fd_report_series_names[s]);
    }
    fd_textbuf_putc(b, '\n');
    for (size_t t = 0; t < e->T; t++) {
        fd_textbuf_puts(b, e->months[t]);
        putf(b, ",%.0f", (double)e->window[t]);
        for (int s = 0; s < FD_REPORT_N_SERIES; s++) {
            fd_textbuf_putc(b, ',');
            fd_textbuf_num(b, e->series[t * FD_REPORT_N_SERIES + s], "");
        }
        fd_textbuf_putc(b, '\n');
    }
}
