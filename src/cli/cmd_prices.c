/* `factord prices import|build`: daily bars into a database and monthly panels out of them,
 * without a daemon (the same store calls PUT /v1/prices and POST /v1/panels/build make).
 * Both print the same JSON counts the API answers. Gzip-compressed files (and standard
 * input) are decompressed in-process with zlib (factord/gzfile.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/build_job.h"
#include "factord/cli.h"
#include "factord/config.h"
#include "factord/gzfile.h"
#include "factord/json_write.h"
#include "factord/store_prices.h"

static const char prices_usage[] =
    "usage: factord prices import (--db PATH | --config FILE) FILE.csv[.gz] ...\n"
    "       factord prices build  (--db PATH | --config FILE) [--from YYYY-MM] [--to YYYY-MM]\n"
    "                             [--outliers cap|drop|keep] [--max-abs-ret X]\n"
    "\n"
    "import  upserts daily bars (CSV ticker,date,open,high,low,close,volume; '-' reads\n"
    "        stdin; gzip-compressed input is decompressed), each file visible all at once.\n"
    "build   builds the monthly panels (return and price/volume characteristics, see\n"
    "        docs/characteristics.md) of the months from..to (default: every stored month)\n"
    "        from the stored bars and replaces those months' panels.\n"
    "\n"
    "  --db PATH          SQLite database file\n"
    "  --config FILE      take the database path from a config file (db = ...)\n"
    "  --from, --to M     months to build (YYYY-MM)\n"
    "  --outliers ACTION  what a monthly return beyond the threshold becomes: cap (to\n"
    "                     +-X, the default), drop (missing) or keep; each one is counted\n"
    "                     and listed (docs/outliers.md)\n"
    "  --max-abs-ret X    the outlier threshold: |monthly return| > X (default 1 = 100%)\n"
    "  -h, --help         show this help\n";

/* Reads one file (plain, gzip-compressed or "-") into bars. */
static int read_bars(const char *path, fd_bars *bars, fd_error *err) {
    fd_error gz_err;
    FILE *in = fd_gzfile_open(path, &gz_err, err);
    if (!in) return -1;
    int rc = fd_bars_read_stream(bars, in, err);
    fclose(in);
    if (rc != 0 && gz_err.status) *err = gz_err; /* bad gzip explains what the parser saw */
    return rc;
}

static int print_json(json_t *doc) {
    char *text = doc ? fd_json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) {
        fputs("factord prices: out of memory\n", stderr);
        return 1;
    }
    puts(text);
    free(text);
    return 0;
}

static int import_files(fd_db *db, int n, char **paths) {
    for (int i = 0; i < n; i++) {
        fd_error err;
        fd_bars *bars = fd_bars_new();
        int rc = bars ? read_bars(paths[i], bars, &err)
                      : fd_error_set(&err, 500, "out_of_memory", "out of memory");
        if (rc == 0) rc = fd_store_prices_put(db, bars, &err);
        if (rc != 0) {
            fprintf(stderr, "factord prices import: %s: %s\n", paths[i], err.message);
            fd_bars_free(bars);
            return 1;
        }
        fd_bars_summary sum;
        fd_bars_summarize(bars, &sum);
        fd_bars_free(bars);
        json_t *doc = fd_bars_summary_json(&sum);
        if (doc) json_object_set_new(doc, "file", json_string(paths[i]));
        if (print_json(doc) != 0) return 1;
    }
    return 0;
}

int fd_cmd_prices(int argc, char **argv) {
    static const struct option options[] = {
        {"db", required_argument, NULL, 'd'},      {"config", required_argument, NULL, 'c'},
        {"from", required_argument, NULL, 'f'},    {"to", required_argument, NULL, 't'},
        {"max-abs-ret", required_argument, NULL, 'x'}, {"outliers", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db_path = NULL, *config_path = NULL, *action;
    const char *from = NULL, *to = NULL, *outliers = NULL, *threshold = NULL;
    fd_daily_opts opts;
    fd_config cfg;
    fd_error err;
    fd_db *db;
    int opt, rc;
    memset(&opts, 0, sizeof opts);
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(prices_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    action = argv[1];
    if (strcmp(action, "import") != 0 && strcmp(action, "build") != 0) {
        fprintf(stderr, "factord prices: unknown action '%s'\n%s", action, prices_usage);
        return 2;
    }
    opterr = 0;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
        if (opt == 'h') {
            fputs(prices_usage, stdout);
            return 0;
        }
        if (opt == 'd') db_path = optarg;
        else if (opt == 'c') config_path = optarg;
        else if (opt == 'f') from = optarg;
        else if (opt == 't') to = optarg;
        else if (opt == 'x') threshold = optarg;
        else if (opt == 'o') outliers = optarg;
        else {
            fprintf(stderr, "factord prices: unknown or incomplete option '%s'\n%s",
                    argv[optind - 1], prices_usage);
            return 2;
        }
    }
    /* The parser the API and the build job use (factord/build_job.h). */
    if (fd_build_params_parse(from, to, outliers, threshold, &opts, &err) != 0) {
        fprintf(stderr, "factord prices: %s\n", err.message);
        return 2;
    }
    int is_import = strcmp(action, "import") == 0;
    if ((!db_path && !config_path) || (is_import && optind >= argc) ||
        (!is_import && optind < argc)) {
        fputs(prices_usage, stderr);
        return 2;
    }
    fd_config_defaults(&cfg);
    if (config_path && fd_config_load(&cfg, config_path, &err) != 0) {
        fprintf(stderr, "factord prices: %s\n", err.message);
        return 1;
    }
    if (!db_path) db_path = cfg.db_path;
    if (fd_db_open(db_path, &db, &err) != 0) {
        fprintf(stderr, "factord prices: %s: %s\n", db_path, err.message);
        return 1;
    }
    if (is_import) {
        rc = import_files(db, argc - optind, argv + optind);
    } else {
        fd_daily_stats st;
        if (fd_store_panels_from_prices(db, &opts, NULL, &st, &err) != 0) {
            fprintf(stderr, "factord prices build: %s\n", err.message);
            rc = 1;
        } else {
            rc = print_json(fd_daily_stats_json(&st));
        }
        fd_daily_stats_free(&st);
    }
    fd_db_close(db);
    return rc;
}
