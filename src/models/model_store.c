/* Rebuilding a stored version's model (see include/factord/model_store.h). */
#include "factord/model_store.h"

#include <stdlib.h>

#include "factord/store_models.h"

int fd_model_load_version(fd_db *db, const char *model, int version, fd_model **out,
                          fd_error *err) {
    json_t *v = NULL, *spec;
    const fd_model_ops *ops;
    void *blob = NULL;
    size_t len = 0;
    json_int_t P, K;
    int rc = -1;
    *out = NULL;
    if (fd_store_version_get(db, model, version, &v, err) != 0) return -1;
    spec = json_object_get(v, "spec");
    ops = fd_model_kind(json_string_value(json_object_get(spec, "kind")));
    P = json_integer_value(json_object_get(spec, "P"));
    K = json_integer_value(json_object_get(spec, "k"));
    if (!ops || P < 1 || K < 1) {
        fd_error_set(err, 500, "bad_version", "%s version %d: unusable spec (kind %s)", model,
                     version, ops ? ops->kind : "unknown");
        goto out;
    }
    if (fd_store_version_weights(db, model, version, &blob, &len, err) != 0) goto out;
    {
        fd_model_dims dims = {(size_t)P, (size_t)K, json_array_size(json_object_get(spec, "observed")),
                              json_array_size(json_object_get(spec, "macro"))};
        rc = ops->load(&dims, json_object_get(spec, "hyper"), blob, len, out, err);
    }
    if (rc != 0) fd_error_prefix(err, "loading %s version %d", model, version);
out:
    free(blob);
    json_decref(v);
    return rc;
}
