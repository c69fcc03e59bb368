/* `factord train`: declares a model if absent and trains it synchronously against a
 * database, with the daemon's own training code (fd_train_run), so a batch scheduler can fit
 * models while a daemon serves the same file (WAL and the busy timeout make that safe).
 * Progress goes to stderr, the new version's JSON to stdout. SIGINT/SIGTERM stop the fit
 * cleanly: nothing is written. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "factord/cli.h"
#include "factord/json_write.h"
#include "factord/store_models.h"
#include "factord/train.h"

void openblas_set_num_threads(int num_threads);

static const char train_usage[] =
    "usage: factord train --db PATH --model NAME --train-from YYYY-MM --train-to YYYY-MM\n"
    "                     [--valid-from YYYY-MM --valid-to YYYY-MM]\n"
    "                     [--kind KIND --k K [--hyper JSON] [--columns A,B,...]\n"
    "                      [--excess-returns] [--add-constant]] [--blas-threads N]\n"
    "\n"
    "Trains model NAME on the panels stored in the database and writes its next version,\n"
    "exactly as POST /v1/models/NAME/train does in the daemon. The model is declared first\n"
    "when it does not exist (then --kind and --k are required). Progress lines go to stderr;\n"
    "the version (JSON) goes to stdout. Exit status 0 on success, 1 on failure, 2 on usage.\n"
    "\n"
    "  --db PATH            SQLite database file (may be served by a running daemon)\n"
    "  --model NAME         model name ([A-Za-z0-9_.-]{1,64})\n"
    "  --train-from/--train-to YYYY-MM   months of the training returns\n"
    "  --valid-from/--valid-to YYYY-MM   optional validation block (early stopping)\n"
    "  --kind KIND          model kind, to declare the model\n"
    "  --k K                number of factors, to declare the model\n"
    "  --hyper JSON         hyper-parameters object, e.g. '{\"seed\":1}'\n"
    "  --columns LIST       comma-separated characteristic subset (default: all)\n"
    "  --excess-returns     fit returns in excess of the stored RF\n"
    "  --add-constant       append a constant characteristic\n"
    "  --blas-threads N     threads for the fit: OpenBLAS's for IPCA/PCA, the batch-splitting\n"
    "                       team for CA models (default: OpenBLAS's own choice)\n"
    "  -h, --help           show this help\n";

static volatile sig_atomic_t train_interrupted;

static void on_signal(int sig) {
    (void)sig;
    train_interrupted = 1;
}

typedef struct cli_progress {
    struct timespec last;
} cli_progress;

static int cli_on_progress(void *ctx, double progress, const fd_fit_event *ev) {
    cli_progress *p = ctx;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* Twice a second is plenty on a terminal or in a scheduler's log. */
    if (ev && (now.tv_sec - p->last.tv_sec) + (now.tv_nsec - p->last.tv_nsec) * 1e-9 >= 0.5) {
        p->last = now;
        fprintf(stderr, "factord train: %5.1f%% member %d/%d epoch %d/%d train loss %.6g",
                100 * progress, ev->member + 1, ev->n_members, ev->epoch, ev->max_epochs,
                ev->train_loss);
        if (!isnan(ev->valid_loss)) fprintf(stderr, " valid loss %.6g", ev->valid_loss);
        fputc('\n', stderr);
    }
    return train_interrupted;
}

/* "a,b,c" -> ["a","b","c"]. */
static json_t *split_columns(const char *list) {
    json_t *cols = json_array();
    char *copy = strdup(list), *save = NULL;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok;
         tok = strtok_r(NULL, ",", &save))
        json_array_append_new(cols, json_string(tok));
    free(copy);
    return cols;
}

/* The declaration body from the flags; NULL (with a message) on a bad --hyper. */
static json_t *declaration(const char *model, const char *kind, const char *k, const char *hyper,
                           const char *columns, int excess, int constant) {
    json_t *body = json_pack("{s:s,s:s,s:I,s:b,s:b}", "name", model, "kind", kind, "k",
                             (json_int_t)atoll(k), "excess_returns", excess, "add_constant",
                             constant);
    if (hyper) {
        json_error_t jerr;
        json_t *h = json_loads(hyper, 0, &jerr);
        if (!h) {
            fprintf(stderr, "factord train: --hyper: %s (column %d)\n", jerr.text, jerr.column);
            json_decref(body);
            return NULL;
        }
        json_object_set_new(body, "hyper", h);
    }
    if (columns) json_object_set_new(body, "columns", split_columns(columns));
    return body;
}

/* Declares the model unless it exists; an existing model must agree with any --kind/--k. */
static int ensure_model(fd_db *db, const char *model, const char *kind, const char *k,
                        json_t *decl) {
    json_t *existing = NULL, *spec = NULL;
    char name[FD_MODEL_NAME_MAX + 1];
    const char *canon_kind;
    size_t kk;
    fd_error err;
    int rc;
    if (fd_store_model_get(db, model, &existing, &err) == 0) {
        const char *have = json_string_value(json_object_get(existing, "kind"));
        long long have_k = json_integer_value(json_object_get(existing, "k"));
        rc = 0;
        if ((kind && strcmp(kind, have) != 0) || (k && atoll(k) != have_k)) {
            fprintf(stderr, "factord train: model %s exists with kind %s and k %lld\n", model,
                    have, have_k);
            rc = -1;
        }
        json_decref(existing);
        return rc;
    }
    if (err.status != 404) {
        fprintf(stderr, "factord train: %s\n", err.message);
        return -1;
    }
    if (!decl) {
        fprintf(stderr, "factord train: model %s is not declared; give --kind and --k\n", model);
        return -1;
    }
    if (fd_model_decl_parse(decl, name, &canon_kind, &kk, &spec, &err) != 0 ||
        fd_store_model_create(db, name, canon_kind, kk, spec, NULL, &err) != 0) {
        fprintf(stderr, "factord train: declaring %s: %s\n", model, err.message);
        json_decref(spec);
        return -1;
    }
    fprintf(stderr, "factord train: declared model %s (%s, k=%zu)\n", name, canon_kind, kk);
    json_decref(spec);
    return 0;
}

int fd_cmd_train(int argc, char **argv) {
    enum { O_DB = 256, O_MODEL, O_KIND, O_K, O_HYPER, O_COLUMNS, O_EXCESS, O_CONST, O_TF, O_TT,
           O_VF, O_VT, O_BLAS };
    static const struct option options[] = {
        {"db", required_argument, NULL, O_DB}, {"model", required_argument, NULL, O_MODEL},
        {"kind", required_argument, NULL, O_KIND}, {"k", required_argument, NULL, O_K},
        {"hyper", required_argument, NULL, O_HYPER},
        {"columns", required_argument, NULL, O_COLUMNS},
        {"excess-returns", no_argument, NULL, O_EXCESS},
        {"add-constant", no_argument, NULL, O_CONST},
        {"train-from", required_argument, NULL, O_TF}, {"train-to", required_argument, NULL, O_TT},
        {"valid-from", required_argument, NULL, O_VF}, {"valid-to", required_argument, NULL, O_VT},
        {"blas-threads", required_argument, NULL, O_BLAS},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    const char *db_path = NULL, *model = NULL, *kind = NULL, *k = NULL, *hyper = NULL,
               *columns = NULL, *tf = NULL, *tt = NULL, *vf = NULL, *vt = NULL;
    int excess = 0, constant = 0, blas = 0, opt, rc = 1;
    cli_progress progress = {{0, 0}};
    fd_train_hooks hooks = {cli_on_progress, NULL, &progress, 0};
    fd_train_windows w;
    json_t *windows, *decl = NULL, *version = NULL;
    fd_error err;
    fd_db *db = NULL;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
        switch (opt) {
        case 'h': fputs(train_usage, stdout); return 0;
        case O_DB: db_path = optarg; break;
        case O_MODEL: model = optarg; break;
        case O_KIND: kind = optarg; break;
        case O_K: k = optarg; break;
        case O_HYPER: hyper = optarg; break;
        case O_COLUMNS: columns = optarg; break;
        case O_EXCESS: excess = 1; break;
        case O_CONST: constant = 1; break;
        case O_TF: tf = optarg; break;
        case O_TT: tt = optarg; break;
        case O_VF: vf = optarg; break;
        case O_VT: vt = optarg; break;
        case O_BLAS: blas = atoi(optarg); break;
        default:
            fprintf(stderr, "factord train: unknown or incomplete option '%s'\n%s",
                    argv[optind - 1], train_usage);
            return 2;
        }
    }
    if (optind < argc || !db_path || !model || !tf || !tt || (!vf != !vt) || (!kind != !k)) {
        fputs(train_usage, stderr);
        return 2;
    }
    windows = json_pack("{s:{s:s,s:s}}", "train", "from", tf, "to", tt);
    if (vf) json_object_set_new(windows, "valid", json_pack("{s:s,s:s}", "from", vf, "to", vt));
    if (fd_train_windows_parse(windows, &w, &err) != 0) {
        fprintf(stderr, "factord train: %s\n", err.message);
        json_decref(windows);
        return 2;
    }
    json_decref(windows);
    if (kind && !(decl = declaration(model, kind, k, hyper, columns, excess, constant))) return 2;
    if (blas > 0) openblas_set_num_threads(blas);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (fd_db_open(db_path, &db, &err) != 0) {
        fprintf(stderr, "factord train: %s\n", err.message);
        goto out;
    }
    if (ensure_model(db, model, kind, k, decl) != 0) goto out;
    if (fd_train_run(db, model, &w, &hooks, &version, &err) != 0) {
        fprintf(stderr, "factord train: %s: %s\n", err.code, err.message);
        goto out;
    }
    {
        char *text = fd_json_dumps(version, JSON_INDENT(2));
        if (text) printf("%s\n", text);
        free(text);
    }
    rc = 0;
out:
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    fd_db_close(db);
    json_decref(decl);
    json_decref(version);
    return rc;
}
