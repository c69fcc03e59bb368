/* Dense matrices as BLOBs: see include/factord/matrix_blob.h for the format. */
#include "factord/matrix_blob.h"

#include <stdlib.h>
#include <string.h>

/* The blob is the in-memory bytes; a big-endian host would need a byte swap here. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "matrix blobs are stored little-endian as in memory: port fd_matrix_* to this host"
#endif

const char *fd_dtype_name(fd_dtype dtype) { return dtype == FD_DTYPE_F32 ? "f32" : "f64"; }

int fd_dtype_parse(const char *name, fd_dtype *out) {
    if (name && strcmp(name, "f64") == 0) { *out = FD_DTYPE_F64; return 0; }
    if (name && strcmp(name, "f32") == 0) { *out = FD_DTYPE_F32; return 0; }
    return -1;
}

size_t fd_dtype_size(fd_dtype dtype) {
    return dtype == FD_DTYPE_F32 ? sizeof(float) : sizeof(double);
}

uint64_t fd_matrix_checksum(const void *bytes, size_t n) {
    const unsigned char *p = bytes;
    uint64_t h = 14695981039346656037ULL; /* FNV-1a 64 offset basis */
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL; /* FNV 64 prime */
    }
    return h;
}

/* rows * cols * size without overflow and within SQLite's blob limit. */
static int matrix_bytes(size_t rows, size_t cols, fd_dtype dtype, size_t *out, fd_error *err) {
    size_t size = fd_dtype_size(dtype);
    if (cols != 0 && rows > (size_t)0x7fffffff / size / cols)
        return fd_error_set(err, 413, "matrix_too_large", "a (%zu, %zu) %s matrix is over 2 GiB",
                            rows, cols, fd_dtype_name(dtype));
    *out = rows * cols * size;
    return 0;
}

int fd_matrix_put(fd_db *db, fd_dtype dtype, const void *data, size_t rows, size_t cols,
                  int64_t *id, fd_error *err) {
    static const char empty = 0;
    sqlite3_stmt *st;
    size_t n;
    int rc;
    if (matrix_bytes(rows, cols, dtype, &n, err) != 0) return -1;
    if (fd_db_prepare(db, "INSERT INTO matrices (dtype, rows, cols, checksum, data) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)", &st, err) != 0)
        return -1;
    sqlite3_bind_text(st, 1, fd_dtype_name(dtype), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)rows);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)cols);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)fd_matrix_checksum(data, n));
    /* A NULL pointer would bind SQL NULL, not an empty blob. */
    sqlite3_bind_blob(st, 5, n ? data : &empty, (int)n, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        fd_db_error(db, err, "storing a matrix");
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    *id = sqlite3_last_insert_rowid(fd_db_handle(db));
    return 0;
}

/* Steps `st` (selecting dtype, rows, cols[, ...] for matrix id) to its row. */
static int matrix_step(fd_db *db, sqlite3_stmt *st, int64_t id, fd_dtype *dtype, size_t *rows,
                       size_t *cols, fd_error *err) {
    int rc = sqlite3_step(st);
    sqlite3_int64 r, c;
    if (rc == SQLITE_DONE)
        return fd_error_set(err, 404, "no_matrix", "matrix %lld is not stored", (long long)id);
    if (rc != SQLITE_ROW) return fd_db_error(db, err, "reading a matrix");
    r = sqlite3_column_int64(st, 1);
    c = sqlite3_column_int64(st, 2);
    if (fd_dtype_parse((const char *)sqlite3_column_text(st, 0), dtype) != 0 || r < 0 || c < 0)
        return fd_error_set(err, 500, "corrupt_matrix", "matrix %lld: bad dtype or shape",
                            (long long)id);
    *rows = (size_t)r;
    *cols = (size_t)c;
    return 0;
}

int fd_matrix_info(fd_db *db, int64_t id, fd_dtype *dtype, size_t *rows, size_t *cols,
                   fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    if (fd_db_prepare(db, "SELECT dtype, rows, cols FROM matrices WHERE id = ?1", &st, err) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    rc = matrix_step(db, st, id, dtype, rows, cols, err);
    sqlite3_finalize(st);
    return rc;
}

/* Copies n cells of `from` at src into dst as `to`. */
static void matrix_convert(void *dst, fd_dtype to, const void *src, fd_dtype from, size_t n) {
    if (to == from) {
        memcpy(dst, src, n * fd_dtype_size(to));
    } else if (to == FD_DTYPE_F64) {
        const float *s = src;
        double *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = (double)s[i];
    } else {
        const double *s = src;
        float *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = (float)s[i];
    }
}

int fd_matrix_read(fd_db *db, int64_t id, fd_dtype want, void *dst, size_t rows, size_t cols,
                   fd_error *err) {
    sqlite3_stmt *st;
    fd_dtype dtype;
    size_t r, c, n = 0;
    const void *blob;
    int rc = -1;
    if (fd_db_prepare(db, "SELECT dtype, rows, cols, checksum, data FROM matrices WHERE id = ?1",
                      &st, err) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    if (matrix_step(db, st, id, &dtype, &r, &c, err) != 0) goto done;
    if (r != rows || c != cols) {
        fd_error_set(err, 500, "corrupt_matrix", "matrix %lld is (%zu, %zu), expected (%zu, %zu)",
                     (long long)id, r, c, rows, cols);
        goto done;
    }
    if (matrix_bytes(r, c, dtype, &n, err) != 0) goto done;
    blob = sqlite3_column_blob(st, 4);
    if ((size_t)sqlite3_column_bytes(st, 4) != n || (n && !blob)) {
        fd_error_set(err, 500, "corrupt_matrix", "matrix %lld: %d bytes of data for (%zu, %zu) %s",
                     (long long)id, sqlite3_column_bytes(st, 4), r, c, fd_dtype_name(dtype));
        goto done;
    }
    if ((uint64_t)sqlite3_column_int64(st, 3) != fd_matrix_checksum(blob, n)) {
        fd_error_set(err, 500, "corrupt_matrix", "matrix %lld: checksum mismatch", (long long)id);
        goto done;
    }
    if (n) matrix_convert(dst, want, blob, dtype, r * c);
    rc = 0;
done:
    sqlite3_finalize(st);
    return rc;
}

int fd_matrix_get_f64(fd_db *db, int64_t id, double **out, size_t *rows, size_t *cols,
                      fd_error *err) {
    fd_dtype dtype;
    size_t r, c, n = 0;
    double *m = NULL;
    *out = NULL;
    if (fd_matrix_info(db, id, &dtype, &r, &c, err) != 0) return -1;
    if (matrix_bytes(r, c, FD_DTYPE_F64, &n, err) != 0) return -1;
    if (n && !(m = malloc(n)))
        return fd_error_set(err, 500, "out_of_memory", "matrix %lld: %zu bytes", (long long)id, n);
    if (fd_matrix_read(db, id, FD_DTYPE_F64, m, r, c, err) != 0) {
        free(m);
        return -1;
    }
    *out = m;
    *rows = r;
    *cols = c;
    return 0;
}

int fd_matrix_delete(fd_db *db, int64_t id, fd_error *err) {
    sqlite3_stmt *st;
    int rc;
    if (fd_db_prepare(db, "DELETE FROM matrices WHERE id = ?1", &st, err) != 0) return -1;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) fd_db_error(db, err, "deleting a matrix");
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return -1;
    if (sqlite3_changes(fd_db_handle(db)) == 0)
        return fd_error_set(err, 404, "no_matrix", "matrix %lld is not stored", (long long)id);
    return 0;
}
