// The hand-wired MLP that the sequential model (model/sequential.hpp) replaced, kept in the tests
// only, as it was: the presets must compute bit for bit what it computes (preset_equality_test).
#include "unit/reference/mlp.hpp"

#include <stdexcept>

#include "dptrain/core/random.hpp"
#include "dptrain/core/trace.hpp"

namespace dptrain::testing {

std::vector<DenseLayer> ReferenceMlp::layers_of(ParameterLayout& layout,
                                                const std::vector<int>& widths) {
  if (widths.size() < 2) throw std::invalid_argument("an MLP needs an input and an output width");
  std::vector<DenseLayer> layers;
  for (size_t i = 0; i + 1 < widths.size(); ++i) {
    const bool last = i + 2 == widths.size();
    layers.push_back(DenseLayer::add_to(layout, "layer" + std::to_string(i), widths[i],
                                        widths[i + 1], {widths[i + 1], widths[i]},
                                        last ? ew::Activation::none : ew::Activation::relu));
  }
  return layers;
}

ParameterLayout ReferenceMlp::layout_for(const std::vector<int>& widths) {
  ParameterLayout layout;
  layers_of(layout, widths);
  return layout;
}

ReferenceMlp::ReferenceMlp(Backend& backend, std::vector<int> widths, int max_rows)
    : backend_(backend), widths_(std::move(widths)), max_rows_(max_rows) {
  if (max_rows_ <= 0) throw std::invalid_argument("an MLP needs max_rows >= 1");
  layers_ = layers_of(layout_, widths_);
  for (size_t i = 0; i < layers_.size(); ++i) {
    const size_t size = static_cast<size_t>(max_rows_) * layers_[i].out;
    backward_names_.push_back("backward layer" + std::to_string(i));
    outputs_.emplace_back(backend_, size);
    if (i + 1 < layers_.size()) output_grads_.emplace_back(backend_, size);
  }
}

std::string ReferenceMlp::describe() const {
  std::string text = "mlp ";
  for (size_t i = 0; i < widths_.size(); ++i)
    text += (i ? "-" : "") + std::to_string(widths_[i]);
  return text;
}

void ReferenceMlp::initialize(std::span<float> params_on_host, uint64_t seed) const {
  if (params_on_host.size() != layout_.total())
    throw std::invalid_argument("parameter buffer does not match the model layout");
  for (size_t i = 0; i < layers_.size(); ++i)
    layers_[i].initialize(params_on_host, random::stream_key(seed, i), layers_[i].in,
                          layers_[i].out);
}

const float* ReferenceMlp::forward(const float* params, const float* x, int rows) {
  if (rows > max_rows_) throw std::logic_error("forward with more rows than the model allows");
  const float* input = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i].forward(backend_, params, input, rows, outputs_[i].data());
    input = outputs_[i].data();
  }
  return outputs_.back().data();
}

void ReferenceMlp::backward(const float* params, const float* x, const float* dlogits, int rows,
                            float* grads, GradientsReady* ready) {
  const float* output_grad = dlogits;
  for (size_t i = layers_.size(); i-- > 0;) {
    const DenseLayer& layer = layers_[i];
    const trace::Span span(backward_names_[i].c_str(), trace::Phase::backward);
    const float* input = i == 0 ? x : outputs_[i - 1].data();
    layer.parameter_gradients(backend_, output_grad, input, rows, grads);
    if (ready != nullptr) ready->ready_from(layer.first_offset());
    if (i == 0) break;  // nothing upstream needs the gradient of the input images
    float* input_grad = output_grads_[i - 1].data();
    layer.input_gradient(backend_, params, output_grad, rows, input_grad);
    backend_.activation_backward(input_grad, input, static_cast<size_t>(rows) * layer.in,
                                 layers_[i - 1].activation);
    output_grad = input_grad;
  }
}

}  // namespace dptrain::testing
