/* Version artifacts (include/factord/artifact.h; format in docs/artifacts.md). */
#include "factord/artifact.h"

#include <math.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "factord/json_write.h"
#include "factord/metrics.h"
#include "factord/model.h"
#include "factord/model_store.h"
#include "factord/store_models.h"
#include "factord/tokens.h"
#include "factord/train.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "artifacts store little-endian numbers; this writer assumes a little-endian host"
#endif

#define MAGIC_LEN 8
#define PREFIX_LEN 16 /* magic, format_version, header_len */
#define DIGEST_LEN crypto_hash_sha256_BYTES
#define HEADER_MAX ((size_t)64 << 20)

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void utc_now(char out[32]) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void hex_digest(const unsigned char *d, char out[2 * DIGEST_LEN + 1]) {
    sodium_bin2hex(out, 2 * DIGEST_LEN + 1, d, DIGEST_LEN);
}

/* ---- export ---- */

/* The model declaration as the artifact carries it (what POST /v1/models takes). */
static json_t *model_decl(const json_t *m) {
    static const char *const keys[] = {"name",    "kind",         "k",        "hyper", "columns",
                                       "excess_returns", "add_constant", "observed", "macro"};
    json_t *d = json_object();
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(m, keys[i]);
        if (v) json_object_set(d, keys[i], v);
    }
    return d;
}

static json_t *version_part(const json_t *v) {
    return json_pack("{s:O,s:O,s:O,s:O,s:O,s:O,s:O}", "number", json_object_get(v, "version"),
                     "spec", json_object_get(v, "spec"), "train", json_object_get(v, "train"),
                     "valid", json_object_get(v, "valid"), "fit_stats",
                     json_object_get(v, "fit_stats"), "created_at",
                     json_object_get(v, "created_at"), "origin", json_object_get(v, "origin"));
}

int fd_artifact_export(fd_db *db, const char *model, int version, void **out, size_t *len,
                       fd_error *err) {
    json_t *m = NULL, *v = NULL, *header = NULL, *months_json;
    void *blob = NULL;
    double *F = NULL;
    char (*months)[FD_MONTH_LEN] = NULL;
    size_t blob_len = 0, T = 0, K = 0, flen, total;
    char *header_text = NULL, now[32];
    unsigned char *buf = NULL;
    int rc = -1;
    *out = NULL;
    *len = 0;
    if (fd_crypto_init(err) || fd_store_model_get(db, model, &m, err) ||
        fd_store_version_get(db, model, version, &v, err))
        goto done;
    if (strcmp(json_string_value(json_object_get(v, "state")), "ready") != 0) {
        fd_error_set(err, 409, "version_not_ready", "version %d of %s is %s, not ready", version,
                     model, json_string_value(json_object_get(v, "state")));
        goto done;
    }
    if (fd_store_version_weights(db, model, version, &blob, &blob_len, err) ||
        fd_store_version_factors(db, model, version, &F, &T, &K, &months, err))
        goto done;
    flen = T * K * sizeof(double);
    months_json = json_array();
    for (size_t t = 0; t < T; t++) json_array_append_new(months_json, json_string(months[t]));
    utc_now(now);
    header = json_pack("{s:s,s:i,s:s,s:{s:s,s:s},s:o,s:o,s:[{s:s,s:I,s:I,s:s},"
                       "{s:s,s:I,s:I,s:s,s:[I,I],s:o}]}",
                       "format", "factord-version-artifact", "format_version",
                       FD_ARTIFACT_FORMAT_VERSION, "exported_at", now, "factord", "version",
                       fd_build_version(), "commit", fd_build_commit(), "model", model_decl(m),
                       "version", version_part(v), "sections", "name", "weights", "offset",
                       (json_int_t)0, "length", (json_int_t)blob_len, "encoding", "model",
                       "name", "factors", "offset", (json_int_t)blob_len, "length",
                       (json_int_t)flen, "dtype", "f64le", "shape", (json_int_t)T,
                       (json_int_t)K, "months", months_json);
    header_text = header ? fd_json_dumps(header, JSON_COMPACT) : NULL;
    if (!header_text) {
        fd_error_set(err, 500, "out_of_memory", "artifact header");
        goto done;
    }
    total = PREFIX_LEN + strlen(header_text) + blob_len + flen + DIGEST_LEN;
    if (!(buf = malloc(total))) {
        fd_error_set(err, 500, "out_of_memory", "artifact of %zu bytes", total);
        goto done;
    }
    memcpy(buf, FD_ARTIFACT_MAGIC, MAGIC_LEN);
    put_u32(buf + 8, FD_ARTIFACT_FORMAT_VERSION);
    put_u32(buf + 12, (uint32_t)strlen(header_text));
    memcpy(buf + PREFIX_LEN, header_text, strlen(header_text));
    if (blob_len) memcpy(buf + PREFIX_LEN + strlen(header_text), blob, blob_len);
    if (flen) memcpy(buf + PREFIX_LEN + strlen(header_text) + blob_len, F, flen);
    crypto_hash_sha256(buf + total - DIGEST_LEN, buf, total - DIGEST_LEN);
    *out = buf;
    *len = total;
    buf = NULL;
    rc = 0;
done:
    free(buf);
    free(header_text);
    json_decref(header);
    json_decref(m);
    json_decref(v);
    free(blob);
    free(F);
    free(months);
    return rc;
}

/* ---- reading ---- */

typedef struct parsed {
    json_t *header;
    const unsigned char *payload; /* start of the sections */
    size_t payload_len;
    const unsigned char *weights;
    size_t weights_len;
    const double *factors; /* unaligned in the buffer: copied by the caller */
    size_t T, K;
    const json_t *months; /* (T) month keys of the factor rows, inside header */
    char digest[2 * DIGEST_LEN + 1];
} parsed;

static int bad(fd_error *err, const char *what) {
    return fd_error_set(err, 422, "bad_artifact", "not a valid factord artifact: %s", what);
}

/* The section `name` within the payload: *at and *length, checked against its bounds. */
static int section(const json_t *header, const char *name, size_t payload_len, size_t *at,
                   size_t *length, json_t **obj, fd_error *err) {
    size_t i;
    json_t *s;
    char what[96];
    json_array_foreach(json_object_get(header, "sections"), i, s) {
        json_int_t off = json_integer_value(json_object_get(s, "offset"));
        json_int_t n = json_integer_value(json_object_get(s, "length"));
        if (strcmp(json_string_value(json_object_get(s, "name")) ?: "", name) != 0) continue;
        if (!json_is_integer(json_object_get(s, "offset")) ||
            !json_is_integer(json_object_get(s, "length")) || off < 0 || n < 0 ||
            (size_t)off > payload_len || (size_t)n > payload_len - (size_t)off) {
            snprintf(what, sizeof what, "section %s lies outside the file", name);
            return bad(err, what);
        }
        *at = (size_t)off;
        *length = (size_t)n;
        if (obj) *obj = s;
        return 0;
    }
    snprintf(what, sizeof what, "the header lists no %s section", name);
    return bad(err, what);
}

static int check_month(const json_t *v) {
    int y, m;
    const char *s = json_string_value(v);
    return s && strlen(s) == FD_MONTH_LEN - 1 && fd_month_parse(s, &y, &m, NULL) == 0;
}

static int check_header(const json_t *h, const parsed *p, fd_error *err) {
    const json_t *model = json_object_get(h, "model"), *ver = json_object_get(h, "version");
    const json_t *spec = json_object_get(ver, "spec"), *train = json_object_get(ver, "train");
    const char *kind = json_string_value(json_object_get(model, "kind"));
    json_int_t k = json_integer_value(json_object_get(model, "k"));
    if (!json_is_object(model) || !json_is_object(ver) || !json_is_object(spec))
        return bad(err, "the header needs model, version and version.spec objects");
    if (!kind || !fd_model_kind(kind)) return bad(err, "model.kind is not a kind this build has");
    if (!fd_model_name_valid(json_string_value(json_object_get(model, "name"))))
        return bad(err, "model.name is not a model name");
    if (k < 1 || strcmp(json_string_value(json_object_get(spec, "kind")) ?: "", kind) != 0 ||
        json_integer_value(json_object_get(spec, "k")) != k)
        return bad(err, "version.spec does not match model.kind and model.k");
    if (!json_is_object(train) || !check_month(json_object_get(train, "from")) ||
        !check_month(json_object_get(train, "to")))
        return bad(err, "version.train needs from and to months");
    if (!json_is_null(json_object_get(ver, "valid")) &&
        (!check_month(json_object_get(json_object_get(ver, "valid"), "from")) ||
         !check_month(json_object_get(json_object_get(ver, "valid"), "to"))))
        return bad(err, "version.valid must be null or hold from and to months");
    if ((size_t)k != p->K) return bad(err, "the factors section's K differs from model.k");
    return 0;
}

static int parse(const void *data, size_t len, parsed *p, fd_error *err) {
    const unsigned char *b = data;
    unsigned char digest[DIGEST_LEN];
    uint32_t format, hlen;
    size_t wat, wlen, fat, flen, i;
    json_t *fsec = NULL, *shape, *months, *mo;
    json_error_t je;
    memset(p, 0, sizeof *p);
    if (len < MAGIC_LEN || memcmp(b, FD_ARTIFACT_MAGIC, MAGIC_LEN) != 0)
        return fd_error_set(err, 415, "not_an_artifact",
                            "the body does not start with the factord artifact magic");
    if (len < PREFIX_LEN + DIGEST_LEN) return bad(err, "truncated before its header");
    format = get_u32(b + 8);
    if (format != FD_ARTIFACT_FORMAT_VERSION)
        return fd_error_set(err, 422, "unsupported_artifact",
                            "artifact format version %u; this build reads version %d", format,
                            FD_ARTIFACT_FORMAT_VERSION);
    hlen = get_u32(b + 12);
    if (hlen == 0 || hlen > HEADER_MAX || hlen > len - PREFIX_LEN - DIGEST_LEN)
        return bad(err, "the header length runs past the end of the file (truncated?)");
    if (fd_crypto_init(err)) return -1;
    crypto_hash_sha256(digest, b, len - DIGEST_LEN);
    if (sodium_memcmp(digest, b + len - DIGEST_LEN, DIGEST_LEN) != 0)
        return bad(err, "SHA-256 checksum mismatch (the file was changed or cut short)");
    hex_digest(digest, p->digest);
    if (!(p->header = json_loadb((const char *)b + PREFIX_LEN, hlen, 0, &je)) ||
        !json_is_object(p->header)) {
        json_decref(p->header);
        p->header = NULL;
        return bad(err, "the header is not a JSON object");
    }
    p->payload = b + PREFIX_LEN + hlen;
    p->payload_len = len - PREFIX_LEN - hlen - DIGEST_LEN;
    if (section(p->header, "weights", p->payload_len, &wat, &wlen, NULL, err) ||
        section(p->header, "factors", p->payload_len, &fat, &flen, &fsec, err))
        goto fail;
    shape = json_object_get(fsec, "shape");
    months = json_object_get(fsec, "months");
    if (strcmp(json_string_value(json_object_get(fsec, "dtype")) ?: "", "f64le") != 0 ||
        json_array_size(shape) != 2 || json_integer_value(json_array_get(shape, 0)) < 0 ||
        json_integer_value(json_array_get(shape, 1)) < 1) {
        bad(err, "the factors section needs dtype f64le and a shape [T, K]");
        goto fail;
    }
    p->T = (size_t)json_integer_value(json_array_get(shape, 0));
    p->K = (size_t)json_integer_value(json_array_get(shape, 1));
    if (p->T > flen / sizeof(double) || flen != p->T * p->K * sizeof(double) ||
        json_array_size(months) != p->T) {
        bad(err, "the factors section's length, shape and months disagree");
        goto fail;
    }
    json_array_foreach(months, i, mo) {
        if (!check_month(mo) ||
            (i > 0 && strcmp(json_string_value(mo),
                             json_string_value(json_array_get(months, i - 1))) <= 0)) {
            bad(err, "factor months must be ascending YYYY-MM keys");
            goto fail;
        }
    }
    p->months = months;
    p->weights = p->payload + wat;
    p->weights_len = wlen;
    p->factors = (const double *)(const void *)(p->payload + fat);
    if (check_header(p->header, p, err)) goto fail;
    return 0;
fail:
    json_decref(p->header);
    p->header = NULL;
    return -1;
}

int fd_artifact_inspect(const void *data, size_t len, json_t **header, fd_error *err) {
    parsed p;
    if (parse(data, len, &p, err)) return -1;
    json_object_set_new(p.header, "sha256", json_string(p.digest));
    *header = p.header;
    return 0;
}

/* ---- import ---- */

/* The existing model must be of the artifact's kind and k; a missing one is declared. Sets
 * *created when it declared it. */
static int target_model(fd_db *db, const char *name, const json_t *decl, int *created,
                        fd_error *err) {
    json_t *m = NULL, *spec;
    const char *kind = json_string_value(json_object_get(decl, "kind"));
    json_int_t k = json_integer_value(json_object_get(decl, "k"));
    fd_error e;
    int rc;
    *created = 0;
    if (fd_store_model_get(db, name, &m, &e) == 0) {
        rc = strcmp(json_string_value(json_object_get(m, "kind")), kind) == 0 &&
                     json_integer_value(json_object_get(m, "k")) == k
                 ? 0
                 : fd_error_set(err, 409, "model_mismatch",
                                "model %s is %s with k = %lld; the artifact holds %s with k = %lld",
                                name, json_string_value(json_object_get(m, "kind")),
                                (long long)json_integer_value(json_object_get(m, "k")), kind,
                                (long long)k);
        json_decref(m);
        return rc;
    }
    if (e.status != 404) {
        if (err) *err = e;
        return -1;
    }
    spec = json_pack("{s:O,s:O,s:O,s:O,s:O,s:O}", "hyper", json_object_get(decl, "hyper"),
                     "columns", json_object_get(decl, "columns"), "excess_returns",
                     json_object_get(decl, "excess_returns"), "add_constant",
                     json_object_get(decl, "add_constant"), "observed",
                     json_object_get(decl, "observed"), "macro", json_object_get(decl, "macro"));
    if (!spec) return bad(err, "the model declaration lacks hyper, columns or flags");
    rc = fd_store_model_create(db, name, kind, (size_t)k, spec, NULL, err);
    json_decref(spec);
    if (rc == 0) *created = 1;
    return rc;
}

int fd_artifact_import(fd_db *db, const char *model, const void *data, size_t len,
                       int *version, fd_error *err) {
    parsed p;
    fd_model *m = NULL;
    json_t *ver, *origin = NULL, *decl;
    double *F = NULL;
    char (*months)[FD_MONTH_LEN] = NULL, now[32];
    int created = 0, rc = -1;
    if (parse(data, len, &p, err)) return -1;
    decl = json_object_get(p.header, "model");
    ver = json_object_get(p.header, "version");
    if (!model) model = json_string_value(json_object_get(decl, "name"));
    if (!fd_model_name_valid(model)) {
        fd_error_set(err, 400, "bad_model", "\"%.70s\" is not a model name", model);
        goto done;
    }
    /* The weights must make a model before anything is written. */
    if (fd_model_load_spec(json_object_get(ver, "spec"), p.weights, p.weights_len, &m, err)) {
        fd_error e = *err;
        fd_error_set(err, 422, "bad_artifact", "the weights do not load: %s", e.message);
        goto done;
    }
    F = malloc((p.T * p.K > 0 ? p.T * p.K : 1) * sizeof *F);
    months = calloc(p.T ? p.T : 1, sizeof *months);
    if (!F || !months) {
        fd_error_set(err, 500, "out_of_memory", "artifact factors");
        goto done;
    }
    memcpy(F, p.factors, p.T * p.K * sizeof *F);
    for (size_t t = 0; t < p.T; t++)
        snprintf(months[t], FD_MONTH_LEN, "%s", json_string_value(json_array_get(p.months, t)));
    utc_now(now);
    origin = json_pack("{s:s,s:O,s:O,s:s}", "sha256", p.digest, "source_model",
                       json_object_get(decl, "name"), "source_version",
                       json_object_get(ver, "number"), "imported_at", now);
    if (target_model(db, model, decl, &created, err)) goto done;
    {
        const json_t *valid = json_object_get(ver, "valid");
        fd_version_write vw = {
            .model = model, .spec = json_object_get(ver, "spec"),
            .train_from = json_string_value(json_object_get(json_object_get(ver, "train"), "from")),
            .train_to = json_string_value(json_object_get(json_object_get(ver, "train"), "to")),
            .valid_from = json_string_value(json_object_get(valid, "from")),
            .valid_to = json_string_value(json_object_get(valid, "to")),
            .fit_stats = json_is_null(json_object_get(ver, "fit_stats"))
                             ? NULL
                             : json_object_get(ver, "fit_stats"),
            .weights = p.weights, .weights_len = p.weights_len, .factors = F, .T = p.T,
            .K = p.K, .months = (const char (*)[FD_MONTH_LEN])months, .origin = origin};
        if (fd_db_begin(db, err) == 0) {
            if (fd_store_version_insert_tx(db, &vw, version, err) == 0)
                rc = fd_db_commit(db, err);
            else
                fd_db_rollback(db);
        }
    }
    if (rc != 0 && created) fd_store_model_delete(db, model, 1, NULL);
done:
    fd_model_destroy(m);
    json_decref(origin);
    json_decref(p.header);
    free(F);
    free(months);
    return rc;
}
