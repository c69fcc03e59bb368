/* Datasets from stored panels (see include/factord/dataset_load.h). */
#include "factord/dataset_load.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/store_data.h"

/* Column names of a JSON array as a C array (pointers into the JSON); NULL when the
 * array is absent, *n then 0. */
static const char **column_list(const json_t *cols, size_t *n, fd_error *err) {
    const char **names;
    *n = json_is_array(cols) ? json_array_size(cols) : 0;
    if (*n == 0) return NULL;
    names = calloc(*n, sizeof *names);
    if (!names) {
        fd_error_set(err, 500, "out_of_memory", "column list");
        return NULL;
    }
    for (size_t i = 0; i < *n; i++) names[i] = json_string_value(json_array_get(cols, i));
    return names;
}

int fd_dataset_load(fd_db *db, const char *from, const char *to, const json_t *model,
                    const json_t *columns, fd_dataset *ds, fd_dataset_stats *stats,
                    fd_error *err) {
    size_t n = (size_t)fd_month_diff(from, to) + 2, n_cols = 0, loaded = 0;
    int excess = json_is_true(json_object_get(model, "excess_returns"));
    fd_panel *panels = calloc(n, sizeof *panels);
    double *rf = calloc(n, sizeof *rf);
    const char **names = NULL;
    fd_dataset_opts opts;
    int began = 0, rc = -1;
    fd_dataset_init(ds);
    if (!panels || !rf) {
        fd_error_set(err, 500, "out_of_memory", "loading %zu panels", n);
        goto out;
    }
    if (!columns) columns = json_object_get(model, "columns");
    names = column_list(columns, &n_cols, err);
    if (n_cols && !names) goto out;
    /* One read transaction: every month comes from the same snapshot of the store. */
    if (fd_db_begin_read(db, &began, err) != 0) goto out;
    for (size_t i = 0; i < n; i++, loaded++) {
        char month[FD_MONTH_LEN];
        fd_month_add(from, (int)i - 1, month);
        if (fd_store_panel_get(db, month, &panels[i], err) != 0) {
            if (err && err->status == 404)
                fd_error_set(err, 422, "missing_panels", "no stored panel for %s (needed for "
                             "the window %s..%s)", month, from, to);
            goto out;
        }
        rf[i] = NAN;
        if (excess && fd_store_factor_value(db, month, "RF", &rf[i], NULL) != 0) rf[i] = NAN;
    }
    memset(&opts, 0, sizeof opts);
    opts.columns = names;
    opts.n_columns = n_cols;
    opts.add_constant = json_is_true(json_object_get(model, "add_constant"));
    opts.rf = excess ? rf : NULL;
    opts.stats = stats;
    rc = fd_dataset_from_panels(panels, n, &opts, ds, err);
    if (rc != 0) fd_error_prefix(err, "window %s..%s", from, to);
out:
    fd_db_end_read(db, began);
    for (size_t i = 0; i < loaded; i++) fd_panel_free(&panels[i]);
    free(panels);
    free(rf);
    free((void *)names);
    return rc;
}
