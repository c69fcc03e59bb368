/* The outlier policy for monthly returns (docs/outliers.md).
 *
 * A monthly return beyond the threshold (|r| > 1, i.e. 100%, by default) is an outlier.
 * Panels built from daily bars apply the policy's action to it before it is stored (and
 * before momentum compounds it): cap it at +-threshold (the default), drop it (the return
 * becomes missing) or keep it. Panels pushed as they are (PUT /v1/panels/{month}, POST
 * /v1/import) are only checked: their outliers are stored as given and reported as a warning.
 * Either way every outlier is counted and the largest FD_OUTLIER_LISTED are listed by
 * security and month.
 *
 * A zeroed fd_outlier_policy is the default policy (cap at 100%). fd_outlier_log is plain
 * data owned by its caller: fd_outlier_log_init, then fd_outlier_log_free. Not thread-safe;
 * one log per build or request. */
#ifndef FACTORD_OUTLIERS_H
#define FACTORD_OUTLIERS_H

#include <jansson.h>
#include <stddef.h>

#include "factord/error.h"
#include "factord/panel.h"

#define FD_OUTLIER_DEFAULT_THRESHOLD 1.0 /* |r| > 100% in a month */
#define FD_OUTLIER_LISTED 1000           /* outliers listed in an answer, largest |r| first */

typedef enum {
    FD_OUTLIER_CAP = 0, /* r -> copysign(threshold, r) */
    FD_OUTLIER_DROP,    /* r -> missing */
    FD_OUTLIER_KEEP     /* stored as given */
} fd_outlier_action;

typedef struct fd_outlier_policy {
    fd_outlier_action action;
    double threshold; /* > 0; 0 means FD_OUTLIER_DEFAULT_THRESHOLD */
} fd_outlier_policy;

/* Parses the API's and the CLI's spellings: action "cap"|"drop"|"keep" and threshold a
 * positive number, either NULL for its default. 400 "bad_parameter" naming `what_action` or
 * `what_threshold` (the parameter names the caller's users know). */
int fd_outlier_policy_parse(const char *action, const char *threshold, const char *what_action,
                            const char *what_threshold, fd_outlier_policy *out, fd_error *err);

/* "cap", "drop" or "keep". */
const char *fd_outlier_action_name(fd_outlier_action action);

typedef struct fd_outlier_row {
    char *id;                 /* malloc'd */
    char month[FD_MONTH_LEN];
    double ret;               /* as given, before the action */
} fd_outlier_row;

typedef struct fd_outlier_log {
    fd_outlier_policy policy; /* resolved: threshold > 0 */
    size_t count;             /* every outlier noted */
    size_t n_rows;            /* listed, <= FD_OUTLIER_LISTED: the largest |ret| noted */
    fd_outlier_row *rows;     /* (FD_OUTLIER_LISTED) once the first outlier is noted */
} fd_outlier_log;

/* p may be NULL (the default policy). */
void fd_outlier_log_init(fd_outlier_log *log, const fd_outlier_policy *p);
void fd_outlier_log_free(fd_outlier_log *log);

/* The value the policy stores for return r (NaN stays NaN). When r is an outlier and
 * `note` is set, counts it and lists it if it is among the largest so far (a listing that
 * cannot be allocated is skipped; the count stays exact). */
double fd_outlier_apply(fd_outlier_log *log, const char *id, const char *month, double r,
                        int note);

/* Notes every outlier of p's ret column (nothing when p has none); p is not changed. */
void fd_outlier_check_panel(fd_outlier_log *log, const fd_panel *p);

/* {"action","threshold","count","listed","rows":[{"id","month","ret","stored"}, ...]},
 * rows by decreasing |ret|; "stored" is what the policy kept (null when dropped). */
json_t *fd_outlier_log_json(const fd_outlier_log *log);

/* For pushed panels: a {"code":"extreme_returns","message",...log fields} warning when
 * outliers were noted, appended to `warnings` (a JSON array); nothing otherwise. */
void fd_outlier_warn(const fd_outlier_log *log, json_t *warnings);

#endif
