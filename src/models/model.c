/* The registry of model kinds (see factord/model.h; the list is kinds.h). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "factord/models.h"

#define FD_KIND(name) extern const fd_model_ops fd_model_ops_##name;
#include "kinds.h"
#undef FD_KIND

static const fd_model_ops *const kinds[] = {
#define FD_KIND(name) &fd_model_ops_##name,
#include "kinds.h"
#undef FD_KIND
};

#define N_KINDS (sizeof kinds / sizeof *kinds)

const fd_model_ops *fd_model_kind(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(kinds[i]->kind, name) == 0) return kinds[i];
    return NULL;
}

static char kind_names[256];
static pthread_once_t kind_names_once = PTHREAD_ONCE_INIT;

static void build_kind_names(void) {
    size_t used = 0;
    for (size_t i = 0; i < N_KINDS && used < sizeof kind_names; i++)
        used += (size_t)snprintf(kind_names + used, sizeof kind_names - used, "%s%s",
                                 i ? ", " : "", kinds[i]->kind);
}

const char *fd_model_kind_names(void) {
    pthread_once(&kind_names_once, build_kind_names);
    return kind_names;
}

const fd_model_ops *fd_model_kind_at(size_t i) { return i < N_KINDS ? kinds[i] : NULL; }

void fd_model_init(fd_model *m, const fd_model_ops *ops, const fd_model_dims *d) {
    m->ops = ops;
    m->dims = *d;
    m->P = d->P;
    m->K = d->K;
    m->history = 1;
    m->has_alpha = 0;
}

int fd_model_check_fitted(const fd_model *m, int fitted, fd_error *err) {
    if (fitted) return 0;
    return fd_error_set(err, 409, "not_fitted", "the %s model has not been fitted", m->ops->kind);
}

int fd_model_report_single_step(const fd_model *m, const fd_fit_opts *opts, double train_loss,
                                fd_error *err) {
    fd_fit_event ev = {0, 1, 1, 1, train_loss, NAN};
    if (opts && opts->progress && opts->progress(opts->ctx, &ev) != 0)
        return fd_error_set(err, 409, "cancelled", "%s fit cancelled", m->ops->kind);
    return 0;
}
