/* `factord artifact export|import|inspect`: version artifacts (artifact.h) from the command
 * line, against a database that a daemon may be serving meanwhile. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/artifact.h"
#include "factord/cli.h"
#include "factord/registry.h"
#include "factord/tokens.h"

static const char artifact_usage[] =
    "usage: factord artifact export --db PATH --model NAME [--version V] [--out FILE]\n"
    "       factord artifact import --db PATH [--model NAME] FILE\n"
    "       factord artifact inspect FILE\n"
    "\n"
    "export writes a model version (a number, a label or latest, the default) as one\n"
    "self-describing file (docs/artifacts.md): spec, data window, weights, fit statistics,\n"
    "factor history and a SHA-256 checksum; to FILE, or stdout without --out. import checks\n"
    "the file (checksum, format, that the weights load) and stores it as the next version of\n"
    "NAME (default: the model the artifact names, declared if absent); nothing is stored\n"
    "when a check fails. inspect checks a file and prints its header as JSON. Exit status 0,\n"
    "1 on failure, 2 on usage.\n"
    "\n"
    "  --db PATH       SQLite database file\n"
    "  --model NAME    the model to export from or import into\n"
    "  --version V     version number, label or latest (export)\n"
    "  --out FILE      where export writes (default stdout)\n"
    "  -h, --help      show this help\n";

static int read_file(const char *path, char **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    size_t cap = 1 << 16, n = 0;
    char *buf = f ? malloc(cap) : NULL;
    while (buf && !feof(f)) {
        if (n == cap) {
            char *grown = realloc(buf, cap *= 2);
            if (!grown) break;
            buf = grown;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (ferror(f)) break;
    }
    if (!f || !buf || ferror(f) || !feof(f)) {
        fprintf(stderr, "factord artifact: %s: %s\n", path, f ? "read error" : strerror(errno));
        if (f) fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    *data = buf;
    *len = n;
    return 0;
}

static int write_out(const char *path, const void *data, size_t len) {
    FILE *f = path ? fopen(path, "wb") : stdout;
    int ok = f && fwrite(data, 1, len, f) == len;
    if (path && f && fclose(f) != 0) ok = 0;
    if (!path && fflush(stdout) != 0) ok = 0;
    if (!ok) fprintf(stderr, "factord artifact: writing %s failed\n", path ? path : "stdout");
    return ok ? 0 : -1;
}

int fd_cmd_artifact(int argc, char **argv) {
    static const struct option options[] = {
        {"db", required_argument, NULL, 'd'},  {"model", required_argument, NULL, 'm'},
        {"version", required_argument, NULL, 'v'}, {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
    };
    const char *action = argc > 1 ? argv[1] : "", *db_path = NULL, *model = NULL;
    const char *ref = NULL, *out_path = NULL;
    fd_error err;
    fd_db *db = NULL;
    int opt, rc = 1, v;
    if (!strcmp(action, "-h") || !strcmp(action, "--help")) {
        fputs(artifact_usage, stdout);
        return 0;
    }
    if (strcmp(action, "export") && strcmp(action, "import") && strcmp(action, "inspect")) {
        fprintf(stderr, "factord artifact: expected export, import or inspect\n%s",
                artifact_usage);
        return 2;
    }
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc - 1, argv + 1, "+h", options, NULL)) != -1) {
        switch (opt) {
        case 'h': fputs(artifact_usage, stdout); return 0;
        case 'd': db_path = optarg; break;
        case 'm': model = optarg; break;
        case 'v': ref = optarg; break;
        case 'o': out_path = optarg; break;
        default:
            fprintf(stderr, "factord artifact: unknown or incomplete option '%s'\n%s",
                    argv[optind], artifact_usage); /* argv[optind] of the shifted argv + 1 */
            return 2;
        }
    }
    argc--, argv++;
    if (!strcmp(action, "inspect") || !strcmp(action, "import")) {
        char *data;
        size_t len;
        json_t *header;
        if (optind + 1 != argc || (!strcmp(action, "import") && !db_path)) {
            fprintf(stderr, "factord artifact %s: give %sone FILE\n%s", action,
                    strcmp(action, "import") ? "" : "--db and ", artifact_usage);
            return 2;
        }
        if (read_file(argv[optind], &data, &len) != 0) return 1;
        if (!strcmp(action, "inspect")) {
            if (fd_artifact_inspect(data, len, &header, &err) == 0) {
                char *text = json_dumps(header, JSON_INDENT(2));
                printf("%s\n", text ? text : "{}");
                free(text);
                json_decref(header);
                rc = 0;
            }
        } else if (fd_crypto_init(&err) == 0 && fd_db_open(db_path, &db, &err) == 0 &&
                   fd_artifact_import(db, model, data, len, &v, &err) == 0) {
            fprintf(stderr, "imported %s as version %d of %s\n", argv[optind], v,
                    model ? model : "the model it names");
            printf("%d\n", v);
            rc = 0;
        }
        free(data);
    } else {
        void *data = NULL;
        size_t len = 0;
        if (optind != argc || !db_path || !model) {
            fprintf(stderr, "factord artifact export: --db and --model are required\n%s",
                    artifact_usage);
            return 2;
        }
        if (fd_db_open(db_path, &db, &err) == 0 &&
            fd_registry_resolve(db, model, ref, &v, &err) == 0 &&
            fd_artifact_export(db, model, v, &data, &len, &err) == 0) {
            rc = write_out(out_path, data, len) == 0 ? 0 : 1;
            if (rc == 0) fprintf(stderr, "exported %s version %d (%zu bytes)\n", model, v, len);
            free(data);
            fd_db_close(db);
            return rc;
        }
    }
    if (rc != 0) fprintf(stderr, "factord artifact %s: %s\n", action, err.message);
    if (db) fd_db_close(db);
    return rc;
}
