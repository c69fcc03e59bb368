/* The models store and a training run end to end on a small simulated panel: declaring
 * models, versions written by fd_train_run, the weight blob round trip (what is loaded saves
 * back to the stored bytes), factor series, window checks and cancellation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "factord/model_store.h"
#include "factord/store_data.h"
#include "factord/store_models.h"
#include "factord/train.h"
#include "testlib.h"

#define N_SEC 60
#define N_CHAR 4

static unsigned long long lcg_state = 12345;
static double uniform(void) {
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg_state >> 11) / 9007199254740992.0;
}
static double normal(void) {
    double u = uniform() + 1e-12, v = uniform();
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* Stores months first..first+n-1: r = z_{t-1}' Gamma f_t + noise with persistent z. */
static int put_panels(fd_db *db, const char *first, int n) {
    static const double gamma[N_CHAR][2] = {{1, 0}, {0, 1}, {0.5, 0.5}, {0, 0}};
    static double z_prev[N_SEC][N_CHAR];
    for (int t = 0; t < n; t++) {
        fd_panel p;
        double f[2] = {0.02 + 0.05 * normal(), 0.01 + 0.04 * normal()};
        fd_error err;
        fd_panel_init(&p);
        fd_month_add(first, t, p.month);
        p.n_rows = N_SEC;
        p.n_cols = N_CHAR;
        p.ids = calloc(N_SEC, sizeof *p.ids);
        p.col_names = calloc(N_CHAR, sizeof *p.col_names);
        p.values = calloc(N_SEC * N_CHAR, sizeof *p.values);
        p.ret = calloc(N_SEC, sizeof *p.ret);
        for (int j = 0; j < N_CHAR; j++) {
            char name[16];
            snprintf(name, sizeof name, "c%d", j % 10);
            p.col_names[j] = strdup(name);
        }
        for (int i = 0; i < N_SEC; i++) {
            char id[16];
            double beta[2] = {0, 0};
            snprintf(id, sizeof id, "S%03d", i);
            p.ids[i] = strdup(id);
            for (int j = 0; j < N_CHAR; j++) {
                beta[0] += gamma[j][0] * z_prev[i][j];
                beta[1] += gamma[j][1] * z_prev[i][j];
            }
            p.ret[i] = t == 0 ? NAN : beta[0] * f[0] + beta[1] * f[1] + 0.02 * normal();
            for (int j = 0; j < N_CHAR; j++) {
                z_prev[i][j] = t == 0 ? normal() : 0.9 * z_prev[i][j] + 0.3 * normal();
                p.values[i * N_CHAR + j] = z_prev[i][j];
            }
        }
        if (fd_store_panel_put(db, &p, &err) != 0) {
            fprintf(stderr, "panel put: %s\n", err.message);
            fd_panel_free(&p);
            return -1;
        }
        fd_panel_free(&p);
    }
    return 0;
}

static fd_db *open_db(const char *name) {
    char path[512];
    fd_db *db = NULL;
    fd_error err;
    snprintf(path, sizeof path, "%s/%s.db", tl_tmpdir(), name);
    if (fd_db_open(path, &db, &err) != 0) fprintf(stderr, "open: %s\n", err.message);
    return db;
}

static int declare(fd_db *db, const char *body_text, fd_error *err) {
    json_t *body = json_loads(body_text, 0, NULL), *spec = NULL;
    char name[FD_MODEL_NAME_MAX + 1];
    const char *kind;
    size_t k;
    int rc = fd_model_decl_parse(body, name, &kind, &k, &spec, err);
    if (rc == 0) rc = fd_store_model_create(db, name, kind, k, spec, NULL, err);
    json_decref(body);
    json_decref(spec);
    return rc;
}

static void windows(fd_train_windows *w, const char *tf, const char *tt, const char *vf,
                    const char *vt) {
    memset(w, 0, sizeof *w);
    snprintf(w->train_from, sizeof w->train_from, "%s", tf);
    snprintf(w->train_to, sizeof w->train_to, "%s", tt);
    if (vf) {
        snprintf(w->valid_from, sizeof w->valid_from, "%s", vf);
        snprintf(w->valid_to, sizeof w->valid_to, "%s", vt);
    }
}

TEST(declarations_are_validated_and_names_unique) {
    fd_db *db = open_db("decl");
    json_t *m = NULL, *list = NULL;
    fd_error err;
    ASSERT(db);
    ASSERT_INT_EQ(declare(db, "{\"name\":\"lin\",\"kind\":\"ipca\",\"k\":2}", &err), 0);
    ASSERT_INT_EQ(declare(db, "{\"name\":\"lin\",\"kind\":\"ipca\",\"k\":1}", &err), -1);
    ASSERT_INT_EQ(err.status, 409);
    ASSERT_INT_EQ(declare(db, "{\"name\":\"x\",\"kind\":\"nope\",\"k\":1}", &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    ASSERT_STR_EQ(err.code, "unknown_kind");
    ASSERT_INT_EQ(declare(db, "{\"name\":\"bad name\",\"kind\":\"ipca\",\"k\":1}", &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    ASSERT_INT_EQ(declare(db, "{\"name\":\"x\",\"kind\":\"ipca\",\"k\":0}", &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    ASSERT_INT_EQ(declare(db, "{\"name\":\"x\",\"kind\":\"ipca\",\"k\":1,\"hyper\":{\"bogus\":1}}",
                          &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    ASSERT(strstr(err.message, "bogus"));
    ASSERT_INT_EQ(declare(db, "{\"name\":\"x\",\"kind\":\"ipca\",\"k\":1,\"columns\":[\"a\",\"a\"]}",
                          &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    ASSERT_INT_EQ(fd_store_model_get(db, "lin", &m, &err), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(m, "kind")), "ipca");
    ASSERT_INT_EQ(json_integer_value(json_object_get(m, "k")), 2);
    ASSERT_INT_EQ(json_integer_value(json_object_get(m, "versions")), 0);
    ASSERT(json_is_null(json_object_get(m, "latest_version")));
    json_decref(m);
    ASSERT_INT_EQ(fd_store_model_list(db, &list, &err), 0);
    ASSERT_INT_EQ(json_array_size(list), 1);
    json_decref(list);
    ASSERT_INT_EQ(fd_store_model_get(db, "nope", &m, &err), -1);
    ASSERT_INT_EQ(err.status, 404);
    fd_db_close(db);
}

TEST(windows_are_checked_against_stored_panels) {
    fd_db *db = open_db("windows");
    json_t *body;
    fd_train_windows w;
    fd_error err;
    ASSERT(db);
    ASSERT_INT_EQ(put_panels(db, "2001-01", 6), 0);
    body = json_loads("{\"train\":{\"from\":\"2001-05\",\"to\":\"2001-02\"}}", 0, NULL);
    ASSERT_INT_EQ(fd_train_windows_parse(body, &w, &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    json_decref(body);
    body = json_loads("{\"train\":{\"from\":\"2001-02\",\"to\":\"2001-04\"},"
                      "\"valid\":{\"from\":\"2001-04\",\"to\":\"2001-06\"}}", 0, NULL);
    ASSERT_INT_EQ(fd_train_windows_parse(body, &w, &err), -1); /* valid overlaps train */
    ASSERT_INT_EQ(err.status, 400);
    json_decref(body);
    body = json_loads("{\"train\":{\"from\":\"2001-13\",\"to\":\"2001-04\"}}", 0, NULL);
    ASSERT_INT_EQ(fd_train_windows_parse(body, &w, &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    json_decref(body);
    windows(&w, "2001-02", "2001-06", NULL, NULL);
    ASSERT_INT_EQ(fd_train_windows_check(db, &w, &err), 0);
    /* 2001-01 must precede the first return month; 2001-07 and 2001-08 are absent. */
    windows(&w, "2001-01", "2001-04", "2001-05", "2001-08");
    ASSERT_INT_EQ(fd_train_windows_check(db, &w, &err), -1);
    ASSERT_INT_EQ(err.status, 422);
    ASSERT(strstr(err.message, "2000-12") && strstr(err.message, "2001-07") &&
           strstr(err.message, "2001-08"));
    ASSERT(!strstr(err.message, "2001-03"));
    fd_db_close(db);
}

TEST(trained_version_round_trips_and_loads) {
    fd_db *db = open_db("train");
    fd_train_windows w;
    json_t *v = NULL, *list = NULL, *stats;
    fd_model *m = NULL;
    void *stored = NULL, *resaved = NULL;
    size_t stored_len = 0, resaved_len = 0, T, K;
    double *F = NULL, beta[2 * 3], z[3 * N_CHAR];
    char (*months)[FD_MONTH_LEN] = NULL;
    fd_error err;
    int latest;
    ASSERT(db);
    ASSERT_INT_EQ(put_panels(db, "2000-01", 20), 0);
    ASSERT_INT_EQ(declare(db, "{\"name\":\"lin\",\"kind\":\"ipca\",\"k\":2}", &err), 0);
    windows(&w, "2000-02", "2001-02", "2001-03", "2001-08");
    ASSERT_INT_EQ(fd_train_run(db, "lin", &w, NULL, &v, &err), 0);
    ASSERT_INT_EQ(json_integer_value(json_object_get(v, "version")), 1);
    ASSERT_STR_EQ(json_string_value(json_object_get(v, "state")), "ready");
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(v, "train"), "to")), "2001-02");
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(v, "valid"), "from")), "2001-03");
    ASSERT_INT_EQ(json_integer_value(json_object_get(json_object_get(v, "spec"), "P")), N_CHAR);
    ASSERT_INT_EQ(json_array_size(json_object_get(json_object_get(v, "spec"), "col_names")), N_CHAR);
    stats = json_object_get(json_object_get(v, "fit_stats"), "in_sample");
    ASSERT_INT_EQ(json_integer_value(json_object_get(stats, "periods")), 13);
    /* A two-factor model of data built from two factors explains most of it. */
    ASSERT(json_number_value(json_object_get(stats, "total_r2")) > 0.5);
    ASSERT(json_is_real(json_object_get(json_object_get(json_object_get(v, "fit_stats"), "valid"),
                                        "total_r2")));
    json_decref(v);
    /* A second run is version 2; the list is ascending. */
    ASSERT_INT_EQ(fd_train_run(db, "lin", &w, NULL, NULL, &err), 0);
    ASSERT_INT_EQ(fd_store_version_list(db, "lin", &list, &err), 0);
    ASSERT_INT_EQ(json_array_size(list), 2);
    ASSERT_INT_EQ(json_integer_value(json_object_get(json_array_get(list, 1), "version")), 2);
    json_decref(list);
    ASSERT_INT_EQ(fd_store_version_latest(db, "lin", &latest, &err), 0);
    ASSERT_INT_EQ(latest, 2);
    /* Blob load equals saved: the loaded model saves back to the stored bytes. */
    ASSERT_INT_EQ(fd_store_version_weights(db, "lin", 1, &stored, &stored_len, &err), 0);
    ASSERT_INT_EQ(fd_model_load_version(db, "lin", 1, &m, &err), 0);
    ASSERT_INT_EQ(m->ops->save(m, &resaved, &resaved_len, &err), 0);
    ASSERT_INT_EQ(resaved_len, stored_len);
    ASSERT(memcmp(resaved, stored, stored_len) == 0);
    for (size_t i = 0; i < sizeof z / sizeof z[0]; i++) z[i] = 0.1 * (double)i - 0.5;
    ASSERT_INT_EQ(fd_model_betas_rows(m, z, 3, beta, NULL, &err), 0);
    for (size_t i = 0; i < 6; i++) ASSERT(isfinite(beta[i]));
    /* Deterministic fits: version 2 holds the same bytes as version 1. */
    free(resaved);
    ASSERT_INT_EQ(fd_store_version_weights(db, "lin", 2, &resaved, &resaved_len, &err), 0);
    ASSERT_INT_EQ(resaved_len, stored_len);
    ASSERT(memcmp(resaved, stored, stored_len) == 0);
    ASSERT_INT_EQ(fd_store_version_factors(db, "lin", 1, &F, &T, &K, &months, &err), 0);
    /* The stored factor history: the 13 training months, then the 6 validation months
     * (lambda's prevailing mean reads both). */
    ASSERT_INT_EQ(T, 19);
    ASSERT_INT_EQ(K, 2);
    ASSERT_STR_EQ(months[0], "2000-02");
    ASSERT_STR_EQ(months[12], "2001-02");
    ASSERT_STR_EQ(months[13], "2001-03");
    ASSERT_STR_EQ(months[18], "2001-08");
    ASSERT(isfinite(F[0]) && isfinite(F[25]));
    fd_model_destroy(m);
    free(stored);
    free(resaved);
    free(F);
    free(months);
    ASSERT_INT_EQ(fd_store_version_get(db, "lin", 3, &v, &err), -1);
    ASSERT_INT_EQ(err.status, 404);
    /* Deleting the model removes its versions. */
    ASSERT_INT_EQ(fd_store_model_delete(db, "lin", 0, &err), 0);
    ASSERT_INT_EQ(fd_store_version_list(db, "lin", &list, &err), -1);
    ASSERT_INT_EQ(err.status, 404);
    ASSERT_INT_EQ(fd_store_model_delete(db, "lin", 0, &err), -1);
    ASSERT_INT_EQ(err.status, 404);
    fd_db_close(db);
}

TEST(odd_length_weight_blob_round_trips_exactly) {
    fd_db *db = open_db("blob");
    static const unsigned char bytes[13] = {0xff, 0xf8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0x7f};
    const char months[2][FD_MONTH_LEN] = {"2000-01", "2000-02"};
    double F[4] = {1, 2, 3, 4};
    json_t *spec = json_pack("{s:s,s:i,s:i}", "kind", "ipca", "k", 2, "P", 3);
    fd_version_write vw = {.model = "m", .spec = spec, .train_from = "2000-01",
                           .train_to = "2000-02", .weights = bytes, .weights_len = 13,
                           .factors = F, .T = 2, .K = 2, .months = months};
    void *blob = NULL;
    size_t len = 0;
    fd_error err;
    int version = 0;
    ASSERT(db);
    ASSERT_INT_EQ(fd_db_begin(db, &err), 0);
    ASSERT_INT_EQ(fd_store_version_insert_tx(db, &vw, &version, &err), -1); /* no model */
    ASSERT_INT_EQ(err.status, 404);
    fd_db_rollback(db);
    ASSERT_INT_EQ(declare(db, "{\"name\":\"m\",\"kind\":\"ipca\",\"k\":2}", &err), 0);
    ASSERT_INT_EQ(fd_db_begin(db, &err), 0);
    ASSERT_INT_EQ(fd_store_version_insert_tx(db, &vw, &version, &err), 0);
    ASSERT_INT_EQ(fd_db_commit(db, &err), 0);
    ASSERT_INT_EQ(version, 1);
    ASSERT_INT_EQ(fd_store_version_weights(db, "m", 1, &blob, &len, &err), 0);
    ASSERT_INT_EQ(len, 13);
    ASSERT(memcmp(blob, bytes, 13) == 0);
    free(blob);
    json_decref(spec);
    fd_db_close(db);
}

static int cancel_after_first_epoch(void *ctx, double progress, const fd_fit_event *ev) {
    (void)progress;
    if (ev) ++*(int *)ctx;
    return *(int *)ctx > 0;
}

TEST(cancelled_run_writes_no_version) {
    fd_db *db = open_db("cancel");
    int seen = 0;
    fd_train_hooks hooks = {cancel_after_first_epoch, NULL, &seen, 0};
    fd_train_windows w;
    json_t *m = NULL;
    fd_error err;
    ASSERT(db);
    ASSERT_INT_EQ(put_panels(db, "2000-01", 10), 0);
    ASSERT_INT_EQ(declare(db, "{\"name\":\"lin\",\"kind\":\"ipca\",\"k\":1}", &err), 0);
    windows(&w, "2000-02", "2000-10", NULL, NULL);
    ASSERT_INT_EQ(fd_train_run(db, "lin", &w, &hooks, NULL, &err), -1);
    ASSERT_INT_EQ(err.status, 409);
    ASSERT(seen >= 1);
    ASSERT_INT_EQ(fd_store_model_get(db, "lin", &m, &err), 0);
    ASSERT_INT_EQ(json_integer_value(json_object_get(m, "versions")), 0);
    json_decref(m);
    fd_db_close(db);
}

TEST(model_with_a_queued_job_cannot_be_deleted) {
    fd_db *db = open_db("busy");
    fd_error err;
    int64_t id;
    int was_running;
    ASSERT(db);
    ASSERT_INT_EQ(declare(db, "{\"name\":\"lin\",\"kind\":\"ipca\",\"k\":1}", &err), 0);
    ASSERT_INT_EQ(fd_store_job_insert(db, "train", "lin", NULL, &id, NULL, &err), 0);
    ASSERT_INT_EQ(fd_store_model_delete(db, "lin", 0, &err), -1);
    ASSERT_INT_EQ(err.status, 409);
    ASSERT_INT_EQ(fd_store_job_cancel(db, id, &was_running, &err), 0);
    ASSERT_INT_EQ(was_running, 0);
    ASSERT_INT_EQ(fd_store_model_delete(db, "lin", 0, &err), 0);
    fd_db_close(db);
}

TEST_MAIN(T(declarations_are_validated_and_names_unique),
          T(windows_are_checked_against_stored_panels), T(trained_version_round_trips_and_loads),
          T(odd_length_weight_blob_round_trips_exactly), T(cancelled_run_writes_no_version),
          T(model_with_a_queued_job_cannot_be_deleted))
