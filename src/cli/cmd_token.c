/* `factord token create|list|revoke`: the API tokens of a database (tokens.h). Works beside
 * a running daemon, which notices the change within about a second (or at once on SIGHUP).
 * A new token is printed once, on stdout alone, and never stored in clear. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "factord/cli.h"
#include "factord/tokens.h"

static const char token_usage[] =
    "usage: factord token create --db PATH --name NAME --scopes LIST\n"
    "       factord token list   --db PATH [--json]\n"
    "       factord token revoke --db PATH ID|NAME\n"
    "\n"
    "Manages the bearer tokens a daemon with `auth = required` accepts. create prints the\n"
    "new token on stdout, the only time it is shown: the database keeps a keyed hash of it\n"
    "alone. Scopes (comma-separated): read (GET routes, POST .../score), ingest (data\n"
    "writes), train (declare and train models, import versions, backtests, cancel jobs),\n"
    "admin (labels, retire, delete models; implies the other three). A running daemon picks\n"
    "up created and revoked tokens within a second. Exit status 0, 1 on failure, 2 on usage.\n"
    "\n"
    "  --db PATH       SQLite database file (may be served by a running daemon)\n"
    "  --name NAME     a unique name for the token (A-Z a-z 0-9 _ . -, up to 64)\n"
    "  --scopes LIST   e.g. read or read,ingest or admin\n"
    "  --json          list as JSON instead of a table\n"
    "  -h, --help      show this help\n";

typedef struct token_args {
    const char *db, *name, *scopes;
    int json;
} token_args;

/* Returns 0, 1 for --help, 2 for a usage error (reported). */
static int parse_args(int argc, char **argv, token_args *a) {
    static const struct option options[] = {
        {"db", required_argument, NULL, 'd'},   {"name", required_argument, NULL, 'n'},
        {"scopes", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    int opt;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
        switch (opt) {
        case 'h': return 1;
        case 'd': a->db = optarg; break;
        case 'n': a->name = optarg; break;
        case 's': a->scopes = optarg; break;
        case 'j': a->json = 1; break;
        default:
            fprintf(stderr, "factord token: unknown or incomplete option '%s'\n%s",
                    argv[optind - 1], token_usage);
            return 2;
        }
    }
    if (!a->db) {
        fprintf(stderr, "factord token: --db is required\n%s", token_usage);
        return 2;
    }
    return 0;
}

static int token_create(fd_db *db, const token_args *a) {
    char token[FD_TOKEN_LEN + 1], scope_text[64];
    unsigned scopes;
    json_t *info = NULL;
    fd_error err;
    if (!a->name || !a->scopes) {
        fprintf(stderr, "factord token create: --name and --scopes are required\n");
        return 2;
    }
    if (fd_scopes_parse(a->scopes, &scopes, &err) != 0 ||
        fd_store_token_create(db, a->name, scopes, token, &info, &err) != 0) {
        fprintf(stderr, "factord token create: %s\n", err.message);
        return 1;
    }
    fd_scopes_format(scopes, scope_text, sizeof scope_text);
    printf("%s\n", token);
    fflush(stdout);
    fprintf(stderr, "created token %s (id %s, scopes %s); it is shown only this once\n",
            a->name, json_string_value(json_object_get(info, "id")), scope_text);
    json_decref(info);
    return 0;
}

static int token_list(fd_db *db, const token_args *a) {
    json_t *list, *t;
    fd_error err;
    size_t i;
    if (fd_store_token_list(db, &list, &err) != 0) {
        fprintf(stderr, "factord token list: %s\n", err.message);
        return 1;
    }
    if (a->json) {
        char *text = json_dumps(list, JSON_INDENT(2));
        printf("%s\n", text ? text : "[]");
        free(text);
        json_decref(list);
        return 0;
    }
    printf("%-16s  %-24s  %-22s  %-20s  %s\n", "ID", "NAME", "SCOPES", "CREATED", "REVOKED");
    json_array_foreach(list, i, t) {
        char scopes[64] = "";
        size_t j, used = 0;
        json_t *s;
        json_array_foreach(json_object_get(t, "scopes"), j, s)
            used += (size_t)snprintf(scopes + used, sizeof scopes - used, "%s%s", j ? "," : "",
                                     json_string_value(s));
        printf("%-16s  %-24s  %-22s  %-20s  %s\n", json_string_value(json_object_get(t, "id")),
               json_string_value(json_object_get(t, "name")), scopes,
               json_string_value(json_object_get(t, "created_at")),
               json_is_string(json_object_get(t, "revoked_at"))
                   ? json_string_value(json_object_get(t, "revoked_at"))
                   : "-");
    }
    json_decref(list);
    return 0;
}

static int token_revoke(fd_db *db, const char *which) {
    fd_error err;
    if (fd_store_token_revoke(db, which, &err) != 0) {
        fprintf(stderr, "factord token revoke: %s\n", err.message);
        return 1;
    }
    fprintf(stderr, "revoked token %s\n", which);
    return 0;
}

int fd_cmd_token(int argc, char **argv) {
    token_args a = {NULL, NULL, NULL, 0};
    const char *action = argc > 1 ? argv[1] : NULL;
    fd_error err;
    fd_db *db;
    int rc;
    if (action && (strcmp(action, "-h") == 0 || strcmp(action, "--help") == 0)) {
        fputs(token_usage, stdout);
        return 0;
    }
    if (!action || (strcmp(action, "create") && strcmp(action, "list") && strcmp(action, "revoke"))) {
        fprintf(stderr, "factord token: expected create, list or revoke\n%s", token_usage);
        return 2;
    }
    rc = parse_args(argc - 1, argv + 1, &a);
    if (rc == 1) {
        fputs(token_usage, stdout);
        return 0;
    }
    if (rc) return rc;
    if (strcmp(action, "revoke") == 0 ? optind + 2 != argc : optind + 1 != argc) {
        fprintf(stderr, "factord token %s: %s\n%s", action,
                strcmp(action, "revoke") == 0 ? "give exactly one token id or name"
                                              : "unexpected argument",
                token_usage);
        return 2;
    }
    if (fd_crypto_init(&err) != 0 || fd_db_open(a.db, &db, &err) != 0) {
        fprintf(stderr, "factord token: %s: %s\n", a.db, err.message);
        return 1;
    }
    if (strcmp(action, "create") == 0) rc = token_create(db, &a);
    else if (strcmp(action, "list") == 0) rc = token_list(db, &a);
    else rc = token_revoke(db, argv[optind + 1]);
    fd_db_close(db);
    return rc;
}
