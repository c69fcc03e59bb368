/* Version artifacts: one self-describing file holding a trained model version, to move it
 * between databases (research to production, cluster studies). The format is documented
 * byte by byte in docs/artifacts.md and is stable: readers must refuse a format_version
 * they do not know, writers only ever add header fields.
 *
 *   offset 0   8 bytes   magic "\x89FDA\r\n\x1a\n"
 *   offset 8   u32 LE    format_version (1)
 *   offset 12  u32 LE    header_len H
 *   offset 16  H bytes   header: UTF-8 JSON object (model, version, sections, ...)
 *   16 + H     ...       the sections the header lists (offset/length relative to 16 + H):
 *                        "weights" (the model's own parameter block) and "factors" (the
 *                        version's factor history, (T, K) f64 little-endian row-major)
 *   end - 32   32 bytes  SHA-256 of every byte before it
 *
 * Functions take a connection the caller holds; import writes in one transaction and
 * checks everything (checksum, format, header fields, sizes, that the weights load and
 * score) before it writes anything. */
#ifndef FACTORD_ARTIFACT_H
#define FACTORD_ARTIFACT_H

#include <jansson.h>
#include <stddef.h>

#include "factord/store.h"

#define FD_ARTIFACT_MAGIC "\x89" "FDA\r\n\x1a\n"
#define FD_ARTIFACT_FORMAT_VERSION 1
#define FD_ARTIFACT_MEDIA_TYPE "application/vnd.factord.artifact"

/* The artifact of model/version: *out malloc'd (*len bytes), freed by the caller. 404
 * "no_model" / "no_version"; 409 "version_not_ready" unless the version is ready. */
int fd_artifact_export(fd_db *db, const char *model, int version, void **out, size_t *len,
                       fd_error *err);

/* Imports an artifact as the next version of `model` (NULL: the model the artifact names),
 * declaring the model from the artifact when it does not exist. The version records its
 * origin {"sha256","source_model","source_version","imported_at"}. *version gets the new
 * number. Errors, all before anything is stored: 415 "not_an_artifact" (no magic),
 * 422 "unsupported_artifact" (a format version this build does not read), 422
 * "bad_artifact" (truncated, checksum mismatch, malformed header or sections, weights that
 * do not load or score), 409 "model_mismatch" (an existing model of another kind or k). */
int fd_artifact_import(fd_db *db, const char *model, const void *data, size_t len,
                       int *version, fd_error *err);

/* Checks an artifact without a database and returns its header (new reference): the
 * same checks as import but the model load. */
int fd_artifact_inspect(const void *data, size_t len, json_t **header, fd_error *err);

#endif
