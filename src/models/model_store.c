/* Rebuilding a stored version's model (see include/factord/model_store.h). */
#include "factord/model_store.h"

#include <stdlib.h>

#include "factord/store_models.h"

int fd_model_load_spec(const json_t *spec, const void *blob, size_t len, fd_model **out,
                       fd_error *err) {
    const fd_model_ops *ops = fd_model_kind(json_string_value(json_object_get(spec, "kind")));
    json_int_t P = json_integer_value(json_object_get(spec, "P"));
    json_int_t K = json_integer_value(json_object_get(spec, "k"));
    fd_model_dims dims;
    *out = NULL;
    if (!ops || P < 1 || K < 1)
        return fd_error_set(err, 500, "bad_version", "unusable spec (kind %s, P %lld, k %lld)",
                            ops ? ops->kind : "unknown", (long long)P, (long long)K);
    dims = (fd_model_dims){(size_t)P, (size_t)K, json_array_size(json_object_get(spec, "observed")),
                           json_array_size(json_object_get(spec, "macro"))};
    return ops->load(&dims, json_object_get(spec, "hyper"), blob, len, out, err);
}

int fd_model_load_version(fd_db *db, const char *model, int version, fd_model **out,
                          fd_error *err) {
    json_t *v = NULL;
    void *blob = NULL;
    size_t len = 0;
    int rc = -1;
    *out = NULL;
    if (fd_store_version_get(db, model, version, &v, err) != 0) return -1;
    if (fd_store_version_weights(db, model, version, &blob, &len, err) == 0)
        rc = fd_model_load_spec(json_object_get(v, "spec"), blob, len, out, err);
    if (rc != 0) fd_error_prefix(err, "loading %s version %d", model, version);
    free(blob);
    json_decref(v);
    return rc;
}
