/* Out-of-sample evaluation of a pinned version over stored months (see
 * include/factord/scoring.h, fd_scoring_evaluate). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/dataset_load.h"
#include "factord/eval.h"
#include "factord/eval_importance.h"
#include "factord/scoring.h"
#include "factord/store_data.h"

int fd_scoring_evaluate(const fd_version *v, fd_db *db, const char *from, const char *to,
                        const fd_eval_opts *opts, int importance, int monthly, json_t **out,
                        fd_error *err) {
    fd_dataset ds;
    fd_eval *ev = NULL;
    json_t *report = NULL, *imp = NULL;
    double *mkt = NULL;
    int rc = -1;
    *out = NULL;
    fd_dataset_init(&ds);
    if (fd_dataset_load(db, &v->cs, from, to, &ds, NULL, err)) goto done;
    mkt = malloc((ds.T + 1) * sizeof *mkt);
    if (!mkt) {
        fd_error_set(err, 500, "out_of_memory", "evaluation");
        goto done;
    }
    for (size_t t = 0; t < ds.T; t++)
        if (fd_store_factor_value(db, ds.periods[t].month, "Mkt-RF", &mkt[t], NULL)) mkt[t] = NAN;
    if (fd_eval_model(v->m, v->F, v->T0, &ds, mkt, opts, &ev, err)) goto done;
    if (importance && fd_eval_importance(v->m, &ds, &imp, err)) goto done;
    report = fd_eval_report(ev);
    json_object_set_new(report, "model", json_string(v->model));
    json_object_set_new(report, "version", json_integer(v->version));
    json_object_set_new(report, "from", json_string(from));
    json_object_set_new(report, "to", json_string(to));
    json_object_set_new(report, "returns", json_string(v->excess_returns ? "excess" : "raw"));
    json_object_set_new(report, "in_sample_overlap",
                        json_boolean(v->train_to[0] && strcmp(from, v->train_to) <= 0));
    if (imp) json_object_set_new(report, "importance", imp);
    if (monthly) json_object_set_new(report, "series", fd_eval_monthly(ev));
    imp = NULL;
    *out = report;
    rc = 0;
done:
    json_decref(imp);
    fd_eval_destroy(ev);
    fd_dataset_free(&ds);
    free(mkt);
    return rc;
}
