#pragma once

#include <cstdint>

#include "dptrain/core/conv_elements.hpp"
#include "dptrain/model/layers/layer.hpp"

namespace dptrain::layers {

// "poolP": max-pooling over P x P windows every P pixels; rows and columns that fill no whole
// window are left out (ew::PoolGeometry). No parameters.
class Pool final : public Layer {
 public:
  Pool(const LayerArgs& args, int window);

  MapShape output() const override;
  std::string token() const override { return "pool" + std::to_string(geometry_.window); }

  void allocate(Backend& backend, int max_rows) override;
  void forward(Backend& backend, const float* params, const float* x, int rows, float* y) override;
  void input_gradient(Backend& backend, const float* params, const float* x, const float* y,
                      const float* dy, int rows, float* dx) override;

  const ew::PoolGeometry& geometry() const { return geometry_; }

 private:
  ew::PoolGeometry geometry_;
  DeviceArray<uint8_t> argmax_;  // per output element, the window position of its maximum
};

std::unique_ptr<Layer> make_pool(const LayerArgs& args);

}  // namespace dptrain::layers
