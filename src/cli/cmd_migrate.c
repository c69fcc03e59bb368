/* `factord migrate`: open the database, which applies the embedded migrations, and report
 * the schema version before and after. A database newer than the binary is refused. */
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "factord/cli.h"
#include "factord/config.h"
#include "factord/store.h"

static const char migrate_usage[] =
    "usage: factord migrate (--db PATH | --config FILE)\n"
    "\n"
    "Creates the database if needed, applies the migrations this binary carries and prints\n"
    "the schema version. Exits 1 if the database is newer than the binary.\n"
    "\n"
    "  --db PATH       SQLite database file\n"
    "  --config FILE   take the database path from a config file (db = ...)\n"
    "  -h, --help      show this help\n";

/* The version before migrating, read without creating the file; 0 if absent. */
static int version_on_disk(const char *path) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int version = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return version;
}

int fd_cmd_migrate(int argc, char **argv) {
    static const struct option options[] = {
        {"db", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db_path = NULL, *config_path = NULL;
    fd_config cfg;
    fd_error err;
    fd_db *db;
    int opt, before, after;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
        if (opt == 'h') {
            fputs(migrate_usage, stdout);
            return 0;
        }
        if (opt == 'd') db_path = optarg;
        else if (opt == 'c') config_path = optarg;
        else {
            fprintf(stderr, "factord migrate: unknown or incomplete option '%s'\n%s",
                    argv[optind - 1], migrate_usage);
            return 2;
        }
    }
    if (optind < argc || (!db_path && !config_path)) {
        fputs(migrate_usage, stderr);
        return 2;
    }
    fd_config_defaults(&cfg);
    if (config_path && fd_config_load(&cfg, config_path, &err) != 0) {
        fprintf(stderr, "factord migrate: %s\n", err.message);
        return 1;
    }
    if (!db_path) db_path = cfg.db_path;
    before = version_on_disk(db_path);
    if (fd_db_open(db_path, &db, &err) != 0) {
        fprintf(stderr, "factord migrate: %s: %s\n", db_path, err.message);
        return 1;
    }
    after = fd_db_schema_version(db);
    fd_db_close(db);
    if (before == after)
        printf("%s: schema version %d (up to date)\n", db_path, after);
    else
        printf("%s: schema version %d (migrated from %d)\n", db_path, after, before);
    return 0;
}
