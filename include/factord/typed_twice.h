/* Includes the header named by FD_TYPED_HEADER twice: once with FD_TYPED_T = double and
 * FD_TYPED_FN(name) = fd_name, once with float and fd_name_f32, then forgets all three
 * macros. The typed halves of fd_nn and fd_ca_net are declared this way. No include guard on
 * purpose. */
#define FD_TYPED_T double
#define FD_TYPED_FN(name) fd_##name
#include FD_TYPED_HEADER
#undef FD_TYPED_T
#undef FD_TYPED_FN
#define FD_TYPED_T float
#define FD_TYPED_FN(name) fd_##name##_f32
#include FD_TYPED_HEADER
#undef FD_TYPED_T
#undef FD_TYPED_FN
#undef FD_TYPED_HEADER
