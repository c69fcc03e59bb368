/* The upload path's content layer (src/http/body_decode.h): media types decided before the
 * body, streaming gzip against zlib's own compressor in every chunking, concatenated members,
 * bad and cut-short data, the sink stopping a bomb; and the CLI's gzip FILE
 * (factord/gzfile.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../../src/http/body_decode.h"
#include "factord/gzfile.h"
#include "testlib.h"

/* gzip-compresses in[0..n) (one member); *out is malloc'd. */
static size_t gzip_bytes(const char *in, size_t n, unsigned char **out) {
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    size_t cap = deflateBound(&z, n);
    *out = malloc(cap);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    z.next_out = *out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    return len;
}

typedef struct collected {
    char *data;
    size_t len, cap, stop_after;
} collected;

static int collect(void *ctx, const char *data, size_t len) {
    collected *c = ctx;
    if (c->len + len > c->cap) {
        c->cap = (c->len + len) * 2;
        c->data = realloc(c->data, c->cap);
    }
    memcpy(c->data + c->len, data, len);
    c->len += len;
    return c->stop_after && c->len > c->stop_after;
}

/* CSV-like text that compresses but not trivially: n bytes. */
static char *sample_text(size_t n) {
    char *s = malloc(n);
    unsigned x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        s[i] = i % 40 == 39 ? '\n' : (char)('0' + (x >> 16) % 10);
    }
    return s;
}

TEST(gzip_bodies_decode_to_the_original_in_any_chunking) {
    size_t n = 1 << 20;
    char *text = sample_text(n);
    unsigned char *gz;
    size_t gz_len = gzip_bytes(text, n, &gz);
    size_t steps[] = {1, 7, 4096, 65536, gz_len};
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        fd_body_decoder *d = fd_body_decoder_new();
        collected c = {0};
        ASSERT(d != NULL);
        for (size_t off = 0; off < gz_len; off += steps[k]) {
            size_t take = gz_len - off < steps[k] ? gz_len - off : steps[k];
            ASSERT_INT_EQ(fd_body_decoder_feed(d, (const char *)gz + off, take, collect, &c), 0);
        }
        ASSERT_INT_EQ(fd_body_decoder_finish(d), 0);
        ASSERT_INT_EQ(c.len, n);
        ASSERT(memcmp(c.data, text, n) == 0);
        free(c.data);
        fd_body_decoder_free(d);
    }
    free(gz);
    free(text);
}

TEST(concatenated_members_decode_one_after_another) {
    unsigned char *a, *b;
    size_t la = gzip_bytes("id,ret\nA,1\n", 11, &a), lb = gzip_bytes("B,2\n", 4, &b);
    unsigned char *both = malloc(la + lb);
    memcpy(both, a, la);
    memcpy(both + la, b, lb);
    fd_body_decoder *d = fd_body_decoder_new();
    collected c = {0};
    ASSERT_INT_EQ(fd_body_decoder_feed(d, (const char *)both, la + lb, collect, &c), 0);
    ASSERT_INT_EQ(fd_body_decoder_finish(d), 0);
    ASSERT_INT_EQ(c.len, 15);
    ASSERT(memcmp(c.data, "id,ret\nA,1\nB,2\n", 15) == 0);
    free(c.data);
    fd_body_decoder_free(d);
    free(a);
    free(b);
    free(both);
}

TEST(bad_and_cut_short_gzip_are_errors) {
    unsigned char *gz;
    size_t len = gzip_bytes("id,ret\nA,1\n", 11, &gz);
    collected c = {0};
    fd_body_decoder *d = fd_body_decoder_new();
    ASSERT_INT_EQ(fd_body_decoder_feed(d, "id,ret\nA,1\n", 11, collect, &c), -1);
    ASSERT_INT_EQ(fd_body_decoder_feed(d, (const char *)gz, len, collect, &c), -1);
    ASSERT_INT_EQ(fd_body_decoder_finish(d), -1);
    fd_body_decoder_free(d);
    d = fd_body_decoder_new();
    ASSERT_INT_EQ(fd_body_decoder_feed(d, (const char *)gz, len - 4, collect, &c), 0);
    ASSERT_INT_EQ(fd_body_decoder_finish(d), -1); /* the CRC trailer is missing */
    fd_body_decoder_free(d);
    gz[len - 1] ^= 0x55; /* a wrong length in the trailer */
    d = fd_body_decoder_new();
    ASSERT_INT_EQ(fd_body_decoder_feed(d, (const char *)gz, len, collect, &c), -1);
    fd_body_decoder_free(d);
    d = fd_body_decoder_new(); /* nothing at all is an empty body */
    ASSERT_INT_EQ(fd_body_decoder_finish(d), 0);
    fd_body_decoder_free(d);
    free(c.data);
    free(gz);
}

/* 64 MB of zeros compress to about 64 kB; a sink that stops at 1 MB stops the decoder, which
 * then has produced at most one more piece (64 KiB). */
TEST(a_sink_that_stops_bounds_a_gzip_bomb) {
    size_t n = (size_t)64 << 20;
    char *zeros = calloc(n, 1);
    unsigned char *gz;
    size_t len = gzip_bytes(zeros, n, &gz);
    free(zeros);
    ASSERT(len < 200000);
    collected c = {.stop_after = 1 << 20};
    fd_body_decoder *d = fd_body_decoder_new();
    ASSERT_INT_EQ(fd_body_decoder_feed(d, (const char *)gz, len, collect, &c), 1);
    ASSERT(c.len <= (1u << 20) + (64u << 10));
    free(c.data);
    fd_body_decoder_free(d);
    free(gz);
}

TEST(the_plan_reads_the_encoding_before_the_body) {
    fd_body_plan p;
    char msg[256];
    ASSERT_INT_EQ(fd_body_plan_make("text/csv; charset=utf-8", NULL, &p, msg, 256), 0);
    ASSERT_INT_EQ(p.gzip, 0);
    ASSERT(p.effective_type == NULL);
    ASSERT_INT_EQ(fd_body_plan_make("Application/JSON", "gzip", &p, msg, 256), 0);
    ASSERT_INT_EQ(p.gzip, 1);
    ASSERT(p.effective_type == NULL);
    ASSERT_INT_EQ(fd_body_plan_make("application/gzip", NULL, &p, msg, 256), 0);
    ASSERT_INT_EQ(p.gzip, 1);
    ASSERT_STR_EQ(p.effective_type, "text/csv");
    ASSERT_INT_EQ(fd_body_plan_make("application/x-gzip", "gzip", &p, msg, 256), 0);
    ASSERT_INT_EQ(p.gzip, 1); /* one layer, whichever header says so */
    ASSERT_INT_EQ(fd_body_plan_make("text/csv", "br", &p, msg, 256), 415);
    ASSERT(strstr(msg, "br") != NULL);
    ASSERT_INT_EQ(fd_body_plan_make("text/csv", "gzip, br", &p, msg, 256), 415);
    ASSERT_INT_EQ(fd_body_plan_make("text/csv", "identity", &p, msg, 256), 0);
    ASSERT_INT_EQ(fd_body_plan_make(NULL, NULL, &p, msg, 256), 0);
    ASSERT_INT_EQ(p.gzip, 0);
}

TEST(the_handler_sees_the_headers_of_the_decoded_body) {
    fd_kv h[2] = {{strdup("content-type"), strdup("application/gzip")},
                  {strdup("content-encoding"), strdup("gzip")}};
    fd_request req;
    memset(&req, 0, sizeof req);
    req.headers = h;
    req.n_headers = 2;
    fd_body_plan p = {1, "text/csv"};
    fd_body_plan_apply(&p, &req);
    char ct[64];
    fd_request_content_type(&req, ct, sizeof ct);
    ASSERT_STR_EQ(ct, "text/csv");
    ASSERT_STR_EQ(fd_request_header(&req, "content-encoding"), "identity");
    for (int i = 0; i < 2; i++) {
        free(h[i].key);
        free(h[i].value);
    }
}

static char *read_all(FILE *f, size_t *n) {
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    *n = 0;
    size_t got;
    while ((got = fread(buf + *n, 1, cap - *n, f)) > 0) {
        *n += got;
        if (*n == cap) buf = realloc(buf, cap *= 2);
    }
    return buf;
}

TEST(the_cli_reads_gzip_and_plain_files_alike) {
    char gz_path[] = "/tmp/factord-gz-XXXXXX", plain_path[] = "/tmp/factord-plain-XXXXXX";
    size_t n = 300000;
    char *text = sample_text(n);
    unsigned char *gz;
    size_t gz_len = gzip_bytes(text, n, &gz);
    int fd1 = mkstemp(gz_path), fd2 = mkstemp(plain_path);
    ASSERT(fd1 >= 0 && fd2 >= 0);
    ASSERT_INT_EQ(write(fd1, gz, gz_len), (long long)gz_len);
    ASSERT_INT_EQ(write(fd2, text, n), (long long)n);
    close(fd1);
    close(fd2);
    fd_error rerr, err;
    const char *paths[] = {gz_path, plain_path};
    for (int i = 0; i < 2; i++) {
        FILE *f = fd_gzfile_open(paths[i], &rerr, &err);
        ASSERT(f != NULL);
        size_t got;
        char *back = read_all(f, &got);
        ASSERT(!ferror(f));
        fclose(f);
        ASSERT_INT_EQ(got, n);
        ASSERT(memcmp(back, text, n) == 0);
        free(back);
    }
    /* Cut short: reads fail and name the file. */
    ASSERT_INT_EQ(truncate(gz_path, (off_t)(gz_len - 10)), 0);
    FILE *f = fd_gzfile_open(gz_path, &rerr, &err);
    size_t got;
    free(read_all(f, &got));
    ASSERT(ferror(f));
    fclose(f);
    ASSERT_INT_EQ(rerr.status, 400);
    ASSERT_STR_EQ(rerr.code, "bad_gzip");
    ASSERT(strstr(rerr.message, gz_path) != NULL);
    ASSERT(fd_gzfile_open("/nonexistent/x.gz", &rerr, &err) == NULL);
    ASSERT_INT_EQ(err.status, 404);
    unlink(gz_path);
    unlink(plain_path);
    free(gz);
    free(text);
}

TEST_MAIN(T(gzip_bodies_decode_to_the_original_in_any_chunking),
          T(concatenated_members_decode_one_after_another), T(bad_and_cut_short_gzip_are_errors),
          T(a_sink_that_stops_bounds_a_gzip_bomb), T(the_plan_reads_the_encoding_before_the_body),
          T(the_handler_sees_the_headers_of_the_decoded_body),
          T(the_cli_reads_gzip_and_plain_files_alike))
