// The hand-wired CNN that the sequential model (model/sequential.hpp) replaced, kept in the tests
// only, as it was: the presets must compute bit for bit what it computes (preset_equality_test).
#include "unit/reference/cnn.hpp"

#include <stdexcept>

#include "dptrain/core/error.hpp"
#include "dptrain/core/random.hpp"
#include "dptrain/core/trace.hpp"

namespace dptrain::testing {
namespace {

struct ConvSpec {
  int kernel;
  int channels;
  int pool;
};
constexpr ConvSpec kConvs[] = {{5, 32, 2}, {5, 64, 2}};
constexpr int kHidden = 128;

}  // namespace

ReferenceCnn::Architecture ReferenceCnn::build(ParameterLayout& layout, const DataShape& input) {
  if (!input.images())
    throw InputError("model cnn: it takes images, and the data holds " +
                     describe_data_shape(input));
  Architecture net;
  int height = input.height, width = input.width, channels = input.channels;
  for (const ConvSpec& spec : kConvs) {
    ConvBlock block;
    block.conv = {height, width, channels, spec.kernel, /*pad=*/0, /*stride=*/1};
    const std::string name = "conv" + std::to_string(net.blocks.size() + 1);
    const std::string met = "model cnn: conv" + std::to_string(net.blocks.size() + 1) + " (" +
                            std::to_string(spec.kernel) + "x" + std::to_string(spec.kernel) +
                            ") met a " + std::to_string(height) + "x" + std::to_string(width) +
                            "x" + std::to_string(channels) + " input";
    if (!block.conv.valid()) throw InputError(met + ", smaller than its kernel");
    block.dense = DenseLayer::add_to(layout, name, block.conv.patch(), spec.channels,
                                     {spec.channels, spec.kernel, spec.kernel, channels},
                                     ew::Activation::relu);
    block.pool = {block.conv.out_height(), block.conv.out_width(), spec.channels, spec.pool,
                  spec.pool};
    if (!block.pool.valid())
      throw InputError(met + ", and its " + std::to_string(block.conv.out_height()) + "x" +
                       std::to_string(block.conv.out_width()) + " output is smaller than the " +
                       std::to_string(spec.pool) + "x" + std::to_string(spec.pool) +
                       " pool after it");
    height = block.pool.out_height();
    width = block.pool.out_width();
    channels = spec.channels;
    net.blocks.push_back(block);
  }
  const int widths[] = {height * width * channels, kHidden, input.classes};
  for (int i = 0; i < 2; ++i)
    net.dense.push_back(DenseLayer::add_to(layout, "dense" + std::to_string(i + 1), widths[i],
                                           widths[i + 1], {widths[i + 1], widths[i]},
                                           i == 0 ? ew::Activation::relu : ew::Activation::none));
  return net;
}

ParameterLayout ReferenceCnn::layout_for(const DataShape& input) {
  ParameterLayout layout;
  build(layout, input);
  return layout;
}

std::string ReferenceCnn::description(const DataShape& input) {
  std::string text = "cnn " + std::to_string(input.height) + "x" + std::to_string(input.width) +
                     "x" + std::to_string(input.channels);
  for (const ConvSpec& spec : kConvs)
    text += "-c" + std::to_string(spec.kernel) + "x" + std::to_string(spec.channels) + "-p" +
            std::to_string(spec.pool);
  return text + "-" + std::to_string(kHidden) + "-" + std::to_string(input.classes);
}

ReferenceCnn::ReferenceCnn(Backend& backend, const DataShape& input, int max_rows)
    : backend_(backend), input_(input), max_rows_(max_rows) {
  if (max_rows_ <= 0) throw std::invalid_argument("a CNN needs max_rows >= 1");
  Architecture net = build(layout_, input_);
  blocks_ = std::move(net.blocks);
  dense_ = std::move(net.dense);
  const size_t rows = static_cast<size_t>(max_rows_);
  for (const ConvBlock& block : blocks_) {
    const size_t pixels = rows * block.pixels();
    const size_t activated = pixels * static_cast<size_t>(block.dense.out);
    const size_t pooled = rows * block.pooled_size();
    block_buffers_.push_back(
        {DeviceArray<float>(backend_, pixels * block.conv.patch()),
         DeviceArray<float>(backend_, activated), DeviceArray<float>(backend_, activated),
         DeviceArray<float>(backend_, pooled), DeviceArray<float>(backend_, pooled),
         DeviceArray<uint8_t>(backend_, pooled)});
    backward_names_.push_back("backward conv" + std::to_string(backward_names_.size() + 1));
  }
  for (size_t i = 0; i < dense_.size(); ++i) {
    dense_outputs_.emplace_back(backend_, rows * dense_[i].out);
    if (i + 1 < dense_.size()) dense_output_grads_.emplace_back(backend_, rows * dense_[i].out);
    backward_names_.push_back("backward dense" + std::to_string(i + 1));
  }
}

void ReferenceCnn::initialize(std::span<float> params_on_host, uint64_t seed) const {
  if (params_on_host.size() != layout_.total())
    throw std::invalid_argument("parameter buffer does not match the model layout");
  uint64_t layer = 0;
  for (const ConvBlock& block : blocks_) {
    // Keras' fans for a convolution: the receptive field times the input or output channels.
    const int field = block.conv.kernel * block.conv.kernel;
    block.dense.initialize(params_on_host, random::stream_key(seed, layer++), block.conv.patch(),
                           field * block.dense.out);
  }
  for (const DenseLayer& dense : dense_)
    dense.initialize(params_on_host, random::stream_key(seed, layer++), dense.in, dense.out);
}

const float* ReferenceCnn::forward(const float* params, const float* x, int rows) {
  if (rows > max_rows_) throw std::logic_error("forward with more rows than the model allows");
  const float* input = x;
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const ConvBlock& block = blocks_[b];
    BlockBuffers& buffers = block_buffers_[b];
    const int pixel_rows = rows * static_cast<int>(block.pixels());
    backend_.im2col(input, block.conv, rows, buffers.col.data());
    block.dense.forward(backend_, params, buffers.col.data(), pixel_rows, buffers.activated.data());
    backend_.max_pool_forward(buffers.activated.data(), block.pool, rows, buffers.pooled.data(),
                              buffers.argmax.data());
    input = buffers.pooled.data();
  }
  for (size_t i = 0; i < dense_.size(); ++i) {
    dense_[i].forward(backend_, params, input, rows, dense_outputs_[i].data());
    input = dense_outputs_[i].data();
  }
  return dense_outputs_.back().data();
}

void ReferenceCnn::backward(const float* params, const float* /*x*/, const float* dlogits, int rows,
                            float* grads, GradientsReady* ready) {
  const float* output_grad = dlogits;
  for (size_t i = dense_.size(); i-- > 0;) {
    const DenseLayer& layer = dense_[i];
    const trace::Span span(backward_names_[blocks_.size() + i].c_str(), trace::Phase::backward);
    const float* input =
        i == 0 ? block_buffers_.back().pooled.data() : dense_outputs_[i - 1].data();
    layer.parameter_gradients(backend_, output_grad, input, rows, grads);
    if (ready != nullptr) ready->ready_from(layer.first_offset());
    float* input_grad =
        i == 0 ? block_buffers_.back().pooled_grad.data() : dense_output_grads_[i - 1].data();
    layer.input_gradient(backend_, params, output_grad, rows, input_grad);
    if (i > 0)
      backend_.activation_backward(input_grad, input, static_cast<size_t>(rows) * layer.in,
                                   dense_[i - 1].activation);
    output_grad = input_grad;
  }
  // The pooled outputs carry no activation of their own: the ReLU comes before the pooling.
  for (size_t b = blocks_.size(); b-- > 0;) {
    const ConvBlock& block = blocks_[b];
    BlockBuffers& buffers = block_buffers_[b];
    const trace::Span span(backward_names_[b].c_str(), trace::Phase::backward);
    const int pixel_rows = rows * static_cast<int>(block.pixels());
    backend_.max_pool_backward(buffers.pooled_grad.data(), buffers.argmax.data(), block.pool, rows,
                               buffers.activated_grad.data());
    backend_.activation_backward(buffers.activated_grad.data(), buffers.activated.data(),
                                 static_cast<size_t>(pixel_rows) * block.dense.out,
                                 block.dense.activation);
    block.dense.parameter_gradients(backend_, buffers.activated_grad.data(), buffers.col.data(),
                                    pixel_rows, grads);
    if (ready != nullptr) ready->ready_from(block.dense.first_offset());
    if (b == 0) break;  // nothing upstream needs the gradient of the input images
    // The forward's im2col matrix is spent: its buffer takes the gradient of it.
    float* dcol = buffers.col.data();
    block.dense.input_gradient(backend_, params, buffers.activated_grad.data(), pixel_rows, dcol);
    backend_.col2im(dcol, block.conv, rows, block_buffers_[b - 1].pooled_grad.data());
  }
}

}  // namespace dptrain::testing
