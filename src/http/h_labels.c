/* Version lifecycle endpoints (issue 4): labels that point at ready versions and move
 * atomically, and retirement. Moving a label first loads and warms up the target version,
 * so a version that fails to load never receives traffic: the label stays where it was. */
#include <stdlib.h>
#include <string.h>

#include "factord/app.h"
#include "factord/http.h"
#include "factord/registry.h"
#include "factord/store_labels.h"

/* A pooled connection for handlers that need the registry too; NULL after answering 503. */
static fd_db *registry_db(fd_request *req, fd_response *resp) {
    fd_error err;
    fd_db *db;
    if (!req->app->registry) {
        fd_response_error(resp, 503, "not_serving", "this process has no model registry");
        return NULL;
    }
    if (!(db = fd_app_db_acquire(req->app, &err))) fd_response_from_error(resp, &err);
    return db;
}

static void handle_list(fd_request *req, fd_response *resp) {
    fd_error err;
    json_t *labels = NULL;
    fd_db *db = fd_app_db_acquire(req->app, &err);
    if (!db) {
        fd_response_from_error(resp, &err);
        return;
    }
    if (fd_store_label_list(db, req->params[0], &labels, &err))
        fd_response_from_error(resp, &err);
    else
        fd_response_json(resp, 200, json_pack("{s:s,s:o}", "model", req->params[0], "labels", labels));
    fd_app_db_release(req->app, db);
}

static void handle_put(fd_request *req, fd_response *resp) {
    fd_error err;
    json_error_t je;
    json_t *body, *jv;
    fd_version *v = NULL;
    fd_db *db;
    int version;
    if (!req->body || !req->body_len) {
        fd_response_error(resp, 400, "empty_body", "send {\"version\": N}");
        return;
    }
    body = json_loadb(req->body, req->body_len, 0, &je);
    if (!body) {
        fd_response_error(resp, 400, "bad_json", "line %d column %d: %s", je.line, je.column, je.text);
        return;
    }
    jv = json_object_get(body, "version");
    if (!json_is_integer(jv) || json_integer_value(jv) < 1 || json_object_size(body) != 1) {
        json_decref(body);
        fd_response_error(resp, 400, "bad_field", "the body must be {\"version\": N} with N >= 1");
        return;
    }
    version = (int)json_integer_value(jv);
    json_decref(body);
    if (!fd_label_valid(req->params[1])) {
        fd_response_error(resp, 400, "bad_label", "label \"%s\" must match [A-Za-z][A-Za-z0-9_.-]{0,63} "
                          "and not be \"latest\"", req->params[1]);
        return;
    }
    if (!(db = registry_db(req, resp))) return;
    /* Load (and warm up) before the label moves. */
    if (fd_registry_pin(req->app->registry, db, req->params[0], version, &v, &err) ||
        fd_store_label_set(db, req->params[0], req->params[1], version, &err)) {
        fd_response_from_error(resp, &err);
    } else {
        fd_response_json(resp, 200, json_pack("{s:s,s:s,s:i}", "model", req->params[0], "label",
                                              req->params[1], "version", version));
    }
    fd_registry_unpin(v);
    fd_app_db_release(req->app, db);
}

static void handle_delete(fd_request *req, fd_response *resp) {
    fd_error err;
    fd_db *db = fd_app_db_acquire(req->app, &err);
    if (!db) {
        fd_response_from_error(resp, &err);
        return;
    }
    if (fd_store_label_delete(db, req->params[0], req->params[1], &err))
        fd_response_from_error(resp, &err);
    else
        fd_response_json(resp, 200, json_pack("{s:s,s:s,s:b}", "model", req->params[0], "label",
                                              req->params[1], "deleted", 1));
    fd_app_db_release(req->app, db);
}

/* ?force=1 retires a labelled version and removes its labels (409 "version_labelled"
 * otherwise). */
static void handle_retire(fd_request *req, fd_response *resp) {
    fd_error err;
    fd_db *db;
    char *end;
    int force;
    long version = strtol(req->params[1], &end, 10);
    if (*end || version < 1 || version > 1000000000) {
        fd_response_error(resp, 400, "bad_version", "version \"%s\" is not a positive integer",
                          req->params[1]);
        return;
    }
    if (fd_request_flag(req, "force", &force, &err) != 0) {
        fd_response_from_error(resp, &err);
        return;
    }
    if (!(db = registry_db(req, resp))) return;
    if (fd_registry_retire(req->app->registry, db, req->params[0], (int)version, force, &err))
        fd_response_from_error(resp, &err);
    else
        fd_response_json(resp, 200, json_pack("{s:s,s:i,s:s}", "model", req->params[0], "version",
                                              (int)version, "state", "retired"));
    fd_app_db_release(req->app, db);
}

const fd_route fd_routes_labels[] = {
    {"GET", "/v1/models/{model}/labels", handle_list, 0},
    {"PUT", "/v1/models/{model}/labels/{label}", handle_put, 0},
    {"DELETE", "/v1/models/{model}/labels/{label}", handle_delete, 0},
    {"POST", "/v1/models/{model}/versions/{version}/retire", handle_retire, 0},
    {NULL, NULL, NULL, 0},
};
