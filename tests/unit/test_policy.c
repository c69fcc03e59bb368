/* The request policy's tables and rules: every route has one scope rule and every rule a
 * route, no write accepts what a cross-site form can send, Host and Origin matching, and
 * the checks in order (Host, OPTIONS, Origin, token, Content-Type). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../src/http/policy.h"
#include "../../src/http/server_internal.h"
#include "factord/auth.h"
#include "factord/config.h"
#include "factord/router.h"
#include "factord/tokens.h"
#include "testlib.h"

static int route_has_rule(const fd_route *r) { return fd_route_rule_for(r->method, r->pattern) != NULL; }

static int rule_has_route(const fd_route_rule *rule) {
    const fd_route *const *t;
    for (t = fd_route_tables; *t; t++)
        for (const fd_route *r = *t; r->method; r++)
            if (!strcmp(r->method, rule->method) && !strcmp(r->pattern, rule->pattern)) return 1;
    for (const fd_route *r = fd_routes_debug; r->method; r++)
        if (!strcmp(r->method, rule->method) && !strcmp(r->pattern, rule->pattern)) return 1;
    return 0;
}

TEST(every_route_has_exactly_one_rule) {
    for (const fd_route *const *t = fd_route_tables; *t; t++)
        for (const fd_route *r = *t; r->method; r++) {
            int n = 0;
            for (const fd_route_rule *rule = fd_route_rules; rule->method; rule++)
                n += !strcmp(rule->method, r->method) && !strcmp(rule->pattern, r->pattern);
            if (n != 1) tl_fail(__FILE__, __LINE__, "%s %s has %d rules", r->method, r->pattern, n);
        }
    for (const fd_route *r = fd_routes_debug; r->method; r++) ASSERT(route_has_rule(r));
}

TEST(every_rule_names_a_route) {
    for (const fd_route_rule *rule = fd_route_rules; rule->method; rule++)
        if (!rule_has_route(rule))
            tl_fail(__FILE__, __LINE__, "rule %s %s has no route", rule->method, rule->pattern);
}

/* Open: the probes, the API description and the dashboard's static files (which hold no
 * data; the page sends the user's token on its API calls). */
TEST(open_routes_are_the_probes_and_static_files_alone) {
    for (const fd_route_rule *rule = fd_route_rules; rule->method; rule++) {
        if (rule->scope) continue;
        ASSERT_STR_EQ(rule->method, "GET");
        ASSERT(!strcmp(rule->pattern, "/livez") || !strcmp(rule->pattern, "/readyz") ||
               !strcmp(rule->pattern, "/openapi.json") || !strcmp(rule->pattern, "/ui") ||
               !strcmp(rule->pattern, "/ui/") || !strcmp(rule->pattern, "/ui/{file}"));
    }
}

TEST(writes_take_no_type_a_cross_site_form_can_send) {
    static const char *const simple[] = {"text/plain", "application/x-www-form-urlencoded",
                                         "multipart/form-data"};
    for (const fd_route_rule *rule = fd_route_rules; rule->method; rule++) {
        int body = !strcmp(rule->method, "POST") || !strcmp(rule->method, "PUT");
        if (!rule->content_types) {
            /* Only the debug routes (off in production) leave bodies unchecked. */
            if (body) ASSERT(strncmp(rule->pattern, "/v1/debug/", 10) == 0);
            continue;
        }
        ASSERT(body);
        for (size_t i = 0; i < 3; i++) ASSERT(strstr(rule->content_types, simple[i]) == NULL);
    }
}

/* --- the checks, driven through fd_policy_check --- */

typedef struct fake_request {
    const char *names[8], *values[8];
    int n;
} fake_request;

static const char *fake_header(void *ctx, const char *name) {
    fake_request *f = ctx;
    for (int i = 0; i < f->n; i++)
        if (strcasecmp(f->names[i], name) == 0) return f->values[i];
    return NULL;
}

static void add(fake_request *f, const char *name, const char *value) {
    f->names[f->n] = name;
    f->values[f->n++] = value;
}

/* Runs the policy on method + path of the daemon's own tables; returns the status (0 to go
 * on) and leaves the answer in resp (the caller releases it). */
static int check(fd_app *app, const char *method, const char *path, fake_request *f,
                 int has_body, fd_response *resp, char who[65]) {
    fd_route_match m;
    int status = fd_router_match_app(method, path, &m);
    fd_policy_in in = {method, path, status, m.route, m.allow, has_body, fake_header, f};
    int rc;
    memset(resp, 0, sizeof *resp);
    rc = fd_policy_check(app, &in, resp, who);
    fd_route_match_free(&m);
    return rc;
}

static const char *error_code(const fd_response *resp, char *out, size_t cap) {
    json_t *doc = resp->body ? json_loads(resp->body, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(json_object_get(doc, "error"), "code"));
    snprintf(out, cap, "%s", code ? code : "");
    json_decref(doc);
    return out;
}

TEST(host_allowlist_names_ports_and_brackets) {
    fd_config c;
    fd_config_defaults(&c);
    ASSERT(fd_policy_host_allowed(&c, "localhost", 9));
    ASSERT(fd_policy_host_allowed(&c, "LocalHost", 9));
    ASSERT(fd_policy_host_allowed(&c, "localhost.", 10));
    ASSERT(fd_policy_host_allowed(&c, "::1", 3));
    ASSERT(fd_policy_host_allowed(&c, "127.0.0.1", 9));
    ASSERT(!fd_policy_host_allowed(&c, "127.0.0.2", 9));
    ASSERT(!fd_policy_host_allowed(&c, "localhostx", 10));
    ASSERT(!fd_policy_host_allowed(&c, "evil.example", 12));
    snprintf(c.listen_addr, sizeof c.listen_addr, "10.1.2.3");
    ASSERT(fd_policy_host_allowed(&c, "10.1.2.3", 8)); /* the listen address itself */
    snprintf(c.listen_addr, sizeof c.listen_addr, "0.0.0.0");
    ASSERT(!fd_policy_host_allowed(&c, "0.0.0.0", 7)); /* but not a wildcard */
    snprintf(c.allowed_hosts, sizeof c.allowed_hosts, "api.internal, [fd00::1]");
    ASSERT(fd_policy_host_allowed(&c, "api.internal", 12));
    ASSERT(fd_policy_host_allowed(&c, "fd00::1", 7));
    ASSERT(!fd_policy_host_allowed(&c, "localhost", 9));
    snprintf(c.allowed_hosts, sizeof c.allowed_hosts, "*");
    ASSERT(fd_policy_host_allowed(&c, "anything.example", 16));
}

TEST(origins_match_whole_entries) {
    fd_config c;
    fd_config_defaults(&c);
    ASSERT(!fd_policy_origin_allowed(&c, "https://dash.example"));
    snprintf(c.cors_origins, sizeof c.cors_origins, "https://dash.example, http://localhost:3000");
    ASSERT(fd_policy_origin_allowed(&c, "https://dash.example"));
    ASSERT(fd_policy_origin_allowed(&c, "http://localhost:3000"));
    ASSERT(!fd_policy_origin_allowed(&c, "http://localhost:3001"));
    ASSERT(!fd_policy_origin_allowed(&c, "https://dash.example.evil"));
    ASSERT(!fd_policy_origin_allowed(&c, "null"));
    ASSERT(!fd_policy_origin_allowed(&c, NULL));
}

TEST(checks_run_host_then_origin_then_token_then_type) {
    fd_app app;
    fd_response resp;
    fd_error err;
    fd_db *db;
    char path[600], token[FD_TOKEN_LEN + 1], who[65], code[40], auth[FD_TOKEN_LEN + 16];
    fake_request f = {{0}, {0}, 0};
    memset(&app, 0, sizeof app);
    fd_config_defaults(&app.cfg);
    snprintf(path, sizeof path, "%s/policy.db", tl_tmpdir());
    ASSERT_INT_EQ(fd_db_open(path, &db, &err), 0);
    ASSERT_INT_EQ(fd_store_token_create(db, "reader", FD_SCOPE_READ, token, NULL, &err), 0);
    ASSERT_INT_EQ(fd_auth_create(&app.auth, &err), 0);
    ASSERT_INT_EQ(fd_auth_refresh(app.auth, db, 0, NULL, &err), 0);
    snprintf(auth, sizeof auth, "Bearer %s", token);

    /* auth off: a plain write with the right type goes on. */
    add(&f, "Host", "localhost:8080");
    add(&f, "Content-Type", "text/csv; charset=utf-8");
    ASSERT_INT_EQ(check(&app, "PUT", "/v1/panels/2020-01", &f, 1, &resp, who), 0);
    fd_response_release(&resp);
    /* Content-Type text/plain: 415. */
    f.values[1] = "text/plain";
    ASSERT_INT_EQ(check(&app, "PUT", "/v1/panels/2020-01", &f, 1, &resp, who), 415);
    ASSERT_STR_EQ(error_code(&resp, code, sizeof code), "unsupported_media_type");
    fd_response_release(&resp);
    /* A bodyless POST may omit it; one with a body may not. */
    f.n = 1;
    ASSERT_INT_EQ(check(&app, "POST", "/v1/models/m/versions/1/retire", &f, 0, &resp, who), 0);
    fd_response_release(&resp);
    ASSERT_INT_EQ(check(&app, "POST", "/v1/models/m/versions/1/retire", &f, 1, &resp, who), 415);
    fd_response_release(&resp);

    /* auth required: no token 401, a reader's token opens GETs only. */
    snprintf(app.cfg.auth, sizeof app.cfg.auth, "required");
    ASSERT_INT_EQ(check(&app, "GET", "/v1/panels", &f, 0, &resp, who), 401);
    ASSERT_STR_EQ(fd_response_get_header(&resp, "WWW-Authenticate"), "Bearer realm=\"factord\"");
    fd_response_release(&resp);
    ASSERT_INT_EQ(check(&app, "GET", "/livez", &f, 0, &resp, who), 0);
    fd_response_release(&resp);
    add(&f, "Authorization", auth);
    ASSERT_INT_EQ(check(&app, "GET", "/v1/panels", &f, 0, &resp, who), 0);
    ASSERT_STR_EQ(who, "reader");
    fd_response_release(&resp);
    ASSERT_INT_EQ(check(&app, "DELETE", "/v1/panels/2020-01", &f, 0, &resp, who), 403);
    ASSERT_STR_EQ(error_code(&resp, code, sizeof code), "insufficient_scope");
    ASSERT(strstr(fd_response_get_header(&resp, "WWW-Authenticate"), "scope=\"ingest\""));
    fd_response_release(&resp);
    /* A bad Host is refused before anything else, even with a good token. */
    f.values[0] = "evil.example";
    ASSERT_INT_EQ(check(&app, "GET", "/v1/panels", &f, 0, &resp, who), 421);
    fd_response_release(&resp);
    f.values[0] = "localhost";
    /* A cross-origin write is refused before the token is looked at. */
    add(&f, "Origin", "https://evil.example");
    ASSERT_INT_EQ(check(&app, "DELETE", "/v1/panels/2020-01", &f, 0, &resp, who), 403);
    ASSERT_STR_EQ(error_code(&resp, code, sizeof code), "origin_not_allowed");
    fd_response_release(&resp);
    /* A page the daemon served itself (Origin = the Host) may write. */
    f.values[f.n - 1] = "http://localhost";
    ASSERT_INT_EQ(check(&app, "DELETE", "/v1/panels/2020-01", &f, 0, &resp, who), 403);
    ASSERT_STR_EQ(error_code(&resp, code, sizeof code), "insufficient_scope");
    fd_response_release(&resp);
    /* Revoked: 401 once the snapshot is refreshed. */
    ASSERT_INT_EQ(fd_store_token_revoke(db, "reader", &err), 0);
    ASSERT_INT_EQ(fd_auth_refresh(app.auth, db, 0, NULL, &err), 0);
    ASSERT_INT_EQ(check(&app, "GET", "/v1/panels", &f, 0, &resp, who), 401);
    ASSERT_STR_EQ(error_code(&resp, code, sizeof code), "invalid_token");
    fd_response_release(&resp);
    /* 404 and 405 are left to the server. */
    ASSERT_INT_EQ(check(&app, "GET", "/v1/nothing", &f, 0, &resp, who), 0);
    ASSERT_INT_EQ(check(&app, "PATCH", "/v1/panels", &f, 0, &resp, who), 0);
    fd_auth_destroy(app.auth);
    fd_db_close(db);
}

TEST(preflight_answers_from_the_allowlist_without_a_token) {
    fd_app app;
    fd_response resp;
    char who[65];
    fake_request f = {{0}, {0}, 0};
    memset(&app, 0, sizeof app);
    fd_config_defaults(&app.cfg);
    snprintf(app.cfg.auth, sizeof app.cfg.auth, "required");
    snprintf(app.cfg.cors_origins, sizeof app.cfg.cors_origins, "https://dash.example");
    add(&f, "Origin", "https://dash.example");
    add(&f, "Access-Control-Request-Method", "PUT");
    ASSERT_INT_EQ(check(&app, "OPTIONS", "/v1/panels/2020-01", &f, 0, &resp, who), 204);
    ASSERT(strstr(fd_response_get_header(&resp, "Access-Control-Allow-Methods"), "PUT"));
    ASSERT(strstr(fd_response_get_header(&resp, "Access-Control-Allow-Headers"), "Authorization"));
    fd_response_release(&resp);
    fd_policy_decorate(&app.cfg, "https://dash.example", &resp);
    ASSERT_STR_EQ(fd_response_get_header(&resp, "Access-Control-Allow-Origin"),
                  "https://dash.example");
    ASSERT_STR_EQ(fd_response_get_header(&resp, "Vary"), "Origin");
    fd_response_release(&resp);
    f.values[0] = "https://other.example";
    ASSERT_INT_EQ(check(&app, "OPTIONS", "/v1/panels/2020-01", &f, 0, &resp, who), 403);
    fd_response_release(&resp);
    fd_policy_decorate(&app.cfg, "https://other.example", &resp);
    ASSERT(fd_response_get_header(&resp, "Access-Control-Allow-Origin") == NULL);
    fd_response_release(&resp);
    /* A plain OPTIONS lists the methods. */
    f.n = 0;
    ASSERT_INT_EQ(check(&app, "OPTIONS", "/v1/panels/2020-01", &f, 0, &resp, who), 204);
    ASSERT(strstr(fd_response_get_header(&resp, "Allow"), "DELETE"));
    fd_response_release(&resp);
}

TEST_MAIN(T(every_route_has_exactly_one_rule), T(every_rule_names_a_route),
          T(open_routes_are_the_probes_and_static_files_alone), T(writes_take_no_type_a_cross_site_form_can_send),
          T(host_allowlist_names_ports_and_brackets), T(origins_match_whole_entries),
          T(checks_run_host_then_origin_then_token_then_type),
          T(preflight_answers_from_the_allowlist_without_a_token))
