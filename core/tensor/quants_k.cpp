// STUB: to be replaced by the kernel family implementation.
#include "tensor/kernels.h"

namespace sieve::tensor::detail {
void register_kquant_scalar(KernelTable& /*table*/) {}
}  // namespace sieve::tensor::detail
