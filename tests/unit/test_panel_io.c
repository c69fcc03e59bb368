/* Panels from CSV and JSON bodies, every rejected input, and the writers' round trip. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/panel_io.h"
#include "testlib.h"

static int csv(const char *text, fd_panel *p, fd_error *err) {
    return fd_panel_parse_csv(text, strlen(text), "2020-01", p, err);
}
static int js(const char *text, fd_panel *p, fd_error *err) {
    return fd_panel_parse_json(text, strlen(text), "2020-01", p, err);
}

/* Parse must fail with `code` and a message containing `needle`, leaving p empty. */
#define ASSERT_REJECTS(parse, text, want_code, needle) do {                                      \
        fd_panel _p; fd_error _e;                                                           \
        int _rc = parse(text, &_p, &_e);                                                    \
        size_t _rows = _p.n_rows;                                                           \
        fd_panel_free(&_p);                                                                 \
        ASSERT_INT_EQ(_rc, -1);                                                             \
        ASSERT_INT_EQ(_e.status, 400);                                                      \
        ASSERT_STR_EQ(_e.code, want_code);                                                       \
        if (!strstr(_e.message, needle)) {                                                  \
            tl_fail(__FILE__, __LINE__, "message \"%s\" lacks \"%s\"", _e.message, needle); \
            return;                                                                         \
        }                                                                                   \
        ASSERT_INT_EQ(_rows, 0);                                                            \
    } while (0)

TEST(csv_month_with_special_columns) {
    fd_panel p;
    fd_error err;
    ASSERT_INT_EQ(csv("mom12,id,ret,size,mktcap\r\n0.3,AAPL,0.01,1.5,2000\r\n"
                      ",MSFT,NaN,-0.5,1000\r\n",
                      &p, &err), 0);
    ASSERT_STR_EQ(p.month, "2020-01");
    ASSERT_INT_EQ(p.n_rows, 2);
    ASSERT_INT_EQ(p.n_cols, 2);
    ASSERT_STR_EQ(p.col_names[0], "mom12");
    ASSERT_STR_EQ(p.col_names[1], "size");
    ASSERT_STR_EQ(p.ids[1], "MSFT");
    ASSERT_NEAR(p.values[0], 0.3, 0);
    ASSERT_NEAR(p.values[1], 1.5, 0);
    ASSERT(isnan(p.values[2]));
    ASSERT_NEAR(p.values[3], -0.5, 0);
    ASSERT_NEAR(p.ret[0], 0.01, 0);
    ASSERT(isnan(p.ret[1]));
    ASSERT_NEAR(p.mktcap[1], 1000, 0);
    fd_panel_free(&p);
}

TEST(csv_without_ret_or_mktcap_leaves_them_null) {
    fd_panel p;
    fd_error err;
    ASSERT_INT_EQ(csv("\xEF\xBB\xBFid,x\nA,1\nB,2\n\n", &p, &err), 0);
    ASSERT(p.ret == NULL && p.mktcap == NULL);
    ASSERT_INT_EQ(p.n_rows, 2);
    fd_panel_free(&p);
}

TEST(csv_bad_inputs_name_line_and_column) {
    ASSERT_REJECTS(csv, "id,x\nA,1\nB,abc\n", "bad_number", "line 3, column 'x'");
    ASSERT_REJECTS(csv, "id,x\nA,inf\n", "bad_number", "line 2, column 'x'");
    ASSERT_REJECTS(csv, "id,x\nA,1e999\n", "bad_number", "not a finite number");
    ASSERT_REJECTS(csv, "id,x\nA,0x1p3\n", "bad_number", "line 2");
    ASSERT_REJECTS(csv, "id,x\nA,1\nB,2\nA,3\n", "duplicate_id", "line 4: duplicate id 'A' (first at line 2)");
    ASSERT_REJECTS(csv, "id,x,y\nA,1,2\nB,2\n", "ragged_row", "line 3: expected 3 fields, got 2");
    ASSERT_REJECTS(csv, "ticker,x\nA,1\n", "no_id_column", "no 'id' column");
    ASSERT_REJECTS(csv, "id,x,x\nA,1,2\n", "duplicate_column", "'x'");
    ASSERT_REJECTS(csv, "id,,y\nA,1,2\n", "empty_column_name", "column 2");
    ASSERT_REJECTS(csv, "id,x\nA,1\nB,\"2\n", "bad_csv", "line 3: unterminated");
    ASSERT_REJECTS(csv, "\n\n", "empty_body", "no header");
    ASSERT_REJECTS(csv, "id,x\n", "no_rows", "no data rows");
    ASSERT_REJECTS(csv, "id,x\n,1\n", "empty_id", "line 2");
}

TEST(json_columnar) {
    fd_panel p;
    fd_error err;
    ASSERT_INT_EQ(js("{\"columns\":[\"id\",\"ret\",\"mom12\"],"
                     "\"rows\":[[\"AAPL\",0.01,0.3],[10001,null,-1]]}", &p, &err), 0);
    ASSERT_INT_EQ(p.n_rows, 2);
    ASSERT_INT_EQ(p.n_cols, 1);
    ASSERT_STR_EQ(p.ids[1], "10001");
    ASSERT(isnan(p.ret[1]));
    ASSERT_NEAR(p.values[1], -1, 0);
    fd_panel_free(&p);
}

TEST(json_records_union_of_keys) {
    fd_panel p;
    fd_error err;
    ASSERT_INT_EQ(js("{\"month\":\"2020-01\",\"rows\":[{\"id\":\"A\",\"x\":1},"
                     "{\"y\":2,\"id\":\"B\",\"mktcap\":5}]}", &p, &err), 0);
    ASSERT_INT_EQ(p.n_rows, 2);
    ASSERT_INT_EQ(p.n_cols, 2);
    ASSERT_STR_EQ(p.col_names[0], "x");
    ASSERT_STR_EQ(p.col_names[1], "y");
    ASSERT(isnan(p.values[1]));  /* A has no y */
    ASSERT(isnan(p.values[2]));  /* B has no x */
    ASSERT_NEAR(p.values[3], 2, 0);
    ASSERT(p.ret == NULL);
    ASSERT(isnan(p.mktcap[0]));
    ASSERT_NEAR(p.mktcap[1], 5, 0);
    fd_panel_free(&p);
}

TEST(json_bad_inputs) {
    ASSERT_REJECTS(js, "{\"rows\":[\n{\"id\":\"A\",}]}", "bad_json", "line 2, column");
    ASSERT_REJECTS(js, "{\"rows\":[{\"id\":\"A\",\"x\":1e999}]}", "bad_json", "line 1");
    ASSERT_REJECTS(js, "{\"rows\":[{\"id\":\"A\",\"x\":\"1.5\"}]}", "bad_number",
                   "rows[0], column 'x': expected a number or null, got a string");
    ASSERT_REJECTS(js, "{\"rows\":[{\"id\":\"A\"},{\"id\":\"A\"}]}", "duplicate_id",
                   "rows[1]: duplicate id 'A' (first at rows[0])");
    ASSERT_REJECTS(js, "{\"columns\":[\"id\",\"x\"],\"rows\":[[\"A\",1],[\"B\"]]}",
                   "ragged_row", "rows[1]: expected 2 values, got 1");
    ASSERT_REJECTS(js, "{\"columns\":[\"x\"],\"rows\":[[1]]}", "no_id_column", "'id'");
    ASSERT_REJECTS(js, "{\"columns\":[\"id\",\"x\",\"x\"],\"rows\":[[\"A\",1,2]]}",
                   "duplicate_column", "'x'");
    ASSERT_REJECTS(js, "{\"rows\":[{\"x\":1}]}", "no_id_column", "id");
    ASSERT_REJECTS(js, "{\"rows\":[{\"id\":1.5}]}", "bad_id", "rows[0]");
    ASSERT_REJECTS(js, "{\"rows\":[]}", "no_rows", "no data rows");
    ASSERT_REJECTS(js, "[1,2]", "bad_row", "rows[0]: expected an object, got a number");
    ASSERT_REJECTS(js, "{\"month\":\"2020-02\",\"rows\":[{\"id\":\"A\"}]}", "month_mismatch",
                   "2020-01");
    ASSERT_REJECTS(js, "{\"rowz\":[]}", "unknown_field", "rowz");
    ASSERT_REJECTS(js, "{\"rows\":[{\"id\":\"A\",\"x\":1,\"x\":2}]}", "bad_json", "duplicate");
}

/* DataFrame.set_index("id").to_json(orient="split"): ids in "index", values in "data". */
TEST(json_pandas_split_ids_from_index) {
    fd_panel p;
    fd_error err;
    ASSERT_INT_EQ(js("{\"columns\":[\"ret\",\"mom12\"],\"index\":[\"AAPL\",10001],"
                     "\"data\":[[0.01,0.3],[null,-1]]}", &p, &err), 0);
    ASSERT_INT_EQ(p.n_rows, 2);
    ASSERT_INT_EQ(p.n_cols, 1);
    ASSERT_STR_EQ(p.col_names[0], "mom12");
    ASSERT_STR_EQ(p.ids[0], "AAPL");
    ASSERT_STR_EQ(p.ids[1], "10001");
    ASSERT_NEAR(p.ret[0], 0.01, 0);
    ASSERT(isnan(p.ret[1]));
    ASSERT_NEAR(p.values[1], -1, 0);
    fd_panel_free(&p);
}

/* DataFrame.to_json(orient="split") with an id column: pandas' 0..N-1 index is ignored. */
TEST(json_pandas_split_id_column_wins_over_index) {
    fd_panel p;
    fd_error err;
    ASSERT_INT_EQ(js("{\"columns\":[\"id\",\"x\"],\"index\":[0,1],"
                     "\"data\":[[\"A\",1],[\"B\",2]]}", &p, &err), 0);
    ASSERT_INT_EQ(p.n_rows, 2);
    ASSERT_STR_EQ(p.ids[0], "A");
    ASSERT_STR_EQ(p.ids[1], "B");
    ASSERT_NEAR(p.values[1], 2, 0);
    fd_panel_free(&p);
}

/* DataFrame.to_json(orient="records"): a bare array of objects. */
TEST(json_pandas_records_array) {
    fd_panel p;
    fd_error err;
    ASSERT_INT_EQ(js("[{\"id\":\"A\",\"ret\":0.5,\"x\":1},{\"id\":\"B\",\"ret\":null,"
                     "\"x\":null}]", &p, &err), 0);
    ASSERT_INT_EQ(p.n_rows, 2);
    ASSERT_INT_EQ(p.n_cols, 1);
    ASSERT_NEAR(p.ret[0], 0.5, 0);
    ASSERT(isnan(p.values[1]));
    fd_panel_free(&p);
}

TEST(json_pandas_orients_bad_inputs) {
    ASSERT_REJECTS(js, "{\"columns\":[\"x\"],\"index\":[\"A\"],\"data\":[[1],[2]]}",
                   "bad_index", "1 ids for 2 rows");
    ASSERT_REJECTS(js, "{\"columns\":[\"x\"],\"index\":[\"A\",\"A\"],\"data\":[[1],[2]]}",
                   "duplicate_id", "rows[1]: duplicate id 'A'");
    ASSERT_REJECTS(js, "{\"columns\":[\"x\"],\"index\":[0.5],\"data\":[[1]]}", "bad_id",
                   "rows[0]");
    ASSERT_REJECTS(js, "{\"index\":[\"A\"],\"rows\":[{\"id\":\"A\"}]}", "bad_index",
                   "comes with \"columns\"");
    ASSERT_REJECTS(js, "{\"columns\":[\"x\"],\"index\":{},\"data\":[[1]]}", "bad_index",
                   "array of ids");
    ASSERT_REJECTS(js, "{\"data\":[{\"id\":\"A\"}]}", "bad_json", "needs \"columns\"");
    ASSERT_REJECTS(js, "{\"columns\":[\"id\"],\"rows\":[[\"A\"]],\"data\":[[\"A\"]]}",
                   "bad_json", "not both");
    ASSERT_REJECTS(js, "{\"ret\":{\"A\":0.1}}", "unknown_field", "orient=\"split\"");
    ASSERT_REJECTS(js, "[{\"ret\":0.1}]", "no_id_column", "reset_index");
}

TEST(csv_writer_round_trips) {
    fd_panel p, q;
    fd_error err;
    ASSERT_INT_EQ(csv("id,ret,mktcap,a,\"b,c\"\n\"X,1\",0.1,,1e-300,\nY,-0.25,7,0.30000000000000004,2\n",
                      &p, &err), 0);
    char *text;
    size_t len;
    ASSERT_INT_EQ(fd_panel_write_csv(&p, &text, &len, &err), 0);
    ASSERT_STR_EQ(text, "id,ret,mktcap,a,\"b,c\"\n\"X,1\",0.1,,1e-300,\nY,-0.25,7,0.30000000000000004,2\n");
    ASSERT_INT_EQ(fd_panel_parse_csv(text, len, "2020-01", &q, &err), 0);
    free(text);
    ASSERT_INT_EQ(q.n_rows, 2);
    ASSERT(q.values[0] == p.values[0] && q.values[2] == p.values[2]);
    fd_panel_free(&q);
    ASSERT_INT_EQ(fd_panel_write_json(&p, &text, &len, &err), 0);
    ASSERT_STR_EQ(text, "{\"month\":\"2020-01\",\"columns\":[\"id\",\"ret\",\"mktcap\",\"a\",\"b,c\"],"
                        "\"rows\":[[\"X,1\",0.1,null,1e-300,null],[\"Y\",-0.25,7,0.30000000000000004,2]]}");
    ASSERT_INT_EQ(fd_panel_parse_json(text, len, "2020-01", &q, &err), 0);
    free(text);
    ASSERT_STR_EQ(q.ids[0], "X,1");
    ASSERT(isnan(q.mktcap[0]) && q.mktcap[1] == 7);
    fd_panel_free(&q);
    fd_panel_free(&p);
}

TEST(select_ids_keeps_panel_order) {
    fd_panel p, q;
    fd_error err;
    ASSERT_INT_EQ(csv("id,ret,x\nA,1,10\nB,2,20\nC,3,30\n", &p, &err), 0);
    ASSERT_INT_EQ(fd_panel_select_ids(&p, "C,A,ZZZ", &q, &err), 0);
    ASSERT_INT_EQ(q.n_rows, 2);
    ASSERT_STR_EQ(q.ids[0], "A");
    ASSERT_STR_EQ(q.ids[1], "C");
    ASSERT_NEAR(q.values[1], 30, 0);
    ASSERT_NEAR(q.ret[1], 3, 0);
    fd_panel_free(&q);
    fd_panel_free(&p);
}

/* 5,000 x 100 through both parsers: the sizes the API promises to handle. */
TEST(large_month_parses) {
    size_t n = 5000, k = 100, cap = n * k * 12 + 4096, len = 0;
    char *text = malloc(cap);
    ASSERT(text != NULL);
    len += (size_t)sprintf(text + len, "id");
    for (size_t j = 0; j < k; j++) len += (size_t)sprintf(text + len, ",c%zu", j);
    text[len++] = '\n';
    for (size_t i = 0; i < n; i++) {
        len += (size_t)sprintf(text + len, "S%zu", i);
        for (size_t j = 0; j < k; j++) len += (size_t)sprintf(text + len, ",%.4f", (double)(i * k + j) / 7.0);
        text[len++] = '\n';
    }
    fd_panel p;
    fd_error err;
    int rc = fd_panel_parse_csv(text, len, "2020-01", &p, &err);
    free(text);
    ASSERT_INT_EQ(rc, 0);
    ASSERT_INT_EQ(p.n_rows, n);
    ASSERT_INT_EQ(p.n_cols, k);
    ASSERT_NEAR(p.values[n * k - 1], 71428.4286, 1e-9);
    char *json;
    ASSERT_INT_EQ(fd_panel_write_json(&p, &json, &len, &err), 0);
    fd_panel q;
    rc = fd_panel_parse_json(json, len, "2020-01", &q, &err);
    free(json);
    ASSERT_INT_EQ(rc, 0);
    ASSERT_INT_EQ(memcmp(p.values, q.values, n * k * sizeof(double)), 0);
    fd_panel_free(&q);
    fd_panel_free(&p);
}

TEST_MAIN(T(csv_month_with_special_columns), T(csv_without_ret_or_mktcap_leaves_them_null),
          T(csv_bad_inputs_name_line_and_column), T(json_columnar), T(json_records_union_of_keys),
          T(json_bad_inputs), T(json_pandas_split_ids_from_index),
          T(json_pandas_split_id_column_wins_over_index), T(json_pandas_records_array),
          T(json_pandas_orients_bad_inputs), T(csv_writer_round_trips), T(select_ids_keeps_panel_order),
          T(large_month_parses))
