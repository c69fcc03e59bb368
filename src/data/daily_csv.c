/* CSV readers for daily bars (`ticker,date,open,high,low,close,volume`), on top of the
 * streaming fd_csv tokenizer so a large file or a gzip pipe is read in constant memory
 * beyond the bars themselves. Every error names the physical line at fault. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "factord/csv.h"
#include "factord/daily.h"
#include "factord/numparse.h"

enum { COL_TICKER, COL_DATE, COL_OPEN, COL_HIGH, COL_LOW, COL_CLOSE, COL_VOLUME, N_COLS };

static const char *const col_names[N_COLS] = {"ticker", "date", "open", "high",
                                              "low",    "close", "volume"};

typedef struct reader {
    fd_bars *bars;
    int have_header;
    size_t n_fields;    /* fields per row, from the header */
    int field_of[N_COLS]; /* header position of each column */
} reader;

static int read_header(reader *r, const fd_csv_row *row, fd_error *err) {
    for (int c = 0; c < N_COLS; c++) r->field_of[c] = -1;
    for (size_t i = 0; i < row->n; i++) {
        const char *name = row->fields[i];
        while (*name == ' ') name++;
        size_t len = strlen(name);
        while (len > 0 && name[len - 1] == ' ') len--;
        int found = -1;
        for (int c = 0; c < N_COLS; c++)
            if (strlen(col_names[c]) == len && strncasecmp(name, col_names[c], len) == 0)
                found = c;
        if (found < 0)
            return fd_error_set(err, 400, "bad_csv",
                                "line %ld: unknown column \"%.40s\" (expected "
                                "ticker,date,open,high,low,close,volume)",
                                row->line, row->fields[i]);
        if (r->field_of[found] >= 0)
            return fd_error_set(err, 400, "bad_csv", "line %ld: column \"%s\" appears twice",
                                row->line, col_names[found]);
        r->field_of[found] = (int)i;
    }
    for (int c = 0; c < N_COLS; c++)
        if (r->field_of[c] < 0)
            return fd_error_set(err, 400, "bad_csv", "line %ld: header lacks column \"%s\"",
                                row->line, col_names[c]);
    r->n_fields = row->n;
    r->have_header = 1;
    return 0;
}

/* Parses a numeric cell; `required` cells may not be empty. */
static int cell_number(const fd_csv_row *row, int field, const char *name, int required,
                       double *out, fd_error *err) {
    fd_num_status st = fd_num_parse(row->fields[field], row->lens[field], out);
    if (st == FD_NUM_OK) return 0;
    if (st == FD_NUM_MISSING && !required) return 0;
    if (st == FD_NUM_MISSING)
        return fd_error_set(err, 400, "bad_bar", "line %ld: %s is empty", row->line, name);
    return fd_error_set(err, 400, "bad_bar", "line %ld: %s \"%.40s\" is not a finite number",
                        row->line, name, row->fields[field]);
}

static int on_row(void *ctx, const fd_csv_row *row, fd_error *err) {
    reader *r = ctx;
    if (fd_csv_row_blank(row)) return 0;
    if (!r->have_header) return read_header(r, row, err);
    if (row->n != r->n_fields)
        return fd_error_set(err, 400, "bad_csv", "line %ld: %zu fields, the header has %zu",
                            row->line, row->n, r->n_fields);
    fd_bar bar;
    int f = r->field_of[COL_DATE];
    if (fd_date_parse(row->fields[f], row->lens[f], &bar.date) != 0)
        return fd_error_set(err, 400, "bad_bar", "line %ld: date \"%.40s\" is not YYYY-MM-DD",
                            row->line, row->fields[f]);
    if (cell_number(row, r->field_of[COL_OPEN], "open", 0, &bar.open, err) ||
        cell_number(row, r->field_of[COL_HIGH], "high", 0, &bar.high, err) ||
        cell_number(row, r->field_of[COL_LOW], "low", 0, &bar.low, err) ||
        cell_number(row, r->field_of[COL_CLOSE], "close", 1, &bar.close, err) ||
        cell_number(row, r->field_of[COL_VOLUME], "volume", 1, &bar.volume, err))
        return -1;
    if (fd_bars_add(r->bars, row->fields[r->field_of[COL_TICKER]], &bar, row->line, err) != 0)
        return fd_error_prefix(err, "line %ld", row->line);
    return 0;
}

static int finish(reader *r, fd_error *err) {
    if (!r->have_header)
        return fd_error_set(err, 400, "bad_csv",
                            "empty input: expected a header ticker,date,open,high,low,close,"
                            "volume");
    return fd_bars_finish(r->bars, err);
}

int fd_bars_read_buffer(fd_bars *b, const char *data, size_t len, fd_error *err) {
    reader r = {.bars = b};
    if (fd_csv_parse_buffer(data, len, on_row, &r, err) != 0) return -1;
    return finish(&r, err);
}

int fd_bars_read_stream(fd_bars *b, FILE *in, fd_error *err) {
    reader r = {.bars = b};
    fd_csv *csv = fd_csv_new(on_row, &r, 0, 0);
    char *buf = malloc(1 << 16);
    int rc = -1;
    if (!csv || !buf) {
        fd_error_set(err, 500, "out_of_memory", "out of memory reading bars");
        goto done;
    }
    size_t got;
    while ((got = fread(buf, 1, 1 << 16, in)) > 0)
        if (fd_csv_feed(csv, buf, got, err) != 0) goto done;
    if (ferror(in)) {
        fd_error_set(err, 500, "read_error", "error reading the bars input");
        goto done;
    }
    if (fd_csv_finish(csv, err) != 0) goto done;
    rc = finish(&r, err);
done:
    fd_csv_free(csv);
    free(buf);
    return rc;
}

int fd_bars_read_file(fd_bars *b, const char *path, fd_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return fd_error_set(err, 404, "no_file", "cannot open %s", path);
    int rc = fd_bars_read_stream(b, f, err);
    fclose(f);
    return rc;
}
