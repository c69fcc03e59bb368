/* The model layer's side of stored versions: the store keeps a version's spec and weight
 * bytes (factord/store_models.h); only the model layer turns them back into a model. */
#ifndef FACTORD_MODEL_STORE_H
#define FACTORD_MODEL_STORE_H

#include "factord/model.h"
#include "factord/store.h"

/* Rebuilds the fitted model of model/version: the ops of the stored kind, ->load(hyper, P,
 * K, weights). 404 "no_version"; 500 "bad_version" for an unusable spec. The caller
 * destroys *out with fd_model_destroy. Any thread, with the caller's connection. */
int fd_model_load_version(fd_db *db, const char *model, int version, fd_model **out,
                          fd_error *err);
/* The same from a version spec (kind, k, P, hyper, observed, macro) and its weight bytes;
 * 500 "bad_version" for an unusable spec, the kind's own error for bad bytes. */
int fd_model_load_spec(const json_t *spec, const void *blob, size_t len, fd_model **out,
                       fd_error *err);

#endif
