/* The outlier policy for monthly returns (include/factord/outliers.h, docs/outliers.md). */
#include "factord/outliers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/numparse.h"

static const char *const action_names[] = {"cap", "drop", "keep"};

const char *fd_outlier_action_name(fd_outlier_action action) {
    return action_names[action <= FD_OUTLIER_KEEP ? action : FD_OUTLIER_CAP];
}

int fd_outlier_policy_parse(const char *action, const char *threshold, const char *what_action,
                            const char *what_threshold, fd_outlier_policy *out, fd_error *err) {
    memset(out, 0, sizeof *out);
    if (action) {
        int found = 0;
        for (int a = 0; a < 3 && !found; a++)
            if (strcmp(action, action_names[a]) == 0) {
                out->action = (fd_outlier_action)a;
                found = 1;
            }
        if (!found)
            return fd_error_set(err, 400, "bad_parameter",
                                "%s \"%.40s\": expected cap, drop or keep", what_action, action);
    }
    if (threshold && (fd_num_parse(threshold, strlen(threshold), &out->threshold) != FD_NUM_OK ||
                      !(out->threshold > 0)))
        return fd_error_set(err, 400, "bad_parameter",
                            "%s \"%.40s\": expected a positive number (1 = 100%%)",
                            what_threshold, threshold);
    return 0;
}

void fd_outlier_log_init(fd_outlier_log *log, const fd_outlier_policy *p) {
    memset(log, 0, sizeof *log);
    if (p) log->policy = *p;
    if (!(log->policy.threshold > 0)) log->policy.threshold = FD_OUTLIER_DEFAULT_THRESHOLD;
}

void fd_outlier_log_free(fd_outlier_log *log) {
    for (size_t i = 0; i < log->n_rows; i++) free(log->rows[i].id);
    free(log->rows);
    log->rows = NULL;
    log->n_rows = 0;
}

static double stored_value(const fd_outlier_policy *p, double r) {
    if (!(fabs(r) > p->threshold)) return r; /* NaN too */
    if (p->action == FD_OUTLIER_CAP) return copysign(p->threshold, r);
    if (p->action == FD_OUTLIER_DROP) return NAN;
    return r;
}

/* Lists (id, month, r) if the list has room or r beats its smallest entry. */
static void list_row(fd_outlier_log *log, const char *id, const char *month, double r) {
    size_t slot = log->n_rows;
    if (!log->rows && !(log->rows = calloc(FD_OUTLIER_LISTED, sizeof *log->rows))) return;
    if (slot == FD_OUTLIER_LISTED) {
        slot = 0;
        for (size_t i = 1; i < log->n_rows; i++)
            if (fabs(log->rows[i].ret) < fabs(log->rows[slot].ret)) slot = i;
        if (!(fabs(r) > fabs(log->rows[slot].ret))) return;
    }
    char *copy = strdup(id);
    if (!copy) return;
    if (slot < log->n_rows) free(log->rows[slot].id);
    else log->n_rows++;
    log->rows[slot].id = copy;
    snprintf(log->rows[slot].month, sizeof log->rows[slot].month, "%s", month);
    log->rows[slot].ret = r;
}

double fd_outlier_apply(fd_outlier_log *log, const char *id, const char *month, double r,
                        int note) {
    if (note && fabs(r) > log->policy.threshold) {
        log->count++;
        list_row(log, id, month, r);
    }
    return stored_value(&log->policy, r);
}

void fd_outlier_check_panel(fd_outlier_log *log, const fd_panel *p) {
    for (size_t i = 0; p->ret && i < p->n_rows; i++)
        fd_outlier_apply(log, p->ids[i], p->month, p->ret[i], 1);
}

static int by_size_desc(const void *a, const void *b) {
    const fd_outlier_row *x = a, *y = b;
    double fx = fabs(x->ret), fy = fabs(y->ret);
    if (fx != fy) return fx < fy ? 1 : -1;
    int c = strcmp(x->month, y->month);
    return c ? c : strcmp(x->id, y->id);
}

static json_t *number_or_null(double v) { return isfinite(v) ? json_real(v) : json_null(); }

json_t *fd_outlier_log_json(const fd_outlier_log *log) {
    json_t *rows = json_array();
    if (!rows) return NULL;
    /* Sorting a copy keeps the log usable (and its listing logic simple) afterwards. */
    fd_outlier_row *sorted = malloc((log->n_rows ? log->n_rows : 1) * sizeof *sorted);
    if (!sorted) {
        json_decref(rows);
        return NULL;
    }
    if (log->n_rows) memcpy(sorted, log->rows, log->n_rows * sizeof *sorted);
    qsort(sorted, log->n_rows, sizeof *sorted, by_size_desc);
    for (size_t i = 0; i < log->n_rows; i++)
        json_array_append_new(
            rows, json_pack("{s:s,s:s,s:o,s:o}", "id", sorted[i].id, "month", sorted[i].month,
                            "ret", number_or_null(sorted[i].ret), "stored",
                            number_or_null(stored_value(&log->policy, sorted[i].ret))));
    free(sorted);
    return json_pack("{s:s,s:f,s:I,s:I,s:b,s:o}", "action",
                     fd_outlier_action_name(log->policy.action),
                     "threshold", log->policy.threshold, "count", (json_int_t)log->count,
                     "listed", (json_int_t)log->n_rows, "truncated", log->count > log->n_rows,
                     "rows", rows);
}

void fd_outlier_warn(const fd_outlier_log *log, json_t *warnings) {
    if (log->count == 0) return;
    json_t *w = fd_outlier_log_json(log);
    if (!w) return;
    char message[256];
    snprintf(message, sizeof message,
             "%zu monthly return%s beyond |r| > %g stored as given; one such value can "
             "dominate every R^2 and decile return (see docs/outliers.md)",
             log->count, log->count == 1 ? "" : "s", log->policy.threshold);
    json_object_del(w, "action");
    json_object_set_new(w, "code", json_string("extreme_returns"));
    json_object_set_new(w, "message", json_string(message));
    json_array_append_new(warnings, w);
}
