/* The request policy: Host, CORS, Origin, bearer tokens and Content-Type (policy.h). */
#include "policy.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "factord/auth.h"
#include "factord/config.h"
#include "factord/tokens.h"

/* What a preflight may ask to send, and what a cross-origin page may read. */
#define CORS_ALLOW_HEADERS \
    "Authorization, Content-Type, Accept, If-None-Match, X-Request-Id, Idempotency-Key"
#define CORS_EXPOSE_HEADERS                                                                 \
    "X-Request-Id, ETag, Location, WWW-Authenticate, X-Factord-Model, X-Factord-Version, " \
    "X-Factord-Label, X-Factord-Month, X-Factord-Forecast-Month, X-Factord-Lambda-Estimator, " \
    "X-Factord-Lambda-Months"
#define CORS_MAX_AGE "600"

/* Calls fn(item, len, ud) for each trimmed item of a comma-separated list until fn returns
 * non-zero; returns that value, or 0. */
static int list_any(const char *list, int (*fn)(const char *, size_t, const void *),
                    const void *ud) {
    for (const char *s = list; *s;) {
        size_t len = strcspn(s, ",");
        const char *a = s, *b = s + len;
        int rc;
        while (a < b && isspace((unsigned char)*a)) a++;
        while (b > a && isspace((unsigned char)b[-1])) b--;
        if (b > a && (rc = fn(a, (size_t)(b - a), ud)) != 0) return rc;
        s += len + (s[len] == ',');
    }
    return 0;
}

typedef struct span {
    const char *s;
    size_t len;
} span;

static int item_equals(const char *item, size_t len, const void *ud) {
    const span *want = ud;
    /* IPv6 items may be written with or without brackets. */
    if (len > 2 && item[0] == '[' && item[len - 1] == ']') item++, len -= 2;
    return (len == 1 && item[0] == '*') ||
           (len == want->len && strncasecmp(item, want->s, len) == 0);
}

static int is_wildcard_addr(const char *addr) {
    return strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0;
}

int fd_policy_host_allowed(const fd_config *cfg, const char *name, size_t len) {
    span want = {name, len};
    if (len > 1 && name[len - 1] == '.') want.len--; /* "localhost." is localhost */
    if (list_any(cfg->allowed_hosts, item_equals, &want)) return 1;
    return !is_wildcard_addr(cfg->listen_addr) && strlen(cfg->listen_addr) == want.len &&
           strncasecmp(cfg->listen_addr, name, want.len) == 0;
}

static int origin_equals(const char *item, size_t len, const void *ud) {
    const char *origin = ud;
    return strlen(origin) == len && strncasecmp(item, origin, len) == 0;
}

int fd_policy_origin_allowed(const fd_config *cfg, const char *origin) {
    return origin && *origin && list_any(cfg->cors_origins, origin_equals, origin);
}

/* The host part of a Host header value: "[::1]:8080" -> "::1", "a.b:80" -> "a.b". */
static span host_name(const char *host) {
    span out = {host, 0};
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        out.s = host + 1;
        out.len = close ? (size_t)(close - host - 1) : strlen(host + 1);
    } else {
        const char *colon = strchr(host, ':');
        /* More than one colon: an unbracketed IPv6 literal, taken whole. */
        out.len = colon && !strchr(colon + 1, ':') ? (size_t)(colon - host) : strlen(host);
    }
    return out;
}

/* 1 if origin ("http://host:port") names the Host the request was sent to: a page the
 * daemon itself served (same origin), whose Host has passed the allowlist already. */
static int same_origin(const char *origin, const char *host) {
    const char *sep = strstr(origin, "://");
    return sep && host && strcasecmp(sep + 3, host) == 0;
}

static int is_write(const char *method) {
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0 || strcmp(method, "DELETE") == 0;
}

static int has_request_body(const char *method) {
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0;
}

static int answer(fd_response *resp, int status, const char *code, const char *message) {
    fd_response_error(resp, status, code, "%s", message);
    return status;
}

/* OPTIONS on a known path: a CORS preflight or a plain question about the methods. */
static int answer_options(const fd_config *cfg, const fd_policy_in *in, fd_response *resp) {
    const char *origin = in->header(in->ctx, "Origin");
    const char *asked = in->header(in->ctx, "Access-Control-Request-Method");
    char allow[128];
    char msg[300];
    snprintf(allow, sizeof allow, "%s, OPTIONS", in->allow);
    if (origin && asked) {
        if (!fd_policy_origin_allowed(cfg, origin)) {
            snprintf(msg, sizeof msg,
                     cfg->cors_origins[0] ? "origin %.200s is not in cors_origins"
                                          : "cross-origin requests are off (cors_origins is not "
                                            "set); origin %.200s refused",
                     origin);
            return answer(resp, 403, "origin_not_allowed", msg);
        }
        resp->status = 204;
        fd_response_header(resp, "Access-Control-Allow-Methods", allow);
        fd_response_header(resp, "Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
        fd_response_header(resp, "Access-Control-Max-Age", CORS_MAX_AGE);
        return 204;
    }
    resp->status = 204;
    fd_response_header(resp, "Allow", allow);
    return 204;
}

static int check_token(fd_app *app, const fd_policy_in *in, unsigned scope, fd_response *resp,
                       char who[65]) {
    const char *authz = in->header(in->ctx, "Authorization");
    unsigned scopes = 0;
    char msg[200], challenge[160];
    fd_auth_result r =
        app->auth ? fd_auth_check(app->auth, authz, &scopes, who, 65) : FD_AUTH_UNKNOWN;
    switch (r) {
    case FD_AUTH_OK:
        break;
    case FD_AUTH_MISSING:
        answer(resp, 401, "unauthorized",
               "this server requires a bearer token: send Authorization: Bearer <token> "
               "(made with `factord token create`)");
        fd_response_header(resp, "WWW-Authenticate", "Bearer realm=\"factord\"");
        return 401;
    default:
        answer(resp, 401, "invalid_token",
               r == FD_AUTH_REVOKED   ? "the bearer token has been revoked"
               : r == FD_AUTH_MALFORMED ? "the Authorization header is not Bearer fdt_<id>_<secret>"
                                        : "the bearer token is not known to this server");
        fd_response_header(resp, "WWW-Authenticate",
                           "Bearer realm=\"factord\", error=\"invalid_token\"");
        return 401;
    }
    if ((scopes & scope) == scope) return 0;
    snprintf(msg, sizeof msg, "%s %s needs the %s scope, which token \"%s\" lacks", in->method,
             in->route->pattern, fd_scope_name(scope), who);
    answer(resp, 403, "insufficient_scope", msg);
    snprintf(challenge, sizeof challenge,
             "Bearer realm=\"factord\", error=\"insufficient_scope\", scope=\"%s\"",
             fd_scope_name(scope));
    fd_response_header(resp, "WWW-Authenticate", challenge);
    return 403;
}

/* 1 if the media type `type` is in the comma-separated `list`. */
static int type_listed(const char *list, const char *type) {
    span want = {type, strlen(type)};
    return want.len && list_any(list, item_equals, &want);
}

static int check_content_type(const fd_policy_in *in, const fd_route_rule *rule,
                              fd_response *resp) {
    const char *header = in->header(in->ctx, "Content-Type");
    char type[96], msg[300];
    if (!rule || !rule->content_types || !has_request_body(in->method)) return 0;
    fd_media_type(header ? header : "", type, sizeof type);
    if (!type[0] && !in->has_body) return 0;
    if (type[0] && type_listed(rule->content_types, type)) return 0;
    snprintf(msg, sizeof msg, "%s %s takes a body of type %s; %s%s%s", in->method,
             in->route->pattern, rule->content_types,
             type[0] ? "got \"" : "the request declares no Content-Type", type[0] ? type : "",
             type[0] ? "\"" : "");
    return answer(resp, 415, "unsupported_media_type", msg);
}

int fd_policy_check(fd_app *app, const fd_policy_in *in, fd_response *resp, char who[65]) {
    const fd_config *cfg = &app->cfg;
    const char *host = in->header(in->ctx, "Host");
    const char *origin = in->header(in->ctx, "Origin");
    const fd_route_rule *rule;
    char msg[400];
    who[0] = '\0';
    if (host) {
        span name = host_name(host);
        if (!fd_policy_host_allowed(cfg, name.s, name.len)) {
            snprintf(msg, sizeof msg,
                     "Host \"%.*s\" is not served here (allowed_hosts: %.200s)",
                     (int)(name.len > 100 ? 100 : name.len), name.s, cfg->allowed_hosts);
            return answer(resp, 421, "host_not_allowed", msg);
        }
    }
    if (strcmp(in->method, "OPTIONS") == 0 && in->route_status == 405)
        return answer_options(cfg, in, resp);
    if (in->route_status != 200) return 0; /* 404 and 405 are the server's to answer */
    if (is_write(in->method) && origin && !same_origin(origin, host) &&
        !fd_policy_origin_allowed(cfg, origin)) {
        snprintf(msg, sizeof msg, "cross-origin %s from %.200s refused (not in cors_origins)",
                 in->method, origin);
        return answer(resp, 403, "origin_not_allowed", msg);
    }
    rule = fd_route_rule_for(in->route->method, in->route->pattern);
    if (fd_config_auth_required(cfg) && (!rule || rule->scope)) {
        int status = check_token(app, in, rule ? rule->scope : FD_SCOPE_ADMIN, resp, who);
        if (status) return status;
    }
    return check_content_type(in, rule, resp);
}

void fd_policy_decorate(const fd_config *cfg, const char *origin, fd_response *resp) {
    if (!cfg->cors_origins[0]) return;
    fd_response_header(resp, "Vary", "Origin");
    if (!fd_policy_origin_allowed(cfg, origin)) return;
    fd_response_header(resp, "Access-Control-Allow-Origin", origin);
    fd_response_header(resp, "Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
}
