#pragma once

#include "dptrain/core/elementwise.hpp"
#include "dptrain/core/host_device.hpp"

namespace dptrain::layers {

// "relu": max(x, 0). After a dense or a conv it is fused into their bias step (as the presets
// always were); elsewhere (after a pool) it is a layer, with the same element functions.
struct Relu {
  static constexpr const char* kToken = "relu";
  static constexpr ew::Activation kFusesAs = ew::Activation::relu;
  static DPTRAIN_HD float forward(float x) { return ew::activate(x, ew::Activation::relu); }
  static DPTRAIN_HD float backward(float dy, float y) {
    return ew::activation_backward(dy, y, ew::Activation::relu);
  }
};

}  // namespace dptrain::layers
