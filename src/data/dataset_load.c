/* Datasets from stored panels (see include/factord/dataset_load.h). */
#include "factord/dataset_load.h"

#include <string.h>

#include "factord/store_data.h"

int fd_dataset_load(fd_db *db, const fd_context_spec *cs, const char *from, const char *to,
                    fd_dataset *ds, fd_dataset_stats *stats, fd_error *err) {
    fd_context_spec strict = *cs;
    fd_month_source src;
    fd_store_source state;
    int began = 0, rc;
    fd_dataset_init(ds);
    strict.require_window = 1;
    strict.require_series = 1;
    fd_month_source_store(&src, &state, db, NULL);
    /* One read transaction: every month comes from the same snapshot of the store. */
    if (fd_db_begin_read(db, &began, err) != 0) return -1;
    rc = fd_context_build(&strict, &src, from, to, ds, stats, err);
    fd_db_end_read(db, began);
    if (rc != 0 && err && strcmp(err->code, "missing_panels") != 0)
        fd_error_prefix(err, "window %s..%s", from, to);
    return rc;
}
