/* Config parsing: defaults, a good file, every kind of bad line naming its file:line and
 * key, all-or-nothing loading, overrides, sizes and reload diffs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factord/config.h"
#include "testlib.h"

static const char *write_file(const char *name, const char *text) {
    static char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", tl_tmpdir(), name);
    f = fopen(path, "w");
    if (!f) return NULL;
    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads text over the defaults; returns the rc and leaves the error in err. */
static int load_text(const char *text, fd_config *cfg, fd_error *err) {
    const char *path = write_file("factord.conf", text);
    fd_config_defaults(cfg);
    fd_error_clear(err);
    return path ? fd_config_load(cfg, path, err) : -1;
}

TEST(defaults_are_sane) {
    fd_config c;
    fd_config_defaults(&c);
    ASSERT_STR_EQ(c.listen_addr, "127.0.0.1");
    ASSERT_INT_EQ(c.port, 8080);
    ASSERT_STR_EQ(c.log_level, "info");
    ASSERT_INT_EQ(c.body_limit, 64 << 20);
    ASSERT(c.request_timeout > 0);
    ASSERT(c.worker_threads >= 1);
}

TEST(good_file_sets_every_key) {
    fd_config c;
    fd_error e;
    ASSERT_INT_EQ(load_text("# comment line\n"
                            "\n"
                            "listen = ::1\n"
                            "port=0\n"
                            "  db = /var/lib/factord/f.db   # trailing comment\n"
                            "log_level = debug\n"
                            "worker_threads = 8\n"
                            "body_limit = 2M\n"
                            "spool_limit = 3G\n"
                            "request_timeout = 2.5\n"
                            "blas_threads = 2\n"
                            "training_threads = 3\n",
                            &c, &e),
                  0);
    ASSERT_STR_EQ(c.listen_addr, "::1");
    ASSERT_INT_EQ(c.port, 0);
    ASSERT_STR_EQ(c.db_path, "/var/lib/factord/f.db");
    ASSERT_STR_EQ(c.log_level, "debug");
    ASSERT_INT_EQ(c.worker_threads, 8);
    ASSERT_INT_EQ(c.body_limit, 2 << 20);
    ASSERT_INT_EQ(c.spool_limit, 3ULL << 30);
    ASSERT_NEAR(c.request_timeout, 2.5, 0);
    ASSERT_INT_EQ(c.blas_threads, 2);
    ASSERT_INT_EQ(c.training_threads, 3);
}

/* Each bad line must be reported with file:line and the key, and leave cfg untouched. */
static void expect_bad(const char *text, const char *where, const char *key) {
    fd_config c, before;
    fd_error e;
    fd_config_defaults(&before);
    if (load_text(text, &c, &e) == 0) {
        tl_fail(__FILE__, __LINE__, "accepted: %s", text);
        return;
    }
    if (!strstr(e.message, where) || (key && !strstr(e.message, key)))
        tl_fail(__FILE__, __LINE__, "message '%s' should name '%s' and '%s'", e.message, where,
                key ? key : "");
    if (memcmp(&c, &before, sizeof c) != 0)
        tl_fail(__FILE__, __LINE__, "config changed by a failed load: %s", text);
    if (e.status != 400 || strcmp(e.code, "bad_config") != 0)
        tl_fail(__FILE__, __LINE__, "status %d code %s", e.status, e.code);
}

TEST(unknown_key_names_line) { expect_bad("port = 1\n\nprot = 2\n", "factord.conf:3", "prot"); }
TEST(missing_equals_names_line) { expect_bad("port 80\n", "factord.conf:1", NULL); }
TEST(empty_value_names_line) { expect_bad("# x\nlisten =\n", "factord.conf:2", "listen"); }
TEST(port_out_of_range) { expect_bad("port = 70000\n", "factord.conf:1", "port"); }
TEST(port_not_integer) { expect_bad("port = 80x\n", "factord.conf:1", "port"); }
TEST(bad_address) { expect_bad("listen = localhost\n", "factord.conf:1", "listen"); }
TEST(bad_log_level) { expect_bad("log_level = loud\n", "factord.conf:1", "log_level"); }
TEST(bad_size_suffix) { expect_bad("body_limit = 10X\n", "factord.conf:1", "body_limit"); }
TEST(size_too_small) { expect_bad("body_limit = 10\n", "factord.conf:1", "body_limit"); }
TEST(negative_timeout) { expect_bad("request_timeout = -1\n", "factord.conf:1", "request_timeout"); }
TEST(nan_timeout) { expect_bad("request_timeout = nan\n", "factord.conf:1", "request_timeout"); }
TEST(zero_workers) { expect_bad("worker_threads = 0\n", "factord.conf:1", "worker_threads"); }
TEST(duplicate_key_names_both_lines) {
    expect_bad("port = 1\nport = 2\n", "factord.conf:2", "line 1");
}
TEST(bad_line_after_good_ones_changes_nothing) {
    expect_bad("port = 9000\nlog_level = debug\nworkers = 3\n", "factord.conf:3", "workers");
}

TEST(missing_file_is_an_error) {
    fd_config c;
    fd_error e;
    fd_config_defaults(&c);
    ASSERT_INT_EQ(fd_config_load(&c, "/nonexistent/factord.conf", &e), -1);
    ASSERT(strstr(e.message, "/nonexistent/factord.conf") != NULL);
}

TEST(flag_overrides_file) {
    fd_config c;
    fd_error e;
    ASSERT_INT_EQ(load_text("port = 9000\nbody_limit = 1M\n", &c, &e), 0);
    ASSERT_INT_EQ(fd_config_set(&c, "port", "0", "--port", &e), 0);
    ASSERT_INT_EQ(fd_config_set(&c, "body_limit", "512k", "--body-limit", &e), 0);
    ASSERT_INT_EQ(c.port, 0);
    ASSERT_INT_EQ(c.body_limit, 512 * 1024);
    ASSERT_INT_EQ(fd_config_set(&c, "port", "-1", "--port", &e), -1);
    ASSERT(strstr(e.message, "--port") != NULL);
    ASSERT_INT_EQ(c.port, 0);
}

TEST(parse_size) {
    size_t v;
    ASSERT_INT_EQ(fd_config_parse_size("0", &v), 0);
    ASSERT_INT_EQ(v, 0);
    ASSERT_INT_EQ(fd_config_parse_size("1500", &v), 0);
    ASSERT_INT_EQ(v, 1500);
    ASSERT_INT_EQ(fd_config_parse_size("4k", &v), 0);
    ASSERT_INT_EQ(v, 4096);
    ASSERT_INT_EQ(fd_config_parse_size("4K", &v), 0);
    ASSERT_INT_EQ(v, 4096);
    ASSERT_INT_EQ(fd_config_parse_size("64M", &v), 0);
    ASSERT_INT_EQ(v, 64 << 20);
    ASSERT_INT_EQ(fd_config_parse_size("2G", &v), 0);
    ASSERT_INT_EQ(v, 2ULL << 30);
    ASSERT_INT_EQ(fd_config_parse_size("", &v), -1);
    ASSERT_INT_EQ(fd_config_parse_size("-1", &v), -1);
    ASSERT_INT_EQ(fd_config_parse_size("1m", &v), -1);
    ASSERT_INT_EQ(fd_config_parse_size("1MB", &v), -1);
    ASSERT_INT_EQ(fd_config_parse_size("99999999999999999999", &v), -1);
    ASSERT_INT_EQ(fd_config_parse_size("99999999999G", &v), -1);
}

TEST(diff_separates_reloadable_from_restart_keys) {
    fd_config a, b;
    fd_error e;
    char names[256];
    fd_config_defaults(&a);
    b = a;
    ASSERT_INT_EQ(fd_config_diff(&a, &b, 1, names, sizeof names), 0);
    ASSERT_INT_EQ(fd_config_diff(&a, &b, 0, names, sizeof names), 0);
    ASSERT_INT_EQ(fd_config_set(&b, "log_level", "warn", "x", &e), 0);
    ASSERT_INT_EQ(fd_config_set(&b, "body_limit", "1M", "x", &e), 0);
    ASSERT_INT_EQ(fd_config_set(&b, "port", "9999", "x", &e), 0);
    ASSERT_INT_EQ(fd_config_set(&b, "listen", "::1", "x", &e), 0);
    ASSERT_INT_EQ(fd_config_diff(&a, &b, 1, names, sizeof names), 2);
    ASSERT_STR_EQ(names, "log_level, body_limit");
    ASSERT_INT_EQ(fd_config_diff(&a, &b, 0, names, sizeof names), 2);
    ASSERT_STR_EQ(names, "listen, port");
    fd_config_apply_reloadable(&a, &b);
    ASSERT_STR_EQ(a.log_level, "warn");
    ASSERT_INT_EQ(a.body_limit, 1 << 20);
    ASSERT_INT_EQ(a.port, 8080);
    ASSERT_STR_EQ(a.listen_addr, "127.0.0.1");
}

TEST(string_keys_compare_by_value) {
    fd_config a, b;
    fd_error e;
    char names[128];
    fd_config_defaults(&a);
    fd_config_defaults(&b);
    ASSERT_INT_EQ(fd_config_set(&a, "listen", "::1", "x", &e), 0);
    ASSERT_INT_EQ(fd_config_set(&b, "listen", "10.0.0.1", "x", &e), 0);
    ASSERT_INT_EQ(fd_config_set(&b, "listen", "::1", "x", &e), 0);
    ASSERT_INT_EQ(fd_config_diff(&a, &b, 0, names, sizeof names), 0);
}

TEST(policy_keys_parse_and_validate) {
    fd_config c;
    fd_error e;
    ASSERT_INT_EQ(load_text("auth = required\n"
                            "allowed_hosts = factord.internal, 10.0.0.5, ::1\n"
                            "cors_origins = https://dash.example, http://localhost:3000\n"
                            "log_format = json\n",
                            &c, &e),
                  0);
    ASSERT(fd_config_auth_required(&c));
    ASSERT_STR_EQ(c.allowed_hosts, "factord.internal, 10.0.0.5, ::1");
    ASSERT_STR_EQ(c.cors_origins, "https://dash.example, http://localhost:3000");
    ASSERT_STR_EQ(c.log_format, "json");
    ASSERT_INT_EQ(load_text("auth = yes\n", &c, &e), -1);
    ASSERT(strstr(e.message, "factord.conf:1: auth: 'yes' is not one of required|off"));
    ASSERT_INT_EQ(load_text("auth = requiredx\n", &c, &e), -1);
    ASSERT_INT_EQ(load_text("log_format = tex\n", &c, &e), -1);
    ASSERT_INT_EQ(load_text("cors_origins = https://ok.example, dash.example\n", &c, &e), -1);
    ASSERT(strstr(e.message, "cors_origins: item 2 'dash.example' is not an origin"));
    ASSERT_INT_EQ(load_text("cors_origins = https://ok.example/path\n", &c, &e), -1);
    ASSERT_INT_EQ(load_text("allowed_hosts = good, ba d\n", &c, &e), -1);
    ASSERT(strstr(e.message, "allowed_hosts: item 2"));
    ASSERT_INT_EQ(load_text("allowed_hosts = a,,b\n", &c, &e), -1);
}

TEST(non_loopback_listen_needs_auth) {
    fd_config c;
    fd_error e;
    fd_config_defaults(&c);
    ASSERT_STR_EQ(c.auth, "off");
    ASSERT_INT_EQ(fd_config_check(&c, &e), 0);
    ASSERT(fd_config_is_loopback("127.0.0.1"));
    ASSERT(fd_config_is_loopback("127.8.9.10"));
    ASSERT(fd_config_is_loopback("::1"));
    ASSERT(fd_config_is_loopback("::ffff:127.0.0.1"));
    ASSERT(!fd_config_is_loopback("0.0.0.0"));
    ASSERT(!fd_config_is_loopback("::"));
    ASSERT(!fd_config_is_loopback("10.0.0.1"));
    ASSERT(!fd_config_is_loopback("::ffff:10.0.0.1"));
    snprintf(c.listen_addr, sizeof c.listen_addr, "0.0.0.0");
    ASSERT_INT_EQ(fd_config_check(&c, &e), -1);
    ASSERT(strstr(e.message, "auth must be 'required'"));
    snprintf(c.auth, sizeof c.auth, "required");
    ASSERT_INT_EQ(fd_config_check(&c, &e), 0);
}

TEST_MAIN(T(defaults_are_sane), T(good_file_sets_every_key), T(unknown_key_names_line),
          T(missing_equals_names_line), T(empty_value_names_line), T(port_out_of_range),
          T(port_not_integer), T(bad_address), T(bad_log_level), T(bad_size_suffix),
          T(size_too_small), T(negative_timeout), T(nan_timeout), T(zero_workers),
          T(duplicate_key_names_both_lines), T(bad_line_after_good_ones_changes_nothing),
          T(missing_file_is_an_error), T(flag_overrides_file), T(parse_size),
          T(diff_separates_reloadable_from_restart_keys), T(string_keys_compare_by_value),
          T(policy_keys_parse_and_validate), T(non_loopback_listen_needs_auth))
