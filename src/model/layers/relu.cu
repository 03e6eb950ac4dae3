// A standalone relu's CUDA code (one after a pool; after a dense or a conv it is fused): the
// element loop's kernel for its two functors (relu.hpp).
#include "../../cuda/element_loop.cuh"
#include "dptrain/model/layers/activation_elements.hpp"
#include "dptrain/model/layers/relu.hpp"

namespace dptrain {

template void launch_element_kernel(Backend&, size_t,
                                    const layers::ActivationForward<layers::Relu>&);
template void launch_element_kernel(Backend&, size_t,
                                    const layers::ActivationBackward<layers::Relu>&);

}  // namespace dptrain
