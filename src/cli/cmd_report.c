/* `factord report`: the comparison tables of finished backtests (GET /v1/compare) from the
 * command line, as Markdown (default, stdout or DIR/report.md) or CSV (the long form on
 * stdout, or one wide file per table in DIR). Reads the database only; a daemon may be
 * serving it meanwhile. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "factord/cli.h"
#include "factord/report.h"
#include "factord/store_backtests.h"

static const char report_usage[] =
    "usage: factord report --db PATH --backtests ID,ID,... [--format md|csv] [--out DIR]\n"
    "                      [--strategy S] [--base ID] [--rows kind|name]\n"
    "\n"
    "Prints the out-of-sample comparison of finished backtests laid out like the seed\n"
    "study's tables (rows: model kinds, columns: K; one table per metric), the\n"
    "Jobson-Korkie-Memmel tests against the best backtest and the Spearman correlations of\n"
    "strategy returns: the tables GET /v1/compare serves. Exit status 0 on success, 1 on\n"
    "failure, 2 on usage.\n"
    "\n"
    "  --db PATH          SQLite database file (may be served by a running daemon)\n"
    "  --backtests LIST   comma-separated backtest ids or names\n"
    "  --format md|csv    Markdown (default) or CSV\n"
    "  --out DIR          write DIR/report.md, or one CSV per table (DIR/total_r.csv, ...,\n"
    "                     DIR/jk.csv, DIR/spearman.csv); default: stdout\n"
    "  --strategy S       series for the tests and correlations: ew_ls (default), ew_lo,\n"
    "                     vw_ls, vw_lo, each optionally with _net\n"
    "  --base ID          test against this backtest instead of the best\n"
    "  --rows kind|name   label rows by model kind (default) or backtest name\n"
    "  -h, --help         show this help\n";

static int write_file(const char *dir, const char *name, const fd_textbuf *b) {
    char path[4096];
    FILE *f;
    int ok;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(f = fopen(path, "w"))) {
        fprintf(stderr, "factord report: %s: %s\n", path, strerror(errno));
        return -1;
    }
    ok = fwrite(b->data ? b->data : "", 1, b->len, f) == b->len;
    if (fclose(f) != 0 || !ok) {
        fprintf(stderr, "factord report: writing %s failed\n", path);
        return -1;
    }
    return 0;
}

/* Writes the comparison in the asked format; 0 or -1 (message printed). */
static int emit(const json_t *cmp, int csv, const char *dir) {
    fd_textbuf b;
    int rc = 0;
    if (dir && mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "factord report: --out %s: %s\n", dir, strerror(errno));
        return -1;
    }
    if (csv && dir) {
        for (const char *const *t = fd_report_table_names(); *t && rc == 0; t++) {
            char name[64];
            fd_textbuf_init(&b);
            fd_report_csv_table(cmp, *t, &b, NULL);
            snprintf(name, sizeof name, "%s.csv", *t);
            rc = b.oom ? -1 : write_file(dir, name, &b);
            fd_textbuf_free(&b);
        }
        return rc;
    }
    fd_textbuf_init(&b);
    if (csv) fd_report_csv_long(cmp, &b);
    else fd_report_markdown(cmp, &b);
    if (b.oom) rc = -1;
    else if (dir) rc = write_file(dir, "report.md", &b);
    else if (fwrite(b.data ? b.data : "", 1, b.len, stdout) != b.len) rc = -1;
    fd_textbuf_free(&b);
    return rc;
}

int fd_cmd_report(int argc, char **argv) {
    enum { O_DB = 256, O_BACKTESTS, O_FORMAT, O_OUT, O_STRATEGY, O_BASE, O_ROWS };
    static const struct option options[] = {
        {"db", required_argument, NULL, O_DB},
        {"backtests", required_argument, NULL, O_BACKTESTS},
        {"format", required_argument, NULL, O_FORMAT}, {"out", required_argument, NULL, O_OUT},
        {"strategy", required_argument, NULL, O_STRATEGY},
        {"base", required_argument, NULL, O_BASE}, {"rows", required_argument, NULL, O_ROWS},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    const char *db_path = NULL, *list = NULL, *format = "md", *dir = NULL, *base = NULL,
               *rows = "kind";
    fd_compare_opts opts = {0};
    fd_report_entry *e = NULL;
    json_t *cmp = NULL;
    fd_error err;
    fd_db *db = NULL;
    size_t n = 0;
    int opt, rc = 1;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
        switch (opt) {
        case 'h': fputs(report_usage, stdout); return 0;
        case O_DB: db_path = optarg; break;
        case O_BACKTESTS: list = optarg; break;
        case O_FORMAT: format = optarg; break;
        case O_OUT: dir = optarg; break;
        case O_STRATEGY: opts.strategy = optarg; break;
        case O_BASE: base = optarg; break;
        case O_ROWS: rows = optarg; break;
        default:
            fprintf(stderr, "factord report: unknown or incomplete option '%s'\n%s",
                    argv[optind - 1], report_usage);
            return 2;
        }
    }
    if (optind < argc || !db_path || !list ||
        (strcmp(format, "md") != 0 && strcmp(format, "csv") != 0) ||
        (strcmp(rows, "kind") != 0 && strcmp(rows, "name") != 0)) {
        fputs(report_usage, stderr);
        return 2;
    }
    opts.rows_by_name = strcmp(rows, "name") == 0;
    /* Opening would create (and migrate) a missing file: a typo must not make a database. */
    if (access(db_path, R_OK) != 0) {
        fprintf(stderr, "factord report: --db %s: %s\n", db_path, strerror(errno));
        return 1;
    }
    if (fd_db_open(db_path, &db, &err) != 0 ||
        (base && fd_store_backtest_resolve(db, base, &opts.base, &err) != 0) ||
        fd_store_backtest_results(db, list, &e, &n, &err) != 0 ||
        fd_report_compare(e, n, &opts, &cmp, &err) != 0) {
        fprintf(stderr, "factord report: %s\n", err.message);
        goto out;
    }
    if (emit(cmp, strcmp(format, "csv") == 0, dir) == 0) rc = 0;
out:
    json_decref(cmp);
    for (size_t i = 0; i < n; i++) fd_report_entry_free(&e[i]);
    free(e);
    fd_db_close(db);
    return rc;
}
