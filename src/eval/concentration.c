/* How concentrated an evaluation's sums of squares are (include/factord/eval_concentration.h). */
#include "factord/eval_concentration.h"

#include <math.h>
#include <stdio.h>

static const char *const sum_keys[FD_CONC_N] = {"returns", "total_errors", "pred_errors"};
static const char *const sum_what[FD_CONC_N] = {
    "the squared returns (the denominator of every R^2)",
    "the squared errors of the fitted returns (total R^2)",
    "the squared errors of the expected returns (predictive R^2 and the decile sorts)"};

void fd_concentration_add(fd_concentration *c, const char *month, const char *const *ids,
                          const double *r, const double *fitted, const double *expected,
                          size_t n) {
    for (size_t i = 0; i < n; i++) {
        double term[FD_CONC_N] = {r[i] * r[i], (r[i] - fitted[i]) * (r[i] - fitted[i]),
                                  (r[i] - expected[i]) * (r[i] - expected[i])};
        for (int s = 0; s < FD_CONC_N; s++) {
            if (!isfinite(term[s])) continue;
            c->sum[s] += term[s];
            if (term[s] <= c->largest[s]) continue;
            c->largest[s] = term[s];
            c->ret[s] = r[i];
            snprintf(c->id[s], sizeof c->id[s], "%s", ids[i]);
            snprintf(c->month[s], sizeof c->month[s], "%s", month);
        }
    }
}

json_t *fd_concentration_report(const fd_concentration *c, json_t *warnings) {
    json_t *doc = json_pack("{s:f}", "threshold", FD_CONCENTRATION_WARN);
    for (int s = 0; doc && s < FD_CONC_N; s++) {
        double share = c->sum[s] > 0 ? c->largest[s] / c->sum[s] : NAN;
        json_object_set_new(doc, sum_keys[s],
                            isfinite(share)
                                ? json_pack("{s:f,s:s,s:s,s:f}", "share", share, "id", c->id[s],
                                            "month", c->month[s], "ret", c->ret[s])
                                : json_pack("{s:n}", "share"));
        if (!warnings || !(share > FD_CONCENTRATION_WARN)) continue;
        char message[400];
        snprintf(message, sizeof message,
                 "one security-month (%s %s, return %.6g) holds %.1f%% of %s: the metrics "
                 "mostly measure that one observation; check it (docs/outliers.md)",
                 c->id[s], c->month[s], c->ret[s], 100.0 * share, sum_what[s]);
        json_array_append_new(warnings, json_pack("{s:s,s:s,s:s}", "code", "concentrated_error",
                                                  "statistic", sum_keys[s], "message", message));
    }
    return doc;
}
