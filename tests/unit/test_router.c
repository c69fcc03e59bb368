/* Route matching: literal paths, {x} captures, 404 versus 405 with the Allow list, HEAD. */
#include <string.h>

#include "factord/router.h"
#include "testlib.h"

static void h_a(fd_request *req, fd_response *resp) { (void)req; (void)resp; }
static void h_b(fd_request *req, fd_response *resp) { (void)req; (void)resp; }

static const fd_route panels[] = {
    {"GET", "/v1/panels", h_a, 0},
    {"GET", "/v1/panels/{month}", h_a, 0},
    {"PUT", "/v1/panels/{month}", h_b, 0},
    {"DELETE", "/v1/panels/{month}", h_b, 0},
    {NULL, NULL, NULL, 0},
};
static const fd_route models[] = {
    {"GET", "/v1/models/{model}/versions/{version}", h_a, 0},
    {"POST", "/v1/models/{model}/train", h_b, 0},
    {NULL, NULL, NULL, 0},
};
static const fd_route *const tables[] = {panels, models, NULL};

TEST(literal_path_matches) {
    fd_route_match m;
    ASSERT_INT_EQ(fd_router_match(tables, "GET", "/v1/panels", &m), 200);
    ASSERT(m.route == &panels[0]);
    ASSERT_INT_EQ(m.n_params, 0);
    fd_route_match_free(&m);
}

TEST(capture_one_segment) {
    fd_route_match m;
    ASSERT_INT_EQ(fd_router_match(tables, "PUT", "/v1/panels/2020-01", &m), 200);
    ASSERT(m.route == &panels[2]);
    ASSERT_INT_EQ(m.n_params, 1);
    ASSERT_STR_EQ(m.params[0], "2020-01");
    fd_route_match_free(&m);
}

TEST(two_captures_in_order) {
    fd_route_match m;
    ASSERT_INT_EQ(fd_router_match(tables, "GET", "/v1/models/ipca5/versions/3", &m), 200);
    ASSERT(m.route == &models[0]);
    ASSERT_INT_EQ(m.n_params, 2);
    ASSERT_STR_EQ(m.params[0], "ipca5");
    ASSERT_STR_EQ(m.params[1], "3");
    fd_route_match_free(&m);
}

TEST(capture_does_not_span_slashes_or_match_empty) {
    fd_route_match m;
    ASSERT_INT_EQ(fd_router_match(tables, "GET", "/v1/panels/2020/01", &m), 404);
    ASSERT_INT_EQ(fd_router_match(tables, "GET", "/v1/panels/", &m), 404);
    ASSERT_INT_EQ(fd_router_match(tables, "POST", "/v1/models//train", &m), 404);
}

TEST(unknown_path_is_404) {
    fd_route_match m;
    ASSERT_INT_EQ(fd_router_match(tables, "GET", "/v2/panels", &m), 404);
    ASSERT_INT_EQ(fd_router_match(tables, "GET", "/v1/panelsx", &m), 404);
    ASSERT_INT_EQ(fd_router_match(tables, "GET", "/", &m), 404);
    ASSERT(m.route == NULL);
}

TEST(wrong_method_is_405_with_allow) {
    fd_route_match m;
    ASSERT_INT_EQ(fd_router_match(tables, "POST", "/v1/panels/2020-01", &m), 405);
    ASSERT_STR_EQ(m.allow, "GET, HEAD, PUT, DELETE");
    ASSERT(m.route == NULL);
    ASSERT_INT_EQ(fd_router_match(tables, "GET", "/v1/models/x/train", &m), 405);
    ASSERT_STR_EQ(m.allow, "POST");
}

TEST(head_matches_get) {
    fd_route_match m;
    ASSERT_INT_EQ(fd_router_match(tables, "HEAD", "/v1/panels/2020-01", &m), 200);
    ASSERT(m.route == &panels[1]);
    fd_route_match_free(&m);
}

TEST(daemon_tables_serve_health) {
    fd_route_match m;
    ASSERT_INT_EQ(fd_router_match_app("GET", "/livez", &m), 200);
    ASSERT_INT_EQ(fd_router_match_app("GET", "/readyz", &m), 200);
    ASSERT_INT_EQ(fd_router_match_app("GET", "/metrics", &m), 200);
    ASSERT_INT_EQ(fd_router_match_app("POST", "/livez", &m), 405);
}

TEST(debug_routes_only_when_enabled) {
    fd_route_match m;
    ASSERT_INT_EQ(fd_router_match_app("GET", "/v1/debug/sleep", &m), 404);
    fd_router_enable_debug(1);
    ASSERT_INT_EQ(fd_router_match_app("GET", "/v1/debug/sleep", &m), 200);
    fd_router_enable_debug(0);
    ASSERT_INT_EQ(fd_router_match_app("GET", "/v1/debug/sleep", &m), 404);
}

TEST_MAIN(T(literal_path_matches), T(capture_one_segment), T(two_captures_in_order),
          T(capture_does_not_span_slashes_or_match_empty), T(unknown_path_is_404),
          T(wrong_method_is_405_with_allow), T(head_matches_get), T(daemon_tables_serve_health),
          T(debug_routes_only_when_enabled))
