/* Jobs: GET /v1/jobs[?state=&model=&limit=], GET /v1/jobs/{id} (state, progress, losses,
 * timestamps, error, result) and DELETE /v1/jobs/{id} (cancel). Reads come straight from the
 * jobs table; a cancel also flags the running job in this process's manager. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "factord/app.h"
#include "factord/http.h"
#include "factord/jobs.h"
#include "factord/store_models.h"

static int parse_id(const char *text, int64_t *id, fd_error *err) {
    char *end;
    long long v;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno || *end || end == text || v < 1)
        return fd_error_set(err, 400, "bad_job_id", "job id \"%s\": expected a positive integer",
                            text);
    *id = v;
    return 0;
}

static void jobs_list(fd_request *req, fd_response *resp) {
    const char *limit_text = fd_request_query(req, "limit");
    int limit = limit_text ? atoi(limit_text) : 100;
    json_t *list;
    fd_error err;
    fd_db *db;
    if (limit < 1 || limit > 10000) {
        fd_response_error(resp, 400, "bad_limit", "limit: expected an integer from 1 to 10000");
        return;
    }
    if (!(db = fd_app_db_acquire(req->app, &err))) {
        fd_response_from_error(resp, &err);
        return;
    }
    if (fd_store_job_list(db, fd_request_query(req, "state"), fd_request_query(req, "model"),
                          limit, &list, &err) != 0)
        fd_response_from_error(resp, &err);
    else
        fd_response_json(resp, 200, json_pack("{s:o}", "jobs", list));
    fd_app_db_release(req->app, db);
}

/* The {id} of the path and a pooled connection, or NULL with resp answered (400, 503). */
static fd_db *job_request(fd_request *req, fd_response *resp, int64_t *id) {
    fd_error err;
    fd_db *db = NULL;
    if (parse_id(req->params[0], id, &err) != 0 || !(db = fd_app_db_acquire(req->app, &err)))
        fd_response_from_error(resp, &err);
    return db;
}

static void jobs_get(fd_request *req, fd_response *resp) {
    json_t *job;
    fd_error err;
    int64_t id;
    fd_db *db = job_request(req, resp, &id);
    if (!db) return;
    if (fd_store_job_get(db, id, &job, &err) != 0) fd_response_from_error(resp, &err);
    else fd_response_json(resp, 200, json_pack("{s:o}", "job", job));
    fd_app_db_release(req->app, db);
}

/* A queued job ends at once (200, state "cancelled"); a running one is told to stop and
 * answers 202 with cancel_requested, to be polled until its state turns "cancelled". */
static void jobs_cancel(fd_request *req, fd_response *resp) {
    json_t *job;
    fd_error err;
    int64_t id;
    fd_db *db = job_request(req, resp, &id);
    if (!db) return;
    if (fd_jobs_cancel(req->app->jobs, db, id, &job, &err) != 0) {
        fd_response_from_error(resp, &err);
    } else {
        const char *state = json_string_value(json_object_get(job, "state"));
        int done = state && strcmp(state, "cancelled") == 0;
        fd_response_json(resp, done ? 200 : 202, json_pack("{s:o}", "job", job));
    }
    fd_app_db_release(req->app, db);
}

const fd_route fd_routes_jobs[] = {
    {"GET", "/v1/jobs", jobs_list, 0},
    {"GET", "/v1/jobs/{id}", jobs_get, 0},
    {"DELETE", "/v1/jobs/{id}", jobs_cancel, 0},
    {NULL, NULL, NULL, 0},
};
