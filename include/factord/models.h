/* The model kinds factord implements, each one fd_model_ops table (see factord/model.h).
 * The registry in src/models/model.c maps kind names to these tables; nothing else should
 * need them directly. */
#ifndef FACTORD_MODELS_H
#define FACTORD_MODELS_H

#include "factord/model.h"

/* Conditional autoencoders (Gu, Kelly, Xiu 2021) with 0, 1, 2 and 3 hidden layers of
 * 32, 16 and 8 units in the beta network (src/models/ca.c). */
extern const fd_model_ops fd_model_ops_ca0;
extern const fd_model_ops fd_model_ops_ca1;
extern const fd_model_ops fd_model_ops_ca2;
extern const fd_model_ops fd_model_ops_ca3;

#endif
