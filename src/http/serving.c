#include "serving.h"

#include "factord/app.h"
#include "factord/panel.h"

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
    return 0;
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

