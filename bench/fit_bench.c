/* fit_bench: times one factord model fit on a `factord simulate` CSV and prints JSON, the C
 * side of bench/models.sh (the Python side is bench/ipca_ref.py and bench/ca_ref.py).
 *
 *   fit_bench --csv FILE --model ipca|ca1|ca2 [-K 5] [--hyper JSON] [--threads 2]
 *             [--repeat 1] [--export-weights FILE]
 *
 * The dataset is built as the daemon builds it (fd_dataset_from_panels: characteristics of
 * t-1 rank-normalised, returns of t, managed portfolios) and its checksum printed, so the
 * report can show that both sides fitted identical data. Only the fit is timed; loading is
 * not. The model is driven through the fd_model interface alone, as the job runner does;
 * the progress callback stamps each epoch (ALS iteration for IPCA).
 *
 * Output: fit seconds (the best of --repeat fits), per-epoch seconds (the best epoch is
 * "seconds_per_epoch", with the median beside it) and losses, the in-sample MSE and
 * Kelly-Pruitt-Su R^2 from factord's evaluator (src/eval), for IPCA its Gamma (read as the
 * betas of the unit vectors), the peak RSS of loading and of the fit (data resident) and the
 * resident set the fit starts from (their difference is what the fit itself holds). With
 * --export-weights a CA model's parameters go to FILE as JSON in PyTorch's layouts
 * (bench/ca_weights.c), with the losses C computes on them, for ca_ref.py --check-weights. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_csv.h"
#include "ca_weights.h"
#include "factord/dataset.h"
#include "factord/eval_r2.h"
#include "factord/json_write.h"
#include "factord/model.h"

void openblas_set_num_threads(int n);

typedef struct epoch_log {
    double t0;
    json_t *seconds, *losses; /* arrays, one entry per epoch */
    double last;
} epoch_log;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Peak resident set (VmHWM) in kB; reset_peak_rss() restarts it (Linux: "5" written to
 * /proc/self/clear_refs), so the peak after the fit is the fit's own, data resident,
 * without the CSV parsing before it. ca_ref.py and ipca_ref.py measure the same way. */
static long status_kb(const char *field) {
    char line[256], fmt[32];
    long kb = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    snprintf(fmt, sizeof fmt, "%s: %%ld kB", field);
    while (fgets(line, sizeof line, f))
        if (sscanf(line, fmt, &kb) == 1) break;
    fclose(f);
    return kb;
}

static long peak_rss_kb(void) { return status_kb("VmHWM"); }

static void reset_peak_rss(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return; /* the peak then includes loading: still an upper bound */
    fputs("5", f);
    fclose(f);
}

/* The best (q = 0) or median (q = 0.5) of a JSON array of reals, 0 when empty: epoch times
 * robust to the other users of a shared machine. */
static double quantile(const json_t *a, double q) {
    size_t n = json_array_size(a);
    double *v = malloc((n ? n : 1) * sizeof *v), med = 0.0;
    if (!v || n == 0) {
        free(v);
        return 0.0;
    }
    for (size_t i = 0; i < n; i++) v[i] = json_real_value(json_array_get(a, i));
    for (size_t i = 1; i < n; i++) /* insertion sort: a handful of epochs */
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    if (q == 0.0) med = v[0];
    else med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    free(v);
    return med;
}

static int on_epoch(void *ctx, const fd_fit_event *ev) {
    epoch_log *log = ctx;
    double t = now();
    json_array_append_new(log->seconds, json_real(t - log->last));
    json_array_append_new(log->losses, json_real(ev->train_loss));
    log->last = t;
    return 0;
}

/* In-sample fit over every stock-month with factord's evaluator: total (realised factors)
 * and predictive (lambda = the mean of all T factor realisations, ipca_ref.py's definition
 * in sample) sums. */
static int insample_r2(const fd_model *m, const fd_dataset *ds, fd_r2_sums *tot,
                       fd_r2_sums *pred, fd_error *err) {
    size_t T = ds->T, K = m->K;
    double *F = malloc((T ? T : 1) * K * sizeof *F), *lam = calloc(T ? T * K : 1, sizeof *lam);
    int rc = -1;
    if (!F || !lam) {
        fd_error_set(err, 500, "out_of_memory", "evaluation buffers");
        goto done;
    }
    if (fd_r2_factor_series(m, ds, F, err) < 0) goto done;
    for (size_t t = 0; t < T; t++)
        for (size_t k = 0; k < K; k++) lam[k] += F[t * K + k] / (double)T;
    for (size_t t = 1; t < T; t++) memcpy(lam + t * K, lam, K * sizeof *lam);
    if (fd_r2_total(m, ds, F, tot, err) < 0 || fd_r2_pred(m, ds, lam, pred, err) < 0) goto done;
    rc = 0;
done:
    free(F);
    free(lam);
    return rc;
}

/* Gamma (P, K) of a linear-beta model: the betas of the unit vectors e_1..e_P. */
static json_t *gamma_json(const fd_model *m, fd_error *err) {
    size_t P = m->P, K = m->K;
    double *eye = calloc(P * P, sizeof *eye), *g = malloc(P * K * sizeof *g);
    json_t *out = NULL;
    if (!eye || !g) {
        fd_error_set(err, 500, "out_of_memory", "Gamma");
        goto done;
    }
    for (size_t j = 0; j < P; j++) eye[j * P + j] = 1.0;
    if (fd_model_betas_rows(m, eye, P, g, NULL, err) < 0) goto done;
    out = json_array();
    for (size_t j = 0; j < P; j++) {
        json_t *row = json_array();
        for (size_t k = 0; k < K; k++) json_array_append_new(row, json_real(g[j * K + k]));
        json_array_append_new(out, row);
    }
done:
    free(eye);
    free(g);
    return out;
}

/* Sums the Python side prints too (dataset_ref.py): z^2 (z itself sums to ~0 after
 * ranking), z'r (which also checks the alignment of t-1 with t), r and x. */
static json_t *checksum_json(const fd_dataset *ds, size_t *n_obs) {
    double sz = 0, szr = 0, sr = 0, sx = 0;
    *n_obs = 0;
    for (size_t t = 0; t < ds->T; t++) {
        const fd_period *p = &ds->periods[t];
        for (size_t i = 0; i < p->n; i++) {
            for (size_t j = 0; j < ds->P; j++) {
                double z = p->z[i * ds->P + j];
                sz += z * z;
                szr += z * p->r[i];
            }
            sr += p->r[i];
        }
        for (size_t j = 0; j < ds->P; j++) sx += p->x[j];
        *n_obs += p->n;
    }
    return json_pack("{s:f,s:f,s:f,s:f}", "z2", sz, "zr", szr, "r", sr, "x", sx);
}

static int usage(void) {
    fprintf(stderr, "usage: fit_bench --csv FILE --model ipca|ca1|ca2 [-K 5] [--hyper JSON] "
                    "[--threads 2] [--repeat 1] [--export-weights FILE]\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *csv = NULL, *kind = NULL, *hyper_text = "{}", *export_path = NULL;
    size_t K = 5;
    int threads = 2, repeat = 1, rc = 1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) return usage();
        if (!strcmp(argv[i], "--csv")) csv = argv[++i];
        else if (!strcmp(argv[i], "--model")) kind = argv[++i];
        else if (!strcmp(argv[i], "-K")) K = (size_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--hyper")) hyper_text = argv[++i];
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeat")) repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--export-weights")) export_path = argv[++i];
        else return usage();
    }
    if (!csv || !kind || K == 0 || threads < 1 || repeat < 1) return usage();
    openblas_set_num_threads(threads);

    fd_error err = {0};
    bench_panels panels = {0};
    fd_dataset ds;
    fd_model *m = NULL;
    json_t *hyper = NULL, *out = NULL, *checksum = NULL;
    size_t n_obs = 0;
    double fit_seconds = 0, mse;
    fd_r2_sums tot = {0}, pred = {0};
    long rss0 = 0, rss1 = 0, resident = 0;
    epoch_log log = {0, json_array(), json_array(), 0};
    json_t *all_seconds = json_array();
    fd_dataset_init(&ds);
    const fd_model_ops *ops = fd_model_kind(kind);
    if (!ops) {
        fprintf(stderr, "fit_bench: unknown model '%s' (known: %s)\n", kind,
                fd_model_kind_names());
        goto done;
    }
    json_error_t jerr;
    hyper = json_loads(hyper_text, 0, &jerr);
    if (!hyper) {
        fprintf(stderr, "fit_bench: --hyper: %s\n", jerr.text);
        goto done;
    }
    if (bench_panels_load(csv, &panels, &err) < 0 ||
        fd_dataset_from_panels(panels.panels, panels.n, NULL, &ds, &err) < 0)
        goto fail;
    bench_panels_free(&panels);
    checksum = checksum_json(&ds, &n_obs);
    if (fd_model_create(ops, hyper, ds.P, K, &m, &err) < 0) goto fail;

    /* Each repeat fits a fresh model; the best time is reported (the machine is shared, so
     * the minimum is the least disturbed run), the last fit is evaluated. */
    /* The fit may use `threads` threads, as a training job with blas_threads = threads does:
     * OpenBLAS's for IPCA, a batch-splitting team for the CA models. */
    fd_fit_opts opts = {on_epoch, &log, threads};
    rss0 = peak_rss_kb();
    reset_peak_rss();
    resident = status_kb("VmRSS"); /* the data set, what the fit starts with */
    for (int r = 0; r < repeat; r++) {
        double seconds;
        if (r > 0) {
            fd_model_destroy(m);
            m = NULL;
            if (fd_model_create(ops, hyper, ds.P, K, &m, &err) < 0) goto fail;
        }
        json_array_clear(log.seconds);
        json_array_clear(log.losses);
        log.t0 = log.last = now();
        if (ops->fit(m, &ds, NULL, &opts, &err) < 0) goto fail;
        seconds = now() - log.t0;
        json_array_append_new(all_seconds, json_real(seconds));
        if (r == 0 || seconds < fit_seconds) fit_seconds = seconds;
    }
    rss1 = peak_rss_kb();

    if (insample_r2(m, &ds, &tot, &pred, &err) < 0) goto fail;
    mse = tot.sse / (double)tot.n_obs;
    size_t epochs = json_array_size(log.seconds);
    out = json_object();
    json_object_set_new(out, "impl", json_string("c"));
    json_object_set_new(out, "model", json_string(kind));
    json_object_set_new(out, "threads", json_integer(threads));
    json_object_set_new(out, "K", json_integer((json_int_t)K));
    json_object_set_new(out, "T", json_integer((json_int_t)ds.T));
    json_object_set_new(out, "P", json_integer((json_int_t)ds.P));
    json_object_set_new(out, "N_obs", json_integer((json_int_t)n_obs));
    json_object_set(out, "checksum", checksum);
    json_object_set(out, "hyper", hyper);
    json_object_set_new(out, "fit_seconds", json_real(fit_seconds));
    json_object_set(out, "fit_seconds_all", all_seconds);
    json_object_set_new(out, "iterations", json_integer((json_int_t)epochs));
    json_object_set_new(out, "seconds_per_epoch", json_real(quantile(log.seconds, 0.0)));
    json_object_set_new(out, "median_epoch_seconds", json_real(quantile(log.seconds, 0.5)));
    json_object_set(out, "epoch_seconds", log.seconds);
    json_object_set(out, "train_losses", log.losses);
    if (epochs)
        json_object_set(out, "final_train_loss", json_array_get(log.losses, epochs - 1));
    json_object_set_new(out, "final_eval_loss", json_real(mse));
    json_object_set_new(out, "r2_total", json_real(fd_r2_value(tot.sse, tot.sst)));
    json_object_set_new(out, "r2_pred", json_real(fd_r2_value(pred.sse, pred.sst)));
    json_object_set_new(out, "load_peak_rss_kb", json_integer(rss0));
    json_object_set_new(out, "fit_peak_rss_kb", json_integer(rss1));
    json_object_set_new(out, "resident_before_fit_kb", json_integer(resident));
    if (!strcmp(kind, "ipca")) {
        json_t *g = gamma_json(m, &err);
        if (!g) goto fail;
        json_object_set_new(out, "gamma", g);
    }
    if (export_path &&
        bench_ca_export_weights(m, kind, &ds, mse, export_path, &err) < 0)
        goto fail;
    {
        char *text = fd_json_dumps(out, 0);
        if (!text) {
            fd_error_set(&err, 500, "out_of_memory", "writing the result");
            goto fail;
        }
        puts(text);
        free(text);
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "fit_bench: %s (%d %s)\n", err.message, err.status, err.code);
done:
    json_decref(out);
    json_decref(checksum);
    json_decref(hyper);
    json_decref(log.seconds);
    json_decref(log.losses);
    json_decref(all_seconds);
    fd_model_destroy(m);
    fd_dataset_free(&ds);
    bench_panels_free(&panels);
    return rc;
}
