#include "dptrain/model/layers/dense.hpp"

#include <memory>

#include "dptrain/model/layers/registry.hpp"

namespace dptrain::layers {

Dense::Dense(const LayerArgs& args, int units) {
  name_ = args.names.next("dense");
  const int in = static_cast<int>(args.input.size());
  dense_ = DenseLayer::add_to(args.layout, name_, in, units, {units, in}, ew::Activation::none);
}

void Dense::initialize(std::span<float> params, uint64_t key) const {
  dense_.initialize(params, key, dense_.in, dense_.out);
}

void Dense::forward(Backend& backend, const float* params, const float* x, int rows, float* y) {
  dense_.forward(backend, params, x, rows, y);
}

void Dense::parameter_gradients(Backend& backend, const float* x, const float* dy, int rows,
                                float* grads) {
  dense_.parameter_gradients(backend, dy, x, rows, grads);
}

void Dense::input_gradient(Backend& backend, const float* params, const float* /*x*/,
                           const float* /*y*/, const float* dy, int rows, float* dx) {
  dense_.input_gradient(backend, params, dy, rows, dx);
}

std::unique_ptr<Layer> make_dense(const LayerArgs& args) {
  const int units =
      args.rest == "K" ? args.data.classes : parse_count(args, args.rest, "units", 1, kMaxUnits);
  return std::make_unique<Dense>(args, units);
}

}  // namespace dptrain::layers
