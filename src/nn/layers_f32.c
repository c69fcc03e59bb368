/* The float instantiation of the fd_nn layers (fd_NAME_f32): CA training, which runs in
 * single precision as PyTorch and Gu, Kelly and Xiu do (half the memory traffic, twice the
 * GEMM throughput). */
#define NN_T float
#define NN_FN(name) fd_##name##_f32
#define NN_BITS uint32_t
#define NN_GEMM cblas_sgemm
#include "layers.inc"
