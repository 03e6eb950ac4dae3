#pragma once

#include <string>

#include "dptrain/model/dense_layer.hpp"
#include "dptrain/model/layers/layer.hpp"

namespace dptrain::layers {

// What a dense and a convolution share: their parameters are a DenseLayer's weight and bias
// under one name, and a relu after them is fused into its bias step.
class WeightedLayer : public Layer {
 public:
  bool fuse(ew::Activation activation) override {
    if (dense_.activation != ew::Activation::none) return false;
    dense_.activation = activation;
    return true;
  }
  ew::Activation fused() const override { return dense_.activation; }
  bool has_parameters() const override { return true; }
  const std::string& name() const override { return name_; }
  size_t first_offset() const override { return dense_.first_offset(); }

 protected:
  std::string name_;
  DenseLayer dense_;
};

}  // namespace dptrain::layers
