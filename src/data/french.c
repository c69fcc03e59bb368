/* Benchmark factors from raw Ken French files and clean CSVs (french.h). Both go through
 * the streaming CSV tokenizer; a small state machine finds the raw file's monthly block. */
#include "factord/french.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "factor_rows.h"
#include "factord/csv.h"
#include "factord/numparse.h"

int fd_units_parse(const char *text, fd_units *out, fd_error *err) {
    if (!text)
        return fd_error_set(err, 400, "missing_units",
                            "units are required: add ?units=percent or ?units=decimal");
    if (strcmp(text, "percent") == 0) {
        *out = FD_UNITS_PERCENT;
    } else if (strcmp(text, "decimal") == 0) {
        *out = FD_UNITS_DECIMAL;
    } else {
        return fd_error_set(err, 400, "bad_units",
                            "unknown units \"%.40s\": expected percent or decimal", text);
    }
    return 0;
}

/* The first cell of a row with surrounding blanks removed, as s[0..*len). */
static const char *first_cell(const fd_csv_row *row, size_t *len) {
    *len = row->lens[0];
    return fd_csv_trim(row->fields[0], len);
}

static int is_date_header(const char *s, size_t n) {
    return (n == 4 && strncasecmp(s, "date", 4) == 0) || (n == 5 && strncasecmp(s, "month", 5) == 0);
}

int fd_french_is_raw(const char *body, size_t len) {
    const char *p = body, *end = body + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    while (p < end && isspace((unsigned char)*p)) p++;
    if (p < end && *p == '"') p++;
    const char *q = p;
    while (q < end && isalpha((unsigned char)*q)) q++;
    return !is_date_header(p, (size_t)(q - p));
}

/* Trimmed copies of cells [1..n) of a header row: the factor names. */
static char **header_names(const fd_csv_row *row) {
    char **names = calloc(row->n, sizeof *names);
    for (size_t j = 1; names && j < row->n; j++) {
        size_t n = row->lens[j];
        const char *s = fd_csv_trim(row->fields[j], &n);
        if (!(names[j - 1] = strndup(s, n))) {
            for (size_t k = 0; k + 1 < j; k++) free(names[k]);
            free(names);
            return NULL;
        }
    }
    return names;
}

static void free_names(char **names, size_t n) {
    for (size_t j = 0; names && j < n; j++) free(names[j]);
    free(names);
}

typedef struct french_ctx {
    int raw;            /* raw Ken French layout (else clean CSV) */
    int shift;          /* decimal exponent shift: -2 for percent, 0 for decimal */
    enum { SEEK, IN_BLOCK, DONE } state;
    char **header;      /* (n_header - 1) names of the latest candidate header row */
    size_t n_header;    /* fields of that row, the date column included */
    int header_is_prev; /* the candidate was the previous non-blank row */
    factor_rows rows;
    int rows_ready;
    double *vals;       /* (n_header - 1) */
} french_ctx;

static int start_block(french_ctx *c, long line, fd_error *err) {
    c->vals = malloc(c->n_header * sizeof *c->vals);
    if (!c->vals) return fd_error_set(err, 500, "out_of_memory", "out of memory");
    c->rows_ready = 1;
    if (factor_rows_init(&c->rows, (const char *const *)c->header, c->n_header - 1, 0, err) < 0)
        return fd_error_prefix(err, "line %ld (header)", line);
    c->state = IN_BLOCK;
    return 0;
}

/* One monthly row: YYYYMM (or a clean CSV date) key, then one value per factor. */
static int month_row(french_ctx *c, const fd_csv_row *row, fd_error *err) {
    size_t klen;
    const char *key = first_cell(row, &klen);
    char month[FD_MONTH_LEN];
    if (row->n != c->n_header)
        return fd_error_set(err, 400, "ragged_row", "line %ld: expected %zu fields, got %zu",
                            row->line, c->n_header, row->n);
    if (fd_month_from_cell(key, klen, month) != 0)
        return fd_error_set(err, 400, "bad_date",
                            "line %ld: date \"%.40s\" is not YYYYMM, YYYY-MM or YYYY-MM-DD",
                            row->line, row->fields[0]);
    for (size_t j = 1; j < row->n; j++) {
        double v;
        fd_num_status st = fd_num_parse(row->fields[j], row->lens[j], &v);
        if (st < 0)
            return fd_error_set(err, 400, "bad_number",
                                "line %ld, column '%s': \"%.40s\" is not a %snumber", row->line,
                                c->header[j - 1], row->fields[j],
                                st == FD_NUM_RANGE ? "finite " : "");
        /* Ken French's missing-data markers. */
        if (c->raw && (v == -99.99 || v == -999)) v = NAN;
        else if (c->shift) fd_num_parse_scaled(row->fields[j], row->lens[j], c->shift, &v);
        c->vals[j - 1] = v;
    }
    return factor_rows_add(&c->rows, month, c->vals, row->line, err);
}

static int set_header(french_ctx *c, const fd_csv_row *row, fd_error *err) {
    free_names(c->header, c->n_header ? c->n_header - 1 : 0);
    c->n_header = 0;
    if (!(c->header = header_names(row)))
        return fd_error_set(err, 500, "out_of_memory", "out of memory");
    c->n_header = row->n;
    return 0;
}

static int is_yyyymm(const char *s, size_t n) {
    if (n != 6) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return 0;
    return 1;
}

static int on_raw_row(french_ctx *c, const fd_csv_row *row, fd_error *err) {
    size_t klen;
    const char *key = first_cell(row, &klen);
    int blank = fd_csv_row_blank(row);
    if (c->state == IN_BLOCK) {
        /* The monthly block ends at the first row not keyed YYYYMM (blank line, then the
         * annual block keyed by year): everything after it is ignored. */
        if (blank || !is_yyyymm(key, klen)) {
            c->state = DONE;
            return 0;
        }
        return month_row(c, row, err);
    }
    if (blank) return 0;
    if ((klen == 0 || is_date_header(key, klen)) && row->n >= 2) {
        c->header_is_prev = 1;
        return set_header(c, row, err);
    }
    if (is_yyyymm(key, klen) && c->header_is_prev && row->n == c->n_header) {
        if (start_block(c, row->line - 1, err) < 0) return -1;
        return month_row(c, row, err);
    }
    c->header_is_prev = 0;
    return 0;
}

static int on_row(void *ctx, const fd_csv_row *row, fd_error *err) {
    french_ctx *c = ctx;
    if (c->state == DONE) return 0;
    if (c->raw) return on_raw_row(c, row, err);
    if (fd_csv_row_blank(row)) return 0;
    if (c->state == IN_BLOCK) return month_row(c, row, err);
    size_t klen;
    const char *key = first_cell(row, &klen);
    if (!is_date_header(key, klen) || row->n < 2)
        return fd_error_set(err, 400, "bad_header",
                            "line %ld: expected a header \"date,<factor>,...\" (first column "
                            "date or month)", row->line);
    if (set_header(c, row, err) < 0) return -1;
    return start_block(c, row->line, err);
}

static int parse(const char *body, size_t len, int raw, fd_units units, fd_factor_table *out,
                 fd_error *err) {
    french_ctx c;
    memset(&c, 0, sizeof c);
    fd_factor_table_init(out);
    if (units == FD_UNITS_UNSET) return fd_units_parse(NULL, &units, err);
    c.raw = raw;
    c.shift = units == FD_UNITS_PERCENT ? -2 : 0;
    int rc = fd_csv_parse_buffer(body, len, on_row, &c, err);
    if (rc == 0 && c.state == SEEK)
        rc = raw ? fd_error_set(err, 400, "no_monthly_block",
                                "no monthly block found: expected a header row \",Mkt-RF,...\" "
                                "followed by rows keyed YYYYMM")
                 : fd_error_set(err, 400, "empty_body", "no header row");
    if (rc == 0) rc = factor_rows_finish(&c.rows, out, err);
    if (c.rows_ready) factor_rows_free(&c.rows);
    free_names(c.header, c.n_header ? c.n_header - 1 : 0);
    free(c.vals);
    return rc;
}

int fd_french_parse_raw(const char *body, size_t len, fd_units units, fd_factor_table *out,
                        fd_error *err) {
    return parse(body, len, 1, units, out, err);
}

int fd_french_parse_csv(const char *body, size_t len, fd_units units, fd_factor_table *out,
                        fd_error *err) {
    return parse(body, len, 0, units, out, err);
}
