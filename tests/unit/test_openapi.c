/* The API description (docs/openapi.json, embedded as served) and the router agree: every
 * route the daemon serves is described, every described operation is routed, and each
 * operation's x-factord-scope is the scope src/http/route_rules.c enforces. */
#include <ctype.h>
#include <jansson.h>
#include <string.h>

#include "../../src/http/policy.h"
#include "factord/router.h"
#include "factord/tokens.h"
#include "testlib.h"

extern const char fd_openapi_json[];
extern const size_t fd_openapi_json_len;

static json_t *spec(void) {
    json_error_t je;
    json_t *doc = json_loadb(fd_openapi_json, fd_openapi_json_len, 0, &je);
    if (!doc) tl_fail(__FILE__, __LINE__, "openapi.json line %d: %s", je.line, je.text);
    return doc;
}

static void lower(const char *in, char *out, size_t cap) {
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++) out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

static const char *scope_word(unsigned scope) { return scope ? fd_scope_name(scope) : "none"; }

TEST(the_description_is_openapi_3_1) {
    json_t *doc = spec();
    ASSERT(doc);
    ASSERT_STR_EQ(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    ASSERT(json_is_object(json_object_get(json_object_get(doc, "components"), "schemas")));
    json_decref(doc);
}

TEST(every_route_is_described_with_its_scope) {
    json_t *doc = spec(), *paths = json_object_get(doc, "paths");
    char method[16];
    ASSERT(doc);
    for (const fd_route *const *t = fd_route_tables; *t; t++)
        for (const fd_route *r = *t; r->method; r++) {
            const fd_route_rule *rule = fd_route_rule_for(r->method, r->pattern);
            json_t *o;
            lower(r->method, method, sizeof method);
            o = json_object_get(json_object_get(paths, r->pattern), method);
            if (!o) {
                tl_fail(__FILE__, __LINE__, "%s %s is routed but not in docs/openapi.json",
                        r->method, r->pattern);
                continue;
            }
            if (!rule ||
                strcmp(json_string_value(json_object_get(o, "x-factord-scope")) ?: "",
                       scope_word(rule->scope)) != 0)
                tl_fail(__FILE__, __LINE__, "%s %s: x-factord-scope %s, route_rules.c says %s",
                        r->method, r->pattern,
                        json_string_value(json_object_get(o, "x-factord-scope")),
                        rule ? scope_word(rule->scope) : "(no rule)");
        }
    json_decref(doc);
}

TEST(every_described_operation_is_routed) {
    json_t *doc = spec(), *item, *o;
    const char *path, *method;
    char upper[16];
    ASSERT(doc);
    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        json_object_foreach(item, method, o) {
            fd_route_match m;
            size_t i = 0;
            int status;
            for (; method[i] && i + 1 < sizeof upper; i++)
                upper[i] = (char)toupper((unsigned char)method[i]);
            upper[i] = '\0';
            /* The template itself is a path whose {x} segments fill the captures. */
            status = fd_router_match(fd_route_tables, upper, path, &m);
            if (status != 200 || strcmp(m.route->pattern, path) != 0)
                tl_fail(__FILE__, __LINE__, "%s %s is described but not routed", upper, path);
            fd_route_match_free(&m);
        }
    }
    json_decref(doc);
}

TEST_MAIN(T(the_description_is_openapi_3_1), T(every_route_is_described_with_its_scope),
          T(every_described_operation_is_routed))
