/* The upload path's content layer: media types checked before the body, streaming gzip
 * (see body_decode.h). */
#include "body_decode.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>


#define DECODE_CHUNK ((size_t)64 << 10)

/* ---- what the body is ---- */

int fd_body_plan_make(const char *content_type, const char *content_encoding,
                      fd_body_plan *plan, char *msg, size_t cap) {
    char type[128] = "", enc[64] = "";
    memset(plan, 0, sizeof *plan);
    if (content_type) fd_media_type(content_type, type, sizeof type);
    if (content_encoding) fd_media_type(content_encoding, enc, sizeof enc);
    plan->gzip = strcmp(enc, "gzip") == 0 || strcmp(enc, "x-gzip") == 0;
    if ((enc[0] && !plan->gzip && strcmp(enc, "identity") != 0) ||
        (content_encoding && strchr(content_encoding, ','))) {
        snprintf(msg, cap, "Content-Encoding \"%.40s\" is not supported: send the body as is "
                 "or gzip-compressed (Content-Encoding: gzip)", content_encoding);
        return 415;
    }
    /* The request policy lets application/gzip through only to routes that take CSV. */
    if (strcmp(type, "application/gzip") == 0 || strcmp(type, "application/x-gzip") == 0) {
        plan->gzip = 1;
        plan->effective_type = "text/csv";
    }
    return 0;
}

void fd_body_plan_apply(const fd_body_plan *plan, fd_request *req) {
    for (size_t i = 0; plan->gzip && i < req->n_headers; i++) {
        const char *key = req->headers[i].key, *value = NULL;
        if (strcmp(key, "content-encoding") == 0) value = "identity";
        else if (strcmp(key, "content-type") == 0 && plan->effective_type)
            value = plan->effective_type;
        char *copy = value ? strdup(value) : NULL;
        if (!copy) continue; /* out of memory: the handler then sees the header as sent */
        free(req->headers[i].value);
        req->headers[i].value = copy;
    }
}

/* ---- streaming gzip ---- */

struct fd_body_decoder {
    z_stream z;
    int started;     /* some input was fed */
    int member_done; /* the last byte fed ended a gzip member */
    int failed;
    unsigned char out[DECODE_CHUNK];
};

fd_body_decoder *fd_body_decoder_new(void) {
    fd_body_decoder *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    /* 16 + MAX_WBITS: a gzip wrapper (header and CRC-32 trailer checked), not zlib or raw. */
    if (inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK) {
        free(d);
        return NULL;
    }
    return d;
}

void fd_body_decoder_free(fd_body_decoder *d) {
    if (!d) return;
    inflateEnd(&d->z);
    free(d);
}

/* Inflates the input z holds into sink until it is used up (and no output is pending) or a
 * member ends. 0, 1 when the sink stopped, -1 on bad data. */
static int inflate_some(fd_body_decoder *d, fd_body_sink sink, void *ctx) {
    for (;;) {
        d->z.next_out = d->out;
        d->z.avail_out = (uInt)sizeof d->out;
        int rc = inflate(&d->z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) return -1;
        size_t got = sizeof d->out - d->z.avail_out;
        if (got && sink(ctx, (const char *)d->out, got) != 0) return 1;
        if (rc == Z_STREAM_END) {
            d->member_done = 1;
            return 0;
        }
        /* Done with this input unless the output filled up (more may be pending). */
        if (rc == Z_BUF_ERROR || (d->z.avail_in == 0 && d->z.avail_out != 0)) return 0;
    }
}

int fd_body_decoder_feed(fd_body_decoder *d, const char *data, size_t len, fd_body_sink sink,
                         void *ctx) {
    if (d->failed) return -1;
    if (len) d->started = 1;
    while (len > 0) {
        uInt take = len > (size_t)UINT32_MAX ? UINT32_MAX : (uInt)len;
        if (d->member_done) { /* another member follows the last one */
            if (inflateReset(&d->z) != Z_OK) return (d->failed = 1), -1;
            d->member_done = 0;
        }
        d->z.next_in = (unsigned char *)(uintptr_t)data;
        d->z.avail_in = take;
        int rc = inflate_some(d, sink, ctx);
        if (rc != 0) {
            if (rc < 0) d->failed = 1;
            return rc;
        }
        size_t used = take - d->z.avail_in;
        if (used == 0) return (d->failed = 1), -1; /* no progress: not gzip */
        data += used;
        len -= used;
    }
    return 0;
}

int fd_body_decoder_finish(const fd_body_decoder *d) {
    if (!d->started) return 0; /* an empty body is an empty body */
    return !d->failed && d->member_done ? 0 : -1;
}
