#include "dptrain/model/mlp.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "dptrain/core/random.hpp"
#include "dptrain/core/trace.hpp"

namespace dptrain {

ParameterLayout Mlp::layout_for(const std::vector<int>& widths) {
  if (widths.size() < 2) throw std::invalid_argument("an MLP needs an input and an output width");
  ParameterLayout layout;
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    const std::string prefix = "layer" + std::to_string(i) + "/";
    layout.add(prefix + "weight", {widths[i + 1], widths[i]});
    layout.add(prefix + "bias", {widths[i + 1]});
  }
  return layout;
}

Mlp::Mlp(Backend& backend, std::vector<int> widths, int max_rows)
    : backend_(backend),
      widths_(std::move(widths)),
      max_rows_(max_rows),
      layout_(layout_for(widths_)) {
  if (max_rows_ <= 0) throw std::invalid_argument("an MLP needs max_rows >= 1");
  const size_t layer_count = widths_.size() - 1;
  for (size_t i = 0; i < layer_count; ++i) {
    const int out = widths_[i + 1];
    const std::string prefix = "layer" + std::to_string(i) + "/";
    const bool last = i + 1 == layer_count;
    layers_.push_back({widths_[i], out, layout_.tensor(prefix + "weight").offset,
                       layout_.tensor(prefix + "bias").offset,
                       last ? ew::Activation::none : ew::Activation::relu});
    backward_names_.push_back("backward layer" + std::to_string(i));
    outputs_.emplace_back(backend_, static_cast<size_t>(max_rows_) * out);
    if (!last) output_grads_.emplace_back(backend_, static_cast<size_t>(max_rows_) * out);
  }
}

std::string Mlp::describe() const {
  std::string text;
  for (int width : widths_)
    text += (text.empty() ? "" : "-") + std::to_string(width);
  return text;
}

void Mlp::initialize(std::span<float> params_on_host, uint64_t seed) const {
  if (params_on_host.size() != layout_.total())
    throw std::invalid_argument("parameter buffer does not match the model layout");
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& layer = layers_[i];
    const float limit = std::sqrt(6.0f / static_cast<float>(layer.in + layer.out));
    const uint64_t key = random::stream_key(seed, i);
    const size_t weights = static_cast<size_t>(layer.in) * layer.out;
    for (size_t e = 0; e < weights; ++e)
      params_on_host[layer.weight + e] = (2.0f * random::uniform01(key, e) - 1.0f) * limit;
    for (int e = 0; e < layer.out; ++e)
      params_on_host[layer.bias + e] = 0.0f;
  }
}

const float* Mlp::forward(const float* params, const float* x, int rows) {
  if (rows > max_rows_) throw std::logic_error("forward with more rows than the model allows");
  const float* input = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& layer = layers_[i];
    float* output = outputs_[i].data();
    // output[rows, out] = input[rows, in] * weight[out, in]^T
    backend_.gemm(Transpose::no, Transpose::yes, rows, layer.out, layer.in, 1.0f, input, layer.in,
                  params + layer.weight, layer.in, 0.0f, output, layer.out);
    backend_.bias_activation_forward(output, params + layer.bias, rows, layer.out,
                                     layer.activation);
    input = output;
  }
  return outputs_.back().data();
}

void Mlp::backward(const float* params, const float* x, const float* dlogits, int rows,
                   float* grads, GradientsReady* ready) {
  const float* output_grad = dlogits;
  for (size_t i = layers_.size(); i-- > 0;) {
    const Layer& layer = layers_[i];
    const trace::Span span(backward_names_[i].c_str(), trace::Phase::backward);
    const float* input = i == 0 ? x : outputs_[i - 1].data();
    // dweight[out, in] = output_grad[rows, out]^T * input[rows, in]
    backend_.gemm(Transpose::yes, Transpose::no, layer.out, layer.in, rows, 1.0f, output_grad,
                  layer.out, input, layer.in, 0.0f, grads + layer.weight, layer.in);
    backend_.bias_gradient(output_grad, rows, layer.out, grads + layer.bias);
    if (ready != nullptr) ready->ready_from(std::min(layer.weight, layer.bias));
    if (i == 0) break;  // nothing upstream needs the gradient of the input images
    const Layer& previous = layers_[i - 1];
    float* input_grad = output_grads_[i - 1].data();
    // input_grad[rows, in] = output_grad[rows, out] * weight[out, in]
    backend_.gemm(Transpose::no, Transpose::no, rows, layer.in, layer.out, 1.0f, output_grad,
                  layer.out, params + layer.weight, layer.in, 0.0f, input_grad, layer.in);
    backend_.activation_backward(input_grad, input, static_cast<size_t>(rows) * layer.in,
                                 previous.activation);
    output_grad = input_grad;
  }
}

}  // namespace dptrain
