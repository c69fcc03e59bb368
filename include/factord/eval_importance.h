/* Characteristic importance of a fitted model over a set of periods (issue 5, seed 001/003).
 *
 * For each characteristic j:
 *   r2_drop  = total R^2 with the true characteristics minus total R^2 when z_j is set to
 *              its cross-sectional median (0 after rank normalisation) in the beta network;
 *              the factors stay at the model's realised f_t of the unmodified period, so the
 *              drop measures what the betas lose.
 *   gradient = mean over securities, months and factors of |d beta_k / d z_j|, by central
 *              differences with step 1e-4 (model-agnostic; exact for linear betas).
 * Predictions are fd_model_predict's (alpha included). For kinds with history, only the
 * characteristics of t-1 (z itself, history step L-1) are perturbed.
 * Result: JSON array of {"characteristic","r2_drop","gradient"}, sorted by r2_drop
 * descending. Caller owns it. */
#ifndef FACTORD_EVAL_IMPORTANCE_H
#define FACTORD_EVAL_IMPORTANCE_H

#include <jansson.h>

#include "factord/dataset.h"
#include "factord/error.h"
#include "factord/model.h"

int fd_eval_importance(const fd_model *m, const fd_dataset *ds, json_t **out, fd_error *err);

#endif
