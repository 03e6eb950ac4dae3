#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "dptrain/backend/backend.hpp"
#include "dptrain/model/parameter_layout.hpp"

namespace dptrain {

// y[rows, out] = activate(x[rows, in] * W^T + b), with W [out, in] and b [out] in the flat
// buffers. The MLP is a chain of these; a convolution is one too, over the rows of its im2col
// matrix (one row per output pixel, in = its patch, out = its channels).
struct DenseLayer {
  int in = 0;
  int out = 0;
  size_t weight = 0;  // offsets in the flat buffers
  size_t bias = 0;
  ew::Activation activation = ew::Activation::none;

  // Adds "<name>/weight" with the given shape (whose elements number out * in) and
  // "<name>/bias" [out] to the layout.
  static DenseLayer add_to(ParameterLayout& layout, const std::string& name, int in, int out,
                           std::vector<int> weight_shape, ew::Activation activation);

  // Glorot-uniform weights with limit sqrt(6 / (fan_in + fan_out)), zero biases; element e of
  // the weight is uniform01(key, e), so a layer's values depend on the seed and its key only.
  void initialize(std::span<float> params, uint64_t key, int fan_in, int fan_out) const;

  void forward(Backend& backend, const float* params, const float* x, int rows, float* y) const;
  // The weight and bias gradients, from dy [rows, out] taken through this layer's activation.
  void parameter_gradients(Backend& backend, const float* dy, const float* x, int rows,
                           float* grads) const;
  // dx[rows, in] = dy * W: the gradient of this layer's input, before the previous activation.
  void input_gradient(Backend& backend, const float* params, const float* dy, int rows,
                      float* dx) const;
  // Where this layer's tensors begin in the flat buffers (for GradientsReady).
  size_t first_offset() const { return weight < bias ? weight : bias; }
};

}  // namespace dptrain
