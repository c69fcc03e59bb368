/* fd_bars: daily bars of many tickers, appended in any order and sealed by fd_bars_finish,
 * which sorts them by (ticker, date) through a permutation and refuses repeats. Tickers are
 * interned through a small open-addressing table while bars are added, so a 1.5M-row file
 * costs one hash look-up per row, not a string copy. Also the calendar helpers. */
#include "factord/daily.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TICKER_MAX 32

struct fd_bars {
    /* while adding: rows in input order; after finish: sorted by (ticker, date) */
    fd_bar *rows;     /* (n) */
    uint32_t *tid;    /* (n) ticker id of each row */
    uint32_t *line;   /* (n) source line of each row, 0 if none */
    size_t n, cap;
    char **names;     /* (n_tickers); ascending after finish */
    size_t n_tickers, cap_tickers;
    uint32_t *slots;  /* (n_slots) hash table of ticker id + 1, 0 = empty */
    size_t n_slots;
    size_t *offsets;  /* (n_tickers + 1) after finish: ticker i owns rows[offsets[i]..[i+1]) */
    int finished;
};

/* ---- calendar (Howard Hinnant's civil-day algorithms) ---- */

int32_t fd_date_from_ymd(int year, int month, int day) {
    int y = year - (month <= 2);
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

void fd_date_to_ymd(int32_t days, int *year, int *month, int *day) {
    int z = days + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    int d = doy - (153 * mp + 2) / 5 + 1;
    int m = mp < 10 ? mp + 3 : mp - 9;
    *year = yoe + era * 400 + (m <= 2);
    *month = m;
    *day = d;
}

static int digits(const char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int fd_date_parse(const char *s, size_t len, int32_t *days) {
    if (len != 10 || s[4] != '-' || s[7] != '-') return -1;
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < FD_YEAR_FIRST || y > FD_YEAR_LAST || m < 1 || m > 12 || d < 1) return -1;
    int32_t v = fd_date_from_ymd(y, m, d);
    int y2, m2, d2;
    fd_date_to_ymd(v, &y2, &m2, &d2);
    if (m2 != m) return -1; /* 2021-02-30 rolls into March */
    *days = v;
    return 0;
}

/* Writes n digits of v (zero-padded); years outside 0..9999 never reach here (parse
 * limits them to FD_YEAR_FIRST..FD_YEAR_LAST), so no snprintf truncation analysis is needed. */
static void put_digits(char *out, unsigned v, int n) {
    for (int i = n - 1; i >= 0; i--, v /= 10) out[i] = (char)('0' + v % 10);
}

void fd_date_format(int32_t days, char out[FD_DATE_LEN]) {
    int y, m, d;
    fd_date_to_ymd(days, &y, &m, &d);
    put_digits(out, (unsigned)y, 4);
    out[4] = '-';
    put_digits(out + 5, (unsigned)m, 2);
    out[7] = '-';
    put_digits(out + 8, (unsigned)d, 2);
    out[10] = '\0';
}

void fd_date_month(int32_t days, char out[FD_MONTH_LEN]) {
    char date[FD_DATE_LEN];
    fd_date_format(days, date);
    memcpy(out, date, FD_MONTH_LEN - 1);
    out[FD_MONTH_LEN - 1] = '\0';
}

/* ---- container ---- */

fd_bars *fd_bars_new(void) { return calloc(1, sizeof(fd_bars)); }

void fd_bars_free(fd_bars *b) {
    if (!b) return;
    for (size_t i = 0; i < b->n_tickers; i++) free(b->names[i]);
    free(b->names);
    free(b->rows);
    free(b->tid);
    free(b->line);
    free(b->slots);
    free(b->offsets);
    free(b);
}

static uint64_t hash_name(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int rehash(fd_bars *b, size_t n_slots) {
    uint32_t *slots = calloc(n_slots, sizeof *slots);
    if (!slots) return -1;
    for (size_t id = 0; id < b->n_tickers; id++) {
        size_t i = hash_name(b->names[id]) & (n_slots - 1);
        while (slots[i]) i = (i + 1) & (n_slots - 1);
        slots[i] = (uint32_t)id + 1;
    }
    free(b->slots);
    b->slots = slots;
    b->n_slots = n_slots;
    return 0;
}

/* Id of ticker `name`, interning it when new; -1 on out of memory. */
static long intern(fd_bars *b, const char *name) {
    if (b->n_slots == 0 && rehash(b, 1024) != 0) return -1;
    size_t i = hash_name(name) & (b->n_slots - 1);
    while (b->slots[i]) {
        uint32_t id = b->slots[i] - 1;
        if (strcmp(b->names[id], name) == 0) return id;
        i = (i + 1) & (b->n_slots - 1);
    }
    if (b->n_tickers == b->cap_tickers) {
        size_t cap = b->cap_tickers ? 2 * b->cap_tickers : 64;
        char **names = realloc(b->names, cap * sizeof *names);
        if (!names) return -1;
        b->names = names;
        b->cap_tickers = cap;
    }
    char *copy = strdup(name);
    if (!copy) return -1;
    long id = (long)b->n_tickers;
    b->names[b->n_tickers++] = copy;
    b->slots[i] = (uint32_t)id + 1;
    if (2 * b->n_tickers > b->n_slots && rehash(b, 2 * b->n_slots) != 0) return -1;
    return id;
}

static int ticker_ok(const char *t) {
    size_t n = strlen(t);
    if (n == 0 || n > TICKER_MAX) return 0;
    for (; *t; t++) {
        char c = *t;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int grow_rows(fd_bars *b) {
    size_t cap = b->cap ? 2 * b->cap : 4096;
    fd_bar *rows = realloc(b->rows, cap * sizeof *rows);
    if (!rows) return -1;
    b->rows = rows;
    uint32_t *tid = realloc(b->tid, cap * sizeof *tid);
    if (!tid) return -1;
    b->tid = tid;
    uint32_t *line = realloc(b->line, cap * sizeof *line);
    if (!line) return -1;
    b->line = line;
    b->cap = cap;
    return 0;
}

int fd_bars_add(fd_bars *b, const char *ticker, const fd_bar *bar, long line, fd_error *err) {
    if (b->finished)
        return fd_error_set(err, 409, "bars_finished", "bars already finished");
    if (!ticker_ok(ticker))
        return fd_error_set(err, 400, "bad_bar",
                            "ticker \"%.40s\" is not 1..%d characters of A-Z a-z 0-9 . _ -",
                            ticker, TICKER_MAX);
    if (!isfinite(bar->close) || bar->close <= 0)
        return fd_error_set(err, 400, "bad_bar", "close %g of %s is not a positive number",
                            bar->close, ticker);
    if (!isfinite(bar->volume) || bar->volume < 0)
        return fd_error_set(err, 400, "bad_bar", "volume %g of %s is not >= 0", bar->volume,
                            ticker);
    if (isinf(bar->open) || isinf(bar->high) || isinf(bar->low))
        return fd_error_set(err, 400, "bad_bar", "open/high/low of %s must be finite", ticker);
    if (b->n == b->cap && grow_rows(b) != 0)
        return fd_error_set(err, 500, "out_of_memory", "out of memory adding bars");
    long id = intern(b, ticker);
    if (id < 0) return fd_error_set(err, 500, "out_of_memory", "out of memory adding bars");
    b->rows[b->n] = *bar;
    b->tid[b->n] = (uint32_t)id;
    b->line[b->n] = line > 0 && line <= (long)UINT32_MAX ? (uint32_t)line : 0;
    b->n++;
    return 0;
}

/* Sort context: rank[id] is the ticker's position in name order. */
typedef struct sort_ctx {
    const fd_bars *b;
    const uint32_t *rank;
} sort_ctx;

static int cmp_names(const void *x, const void *y, void *ctx) {
    char *const *names = ctx;
    return strcmp(names[*(const uint32_t *)x], names[*(const uint32_t *)y]);
}

static int cmp_rows(const void *x, const void *y, void *vctx) {
    const sort_ctx *c = vctx;
    uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
    uint32_t ri = c->rank[c->b->tid[i]], rj = c->rank[c->b->tid[j]];
    if (ri != rj) return ri < rj ? -1 : 1;
    int32_t di = c->b->rows[i].date, dj = c->b->rows[j].date;
    if (di != dj) return di < dj ? -1 : 1;
    return (i > j) - (i < j); /* stable: the first occurrence stays first */
}

int fd_bars_finish(fd_bars *b, fd_error *err) {
    if (b->finished) return 0;
    size_t nt = b->n_tickers, n = b->n;
    uint32_t *order = malloc((nt ? nt : 1) * sizeof *order);
    uint32_t *rank = malloc((nt ? nt : 1) * sizeof *rank);
    uint32_t *perm = malloc((n ? n : 1) * sizeof *perm);
    fd_bar *rows = malloc((n ? n : 1) * sizeof *rows);
    uint32_t *line = malloc((n ? n : 1) * sizeof *line);
    uint32_t *tid = malloc((n ? n : 1) * sizeof *tid);
    char **names = malloc((nt ? nt : 1) * sizeof *names);
    size_t *offsets = calloc(nt + 1, sizeof *offsets);
    int rc = -1;
    if (!order || !rank || !perm || !rows || !line || !tid || !names || !offsets) {
        fd_error_set(err, 500, "out_of_memory", "out of memory sorting %zu bars", n);
        goto done;
    }
    for (size_t i = 0; i < nt; i++) order[i] = (uint32_t)i;
    qsort_r(order, nt, sizeof *order, cmp_names, b->names);
    for (size_t i = 0; i < nt; i++) rank[order[i]] = (uint32_t)i;
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    sort_ctx ctx = {b, rank};
    qsort_r(perm, n, sizeof *perm, cmp_rows, &ctx);
    for (size_t k = 1; k < n; k++) {
        uint32_t i = perm[k - 1], j = perm[k];
        if (b->tid[i] == b->tid[j] && b->rows[i].date == b->rows[j].date) {
            char date[FD_DATE_LEN];
            fd_date_format(b->rows[j].date, date);
            fd_error_set(err, 400, "duplicate_bar",
                         "line %lu: duplicate bar (%s, %s), first at line %lu",
                         (unsigned long)b->line[j], b->names[b->tid[j]], date,
                         (unsigned long)b->line[i]);
            goto done;
        }
    }
    for (size_t k = 0; k < n; k++) {
        rows[k] = b->rows[perm[k]];
        line[k] = b->line[perm[k]];
        tid[k] = rank[b->tid[perm[k]]];
        offsets[rank[b->tid[perm[k]]] + 1]++;
    }
    for (size_t i = 0; i < nt; i++) {
        names[i] = b->names[order[i]];
        offsets[i + 1] += offsets[i];
    }
    free(b->rows);
    free(b->line);
    free(b->tid);
    free(b->names);
    free(b->slots);
    b->slots = NULL;
    b->n_slots = 0;
    b->rows = rows;
    b->line = line;
    b->tid = tid;
    b->names = names;
    b->cap_tickers = nt;
    b->offsets = offsets;
    rows = NULL;
    line = NULL;
    tid = NULL;
    names = NULL;
    offsets = NULL;
    b->finished = 1;
    rc = 0;
done:
    free(order);
    free(rank);
    free(perm);
    free(rows);
    free(line);
    free(tid);
    free(names);
    free(offsets);
    return rc;
}

size_t fd_bars_count(const fd_bars *b) { return b->n; }
size_t fd_bars_n_tickers(const fd_bars *b) { return b->n_tickers; }
const char *fd_bars_ticker(const fd_bars *b, size_t i) { return b->names[i]; }

const fd_bar *fd_bars_series(const fd_bars *b, size_t i, size_t *n) {
    *n = b->offsets[i + 1] - b->offsets[i];
    return b->rows + b->offsets[i];
}

void fd_bars_summarize(const fd_bars *b, fd_bars_summary *out) {
    memset(out, 0, sizeof *out);
    out->rows = b->n;
    out->tickers = b->n_tickers;
    if (b->n == 0) return;
    int32_t lo = b->rows[0].date, hi = lo;
    for (size_t k = 0; k < b->n; k++) {
        if (b->rows[k].date < lo) lo = b->rows[k].date;
        if (b->rows[k].date > hi) hi = b->rows[k].date;
        if (b->rows[k].volume == 0) out->zero_volume_days++;
    }
    fd_date_format(lo, out->first_date);
    fd_date_format(hi, out->last_date);
}
