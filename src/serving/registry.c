#include "factord/model_store.h"
#include "factord/registry.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "factord/design_cache.h"
#include "factord/log.h"
#include "factord/store_labels.h"
#include "factord/store_models.h"

typedef enum { ENTRY_LOADING, ENTRY_READY, ENTRY_FAILED } entry_state;

typedef struct entry {
    char model[128];
    int version;
    entry_state state;
    fd_version *v;        /* when ready */
    char error[512];      /* when failed */
    struct entry *next;
} entry;

struct fd_registry {
    fd_design_cache *designs; /* stored months and their normalised designs */
    pthread_mutex_t mu;
    pthread_cond_t loaded;
    entry *entries;
};

static atomic_size_t live_versions;

int fd_registry_create(fd_registry **out, fd_error *err) {
    fd_registry *reg = calloc(1, sizeof *reg);
    if (!reg) return fd_error_set(err, 500, "out_of_memory", "model registry");
    if (fd_design_cache_create(FD_DESIGN_CACHE_MONTHS, &reg->designs, err)) {
        free(reg);
        return -1;
    }
    pthread_mutex_init(&reg->mu, NULL);
    pthread_cond_init(&reg->loaded, NULL);
    *out = reg;
    return 0;
}

static void version_free(fd_version *v) {
    if (!v) return;
    fd_model_destroy(v->m);
    fd_context_spec_free(&v->cs);
    json_decref(v->spec);
    for (size_t j = 0; v->columns && j < v->P; j++) free(v->columns[j]);
    free(v->columns);
    free(v->F);
    free(v->months);
    free(v->memo);
    pthread_mutex_destroy(&v->memo_mu);
    free(v);
    atomic_fetch_sub(&live_versions, 1);
}

void fd_registry_unpin(fd_version *v) {
    if (v && atomic_fetch_sub(&v->refs, 1) == 1) version_free(v);
}

void fd_registry_destroy(fd_registry *reg) {
    if (!reg) return;
    for (entry *e = reg->entries, *next; e; e = next) {
        next = e->next;
        fd_registry_unpin(e->v);
        free(e);
    }
    fd_design_cache_destroy(reg->designs);
    pthread_mutex_destroy(&reg->mu);
    pthread_cond_destroy(&reg->loaded);
    free(reg);
}

static int all_digits(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

int fd_registry_resolve(fd_db *db, const char *model, const char *ref, int *version,
                        fd_error *err) {
    json_t *m = NULL;
    if (fd_store_model_get(db, model, &m, err)) return -1;
    json_decref(m);
    if (!ref || !*ref || strcmp(ref, "latest") == 0)
        return fd_store_version_latest(db, model, version, err);
    if (all_digits(ref)) {
        long v = strtol(ref, NULL, 10);
        if (v < 1 || v > 1000000000)
            return fd_error_set(err, 400, "bad_version", "version \"%s\" is out of range", ref);
        *version = (int)v;
        return 0;
    }
    return fd_store_label_get(db, model, ref, version, err);
}

static entry *find(fd_registry *reg, const char *model, int version, entry ***link) {
    entry **pp = &reg->entries;
    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->version == version && strcmp((*pp)->model, model) == 0) break;
    }
    if (link) *link = pp;
    return *pp;
}

/* Reads the fit's columns and flags from the version's spec. */
static int version_columns(fd_version *v, fd_error *err) {
    json_t *cols = json_object_get(v->spec, "col_names");
    size_t i;
    json_t *c;
    if (!json_is_array(cols) || json_array_size(cols) != v->P)
        return fd_error_set(err, 500, "bad_spec",
                            "version %d of %s: spec lacks the %zu fitted column names",
                            v->version, v->model, v->P);
    v->columns = calloc(v->P, sizeof *v->columns);
    if (!v->columns) return fd_error_set(err, 500, "out_of_memory", "version columns");
    json_array_foreach(cols, i, c) {
        v->columns[i] = strdup(json_is_string(c) ? json_string_value(c) : "");
        if (!v->columns[i]) return fd_error_set(err, 500, "out_of_memory", "version columns");
    }
    v->add_constant = json_is_true(json_object_get(v->spec, "add_constant"));
    v->excess_returns = json_is_true(json_object_get(v->spec, "excess_returns"));
    return 0;
}

/* Loads and warms up a version (no registry lock held). */
static int version_load(fd_registry *reg, fd_db *db, const char *model, int version,
                        fd_version **out, fd_error *err) {
    fd_version *v = calloc(1, sizeof *v);
    json_t *row = NULL;
    const char *state;
    double *zero = NULL, *beta = NULL;
    size_t K = 0;
    if (!v) return fd_error_set(err, 500, "out_of_memory", "version");
    atomic_fetch_add(&live_versions, 1);
    atomic_init(&v->refs, 1);
    pthread_mutex_init(&v->memo_mu, NULL);
    snprintf(v->model, sizeof v->model, "%s", model);
    v->version = version;
    if (fd_store_version_get(db, model, version, &row, err)) goto fail;
    state = json_string_value(json_object_get(row, "state"));
    if (!state || strcmp(state, "ready") != 0) {
        fd_error_set(err, 409, "version_not_ready", "version %d of %s is %s", version, model,
                     state ? state : "unknown");
        goto fail;
    }
    v->spec = json_incref(json_object_get(row, "spec"));
    fd_lambda_windows_from_json(row, &v->windows);
    snprintf(v->train_to, sizeof v->train_to, "%s", v->windows.train_to);
    if (fd_model_load_version(db, model, version, &v->m, err)) goto fail;
    v->P = v->m->P;
    v->K = v->m->K;
    v->cache = reg->designs;
    if (version_columns(v, err) ||
        fd_context_spec_from_json(v->spec, v->m->history, &v->cs, err))
        goto fail;
    if (fd_store_version_factors(db, model, version, &v->F, &v->T0, &K, &v->months, err))
        goto fail;
    if (v->T0 && K != v->K) {
        fd_error_set(err, 500, "bad_version", "factor series has %zu columns, model K = %zu", K,
                     v->K);
        goto fail;
    }
    /* Warm-up score: one zero row (the cross-sectional median of every characteristic). */
    zero = calloc(v->P, sizeof *zero);
    beta = calloc(v->K, sizeof *beta);
    if (!zero || !beta) {
        fd_error_set(err, 500, "out_of_memory", "warm-up");
        goto fail;
    }
    {
        fd_period warm = {.n = 1, .P = v->P, .z = zero, .L = v->m->history};
        if (fd_model_betas(v->m, &warm, beta, NULL, err)) goto fail;
    }
    for (size_t k = 0; k < v->K; k++) {
        if (!isfinite(beta[k])) {
            fd_error_set(err, 422, "version_failed", "warm-up score of %s v%d is not finite",
                         model, version);
            goto fail;
        }
    }
    free(zero);
    free(beta);
    json_decref(row);
    *out = v;
    return 0;
fail:
    free(zero);
    free(beta);
    json_decref(row);
    version_free(v);
    return -1;
}

int fd_registry_pin(fd_registry *reg, fd_db *db, const char *model, int version,
                    fd_version **out, fd_error *err) {
    entry *e, **link;
    fd_version *v = NULL;
    fd_error lerr;
    int rc;
    pthread_mutex_lock(&reg->mu);
    while ((e = find(reg, model, version, NULL)) && e->state == ENTRY_LOADING)
        pthread_cond_wait(&reg->loaded, &reg->mu);
    if (e && e->state == ENTRY_READY) {
        atomic_fetch_add(&e->v->refs, 1);
        *out = e->v;
        pthread_mutex_unlock(&reg->mu);
        return 0;
    }
    if (e) { /* failed: answer with the recorded reason */
        fd_error_set(err, 422, "version_failed", "version %d of %s failed to load: %s", version,
                     model, e->error);
        pthread_mutex_unlock(&reg->mu);
        return -1;
    }
    e = calloc(1, sizeof *e);
    if (!e) {
        pthread_mutex_unlock(&reg->mu);
        return fd_error_set(err, 500, "out_of_memory", "registry entry");
    }
    snprintf(e->model, sizeof e->model, "%s", model);
    e->version = version;
    e->state = ENTRY_LOADING;
    e->next = reg->entries;
    reg->entries = e;
    pthread_mutex_unlock(&reg->mu);

    rc = version_load(reg, db, model, version, &v, &lerr);

    pthread_mutex_lock(&reg->mu);
    e = find(reg, model, version, &link);
    if (rc == 0) {
        e->state = ENTRY_READY;
        e->v = v;
        atomic_fetch_add(&v->refs, 1); /* the pin; the registry keeps the first reference */
        *out = v;
        fd_info("model %s version %d loaded (P=%zu, K=%zu)", model, version, v->P, v->K);
    } else if (lerr.status >= 500 || strcmp(lerr.code, "version_failed") == 0) {
        e->state = ENTRY_FAILED;
        snprintf(e->error, sizeof e->error, "%s", lerr.message);
        fd_warn("model %s version %d failed to load: %s", model, version, lerr.message);
        fd_error_set(err, 422, "version_failed", "version %d of %s failed to load: %s",
                     version, model, lerr.message);
    } else {
        /* Not a load failure (absent, not ready): forget the entry, pass the error on. */
        *link = e->next;
        free(e);
        if (err) *err = lerr;
    }
    pthread_cond_broadcast(&reg->loaded);
    pthread_mutex_unlock(&reg->mu);
    return rc;
}

int fd_registry_retire(fd_registry *reg, fd_db *db, const char *model, int version, int force,
                       fd_error *err) {
    entry *e, **link;
    if (fd_store_version_retire(db, model, version, force, err)) return -1;
    pthread_mutex_lock(&reg->mu);
    while ((e = find(reg, model, version, &link)) && e->state == ENTRY_LOADING)
        pthread_cond_wait(&reg->loaded, &reg->mu);
    if (e) {
        *link = e->next;
        fd_registry_unpin(e->v); /* freed now, or by the last request holding it */
        free(e);
    }
    pthread_mutex_unlock(&reg->mu);
    return 0;
}

void fd_registry_forget_model(fd_registry *reg, const char *model) {
    entry **pp;
    pthread_mutex_lock(&reg->mu);
    for (pp = &reg->entries; *pp;) {
        entry *e = *pp;
        if (strcmp(e->model, model) != 0) {
            pp = &e->next;
        } else if (e->state == ENTRY_LOADING) {
            /* Let the load finish, then walk the list again (it may have changed). */
            pthread_cond_wait(&reg->loaded, &reg->mu);
            pp = &reg->entries;
        } else {
            *pp = e->next;
            fd_registry_unpin(e->v);
            free(e);
        }
    }
    pthread_mutex_unlock(&reg->mu);
}

const char *fd_registry_state(fd_registry *reg, const char *model, int version, char *error,
                              size_t cap) {
    const char *state = NULL;
    entry *e;
    pthread_mutex_lock(&reg->mu);
    e = find(reg, model, version, NULL);
    if (e) {
        state = e->state == ENTRY_LOADING ? "loading" : e->state == ENTRY_READY ? "ready" : "failed";
        if (error && cap) snprintf(error, cap, "%s", e->state == ENTRY_FAILED ? e->error : "");
    }
    pthread_mutex_unlock(&reg->mu);
    return state;
}

fd_design_cache *fd_registry_designs(fd_registry *reg) { return reg->designs; }

void fd_registry_counts(fd_registry *reg, size_t *loaded, size_t *live) {
    size_t n = 0;
    pthread_mutex_lock(&reg->mu);
    for (entry *e = reg->entries; e; e = e->next) n += e->state == ENTRY_READY;
    pthread_mutex_unlock(&reg->mu);
    if (loaded) *loaded = n;
    if (live) *live = atomic_load(&live_versions);
}
