/* Helpers shared by the handlers that score with a pinned model version (h_score.c,
 * h_evaluation.c): the version addressed by ?version= (or ?label=; default latest), pinned
 * for the request's life together with a pooled store connection. Worker threads only. */
#ifndef FACTORD_HTTP_SERVING_H
#define FACTORD_HTTP_SERVING_H

#include "factord/http.h"
#include "factord/registry.h"
#include "factord/store.h"

typedef struct serving {
    fd_db *db;
    fd_version *v;
} serving;

/* Acquires a connection and pins the version of model req->params[0]. */
int serving_open(fd_request *req, serving *s, fd_error *err);
void serving_close(fd_request *req, serving *s);
/* The query parameter `name` as a validated YYYY-MM (400 when absent or malformed). */
const char *month_param(fd_request *req, const char *name, fd_error *err);

#endif
