/* `factord serve`: build the config (defaults, then the file, then flags), open the
 * database pool and run the HTTP server until SIGTERM has drained it. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "factord/app.h"
#include "factord/auth.h"
#include "factord/cli.h"
#include "factord/config.h"
#include "factord/jobs.h"
#include "factord/registry.h"
#include "factord/log.h"
#include "factord/membudget.h"
#include "factord/router.h"
#include "factord/server.h"
#include "factord/spool.h"

static const char serve_usage[] =
    "usage: factord serve [options]\n"
    "\n"
    "Runs the HTTP daemon until SIGTERM or SIGINT (drain, then exit 0); SIGHUP reloads\n"
    "the config file. Flags override the file; the file overrides the built-in defaults\n"
    "(see etc/factord.conf).\n"
    "\n"
    "  --config FILE       config file (key = value lines)\n"
    "  --listen ADDR       IPv4 or IPv6 address to listen on (default 127.0.0.1)\n"
    "  --port N            TCP port, 0 for an ephemeral one (default 8080)\n"
    "  --db PATH           SQLite database file (default factord.db)\n"
    "  --log-level L       debug, info, warn or error (default info)\n"
    "  --workers N         worker threads for requests (default 4)\n"
    "  --body-limit BYTES  largest request body, k/M/G suffixes allowed (default 64M)\n"
    "  --port-file PATH    write the bound port to PATH once listening\n"
    "  -h, --help          show this help\n";

#define MAX_OVERRIDES 16

/* Everything needed to rebuild the config, kept for SIGHUP. */
typedef struct serve_args {
    const char *config_path;
    const char *port_file;
    struct {
        const char *key, *value, *flag;
    } overrides[MAX_OVERRIDES];
    int n_overrides;
} serve_args;

static int build_config(void *ud, fd_config *out, fd_error *err) {
    serve_args *args = ud;
    fd_config cfg;
    fd_config_defaults(&cfg);
    if (args->config_path && fd_config_load(&cfg, args->config_path, err) != 0) return -1;
    for (int i = 0; i < args->n_overrides; i++)
        if (fd_config_set(&cfg, args->overrides[i].key, args->overrides[i].value,
                          args->overrides[i].flag, err) != 0)
            return -1;
    if (fd_config_check(&cfg, err) != 0) return -1;
    *out = cfg;
    return 0;
}

/* Returns 0, 1 for --help, or 2 for a usage error (already reported). */
static int parse_args(int argc, char **argv, serve_args *args) {
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},  {"listen", required_argument, NULL, 'l'},
        {"port", required_argument, NULL, 'p'},    {"db", required_argument, NULL, 'd'},
        {"log-level", required_argument, NULL, 'L'}, {"workers", required_argument, NULL, 'w'},
        {"body-limit", required_argument, NULL, 'b'}, {"port-file", required_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    /* Flag -> config key; the flag's own name is used in error messages. */
    static const struct { int opt; const char *key, *flag; } keyed[] = {
        {'l', "listen", "--listen"},       {'p', "port", "--port"},
        {'d', "db", "--db"},               {'L', "log_level", "--log-level"},
        {'w', "worker_threads", "--workers"}, {'b', "body_limit", "--body-limit"},
    };
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
        switch (opt) {
        case 'h': return 1;
        case 'c': args->config_path = optarg; continue;
        case 'P': args->port_file = optarg; continue;
        case '?':
            fprintf(stderr, "factord serve: unknown or incomplete option '%s'\n%s",
                    argv[optind - 1], serve_usage);
            return 2;
        default: break;
        }
        for (size_t i = 0; i < sizeof keyed / sizeof keyed[0]; i++) {
            if (keyed[i].opt != opt) continue;
            if (args->n_overrides == MAX_OVERRIDES) {
                fprintf(stderr, "factord serve: too many options\n");
                return 2;
            }
            args->overrides[args->n_overrides].key = keyed[i].key;
            args->overrides[args->n_overrides].flag = keyed[i].flag;
            args->overrides[args->n_overrides++].value = optarg;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "factord serve: unexpected argument '%s'\n%s", argv[optind], serve_usage);
        return 2;
    }
    return 0;
}

/* The token snapshot, loaded before the first request (the server keeps it fresh). */
static int open_auth(fd_app *app, fd_error *err) {
    fd_db *db;
    int rc;
    if (fd_auth_create(&app->auth, err) != 0) return -1;
    if (!(db = fd_app_db_acquire(app, err))) rc = -1;
    else rc = fd_auth_refresh(app->auth, db, 1, NULL, err);
    if (db) fd_app_db_release(app, db);
    if (rc != 0) {
        fd_auth_destroy(app->auth);
        app->auth = NULL;
        return -1;
    }
    if (fd_config_auth_required(&app->cfg))
        fd_info("auth required: %zu active API token(s)%s", fd_auth_active(app->auth),
                fd_auth_active(app->auth) ? "" : "; create one with `factord token create`");
    return 0;
}

/* Spool files a crash left behind (spool.h); the database is this process's now. */
static void sweep_spools(const fd_config *cfg) {
    size_t files;
    unsigned long long bytes;
    char dir[sizeof cfg->spool_dir + 16];
    fd_error err;
    if (fd_spool_sweep(cfg, &files, &bytes, &err) != 0)
        fd_warn("%s", err.message);
    else if (files)
        fd_info("removed %zu stale spool file(s), %llu bytes, from %s", files, bytes,
                fd_spool_dir(cfg, dir, sizeof dir));
}

int fd_cmd_serve(int argc, char **argv) {
    serve_args args;
    fd_server_opts opts;
    fd_app app;
    fd_error err;
    char threads[16];
    const char *debug = getenv("FACTORD_DEBUG_ROUTES");
    int rc;
    memset(&args, 0, sizeof args);
    memset(&app, 0, sizeof app);
    fd_server_defer_signals();
    fd_mem_install_jansson(); /* before any thread uses jansson */
    rc = parse_args(argc, argv, &args);
    if (rc == 1) {
        fputs(serve_usage, stdout);
        return 0;
    }
    if (rc != 0) return rc;
    if (build_config(&args, &app.cfg, &err) != 0) {
        fprintf(stderr, "factord serve: %s\n", err.message);
        return 1;
    }
    fd_server_apply_settings(&app.cfg);
    /* libuv sizes its threadpool from the environment on first use. */
    snprintf(threads, sizeof threads, "%d", app.cfg.worker_threads);
    setenv("UV_THREADPOOL_SIZE", threads, 1);
    signal(SIGPIPE, SIG_IGN);
    if (debug && strcmp(debug, "1") == 0) {
        fd_router_enable_debug(1);
        fd_warn("FACTORD_DEBUG_ROUTES=1: serving debug routes under /v1/debug/");
    }
    if (fd_db_pool_create(app.cfg.db_path, &app.db, &err) != 0) {
        fd_errorlog("cannot open the database %s: %s", app.cfg.db_path, err.message);
        return 1;
    }
    atomic_init(&app.draining, 0);
    sweep_spools(&app.cfg);
    if (open_auth(&app, &err) != 0) {
        fd_errorlog("%s", err.message);
        fd_db_pool_destroy(app.db);
        return 1;
    }
    /* Model versions in memory for serving (src/serving/registry.c), loaded on first use. */
    if (fd_registry_create((fd_registry **)&app.registry, &err) != 0) {
        fd_errorlog("%s", err.message);
        fd_auth_destroy(app.auth);
        fd_db_pool_destroy(app.db);
        return 1;
    }
    /* Training threads (src/jobs, engineer f): started once the store is open. */
    if (fd_jobs_start(&app, &err) != 0) fd_errorlog("training disabled: %s", err.message);
    opts.port_file = args.port_file;
    opts.reload = args.config_path ? build_config : NULL;
    opts.reload_ud = &args;
    rc = fd_server_run(&app, &opts, &err);
    if (rc != 0) fd_errorlog("%s", err.message);
    fd_jobs_stop(&app); /* running jobs go back to 'queued' for the next start (engineer f) */
    /* Joins the threadpool so nothing outlives main (and leak checkers see a clean exit);
     * a request abandoned at its deadline may still be scoring until then, holding a
     * version and a connection, so the registry and the pool go after it. */
    uv_library_shutdown();
    fd_auth_destroy(app.auth);
    fd_registry_destroy(app.registry);
    fd_db_pool_destroy(app.db);
    return rc == 0 ? 0 : 1;
}
