#pragma once

// The element-wise functors of an activation layer (activation_layer.hpp) for an Fn of element
// functions (relu.hpp, tanh.hpp): what the CPU loop and the CUDA kernel run. Plain C++17, as
// the .cu files that instantiate their kernels compile.

#include <cstddef>

#include "dptrain/core/host_device.hpp"

namespace dptrain::layers {

template <class Fn>
struct ActivationForward {
  const float* x;
  float* y;
  DPTRAIN_HD void operator()(size_t i) const { y[i] = Fn::forward(x[i]); }
};

template <class Fn>
struct ActivationBackward {
  const float* dy;
  const float* y;
  float* dx;
  DPTRAIN_HD void operator()(size_t i) const { dx[i] = Fn::backward(dy[i], y[i]); }
};

}  // namespace dptrain::layers
