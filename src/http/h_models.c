/* Models and their versions: declare (POST /v1/models), list, show, delete, train
 * (POST /v1/models/{m}/train -> 202 + a job) and the trained versions. Every handler runs on
 * a worker thread with its own pooled connection; training itself runs on the job manager's
 * threads (src/jobs), never here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/app.h"
#include "factord/artifact.h"
#include "factord/http.h"
#include "factord/jobs.h"
#include "factord/registry.h"
#include "factord/store_models.h"
#include "factord/train.h"

/* The request body as JSON (400 "bad_json" naming line and column; 415 for a declared
 * non-JSON content type). */
static int body_json(const fd_request *req, json_t **out, fd_error *err) {
    json_error_t jerr;
    char type[64];
    *out = NULL;
    fd_request_content_type(req, type, sizeof type);
    if (type[0] && strcmp(type, "application/json") != 0)
        return fd_error_set(err, 415, "unsupported_media_type",
                            "Content-Type %s: expected application/json", type);
    if (!req->body || req->body_len == 0)
        return fd_error_set(err, 400, "bad_json", "empty body: expected a JSON object");
    *out = json_loadb(req->body, req->body_len, 0, &jerr);
    if (!*out)
        return fd_error_set(err, 400, "bad_json", "line %d, column %d: %s", jerr.line,
                            jerr.column, jerr.text);
    return 0;
}

/* Acquires a connection or answers 503; returns NULL in that case. */
static fd_db *db_or_503(fd_request *req, fd_response *resp) {
    fd_error err;
    fd_db *db = fd_app_db_acquire(req->app, &err);
    if (!db) fd_response_from_error(resp, &err);
    return db;
}

static void answer(fd_response *resp, int status, const char *key, json_t *value) {
    fd_response_json(resp, status, json_pack("{s:o}", key, value));
}

static void models_create(fd_request *req, fd_response *resp) {
    char name[FD_MODEL_NAME_MAX + 1];
    const char *kind;
    json_t *body = NULL, *spec = NULL, *model = NULL;
    fd_error err;
    size_t k;
    fd_db *db;
    if (body_json(req, &body, &err) != 0 ||
        fd_model_decl_parse(body, name, &kind, &k, &spec, &err) != 0) {
        json_decref(body);
        fd_response_from_error(resp, &err);
        return;
    }
    json_decref(body);
    if (!(db = db_or_503(req, resp))) {
        json_decref(spec);
        return;
    }
    if (fd_store_model_create(db, name, kind, k, spec, &model, &err) != 0) {
        fd_response_from_error(resp, &err);
    } else {
        answer(resp, 201, "model", model);
        snprintf(resp->location, sizeof resp->location, "/v1/models/%s", name);
    }
    fd_app_db_release(req->app, db);
    json_decref(spec);
}

static void models_list(fd_request *req, fd_response *resp) {
    json_t *list;
    fd_error err;
    fd_db *db = db_or_503(req, resp);
    if (!db) return;
    if (fd_store_model_list(db, &list, &err) != 0) fd_response_from_error(resp, &err);
    else answer(resp, 200, "models", list);
    fd_app_db_release(req->app, db);
}

static void models_get(fd_request *req, fd_response *resp) {
    json_t *model;
    fd_error err;
    fd_db *db = db_or_503(req, resp);
    if (!db) return;
    if (fd_store_model_get(db, req->params[0], &model, &err) != 0)
        fd_response_from_error(resp, &err);
    else answer(resp, 200, "model", model);
    fd_app_db_release(req->app, db);
}

/* ?force=1 deletes a model whose versions carry labels (409 "model_labelled" otherwise). */
static void models_delete(fd_request *req, fd_response *resp) {
    fd_error err;
    fd_db *db;
    int force;
    if (fd_request_flag(req, "force", &force, &err) != 0) {
        fd_response_from_error(resp, &err);
        return;
    }
    if (!(db = db_or_503(req, resp))) return;
    if (fd_store_model_delete(db, req->params[0], force, &err) != 0) {
        fd_response_from_error(resp, &err);
    } else {
        /* A model declared again under this name must never be served the old weights. */
        if (req->app->registry) fd_registry_forget_model(req->app->registry, req->params[0]);
        answer(resp, 200, "deleted", json_pack("{s:s}", "model", req->params[0]));
    }
    fd_app_db_release(req->app, db);
}

static void models_train(fd_request *req, fd_response *resp) {
    fd_train_windows w;
    json_t *body = NULL, *model = NULL, *params = NULL, *job = NULL;
    fd_error err;
    fd_db *db;
    if (body_json(req, &body, &err) != 0 || fd_train_windows_parse(body, &w, &err) != 0) {
        json_decref(body);
        fd_response_from_error(resp, &err);
        return;
    }
    json_decref(body);
    if (!(db = db_or_503(req, resp))) return;
    params = fd_train_windows_json(&w);
    if (fd_store_model_get(db, req->params[0], &model, &err) != 0 ||
        fd_train_windows_check(db, &w, &err) != 0 ||
        fd_jobs_submit(req->app->jobs, db, "train", req->params[0], params, &job, &err) != 0) {
        fd_response_from_error(resp, &err);
    } else {
        snprintf(resp->location, sizeof resp->location, "/v1/jobs/%lld",
                 (long long)json_integer_value(json_object_get(job, "id")));
        answer(resp, 202, "job", job);
    }
    fd_app_db_release(req->app, db);
    json_decref(model);
    json_decref(params);
}

/* Overlays what the serving registry knows: a stored 'ready' version may be "loading" or
 * "failed" (with load_error) in memory; "loaded" says whether it is in memory. */
static void overlay_state(fd_request *req, json_t *version) {
    char error[512];
    const char *state;
    int v = (int)json_integer_value(json_object_get(version, "version"));
    if (!req->app->registry) return;
    state = fd_registry_state(req->app->registry, req->params[0], v, error, sizeof error);
    json_object_set_new(version, "loaded", json_boolean(state && strcmp(state, "ready") == 0));
    if (state && strcmp(state, "ready") != 0) {
        json_object_set_new(version, "state", json_string(state));
        if (error[0]) json_object_set_new(version, "load_error", json_string(error));
    }
}

static void versions_list(fd_request *req, fd_response *resp) {
    json_t *list;
    fd_error err;
    fd_db *db = db_or_503(req, resp);
    if (!db) return;
    if (fd_store_version_list(db, req->params[0], &list, &err) != 0) {
        fd_response_from_error(resp, &err);
    } else {
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v) overlay_state(req, v);
        answer(resp, 200, "versions", list);
    }
    fd_app_db_release(req->app, db);
}

/* {v} is a version number, "latest" or a label. */
static void versions_get(fd_request *req, fd_response *resp) {
    json_t *version;
    fd_error err;
    int v;
    fd_db *db = db_or_503(req, resp);
    if (!db) return;
    if (fd_registry_resolve(db, req->params[0], req->params[1], &v, &err) != 0 ||
        fd_store_version_get(db, req->params[0], v, &version, &err) != 0)
        fd_response_from_error(resp, &err);
    else {
        overlay_state(req, version);
        answer(resp, 200, "version", version);
    }
    fd_app_db_release(req->app, db);
}

/* GET .../versions/{v}/artifact: the version as one file (artifact.h; {v} a number, label or
 * "latest"). */
static void versions_export(fd_request *req, fd_response *resp) {
    void *data = NULL;
    size_t len = 0;
    fd_error err;
    int v;
    char disposition[200];
    fd_db *db = db_or_503(req, resp);
    if (!db) return;
    if (fd_registry_resolve(db, req->params[0], req->params[1], &v, &err) ||
        fd_artifact_export(db, req->params[0], v, &data, &len, &err)) {
        fd_response_from_error(resp, &err);
    } else {
        fd_response_text(resp, 200, FD_ARTIFACT_MEDIA_TYPE, data, len);
        snprintf(disposition, sizeof disposition, "attachment; filename=\"%s-v%d.fdart\"",
                 req->params[0], v);
        fd_response_header(resp, "Content-Disposition", disposition);
        snprintf(resp->cache_control, sizeof resp->cache_control, "no-store");
    }
    fd_app_db_release(req->app, db);
}

/* POST .../versions: an artifact in the body becomes the model's next version (the model is
 * declared from the artifact when absent). 201 with the version and Location. */
static void versions_import(fd_request *req, fd_response *resp) {
    fd_error err;
    json_t *version = NULL;
    int v;
    fd_db *db;
    if (!req->body || req->body_len == 0) {
        fd_response_error(resp, 400, "empty_body", "send an artifact (GET .../artifact)");
        return;
    }
    if (!(db = db_or_503(req, resp))) return;
    if (fd_artifact_import(db, req->params[0], req->body, req->body_len, &v, &err) ||
        fd_store_version_get(db, req->params[0], v, &version, &err)) {
        fd_response_from_error(resp, &err);
    } else {
        answer(resp, 201, "version", version);
        snprintf(resp->location, sizeof resp->location, "/v1/models/%s/versions/%d",
                 req->params[0], v);
    }
    fd_app_db_release(req->app, db);
}

const fd_route fd_routes_models[] = {
    {"POST", "/v1/models", models_create, 0},
    {"GET", "/v1/models", models_list, 0},
    {"GET", "/v1/models/{model}", models_get, 0},
    {"DELETE", "/v1/models/{model}", models_delete, 0},
    {"POST", "/v1/models/{model}/train", models_train, 0},
    {"GET", "/v1/models/{model}/versions", versions_list, 0},
    {"GET", "/v1/models/{model}/versions/{version}", versions_get, 0},
    {"GET", "/v1/models/{model}/versions/{version}/artifact", versions_export, 0},
    {"POST", "/v1/models/{model}/versions", versions_import, 0},
    {NULL, NULL, NULL, 0},
};
