#pragma once

// An element-wise activation as a layer of its own, where no layer before it takes it into its
// forward (after a pool, or one that no backend primitive applies, as tanh). Fn gives the
// element functions, shared by the CPU loop and the CUDA kernel (backend/element_loop.hpp):
//   static constexpr const char* kToken;             its spec item
//   static constexpr ew::Activation kFusesAs;        what a dense or conv may fuse it as, or none
//   static DPTRAIN_HD float forward(float x);
//   static DPTRAIN_HD float backward(float dy, float y);  from the forward's output y
// The .cu file of each activation instantiates the launches of its two functors.

#include <cstddef>
#include <memory>
#include <string>

#include "dptrain/backend/element_loop.hpp"
#include "dptrain/model/layers/activation_elements.hpp"
#include "dptrain/model/layers/layer.hpp"
#include "dptrain/model/layers/registry.hpp"

namespace dptrain::layers {

template <class Fn>
class ActivationLayer final : public Layer {
 public:
  explicit ActivationLayer(const MapShape& shape) : shape_(shape) {}

  MapShape output() const override { return shape_; }
  std::string token() const override { return Fn::kToken; }
  ew::Activation fusable() const override { return Fn::kFusesAs; }

  void forward(Backend& backend, const float* /*params*/, const float* x, int rows,
               float* y) override {
    for_each_element(backend, elements(rows), ActivationForward<Fn>{x, y});
  }
  void input_gradient(Backend& backend, const float* /*params*/, const float* /*x*/, const float* y,
                      const float* dy, int rows, float* dx) override {
    for_each_element(backend, elements(rows), ActivationBackward<Fn>{dy, y, dx});
  }

 private:
  size_t elements(int rows) const { return static_cast<size_t>(rows) * shape_.size(); }

  MapShape shape_;
};

// The factory of an activation (registry.cpp): its item is its token alone.
template <class Fn>
std::unique_ptr<Layer> make_activation(const LayerArgs& args) {
  if (!args.rest.empty()) throw_unknown_layer(args);
  return std::make_unique<ActivationLayer<Fn>>(args.input);
}

}  // namespace dptrain::layers
