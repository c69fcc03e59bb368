/* The access log: one line per completed request, at level info, as text or JSON
 * (log_format):
 *
 *   GET /v1/models?x=1 200 1532B 3.1ms client=127.0.0.1:50312 id=5e5e7baa-1 token=ci
 *   {"time":...,"level":"info","msg":"request","method":"GET","path":"/v1/models",
 *    "query":"x=1","status":200,"bytes":1532,"duration_ms":3.1,"client":"127.0.0.1:50312",
 *    "request_id":"5e5e7baa-1","token":"ci"}
 *
 * The path and query are written percent-encoded where they hold anything but printable
 * ASCII, so a line can never be forged by a client. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/log.h"
#include "factord/textbuf.h"
#include "server_internal.h"

/* Printable ASCII but space, '"' and '\\' kept; everything else %XX. */
static void encode(const char *s, char *out, size_t cap) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; s && *s && n + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%') {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    if (cap) out[n < cap ? n : cap - 1] = '\0';
}

/* Unreserved characters (RFC 3986) stay; every other byte is %XX. */
static void query_put(fd_textbuf *b, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == ',' || c == ':') {
            fd_textbuf_putc(b, (char)c);
        } else {
            fd_textbuf_putc(b, '%');
            fd_textbuf_putc(b, hex[c >> 4]);
            fd_textbuf_putc(b, hex[c & 15]);
        }
    }
}

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value) {
    fd_textbuf *b = cls;
    (void)kind;
    if (b->len) fd_textbuf_putc(b, '&');
    query_put(b, key);
    if (value) {
        fd_textbuf_putc(b, '=');
        query_put(b, value);
    }
    return b->len < 1024 ? MHD_YES : MHD_NO; /* a log line needs no more */
}

char *fd_access_query(struct MHD_Connection *connection) {
    fd_textbuf b;
    fd_textbuf_init(&b);
    MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, query_arg, &b);
    if (b.oom || !b.len) {
        fd_textbuf_free(&b);
        return NULL;
    }
    return b.data;
}

void fd_access_client(struct MHD_Connection *connection, char *out, size_t cap) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    char addr[INET6_ADDRSTRLEN];
    snprintf(out, cap, "-");
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
        if (inet_ntop(AF_INET, &v4->sin_addr, addr, sizeof addr))
            snprintf(out, cap, "%s:%u", addr, ntohs(v4->sin_port));
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
        if (inet_ntop(AF_INET6, &v6->sin6_addr, addr, sizeof addr))
            snprintf(out, cap, "[%s]:%u", addr, ntohs(v6->sin6_port));
    }
}

static void json_field(fd_textbuf *b, const char *key, const char *value) {
    if (b->len) fd_textbuf_putc(b, ',');
    fd_textbuf_json_string(b, key);
    fd_textbuf_putc(b, ':');
    fd_textbuf_json_string(b, value);
}

static void json_number(fd_textbuf *b, const char *key, double value) {
    fd_textbuf_putc(b, ',');
    fd_textbuf_json_string(b, key);
    fd_textbuf_putc(b, ':');
    fd_textbuf_num(b, value, "null");
}

void fd_access_log(const fd_access_entry *e) {
    char path[600], query[1200], text[2400];
    double ms = e->seconds * 1e3;
    if (!fd_log_enabled(FD_LOG_INFO)) return;
    encode(e->path, path, sizeof path);
    snprintf(query, sizeof query, "%s", e->query);
    snprintf(text, sizeof text, "%s %s%s%s %d %zuB %.1fms client=%s id=%s%s%s%s", e->method, path,
             query[0] ? "?" : "", query, e->status, e->bytes, ms, e->client, e->request_id,
             e->token[0] ? " token=" : "", e->token, e->note ? e->note : "");
    if (fd_log_is_json()) {
        fd_textbuf b;
        fd_textbuf_init(&b);
        json_field(&b, "method", e->method);
        json_field(&b, "path", path);
        json_field(&b, "query", query);
        json_number(&b, "status", e->status);
        json_number(&b, "bytes", (double)e->bytes);
        json_number(&b, "duration_ms", (double)(long long)(ms * 1000 + 0.5) / 1000);
        json_field(&b, "client", e->client);
        json_field(&b, "request_id", e->request_id);
        if (e->token[0]) json_field(&b, "token", e->token);
        if (e->note) json_field(&b, "note", e->note[0] == ' ' ? e->note + 1 : e->note);
        fd_log_event(FD_LOG_INFO, text, "request", b.oom ? NULL : b.data);
        fd_textbuf_free(&b);
    } else {
        fd_log_event(FD_LOG_INFO, text, "request", NULL);
    }
}
