#include "dptrain/model/dense_layer.hpp"

#include <cmath>
#include <stdexcept>

#include "dptrain/core/random.hpp"

namespace dptrain {

DenseLayer DenseLayer::add_to(ParameterLayout& layout, const std::string& name, int in, int out,
                              std::vector<int> weight_shape, ew::Activation activation) {
  DenseLayer layer;
  layer.in = in;
  layer.out = out;
  layer.activation = activation;
  layer.weight = layout.add(name + "/weight", std::move(weight_shape));
  if (layout.tensors().back().size != static_cast<size_t>(in) * static_cast<size_t>(out))
    throw std::invalid_argument(name + "/weight's shape does not hold out x in elements");
  layer.bias = layout.add(name + "/bias", {out});
  return layer;
}

void DenseLayer::initialize(std::span<float> params, uint64_t key, int fan_in, int fan_out) const {
  const float limit = std::sqrt(6.0f / static_cast<float>(fan_in + fan_out));
  const size_t weights = static_cast<size_t>(in) * out;
  for (size_t e = 0; e < weights; ++e)
    params[weight + e] = (2.0f * random::uniform01(key, e) - 1.0f) * limit;
  for (int e = 0; e < out; ++e)
    params[bias + e] = 0.0f;
}

void DenseLayer::forward(Backend& backend, const float* params, const float* x, int rows,
                         float* y) const {
  // y[rows, out] = x[rows, in] * weight[out, in]^T
  backend.gemm(Transpose::no, Transpose::yes, rows, out, in, 1.0f, x, in, params + weight, in, 0.0f,
               y, out);
  backend.bias_activation_forward(y, params + bias, rows, out, activation);
}

void DenseLayer::parameter_gradients(Backend& backend, const float* dy, const float* x, int rows,
                                     float* grads) const {
  // dweight[out, in] = dy[rows, out]^T * x[rows, in]
  backend.gemm(Transpose::yes, Transpose::no, out, in, rows, 1.0f, dy, out, x, in, 0.0f,
               grads + weight, in);
  backend.bias_gradient(dy, rows, out, grads + bias);
}

void DenseLayer::input_gradient(Backend& backend, const float* params, const float* dy, int rows,
                                float* dx) const {
  // dx[rows, in] = dy[rows, out] * weight[out, in]
  backend.gemm(Transpose::no, Transpose::no, rows, in, out, 1.0f, dy, out, params + weight, in,
               0.0f, dx, in);
}

}  // namespace dptrain
