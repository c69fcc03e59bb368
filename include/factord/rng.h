/* fd_rng: a seeded, deterministic pseudo-random generator (xoshiro256**, seeded through
 * splitmix64) with uniform, normal and shuffle helpers.
 *
 * The same seed gives the same stream on every platform, which is what makes training and
 * simulation reproducible. The state is plain data owned by the caller; one generator must
 * not be used by two threads at once (give each thread its own, seeded differently). */
#ifndef FACTORD_RNG_H
#define FACTORD_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct fd_rng {
    uint64_t s[4];
} fd_rng;

void fd_rng_seed(fd_rng *rng, uint64_t seed);
uint64_t fd_rng_u64(fd_rng *rng);
/* Uniform on [0, 1), 53 random bits. */
double fd_rng_uniform(fd_rng *rng);
/* Uniform integer on [0, n), unbiased; n > 0. */
uint64_t fd_rng_below(fd_rng *rng, uint64_t n);
/* Standard normal (Marsaglia polar method; no cached spare, so the stream depends only on
 * the number of calls). */
double fd_rng_normal(fd_rng *rng);
/* Fisher-Yates shuffle of idx (n). */
void fd_rng_shuffle(fd_rng *rng, size_t *idx, size_t n);

#endif
