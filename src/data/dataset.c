/* fd_dataset_from_panels: the period context builder (factord/context.h) over panels in
 * memory, for tests, benchmarks and the simulator (see factord/dataset.h). */
#include "factord/dataset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/context.h"

typedef struct panels_source {
    const fd_panel *panels;
    size_t n;
    const fd_dataset_opts *opts;
} panels_source;

static long panel_index(const panels_source *s, const char *key) {
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->panels[mid].month, key);
        if (c == 0) return (long)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

static int panels_month(void *ctx, const char *key, fd_month **out, fd_error *err) {
    panels_source *s = ctx;
    long i = panel_index(s, key);
    if (i < 0) return fd_error_set(err, 404, "no_panel", "no panel for %s", key);
    return fd_month_borrow(&s->panels[i], "", out, err);
}

/* RF from opts->rf; other factors and macro series from opts' tables. */
static int panels_series(void *ctx, fd_series_kind kind, const char *name, const char *key,
                         double *value, fd_error *err) {
    panels_source *s = ctx;
    const fd_factor_table *t = kind == FD_SERIES_FACTOR ? s->opts->factors : s->opts->macro_table;
    (void)err;
    *value = NAN;
    if (kind == FD_SERIES_FACTOR && strcmp(name, "RF") == 0) {
        long i = s->opts->rf ? panel_index(s, key) : -1;
        if (i >= 0) *value = s->opts->rf[i];
        return 0;
    }
    for (size_t m = 0; t && m < t->n_months; m++) {
        if (strcmp(t->months[m], key) != 0) continue;
        for (size_t j = 0; j < t->n_factors; j++)
            if (strcmp(t->names[j], name) == 0) *value = t->values[m * t->n_factors + j];
    }
    return 0;
}

int fd_dataset_from_panels(const fd_panel *panels, size_t n, const fd_dataset_opts *opts,
                           fd_dataset *out, fd_error *err) {
    static const fd_dataset_opts none;
    panels_source state = {panels, n, opts ? opts : &none};
    fd_month_source src = {panels_month, panels_series, &state, 0};
    fd_context_spec cs = {0};
    char from[FD_MONTH_LEN];
    fd_dataset_init(out);
    for (size_t i = 1; i < n; i++)
        if (strcmp(panels[i - 1].month, panels[i].month) >= 0)
            return fd_error_set(err, 422, "bad_order", "panel %zu (%s) does not follow %s", i,
                                panels[i].month, panels[i - 1].month);
    if (n < 2)
        return fd_error_set(err, 422, "empty_dataset",
                            "no month with returns follows a month with characteristics (%zu "
                            "panels)", n);
    opts = state.opts;
    cs.columns = (char *const *)opts->columns;
    cs.n_columns = opts->n_columns;
    cs.add_constant = opts->add_constant;
    cs.excess_returns = opts->rf != NULL;
    cs.history = opts->history;
    cs.observed = (char *const *)opts->observed;
    cs.n_observed = opts->n_observed;
    cs.macro = (char *const *)opts->macro;
    cs.n_macro = opts->n_macro;
    fd_month_add(panels[0].month, 1, from);
    return fd_context_build(&cs, &src, from, panels[n - 1].month, out, opts->stats, err);
}
