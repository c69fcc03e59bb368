/* The job manager with a fake job kind: queueing, running, progress, cancelling queued and
 * running jobs, failures, shutdown and restart. Waits poll the jobs table with a generous
 * deadline (a hung manager fails the test; nothing asserts how fast it is). */
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "factord/jobs.h"
#include "factord/store_models.h"
#include "testlib.h"

static atomic_int fake_started;

static void sleep_ms(long ms) {
    nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L}, NULL);
}

/* params {"mode": "ok" | "fail" | "block", "epochs": n}. "block" reports progress until it
 * is told to stop. */
static int fake_run(fd_job_ctx *ctx, const json_t *params, fd_error *err) {
    const char *mode = json_string_value(json_object_get(params, "mode"));
    int epochs = (int)json_integer_value(json_object_get(params, "epochs"));
    fd_db *db = fd_job_db(ctx);
    json_t *result;
    int rc;
    if (mode && strcmp(mode, "fail") == 0)
        return fd_error_set(err, 422, "fake_failure", "the fake job failed on purpose");
    if (mode && strcmp(mode, "block") == 0) {
        fd_fit_event ev = {0, 1, 0, 1000000, 1.0, NAN};
        atomic_store(&fake_started, 1);
        while (!fd_job_progress(ctx, 0.25, &ev)) {
            ev.epoch++;
            sleep_ms(5);
        }
        return fd_error_set(err, 409, "cancelled", "stopped");
    }
    for (int e = 1; e <= epochs; e++) {
        fd_fit_event ev = {0, 1, e, epochs, 1.0 / e, 2.0 / e};
        if (fd_job_progress(ctx, (double)e / epochs, &ev))
            return fd_error_set(err, 409, "cancelled", "stopped");
    }
    if (fd_db_begin(db, err) != 0) return -1;
    result = json_pack("{s:i,s:s}", "epochs", epochs, "model", fd_job_model(ctx));
    rc = fd_job_succeed_tx(ctx, result, err);
    json_decref(result);
    if (rc != 0) {
        fd_db_rollback(db);
        return -1;
    }
    return fd_db_commit(db, err);
}

static const fd_job_kind fake_kind = {"fake", fake_run};
static const fd_job_kind *const fake_kinds[] = {&fake_kind, NULL};

static char db_path[512];

static fd_db *open_db(const char *name) {
    fd_db *db = NULL;
    fd_error err;
    snprintf(db_path, sizeof db_path, "%s/%s.db", tl_tmpdir(), name);
    if (fd_db_open(db_path, &db, &err) != 0) fprintf(stderr, "open: %s\n", err.message);
    return db;
}

static fd_jobs *start(int threads) {
    fd_jobs_opts opts = {db_path, threads, 0, 0.01, fake_kinds};
    fd_jobs *m = NULL;
    fd_error err;
    if (fd_jobs_create(&opts, &m, &err) != 0) fprintf(stderr, "create: %s\n", err.message);
    return m;
}

static json_t *params(const char *mode, int epochs) {
    return json_pack("{s:s,s:i}", "mode", mode, "epochs", epochs);
}

static int64_t submit(fd_jobs *m, fd_db *db, const char *mode, int epochs) {
    json_t *p = params(mode, epochs), *job = NULL;
    int64_t id = 0;
    if (fd_jobs_submit(m, db, "fake", "m1", p, &job, NULL) == 0)
        id = json_integer_value(json_object_get(job, "id"));
    json_decref(p);
    json_decref(job);
    return id;
}

/* The job's state after waiting (up to 20 s) for it to leave `from`. Caller frees *job. */
static const char *wait_state(fd_db *db, int64_t id, const char *from, json_t **job) {
    for (int i = 0; i < 4000; i++) {
        const char *s;
        if (fd_store_job_get(db, id, job, NULL) != 0) return "missing";
        s = json_string_value(json_object_get(*job, "state"));
        if (strcmp(s, from) != 0) return s;
        json_decref(*job);
        *job = NULL;
        sleep_ms(5);
    }
    return from;
}

static const char *wait_final(fd_db *db, int64_t id, json_t **job) {
    const char *s = wait_state(db, id, "queued", job);
    if (strcmp(s, "running") != 0) return s;
    json_decref(*job);
    *job = NULL;
    return wait_state(db, id, "running", job);
}

TEST(job_runs_to_success_with_progress_and_losses) {
    fd_db *db = open_db("run");
    fd_jobs *m = start(1);
    json_t *job = NULL, *losses;
    int64_t id;
    ASSERT(db && m);
    id = submit(m, db, "ok", 3);
    ASSERT(id > 0);
    ASSERT_STR_EQ(wait_final(db, id, &job), "succeeded");
    ASSERT_NEAR(json_number_value(json_object_get(job, "progress")), 1.0, 0);
    ASSERT_INT_EQ(json_integer_value(json_object_get(json_object_get(job, "result"), "epochs")), 3);
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(job, "result"), "model")), "m1");
    ASSERT(json_object_get(job, "finished_at") && !json_is_null(json_object_get(job, "finished_at")));
    ASSERT_INT_EQ(json_integer_value(json_object_get(job, "attempts")), 1);
    json_decref(job);
    /* The whole loss history is written with the success. */
    fd_store_job_get(db, id, &job, NULL);
    losses = json_object_get(job, "losses");
    ASSERT_INT_EQ(json_array_size(losses), 3);
    ASSERT_INT_EQ(json_integer_value(json_object_get(json_array_get(losses, 2), "epoch")), 3);
    ASSERT_NEAR(json_number_value(json_object_get(json_array_get(losses, 0), "train")), 1.0, 0);
    ASSERT_NEAR(json_number_value(json_object_get(json_array_get(losses, 0), "valid")), 2.0, 0);
    json_decref(job);
    fd_jobs_destroy(m);
    fd_db_close(db);
}

TEST(failing_job_records_its_error) {
    fd_db *db = open_db("fail");
    fd_jobs *m = start(1);
    json_t *job = NULL, *error;
    int64_t id;
    ASSERT(db && m);
    id = submit(m, db, "fail", 0);
    ASSERT_STR_EQ(wait_final(db, id, &job), "failed");
    error = json_object_get(job, "error");
    ASSERT_STR_EQ(json_string_value(json_object_get(error, "code")), "fake_failure");
    ASSERT(strstr(json_string_value(json_object_get(error, "message")), "on purpose"));
    ASSERT(json_is_null(json_object_get(job, "result")));
    json_decref(job);
    fd_jobs_destroy(m);
    fd_db_close(db);
}

TEST(queued_job_cancels_at_once_and_never_runs) {
    fd_db *db = open_db("cancel_queued");
    json_t *job = NULL;
    fd_error err;
    fd_jobs *m;
    int64_t id;
    ASSERT(db);
    id = submit(NULL, db, "ok", 1); /* no manager yet: it stays queued */
    ASSERT(id > 0);
    ASSERT_INT_EQ(fd_jobs_cancel(NULL, db, id, &job, &err), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(job, "state")), "cancelled");
    json_decref(job);
    ASSERT_INT_EQ(fd_jobs_cancel(NULL, db, id, NULL, &err), -1);
    ASSERT_INT_EQ(err.status, 409);
    ASSERT_INT_EQ(fd_jobs_cancel(NULL, db, id + 100, NULL, &err), -1);
    ASSERT_INT_EQ(err.status, 404);
    m = start(1);
    ASSERT(m);
    /* A later job runs; the cancelled one never starts. */
    ASSERT_STR_EQ(wait_final(db, submit(m, db, "ok", 1), &job), "succeeded");
    json_decref(job);
    fd_store_job_get(db, id, &job, NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(job, "state")), "cancelled");
    ASSERT_INT_EQ(json_integer_value(json_object_get(job, "attempts")), 0);
    json_decref(job);
    fd_jobs_destroy(m);
    fd_db_close(db);
}

TEST(running_job_cancels_through_its_progress_callback) {
    fd_db *db = open_db("cancel_running");
    fd_jobs *m = start(1);
    json_t *job = NULL;
    fd_error err;
    int64_t id;
    ASSERT(db && m);
    atomic_store(&fake_started, 0);
    id = submit(m, db, "block", 0);
    ASSERT_STR_EQ(wait_state(db, id, "queued", &job), "running");
    json_decref(job);
    ASSERT_INT_EQ(fd_jobs_running(m), 1);
    ASSERT_INT_EQ(fd_jobs_cancel(m, db, id, &job, &err), 0);
    ASSERT(json_is_true(json_object_get(job, "cancel_requested")));
    json_decref(job);
    ASSERT_STR_EQ(wait_state(db, id, "running", &job), "cancelled");
    ASSERT(json_is_null(json_object_get(job, "result")));
    json_decref(job);
    fd_jobs_destroy(m);
    fd_db_close(db);
}

TEST(cancel_stored_by_another_process_stops_the_run) {
    fd_db *db = open_db("cancel_elsewhere");
    fd_jobs *m = start(1);
    json_t *job = NULL;
    fd_error err;
    int64_t id;
    ASSERT(db && m);
    id = submit(m, db, "block", 0);
    ASSERT_STR_EQ(wait_state(db, id, "queued", &job), "running");
    json_decref(job);
    /* No manager handle: only the row's flag, which the worker reads at its next flush. */
    ASSERT_INT_EQ(fd_jobs_cancel(NULL, db, id, NULL, &err), 0);
    ASSERT_STR_EQ(wait_state(db, id, "running", &job), "cancelled");
    json_decref(job);
    fd_jobs_destroy(m);
    fd_db_close(db);
}

TEST(shutdown_leaves_running_job_queued_and_restart_runs_it) {
    fd_db *db = open_db("shutdown");
    fd_jobs *m = start(1);
    json_t *job = NULL, *p;
    int64_t id;
    ASSERT(db && m);
    id = submit(m, db, "block", 0);
    ASSERT_STR_EQ(wait_state(db, id, "queued", &job), "running");
    json_decref(job);
    fd_jobs_destroy(m);
    fd_store_job_get(db, id, &job, NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(job, "state")), "queued");
    ASSERT_INT_EQ(json_integer_value(json_object_get(job, "attempts")), 1);
    json_decref(job);
    /* Make the re-run finish: the stored params are what the next start uses. */
    p = params("ok", 2);
    {
        char *text = json_dumps(p, JSON_COMPACT);
        char sql[256];
        snprintf(sql, sizeof sql, "UPDATE jobs SET params = '%s' WHERE id = %lld", text,
                 (long long)id);
        ASSERT_INT_EQ(fd_db_exec(db, sql, NULL), 0);
        free(text);
    }
    json_decref(p);
    m = start(1);
    ASSERT(m);
    ASSERT_STR_EQ(wait_final(db, id, &job), "succeeded");
    ASSERT_INT_EQ(json_integer_value(json_object_get(job, "attempts")), 2);
    json_decref(job);
    fd_jobs_destroy(m);
    fd_db_close(db);
}

TEST(restart_requeues_job_a_crash_left_running) {
    fd_db *db = open_db("crash");
    const char *kinds[] = {"fake", NULL};
    fd_job_claim claim;
    json_t *job = NULL;
    fd_jobs *m;
    int64_t id;
    ASSERT(db);
    id = submit(NULL, db, "ok", 2);
    /* A worker of a process that then died claimed it. */
    ASSERT_INT_EQ(fd_store_job_claim(db, kinds, &claim, NULL), 0);
    ASSERT_INT_EQ(claim.id, id);
    json_decref(claim.params);
    fd_store_job_get(db, id, &job, NULL);
    ASSERT_STR_EQ(json_string_value(json_object_get(job, "state")), "running");
    json_decref(job);
    m = start(2);
    ASSERT(m);
    ASSERT_STR_EQ(wait_final(db, id, &job), "succeeded");
    ASSERT_INT_EQ(json_integer_value(json_object_get(job, "attempts")), 2);
    json_decref(job);
    fd_jobs_destroy(m);
    fd_db_close(db);
}

TEST(jobs_of_unknown_kind_are_refused_and_listed_by_state) {
    fd_db *db = open_db("list");
    fd_jobs *m = start(1);
    json_t *job = NULL, *list = NULL;
    fd_error err;
    ASSERT(db && m);
    ASSERT_INT_EQ(fd_jobs_submit(m, db, "nope", NULL, NULL, NULL, &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    ASSERT_STR_EQ(wait_final(db, submit(m, db, "ok", 1), &job), "succeeded");
    json_decref(job);
    ASSERT_STR_EQ(wait_final(db, submit(m, db, "fail", 1), &job), "failed");
    json_decref(job);
    ASSERT_INT_EQ(fd_store_job_list(db, "failed", NULL, 0, &list, &err), 0);
    ASSERT_INT_EQ(json_array_size(list), 1);
    json_decref(list);
    ASSERT_INT_EQ(fd_store_job_list(db, NULL, "m1", 0, &list, &err), 0);
    ASSERT_INT_EQ(json_array_size(list), 2);
    json_decref(list);
    ASSERT_INT_EQ(fd_store_job_list(db, "bogus", NULL, 0, &list, &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    fd_jobs_destroy(m);
    fd_db_close(db);
}

TEST_MAIN(T(job_runs_to_success_with_progress_and_losses), T(failing_job_records_its_error),
          T(queued_job_cancels_at_once_and_never_runs),
          T(running_job_cancels_through_its_progress_callback),
          T(cancel_stored_by_another_process_stops_the_run),
          T(shutdown_leaves_running_job_queued_and_restart_runs_it),
          T(restart_requeues_job_a_crash_left_running),
          T(jobs_of_unknown_kind_are_refused_and_listed_by_state))
