/* Shared between the IPCA model (ipca.c) and its alternating-least-squares fit (ipca_als.c).
 * Not a public header. */
#ifndef FACTORD_IPCA_INTERNAL_H
#define FACTORD_IPCA_INTERNAL_H

#include "factord/model.h"

typedef struct ipca_model {
    fd_model base;       /* base.P = L characteristics, base.K latent factors */
    int intercept;       /* estimate Gamma_alpha (else it stays 0) */
    int max_iter;
    double tol;
    int accelerate;      /* SQUAREM (hyper.acceleration "squarem"), else plain ALS steps */
    int fitted;
    double *gamma_beta;  /* (L, K) row-major, points into params */
    double *gamma_alpha; /* (L), points into params; zeros when restricted */
    double params[];     /* the one parameter block: gamma_beta then gamma_alpha */
} ipca_model;

/* How the last fit ended, for logs. */
typedef struct ipca_als_info {
    int iterations;   /* ALS steps taken (extrapolated ones included) */
    double change;    /* the last plain step's max absolute update */
    int converged;
    int extrapolated; /* SQUAREM extrapolations tried */
    int refused;      /* of which the safeguard refused (plain steps instead) */
} ipca_als_info;

/* Rotates Gamma (L, K + intercept) = [Gb | ga] and F (T, K) in place to the identification
 * conventions (ipca_rotate.c) without changing the fit; work holds 6 K K + 2 K + L K doubles.
 * Returns -1 when Gamma_beta has lost rank. */
#define FD_IPCA_ROTATE_WORK(L, K) (6 * (K) * (K) + 2 * (K) + (L) * (K))
int fd_ipca_rotate(size_t L, size_t K, size_t T, int intercept, double *G, double *F,
                   double *work);

/* Fits m's Gamma on ds by ALS, accelerated by SQUAREM when m->accelerate, on opts->threads
 * threads (ipca_als.c); writes m->gamma_beta / m->gamma_alpha only on success. */
int fd_ipca_als_fit(ipca_model *m, const fd_dataset *ds, const fd_fit_opts *opts,
                    ipca_als_info *info, fd_error *err);

#endif
