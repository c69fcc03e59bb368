/* Dense matrices stored as BLOBs in the `matrices` table (migrations/0001_init.sql).
 *
 * Format: row-major cells, little-endian IEEE-754 exactly as they sit in memory on x86_64
 * (no header: dtype, rows, cols and an FNV-1a 64 checksum of the bytes are columns beside
 * the blob). f64 is the default; f32 halves the size of large weight blocks. Every read
 * verifies dtype, shape and checksum; a mismatch is 500 "corrupt_matrix" naming the id.
 *
 * All functions take a connection the calling thread holds and run inside whatever
 * transaction it has open (they open none themselves), so a caller writes a matrix and the
 * row that references it atomically. Deleting the referencing panel or model version
 * deletes its matrices (schema triggers); fd_matrix_delete is for matrices nothing
 * references. */
#ifndef FACTORD_MATRIX_BLOB_H
#define FACTORD_MATRIX_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "factord/error.h"
#include "factord/store.h"

typedef enum { FD_DTYPE_F64 = 0, FD_DTYPE_F32 = 1 } fd_dtype;

/* "f64" / "f32"; fd_dtype_parse returns -1 for anything else. */
const char *fd_dtype_name(fd_dtype dtype);
int fd_dtype_parse(const char *name, fd_dtype *out);
size_t fd_dtype_size(fd_dtype dtype);

/* FNV-1a 64 of n bytes: the checksum stored beside each blob. */
uint64_t fd_matrix_checksum(const void *bytes, size_t n);

/* Inserts data, (rows, cols) row-major of `dtype` (double * for f64, float * for f32; may be
 * NULL when rows * cols == 0), and sets *id to the new matrix id. */
int fd_matrix_put(fd_db *db, fd_dtype dtype, const void *data, size_t rows, size_t cols,
                  int64_t *id, fd_error *err);

/* Dtype and shape of a stored matrix without reading its data; 404 "no_matrix" if absent. */
int fd_matrix_info(fd_db *db, int64_t id, fd_dtype *dtype, size_t *rows, size_t *cols,
                   fd_error *err);

/* Reads matrix `id` into the caller's buffer dst, (rows, cols) row-major of `want` (double *
 * or float *), converting f32 <-> f64 when the stored dtype differs. The stored shape must
 * equal (rows, cols): the caller states what it expects, and a different shape is
 * "corrupt_matrix". Lets a model read every block into its one contiguous allocation. */
int fd_matrix_read(fd_db *db, int64_t id, fd_dtype want, void *dst, size_t rows, size_t cols,
                   fd_error *err);

/* Allocates and reads matrix `id` as doubles; *out (rows, cols) row-major, freed by the caller
 * with free(); *out is NULL when the matrix is empty. */
int fd_matrix_get_f64(fd_db *db, int64_t id, double **out, size_t *rows, size_t *cols,
                      fd_error *err);

/* 404 "no_matrix" if absent; 500 if a panel or model version still references it. */
int fd_matrix_delete(fd_db *db, int64_t id, fd_error *err);

#endif
