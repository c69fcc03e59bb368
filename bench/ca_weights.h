/* bench_ca_export_weights: writes a fitted ca0..ca3 model's parameters (ensemble member 0)
 * to a JSON file in PyTorch's layouts, with the losses factord computes on them, for
 * bench/ca_ref.py --check-weights. loss_eval is the caller's inference-mode MSE over ds.
 * One thread; the model is only read. */
#ifndef FACTORD_BENCH_CA_WEIGHTS_H
#define FACTORD_BENCH_CA_WEIGHTS_H

#include <jansson.h>

#include "factord/dataset.h"
#include "factord/model.h"

int bench_ca_export_weights(const fd_model *m, const char *kind, const fd_dataset *ds,
                            double loss_eval, const char *path, fd_error *err);

#endif
