/* Private to src/models/ca*.c: the conditional autoencoder model behind fd_model_ops_ca0..3
 * (declared in factord/models.h). ca_hyper.c parses hyper-parameters, ca_fit.c trains,
 * ca.c serves betas/factors and saves/loads. */
#ifndef FACTORD_CA_MODEL_H
#define FACTORD_CA_MODEL_H

#include <jansson.h>
#include <stdint.h>

#include "factord/ca_net.h"
#include "factord/model.h"

typedef struct fd_ca_hyper {
    uint64_t seed;      /* member j trains with seed + j */
    int epochs;         /* maximum passes over the training periods */
    int patience;       /* epochs without a better validation loss before stopping */
    int batch_months;   /* periods per mini-batch (all their securities) */
    int ensemble;       /* members whose betas and factors are averaged */
    double lr, adam_beta1, adam_beta2, adam_eps;
    double l1, l2;      /* penalties on the weight matrices (not biases or batch norm) */
    double dropout;     /* rate on the hidden layers' outputs, 0 for none */
    int huber;          /* loss: 0 mean squared error, 1 Huber */
    double huber_delta;
    int float64;        /* train in double (1) or float (0, the default); weights are stored
                         * as double either way */
} fd_ca_hyper;

typedef struct fd_ca_model {
    fd_model base;
    fd_ca_hyper hyper;
    fd_ca_net net;
    int fitted;
    double *params;     /* (ensemble, net.n_total): member j at params + j * n_total */
} fd_ca_model;

/* Defaults overlaid with the JSON object hyper (NULL means all defaults); 400 naming the
 * key on an unknown key or an out-of-range value. */
int fd_ca_hyper_parse(const json_t *hyper, fd_ca_hyper *out, fd_error *err);

/* Trains every member, then combines them (see combine_members in ca_fit.c).
 * On failure the model is left unfitted. */
int fd_ca_fit(fd_ca_model *m, const fd_dataset *train, const fd_dataset *valid,
              const fd_fit_opts *opts, fd_error *err);

#endif
