/* Per-month rank normalisation and managed portfolios (see factord/preprocess.h). */
#include "factord/preprocess.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "factord/mat.h"
#include "factord/mat_decomp.h"

#define RIDGE_SCALE 1e-8
#define PIVOT_FLOOR 1e-12

/* Order-preserving map of a double to an unsigned key: negative values flip all bits,
 * non-negative ones flip the sign bit, so unsigned order is numeric order. -0.0 is mapped
 * as +0.0 so that equal values always have equal keys. */
static uint64_t order_key(double v) {
    uint64_t b;
    if (v == 0) v = 0.0;
    memcpy(&b, &v, sizeof b);
    return (b >> 63) ? ~b : b | (1ull << 63);
}

/* The per-month ranking runs over every column of every month (200 million cells for a
 * 6,000 x 94 x 360 sample), so it is an LSD radix sort on the keys, not a comparison sort
 * through a function pointer: 11-bit digits, six passes, all histograms from one read, and
 * passes whose digit every key shares skipped. */
#define RADIX_BITS 11
#define RADIX_PASSES 6 /* 6 x 11 >= 64 */
#define RADIX_SIZE (1u << RADIX_BITS)

typedef struct rank_scratch {
    uint64_t *key, *key2;                     /* (n) */
    uint32_t *idx, *idx2;                     /* (n) */
    uint32_t (*count)[RADIX_SIZE];            /* (RADIX_PASSES, RADIX_SIZE) */
} rank_scratch;

/* Sorts (key, idx) by key; result in s->key / s->idx. */
static void radix_sort(rank_scratch *s, size_t m) {
    memset(s->count, 0, RADIX_PASSES * sizeof *s->count);
    for (size_t i = 0; i < m; i++) {
        uint64_t k = s->key[i];
        for (unsigned p = 0; p < RADIX_PASSES; p++)
            s->count[p][(k >> (p * RADIX_BITS)) & (RADIX_SIZE - 1)]++;
    }
    for (unsigned p = 0; p < RADIX_PASSES; p++) {
        unsigned shift = p * RADIX_BITS;
        uint32_t *count = s->count[p], pos = 0;
        uint64_t *tk;
        uint32_t *ti;
        if (count[(s->key[0] >> shift) & (RADIX_SIZE - 1)] == m) continue;
        for (size_t d = 0; d < RADIX_SIZE; d++) {
            uint32_t c = count[d];
            count[d] = pos;
            pos += c;
        }
        for (size_t i = 0; i < m; i++) {
            uint32_t at = count[(s->key[i] >> shift) & (RADIX_SIZE - 1)]++;
            s->key2[at] = s->key[i];
            s->idx2[at] = s->idx[i];
        }
        tk = s->key, s->key = s->key2, s->key2 = tk;
        ti = s->idx, s->idx = s->idx2, s->idx2 = ti;
    }
}

/* col (n) in place: 2 rank / (m + 1) - 1 with ties averaged, NaN -> 0. */
static void rank_column(double *col, size_t n, rank_scratch *s) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(col[i])) {
            col[i] = 0.0;
            continue;
        }
        s->key[m] = order_key(col[i]);
        s->idx[m] = (uint32_t)i;
        m++;
    }
    if (m == 0) return;
    radix_sort(s, m);
    for (size_t a = 0; a < m;) {
        size_t b = a;
        double z;
        while (b + 1 < m && s->key[b + 1] == s->key[a]) b++;
        /* Positions a..b (0-based) share the average rank (a + b) / 2 + 1. */
        z = 2.0 * (0.5 * (double)(a + b) + 1.0) / ((double)m + 1.0) - 1.0;
        for (size_t k = a; k <= b; k++) col[s->idx[k]] = z;
        a = b + 1;
    }
}

/* Columns gathered per block: a row's COL_BLOCK adjacent cells share a cache line, so the
 * gather and scatter read each line once instead of once per column. */
#define COL_BLOCK 8

int fd_preprocess_rank_normalize(double *x, size_t n, size_t p, fd_error *err) {
    rank_scratch s;
    unsigned char *block;
    double *cols;
    if (n == 0 || p == 0) return 0;
    if (n > UINT32_MAX)
        return fd_error_set(err, 422, "too_many_rows", "%zu securities in one month", n);
    block = malloc(RADIX_PASSES * sizeof *s.count +
                   n * (2 * sizeof(uint64_t) + 2 * sizeof(uint32_t) + COL_BLOCK * sizeof(double)));
    if (!block) return fd_error_set(err, 500, "out_of_memory", "rank normalisation of %zu rows", n);
    cols = (double *)(block + RADIX_PASSES * sizeof *s.count); /* (COL_BLOCK, n) */
    for (size_t j0 = 0; j0 < p; j0 += COL_BLOCK) {
        size_t w = p - j0 < COL_BLOCK ? p - j0 : COL_BLOCK;
        for (size_t i = 0; i < n; i++)
            for (size_t b = 0; b < w; b++) cols[b * n + i] = x[i * p + j0 + b];
        for (size_t b = 0; b < w; b++) {
            s.count = (uint32_t(*)[RADIX_SIZE])block;
            s.key = (uint64_t *)(cols + COL_BLOCK * n);
            s.key2 = s.key + n;
            s.idx = (uint32_t *)(s.key2 + n);
            s.idx2 = s.idx + n;
            rank_column(cols + b * n, n, &s);
        }
        for (size_t i = 0; i < n; i++)
            for (size_t b = 0; b < w; b++) x[i * p + j0 + b] = cols[b * n + i];
    }
    free(block);
    return 0;
}

/* Solves (R'R) x = x in place for upper-triangular R (P, P). */
static void cholesky_solve(const double *R, double *x, size_t P) {
    cblas_dtrsv(CblasRowMajor, CblasUpper, CblasTrans, CblasNonUnit, (int)P, R, (int)P, x, 1);
    cblas_dtrsv(CblasRowMajor, CblasUpper, CblasNoTrans, CblasNonUnit, (int)P, R, (int)P, x, 1);
}

/* Cholesky factor of A (P, P) that is numerically full rank: every pivot^2 above
 * PIVOT_FLOOR times the largest diagonal entry (rounding lets dpotrf "succeed" on singular
 * matrices with pivots near 1e-16). */
static int well_conditioned_cholesky(const double *A, size_t P, double *R) {
    double dmax = 0;
    for (size_t i = 0; i < P; i++) dmax = fmax(dmax, A[i * P + i]);
    if (!(dmax > 0) || fd_mat_cholesky_upper(A, P, R) != 0) return -1;
    for (size_t i = 0; i < P; i++)
        if (!(R[i * P + i] * R[i * P + i] > PIVOT_FLOOR * dmax)) return -1;
    return 0;
}

int fd_preprocess_managed_portfolio(const double *z, const double *r, size_t n, size_t P,
                                    double *x, int *ridged, fd_error *err) {
    double *zz, *R, trace = 0.0, lambda;
    if (ridged) *ridged = 0;
    if (P == 0) return 0;
    zz = malloc(2 * P * P * sizeof *zz);
    if (!zz) return fd_error_set(err, 500, "out_of_memory", "managed portfolio (P=%zu)", P);
    R = zz + P * P;
    /* (P, P) Z'Z, upper triangle only: all the Cholesky factorisation reads. */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)P, (int)n, 1.0, z, (int)P, 0.0, zz,
                (int)P);
    fd_mat_vec_t(x, z, r, n, P, 1.0, 0.0);      /* (P) Z'r */
    if (well_conditioned_cholesky(zz, P, R) != 0) {
        /* Singular Z'Z (n < P, a constant or duplicated column): a tiny ridge. */
        for (size_t i = 0; i < P; i++) trace += zz[i * P + i];
        lambda = trace > 0 ? RIDGE_SCALE * trace / (double)P : RIDGE_SCALE;
        for (size_t i = 0; i < P; i++) zz[i * P + i] += lambda;
        if (ridged) *ridged = 1;
        if (fd_mat_cholesky_upper(zz, P, R) != 0) {
            /* Only NaN/Inf input can defeat a positive ridge; callers pass finite values. */
            free(zz);
            return fd_error_set(err, 422, "singular",
                                "managed portfolio: Z'Z + ridge is not positive definite");
        }
    }
    cholesky_solve(R, x, P);
    free(zz);
    return 0;
}
