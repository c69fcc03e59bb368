#include "serving.h"

#include <stdio.h>
#include <string.h>

#include "factord/app.h"
#include "factord/panel.h"
#include "server_internal.h"

/* How ref addressed the version (see serving.label). */
static void note_label(const char *ref, char *out, size_t cap) {
    if (!ref || !*ref || strcmp(ref, "latest") == 0) snprintf(out, cap, "latest");
    else if (strspn(ref, "0123456789") == strlen(ref)) out[0] = '\0';
    else snprintf(out, cap, "%s", ref);
}

/* The endpoint a scoring request is counted under: the path's last segment. */
static const char *endpoint_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int serving_open(fd_request *req, serving *s, fd_error *err) {
    const char *ref = fd_request_query(req, "version");
    int version;
    s->db = NULL;
    s->v = NULL;
    if (!ref) ref = fd_request_query(req, "label");
    if (!req->app->registry)
        return fd_error_set(err, 503, "not_serving", "this process has no model registry");
    s->db = fd_app_db_acquire(req->app, err);
    if (!s->db) return -1;
    if (fd_registry_resolve(s->db, req->params[0], ref, &version, err) ||
        fd_registry_pin(req->app->registry, s->db, req->params[0], version, &s->v, err)) {
        fd_app_db_release(req->app, s->db);
        s->db = NULL;
        return -1;
    }
    note_label(ref, s->label, sizeof s->label);
    fd_http_metrics_model(s->v->model, s->v->version, endpoint_of(req->path));
    return 0;
}

json_t *serving_provenance(const serving *s, const char *month, const char *forecast_month,
                           const fd_lambda_info *li, fd_response *resp) {
    const char *estimator = li ? fd_lambda_estimator_name(li->estimator) : NULL;
    char version[16], months[24];
    json_t *doc;
    snprintf(version, sizeof version, "%d", s->v->version);
    snprintf(months, sizeof months, "%zu", li ? li->months : 0);
    fd_response_header(resp, "X-Factord-Model", s->v->model);
    fd_response_header(resp, "X-Factord-Version", version);
    if (s->label[0]) fd_response_header(resp, "X-Factord-Label", s->label);
    if (month) fd_response_header(resp, "X-Factord-Month", month);
    if (forecast_month) fd_response_header(resp, "X-Factord-Forecast-Month", forecast_month);
    if (estimator) fd_response_header(resp, "X-Factord-Lambda-Estimator", estimator);
    if (li && li->months) fd_response_header(resp, "X-Factord-Lambda-Months", months);
    doc = json_pack("{s:s,s:i,s:s?,s:s?,s:s?,s:s?}", "model", s->v->model, "version",
                    s->v->version, "label", s->label[0] ? s->label : NULL, "month", month,
                    "forecast_month", forecast_month, "lambda_estimator", estimator);
    json_object_set_new(doc, "lambda_months",
                        li && li->months ? json_integer((json_int_t)li->months) : json_null());
    return doc;
}

void serving_close(fd_request *req, serving *s) {
    fd_registry_unpin(s->v);
    if (s->db) fd_app_db_release(req->app, s->db);
}

/* The required ?month= parameter, validated. */
const char *month_param(fd_request *req, const char *name, fd_error *err) {
    const char *m = fd_request_query(req, name);
    int y, mo;
    if (!m) {
        fd_error_set(err, 400, "missing_parameter", "query parameter %s=YYYY-MM is required", name);
        return NULL;
    }
    if (fd_month_parse(m, &y, &mo, err)) {
        fd_error_prefix(err, "query parameter %s", name);
        return NULL;
    }
    return m;
}

