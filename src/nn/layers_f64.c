/* The double instantiation of the fd_nn layers (fd_NAME): gradient checks and inference. */
#define NN_T double
#define NN_FN(name) fd_##name
#define NN_BITS uint64_t
#define NN_GEMM cblas_dgemm
#include "layers.inc"
