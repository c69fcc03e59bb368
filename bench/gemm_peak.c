/* gemm_peak: what OpenBLAS's dgemm and sgemm reach on this machine, right now, with a given
 * number of threads; bench/models.sh runs it beside the fits so that their GFLOP/s can be read
 * against a peak measured under the same load.
 *
 *   gemm_peak [--threads 2] [--n 1536] [--repeat 5]
 *
 * Square n x n products C = A B (2 n^3 flops each), after one untimed warm-up, best of
 * --repeat: the machine is shared, so the fastest product is the least disturbed one.
 * Prints JSON: {"threads", "n", "dgemm_gflops", "sgemm_gflops"}. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void openblas_set_num_threads(int n);

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best GFLOP/s of `repeat` timed dgemm (single = 0) or sgemm (single = 1) calls. */
static double best_gflops(int single, int n, int repeat) {
    size_t cells = (size_t)n * (size_t)n, size = single ? sizeof(float) : sizeof(double);
    unsigned char *buf = malloc(3 * cells * size);
    double best = 0, flops = 2.0 * n * (double)n * n;
    if (!buf) return 0;
    for (size_t i = 0; i < 3 * cells; i++) {
        double v = (double)(i % 17) / 17.0 - 0.5;
        if (single) ((float *)buf)[i] = (float)v;
        else ((double *)buf)[i] = v;
    }
    for (int r = -1; r < repeat; r++) { /* r = -1: warm-up (threads started, pages touched) */
        double t0 = now(), dt;
        if (single) {
            float *A = (float *)buf, *B = A + cells, *C = B + cells;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, A, n, B, n,
                        0.0f, C, n);
        } else {
            double *A = (double *)buf, *B = A + cells, *C = B + cells;
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, A, n, B, n,
                        0.0, C, n);
        }
        dt = now() - t0;
        if (r >= 0 && flops / dt / 1e9 > best) best = flops / dt / 1e9;
    }
    free(buf);
    return best;
}

int main(int argc, char **argv) {
    int threads = 2, n = 1536, repeat = 5;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--threads")) threads = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--n")) n = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--repeat")) repeat = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: gemm_peak [--threads 2] [--n 1536] [--repeat 5]\n");
            return 2;
        }
    }
    if (threads < 1 || n < 64 || n > 8192 || repeat < 1 || repeat > 100) {
        fprintf(stderr, "gemm_peak: need threads >= 1, 64 <= n <= 8192, 1 <= repeat <= 100\n");
        return 2;
    }
    openblas_set_num_threads(threads);
    double d = best_gflops(0, n, repeat), s = best_gflops(1, n, repeat);
    if (d <= 0 || s <= 0) {
        fprintf(stderr, "gemm_peak: out of memory for n = %d\n", n);
        return 1;
    }
    printf("{\"threads\": %d, \"n\": %d, \"dgemm_gflops\": %.2f, \"sgemm_gflops\": %.2f}\n",
           threads, n, d, s);
    return 0;
}
