// tanh's CUDA code: the element loop's kernel for its two functors (tanh.hpp).
#include "../../cuda/element_loop.cuh"
#include "dptrain/model/layers/activation_elements.hpp"
#include "dptrain/model/layers/tanh.hpp"

namespace dptrain {

template void launch_element_kernel(Backend&, size_t,
                                    const layers::ActivationForward<layers::Tanh>&);
template void launch_element_kernel(Backend&, size_t,
                                    const layers::ActivationBackward<layers::Tanh>&);

}  // namespace dptrain
