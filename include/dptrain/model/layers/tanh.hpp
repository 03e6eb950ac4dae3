#pragma once

#include <cmath>

#include "dptrain/core/elementwise.hpp"
#include "dptrain/core/host_device.hpp"

namespace dptrain::layers {

// "tanh": y = tanh(x), and dx = dy * (1 - y^2) from the output. Always a layer of its own: no
// backend primitive applies it.
struct Tanh {
  static constexpr const char* kToken = "tanh";
  static constexpr ew::Activation kFusesAs = ew::Activation::none;
  static DPTRAIN_HD float forward(float x) { return tanhf(x); }
  static DPTRAIN_HD float backward(float dy, float y) { return dy * (1.0f - y * y); }
};

}  // namespace dptrain::layers
