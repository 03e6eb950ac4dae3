#pragma once

#include "dptrain/model/layers/weighted_layer.hpp"

namespace dptrain::layers {

// "denseN": N units over the input map flattened (NHWC, as it lies in memory); "denseK": as
// many units as the data has classes. Tensors "<name>/weight" [N, in] and "<name>/bias" [N];
// Glorot fans in and N. Takes a following relu into its bias step.
class Dense final : public WeightedLayer {
 public:
  Dense(const LayerArgs& args, int units);

  MapShape output() const override { return {1, 1, dense_.out}; }
  std::string token() const override { return "dense" + std::to_string(dense_.out); }

  void initialize(std::span<float> params, uint64_t key) const override;

  void forward(Backend& backend, const float* params, const float* x, int rows, float* y) override;
  void parameter_gradients(Backend& backend, const float* x, const float* dy, int rows,
                           float* grads) override;
  void input_gradient(Backend& backend, const float* params, const float* x, const float* y,
                      const float* dy, int rows, float* dx) override;
};

std::unique_ptr<Layer> make_dense(const LayerArgs& args);

}  // namespace dptrain::layers
