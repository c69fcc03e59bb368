/* The streaming CSV tokenizer and strict number parsing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "factord/csv.h"
#include "factord/numparse.h"
#include "testlib.h"

/* Collects rows as "a|b|c@line" strings joined by newlines. */
typedef struct rows_ctx {
    char out[4096];
    int n_rows;
    int stop_at; /* callback fails on this row (1-based); 0 = never */
} rows_ctx;

static int collect(void *ctx, const fd_csv_row *row, fd_error *err) {
    rows_ctx *c = ctx;
    char one[512];
    size_t used = 0;
    c->n_rows++;
    if (c->stop_at && c->n_rows == c->stop_at)
        return fd_error_set(err, 400, "stop", "stopped at line %ld", row->line);
    for (size_t i = 0; i < row->n; i++)
        used += (size_t)snprintf(one + used, sizeof one - used, "%s%s", i ? "|" : "",
                                 row->fields[i]);
    snprintf(one + used, sizeof one - used, "@%ld;", row->line);
    strncat(c->out, one, sizeof c->out - strlen(c->out) - 1);
    return 0;
}

static int parse(const char *text, rows_ctx *c, fd_error *err) {
    memset(c, 0, sizeof *c);
    return fd_csv_parse_buffer(text, strlen(text), collect, c, err);
}

TEST(plain_rows_with_line_numbers) {
    rows_ctx c;
    fd_error err;
    ASSERT_INT_EQ(parse("a,b\n1,2\n3,4\n", &c, &err), 0);
    ASSERT_STR_EQ(c.out, "a|b@1;1|2@2;3|4@3;");
}

TEST(crlf_lone_cr_and_missing_final_newline) {
    rows_ctx c;
    fd_error err;
    ASSERT_INT_EQ(parse("a,b\r\n1,2\r3,4", &c, &err), 0);
    ASSERT_STR_EQ(c.out, "a|b@1;1|2@2;3|4@3;");
}

TEST(bom_is_skipped) {
    rows_ctx c;
    fd_error err;
    ASSERT_INT_EQ(parse("\xEF\xBB\xBFid,x\nA,1\n", &c, &err), 0);
    ASSERT_STR_EQ(c.out, "id|x@1;A|1@2;");
}

TEST(quoted_fields_with_separators_quotes_and_newlines) {
    rows_ctx c;
    fd_error err;
    ASSERT_INT_EQ(parse("id,name\n\"A,1\",\"say \"\"hi\"\"\"\n\"multi\nline\",x\nB,y\n", &c,
                        &err), 0);
    ASSERT_STR_EQ(c.out, "id|name@1;A,1|say \"hi\"@2;multi\nline|x@3;B|y@5;");
}

TEST(empty_fields_and_blank_lines) {
    rows_ctx c;
    fd_error err;
    ASSERT_INT_EQ(parse("a,,c\n\n,\n", &c, &err), 0);
    ASSERT_STR_EQ(c.out, "a||c@1;@2;|@3;");
}

TEST(unterminated_quote_names_its_line) {
    rows_ctx c;
    fd_error err;
    ASSERT_INT_EQ(parse("a,b\n1,2\n3,\"open\n4,5\n", &c, &err), -1);
    ASSERT_INT_EQ(err.status, 400);
    ASSERT_STR_EQ(err.code, "bad_csv");
    ASSERT(strstr(err.message, "line 3") != NULL);
    ASSERT(strstr(err.message, "unterminated") != NULL);
}

TEST(garbage_after_closing_quote_is_rejected) {
    rows_ctx c;
    fd_error err;
    ASSERT_INT_EQ(parse("a\n\"x\"y\n", &c, &err), -1);
    ASSERT_STR_EQ(err.code, "bad_csv");
    ASSERT(strstr(err.message, "line 2") != NULL);
}

TEST(callback_error_stops_the_parse) {
    rows_ctx c;
    fd_error err;
    memset(&c, 0, sizeof c);
    c.stop_at = 2;
    const char *text = "a\nb\nc\n";
    ASSERT_INT_EQ(fd_csv_parse_buffer(text, strlen(text), collect, &c, &err), -1);
    ASSERT_STR_EQ(err.code, "stop");
    ASSERT_INT_EQ(c.n_rows, 2);
}

/* Feeding one byte at a time must give exactly the rows of a single feed: chunk borders
 * can fall inside a CRLF, a quote pair or a field. */
TEST(byte_at_a_time_equals_whole_buffer) {
    const char *text = "id,v\r\n\"q\"\"x\",\"1,5\"\r\nB,2\r\n\"C\r\nD\",3";
    rows_ctx whole, bytes;
    fd_error err;
    ASSERT_INT_EQ(parse(text, &whole, &err), 0);
    memset(&bytes, 0, sizeof bytes);
    fd_csv *c = fd_csv_new(collect, &bytes, 0, 0);
    ASSERT(c != NULL);
    for (size_t i = 0; i < strlen(text); i++) ASSERT_INT_EQ(fd_csv_feed(c, text + i, 1, &err), 0);
    ASSERT_INT_EQ(fd_csv_finish(c, &err), 0);
    fd_csv_free(c);
    ASSERT_STR_EQ(bytes.out, whole.out);
    ASSERT_INT_EQ(bytes.n_rows, 4);
}

TEST(row_length_limit_bounds_memory) {
    rows_ctx c;
    fd_error err;
    memset(&c, 0, sizeof c);
    fd_csv *csv = fd_csv_new(collect, &c, 64, 0);
    ASSERT(csv != NULL);
    char big[200];
    memset(big, 'x', sizeof big);
    ASSERT_INT_EQ(fd_csv_feed(csv, "a\n", 2, &err), 0);
    ASSERT_INT_EQ(fd_csv_feed(csv, big, sizeof big, &err), -1);
    fd_csv_free(csv);
    ASSERT_STR_EQ(err.code, "bad_csv");
    ASSERT(strstr(err.message, "line 2") != NULL);
}

TEST(file_parse_reads_in_chunks) {
    char path[512];
    snprintf(path, sizeof path, "%s/big.csv", tl_tmpdir());
    FILE *f = fopen(path, "w");
    ASSERT(f != NULL);
    fputs("id,x\n", f);
    for (int i = 0; i < 100000; i++) fprintf(f, "S%d,%d.5\n", i, i);
    fclose(f);
    rows_ctx c;
    fd_error err;
    memset(&c, 0, sizeof c);
    c.out[0] = '\0';
    /* Only counts: the collected text is truncated at its buffer size. */
    ASSERT_INT_EQ(fd_csv_parse_file(path, collect, &c, &err), 0);
    ASSERT_INT_EQ(c.n_rows, 100001);
    snprintf(path, sizeof path, "%s/absent.csv", tl_tmpdir());
    ASSERT_INT_EQ(fd_csv_parse_file(path, collect, &c, &err), -1);
    ASSERT_INT_EQ(err.status, 404);
}

static fd_num_status num(const char *s, double *v) { return fd_num_parse(s, strlen(s), v); }

TEST(numbers_accepted) {
    double v;
    ASSERT_INT_EQ(num("0.0289", &v), FD_NUM_OK);
    ASSERT(v == 0.0289);
    ASSERT_INT_EQ(num("  -2.55 ", &v), FD_NUM_OK);
    ASSERT(v == -2.55);
    ASSERT_INT_EQ(num("+1e-3", &v), FD_NUM_OK);
    ASSERT(v == 1e-3);
    ASSERT_INT_EQ(num(".5", &v), FD_NUM_OK);
    ASSERT(v == 0.5);
    ASSERT_INT_EQ(num("5.", &v), FD_NUM_OK);
    ASSERT(v == 5.0);
    ASSERT_INT_EQ(num("1E5", &v), FD_NUM_OK);
    ASSERT(v == 1e5);
    ASSERT_INT_EQ(num("-0", &v), FD_NUM_OK);
    ASSERT(v == 0 && signbit(v));
    ASSERT_INT_EQ(num("1e-400", &v), FD_NUM_OK); /* underflow rounds to 0, still finite */
    ASSERT(v == 0);
}

/* The fast path and strtod must agree bit for bit (both correctly rounded). */
TEST(numbers_match_strtod_exactly) {
    const char *cases[] = {"0.1", "0.30000000000000004", "123456789012345678901234",
                           "9007199254740993", "1.7976931348623157e308", "4.9e-324",
                           "2.2250738585072014e-308", "0.000123456789", "98765.4321e-7",
                           "1234567890123456789", "3.14159265358979323846"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double v;
        ASSERT_INT_EQ(num(cases[i], &v), FD_NUM_OK);
        double ref = strtod(cases[i], NULL);
        if (memcmp(&v, &ref, sizeof v) != 0) {
            tl_fail(__FILE__, __LINE__, "%s: %.17g != strtod %.17g", cases[i], v, ref);
            return;
        }
    }
}

TEST(missing_markers) {
    double v = 0;
    ASSERT_INT_EQ(num("", &v), FD_NUM_MISSING);
    ASSERT(isnan(v));
    ASSERT_INT_EQ(num("   ", &v), FD_NUM_MISSING);
    ASSERT_INT_EQ(num("NaN", &v), FD_NUM_MISSING);
    ASSERT_INT_EQ(num("nan", &v), FD_NUM_MISSING);
    ASSERT_INT_EQ(num("NAN", &v), FD_NUM_MISSING);
}

TEST(numbers_rejected) {
    const char *bad[] = {"abc", "1.2.3", "1e", "1e+", "0x1p3", "0x10", "inf", "-inf",
                         "Infinity", "nan(1)", "1,5", "1 2", "--1", "+", ".", "e5", "12abc"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double v;
        if (num(bad[i], &v) != FD_NUM_BAD) {
            tl_fail(__FILE__, __LINE__, "\"%s\" was accepted", bad[i]);
            return;
        }
    }
    double v;
    ASSERT_INT_EQ(num("1e999", &v), FD_NUM_RANGE);
    ASSERT_INT_EQ(num("-1e400", &v), FD_NUM_RANGE);
}

/* Percent to decimal by moving the decimal exponent: the nearest double to the scaled
 * decimal, which multiplying by 0.01 misses (0.39 * 0.01 != 0.0039). */
TEST(scaled_parse_is_correctly_rounded) {
    double v;
    ASSERT_INT_EQ(fd_num_parse_scaled("-0.39", 5, -2, &v), FD_NUM_OK);
    ASSERT(v == -0.0039);
    ASSERT_INT_EQ(fd_num_parse_scaled(" 2.89", 5, -2, &v), FD_NUM_OK);
    ASSERT(v == 0.0289);
    ASSERT_INT_EQ(fd_num_parse_scaled("12345678901234567890123", 23, -2, &v), FD_NUM_OK);
    ASSERT_NEAR(v, 1.2345678901234568e20, 1e5);
    ASSERT_INT_EQ(fd_num_parse_scaled("", 0, -2, &v), FD_NUM_MISSING);
}

TEST_MAIN(T(plain_rows_with_line_numbers), T(crlf_lone_cr_and_missing_final_newline),
          T(bom_is_skipped), T(quoted_fields_with_separators_quotes_and_newlines),
          T(empty_fields_and_blank_lines), T(unterminated_quote_names_its_line),
          T(garbage_after_closing_quote_is_rejected), T(callback_error_stops_the_parse),
          T(byte_at_a_time_equals_whole_buffer), T(row_length_limit_bounds_memory),
          T(file_parse_reads_in_chunks), T(numbers_accepted), T(numbers_match_strtod_exactly),
          T(missing_markers), T(numbers_rejected),
          T(scaled_parse_is_correctly_rounded))
