/* Work sizes of the factor layers: see include/factord/nn_factor.h. */
#include "factord/nn_factor.h"

size_t fd_factor_ls_work_count(size_t K) {
    return K * (K + 1);
}

size_t fd_orthogonality_work_count(size_t K) {
    return 2 * K * K + 2 * K;
}
