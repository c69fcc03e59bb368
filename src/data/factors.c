/* fd_factor_table lifetime. */
#include "factord/factors.h"

#include <stdlib.h>
#include <string.h>

void fd_factor_table_init(fd_factor_table *t) { memset(t, 0, sizeof *t); }

void fd_factor_table_free(fd_factor_table *t) {
    if (!t) return;
    for (size_t j = 0; t->names && j < t->n_factors; j++) free(t->names[j]);
    free(t->names);
    free(t->months);
    free(t->values);
    fd_factor_table_init(t);
}
