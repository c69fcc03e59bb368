/* The model kinds factord implements, each one fd_model_ops table (see factord/model.h).
 * The registry in src/models/model.c maps kind names to these tables (adding a kind is one
 * file and one line there); nothing else should need them directly. */
#ifndef FACTORD_MODELS_H
#define FACTORD_MODELS_H

#include "factord/model.h"

/* Conditional autoencoders (Gu, Kelly, Xiu 2021) with 0, 1, 2 and 3 hidden layers of
 * 32, 16 and 8 units in the beta network (src/models/ca.c). */
extern const fd_model_ops fd_model_ops_ca0;
extern const fd_model_ops fd_model_ops_ca1;
extern const fd_model_ops fd_model_ops_ca2;
extern const fd_model_ops fd_model_ops_ca3;

/* Instrumented PCA (Kelly, Pruitt, Su 2019), alternating least squares in managed-portfolio
 * form (src/models/ipca*.c). Hyper-parameters: "intercept" (bool, default false: Gamma_alpha
 * = 0; with it the betas op fills alpha = z Gamma_alpha), "max_iter" (ALS steps, default
 * 10000), "tol" (max absolute change of Gamma, and of F without an intercept, in one plain ALS
 * step; default 1e-10), "acceleration" ("squarem", the default: SQUAREM-extrapolated steps
 * under a safeguard, see factord/fixed_point.h; "none": plain ALS steps, the reference's). */
extern const fd_model_ops fd_model_ops_ipca;
/* Static PCA of the managed portfolios (src/models/pca.c); no hyper-parameters. */
extern const fd_model_ops fd_model_ops_pca;
/* Predictive OLS on size, value and momentum (src/models/ols3.c); K = 1. Hyper "columns":
 * three column names or indices (default the first three). */
extern const fd_model_ops fd_model_ops_ols3;

/* Helpers shared by the kinds' ops. 409 "not_fitted" naming m's kind unless fitted. */
int fd_model_check_fitted(const fd_model *m, int fitted, fd_error *err);
/* The one progress event of a single-step fit (epoch 1 of 1); 409 "cancelled" when the
 * callback asks to stop. */
int fd_model_report_single_step(const fd_model *m, const fd_fit_opts *opts, double train_loss,
                                fd_error *err);

#endif
