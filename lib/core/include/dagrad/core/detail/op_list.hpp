// The one list of ops: each X(key) here has a file ops/<key>.cpp defining
// `OpEntry detail::registry_entry_<key>()`. A new op adds one line.
//   DAGRAD_FOR_EACH_OP(X) expands X(add) X(add_n) ... in key order.
#pragma once

#include <dagrad/core/registry.hpp>

// Explicit rather than self-registering: a static initializer in an op file
// would be dropped by the linker when dagrad is a static library, and the op
// would silently leave the registry.
#define DAGRAD_FOR_EACH_OP(X)     \
  X(abs)                          \
  X(add)                          \
  X(add_channel_bias)             \
  X(add_n)                        \
  X(attention)                    \
  X(attention_cached)             \
  X(attention_grad)               \
  X(avg_pool2d)                   \
  X(avg_pool2d_grad)              \
  X(batch_norm)                   \
  X(batch_norm_grad_input)        \
  X(batch_norm_running)           \
  X(binary_cross_entropy)         \
  X(broadcast)                    \
  X(concat)                       \
  X(conv2d)                       \
  X(conv2d_grad_filter)           \
  X(conv2d_grad_input)            \
  X(cross_entropy)                \
  X(cross_entropy_grad)           \
  X(div)                          \
  X(dropout)                      \
  X(embedding)                    \
  X(embedding_grad)               \
  X(exp)                          \
  X(gelu)                         \
  X(gelu_grad)                    \
  X(identity)                     \
  X(interleave_rows)              \
  X(layer_norm)                   \
  X(layer_norm_grad_gain)         \
  X(layer_norm_grad_input)        \
  X(leaky_relu)                   \
  X(log)                          \
  X(log_softmax)                  \
  X(matmul)                       \
  X(max_pool2d)                   \
  X(max_pool2d_grad)              \
  X(mean)                         \
  X(mean_grad)                    \
  X(mse_loss)                     \
  X(mul)                          \
  X(pow)                          \
  X(relu)                         \
  X(relu_grad)                    \
  X(rsqrt)                        \
  X(scale)                        \
  X(shift)                        \
  X(sigmoid)                      \
  X(sigmoid_grad)                 \
  X(sign)                         \
  X(slice)                        \
  X(softmax)                      \
  X(softmax_cross_entropy)        \
  X(softmax_cross_entropy_grad)   \
  X(sqrt)                         \
  X(square)                       \
  X(strided_rows)                 \
  X(sub)                          \
  X(sum)                          \
  X(sum_channels)                 \
  X(sum_cols)                     \
  X(sum_rows)                     \
  X(sum_squares)                  \
  X(tanh)                         \
  X(tanh_grad)                    \
  X(transpose)                    \
  X(zeros_like)

namespace dagrad::detail {

#define DAGRAD_DECLARE_REGISTRY_ENTRY(key) OpEntry registry_entry_##key();
DAGRAD_FOR_EACH_OP(DAGRAD_DECLARE_REGISTRY_ENTRY)
#undef DAGRAD_DECLARE_REGISTRY_ENTRY

}  // namespace dagrad::detail
