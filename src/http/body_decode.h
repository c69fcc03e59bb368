/* The upload path's content layer (private to src/http): how a request body is encoded,
 * decided from its headers before any of it is read, and the streaming gzip decoder between
 * libmicrohttpd's chunks and the body buffer or spool file.
 *
 * A body sent with `Content-Encoding: gzip`, or as `Content-Type: application/gzip` (which
 * the request policy, policy.h and route_rules.c, accepts only on routes that take CSV), is
 * decompressed while it streams in (zlib), and the handler sees the decompressed body with
 * the headers it would have had uncompressed (Content-Encoding identity; application/gzip
 * becomes text/csv). The body limits apply to the decompressed bytes, so a gzip bomb stops
 * at the limit with 413. Loop thread only. */
#ifndef FACTORD_HTTP_BODY_DECODE_H
#define FACTORD_HTTP_BODY_DECODE_H

#include <stddef.h>

#include "factord/http.h"

typedef struct fd_body_plan {
    int gzip;                   /* decompress the body */
    const char *effective_type; /* Content-Type the handler sees; NULL = as sent */
} fd_body_plan;

/* From the raw Content-Type and Content-Encoding headers (either NULL): fills plan and
 * returns 0, or returns 415 with a message for an encoding other than gzip or identity. */
int fd_body_plan_make(const char *content_type, const char *content_encoding,
                      fd_body_plan *plan, char *msg, size_t cap);

/* Rewrites req's Content-Type / Content-Encoding headers to what plan decoded. */
void fd_body_plan_apply(const fd_body_plan *plan, fd_request *req);

typedef struct fd_body_decoder fd_body_decoder;

/* Receives decompressed bytes; a non-zero return stops the decoder (fd_body_decoder_feed
 * then returns 1 and drops the rest of its input). */
typedef int (*fd_body_sink)(void *ctx, const char *data, size_t len);

fd_body_decoder *fd_body_decoder_new(void); /* NULL on out of memory */
void fd_body_decoder_free(fd_body_decoder *d);
/* Decompresses data[0..len) into sink, in pieces of at most 64 KiB. Concatenated gzip
 * members are read one after another (as gzip -d does). Returns 0, 1 when the sink stopped,
 * or -1 on data that is not gzip (then every later call returns -1). */
int fd_body_decoder_feed(fd_body_decoder *d, const char *data, size_t len, fd_body_sink sink,
                         void *ctx);
/* 0 when the input ended at the end of a gzip member, -1 when it was cut short or bad. */
int fd_body_decoder_finish(const fd_body_decoder *d);

#endif
