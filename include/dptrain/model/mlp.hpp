#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dptrain/backend/backend.hpp"
#include "dptrain/model/gradients_ready.hpp"
#include "dptrain/model/parameter_layout.hpp"

namespace dptrain {

// A multilayer perceptron: Dense layers with ReLU between them and none after the last (the
// softmax lives in the loss). Layer i has "layer{i}/weight" [out, in] and "layer{i}/bias" [out]
// in the flat buffers, layer 0 first. The model holds no parameters itself, only the activation
// buffers for up to max_rows rows, allocated once here so that a step allocates nothing.
class Mlp {
 public:
  // widths: input width, hidden widths..., number of classes.
  Mlp(Backend& backend, std::vector<int> widths, int max_rows);

  // The layout of an MLP with these widths, without building one.
  static ParameterLayout layout_for(const std::vector<int>& widths);

  const ParameterLayout& layout() const { return layout_; }
  const std::vector<int>& widths() const { return widths_; }
  int max_rows() const { return max_rows_; }
  std::string describe() const;  // "784-64-10"

  // Keras' Dense defaults: Glorot-uniform weights, zero biases; a pure function of the seed.
  void initialize(std::span<float> params_on_host, uint64_t seed) const;

  // Logits [rows, classes] of x [rows, input]; valid until the next forward.
  const float* forward(const float* params, const float* x, int rows);

  // Gradients of the loss whose gradient with respect to the logits of the last forward is
  // dlogits [rows, classes]; every gradient element is overwritten. Gradients are produced last
  // layer first, so the end of the flat gradient buffer is ready first; `ready`, if given, hears
  // of each layer's as soon as they are final.
  void backward(const float* params, const float* x, const float* dlogits, int rows, float* grads,
                GradientsReady* ready = nullptr);

 private:
  struct Layer {
    int in;
    int out;
    size_t weight;  // offsets in the flat buffers
    size_t bias;
    ew::Activation activation;
  };

  Backend& backend_;
  std::vector<int> widths_;
  int max_rows_;
  ParameterLayout layout_;
  std::vector<Layer> layers_;
  std::vector<DeviceArray<float>> outputs_;       // per layer: [max_rows, out], after activation
  std::vector<DeviceArray<float>> output_grads_;  // per layer but the last: [max_rows, out]
  std::vector<std::string> backward_names_;       // "backward layer{i}", for trace spans
};

}  // namespace dptrain
