#pragma once

// The hand-wired MLP that the sequential model (model/sequential.hpp) replaced, kept in the tests
// only, as it was: the presets must compute bit for bit what it computes (preset_equality_test).

#include <string>
#include <vector>

#include "dptrain/model/dense_layer.hpp"
#include "dptrain/model/model.hpp"

namespace dptrain::testing {

// A multilayer perceptron: Dense layers with ReLU between them and none after the last (the
// softmax lives in the loss). Layer i has "layer{i}/weight" [out, in] and "layer{i}/bias" [out]
// in the flat buffers, layer 0 first.
class ReferenceMlp final : public Model {
 public:
  // widths: input width, hidden widths..., number of classes.
  ReferenceMlp(Backend& backend, std::vector<int> widths, int max_rows);

  // The layout of an MLP with these widths, without building one.
  static ParameterLayout layout_for(const std::vector<int>& widths);

  const ParameterLayout& layout() const override { return layout_; }
  std::string describe() const override;  // "mlp 784-64-10"
  int max_rows() const override { return max_rows_; }
  size_t layer_count() const override { return layers_.size(); }

  void initialize(std::span<float> params_on_host, uint64_t seed) const override;
  const float* forward(const float* params, const float* x, int rows) override;
  void backward(const float* params, const float* x, const float* dlogits, int rows, float* grads,
                GradientsReady* ready = nullptr) override;

 private:
  static std::vector<DenseLayer> layers_of(ParameterLayout& layout, const std::vector<int>& widths);

  Backend& backend_;
  std::vector<int> widths_;
  int max_rows_;
  ParameterLayout layout_;
  std::vector<DenseLayer> layers_;
  std::vector<DeviceArray<float>> outputs_;       // per layer: [max_rows, out], after activation
  std::vector<DeviceArray<float>> output_grads_;  // per layer but the last: [max_rows, out]
  std::vector<std::string> backward_names_;       // "backward layer{i}", for trace spans
};

}  // namespace dptrain::testing
