#include "dptrain/model/sequential.hpp"

#include <stdexcept>

#include "dptrain/core/random.hpp"
#include "dptrain/core/trace.hpp"

namespace dptrain {

Sequential::Sequential(Backend& backend, const ModelSpec& spec, int max_rows)
    : backend_(backend),
      max_rows_(max_rows),
      layers_(build_model_layers(spec, layout_)),
      description_(describe_model(spec)) {
  if (max_rows_ <= 0) throw std::invalid_argument("a model needs max_rows >= 1");
  const size_t rows = static_cast<size_t>(max_rows_);
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers::Layer& layer = *layers_[i];
    layer.allocate(backend_, max_rows_);
    outputs_.emplace_back(backend_, rows * layer.output().size());
    if (i + 1 < layers_.size()) output_grads_.emplace_back(backend_, rows * layer.output().size());
    if (layer.has_parameters()) backward_names_.push_back("backward " + layer.name());
  }
}

void Sequential::initialize(std::span<float> params_on_host, uint64_t seed) const {
  if (params_on_host.size() != layout_.total())
    throw std::invalid_argument("parameter buffer does not match the model layout");
  uint64_t key_index = 0;  // among the layers with parameters, first first
  for (const std::unique_ptr<layers::Layer>& layer : layers_)
    if (layer->has_parameters())
      layer->initialize(params_on_host, random::stream_key(seed, key_index++));
}

const float* Sequential::forward(const float* params, const float* x, int rows) {
  if (rows > max_rows_) throw std::logic_error("forward with more rows than the model allows");
  const float* input = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->forward(backend_, params, input, rows, outputs_[i].data());
    input = outputs_[i].data();
  }
  return outputs_.back().data();
}

void Sequential::backward(const float* params, const float* x, const float* dlogits, int rows,
                          float* grads, GradientsReady* ready) {
  size_t span_index = backward_names_.size();
  const float* output_grad = dlogits;
  for (size_t i = layers_.size(); i-- > 0;) {
    layers::Layer& layer = *layers_[i];
    const float* input = i == 0 ? x : outputs_[i - 1].data();
    // The last layer's activation is none (build_layers): only own buffers are taken through
    // a fused activation, in place, from the activation's output.
    if (layer.fused() != ew::Activation::none)
      backend_.activation_backward(output_grads_[i].data(), outputs_[i].data(),
                                   static_cast<size_t>(rows) * layer.output().size(),
                                   layer.fused());
    if (layer.has_parameters()) {
      const trace::Span span(backward_names_[--span_index].c_str(), trace::Phase::backward);
      layer.parameter_gradients(backend_, input, output_grad, rows, grads);
      if (ready != nullptr) ready->ready_from(layer.first_offset());
    }
    if (i == 0) break;  // nothing upstream needs the gradient of the input rows
    float* input_grad = output_grads_[i - 1].data();
    layer.input_gradient(backend_, params, input, outputs_[i].data(), output_grad, rows,
                         input_grad);
    output_grad = input_grad;
  }
}

}  // namespace dptrain
