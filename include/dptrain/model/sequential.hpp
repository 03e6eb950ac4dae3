#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dptrain/model/layers/layer.hpp"
#include "dptrain/model/model.hpp"

namespace dptrain {

// A chain of layers built from a layer spec (layers/registry.hpp; README, "Models"): the
// presets mlp and cnn, and any spec --model is given. It owns every activation buffer, for
// max_rows rows, from the moment it is built. Forward runs the layers first to last; backward
// last to first, each layer with parameters reporting its tensors final (GradientsReady) once
// it has their gradients, and the first layer computing no gradient of the input.
class Sequential final : public Model {
 public:
  // InputError where the spec does not fit `input` (registry.hpp's build_layers).
  Sequential(Backend& backend, const ModelSpec& spec, int max_rows);

  const ParameterLayout& layout() const override { return layout_; }
  std::string describe() const override { return description_; }
  int max_rows() const override { return max_rows_; }
  size_t layer_count() const override { return backward_names_.size(); }
  const std::vector<std::unique_ptr<layers::Layer>>& layers() const { return layers_; }

  void initialize(std::span<float> params_on_host, uint64_t seed) const override;
  const float* forward(const float* params, const float* x, int rows) override;
  void backward(const float* params, const float* x, const float* dlogits, int rows, float* grads,
                GradientsReady* ready = nullptr) override;

 private:
  Backend& backend_;
  int max_rows_;
  ParameterLayout layout_;
  std::vector<std::unique_ptr<layers::Layer>> layers_;
  std::string description_;
  std::vector<DeviceArray<float>> outputs_;       // per layer: [max_rows, output size]
  std::vector<DeviceArray<float>> output_grads_;  // per layer but the last
  std::vector<std::string> backward_names_;       // "backward conv1": per layer with parameters
};

// The layers of `spec` (its preset or its layer spec) into `layout`; what Sequential builds,
// without a backend.
std::vector<std::unique_ptr<layers::Layer>> build_model_layers(const ModelSpec& spec,
                                                               ParameterLayout& layout);

}  // namespace dptrain
