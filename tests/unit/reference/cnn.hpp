#pragma once

// The hand-wired CNN that the sequential model (model/sequential.hpp) replaced, kept in the tests
// only, as it was: the presets must compute bit for bit what it computes (preset_equality_test).

#include <string>
#include <vector>

#include "dptrain/core/conv_elements.hpp"
#include "dptrain/model/dense_layer.hpp"
#include "dptrain/model/model.hpp"

namespace dptrain::testing {

// A LeNet-style convolutional network on NHWC images (conv_elements.hpp), for MNIST:
//   [28,28,1] conv 5x5 32 + ReLU [24,24,32] max-pool 2 [12,12,32]
//             conv 5x5 64 + ReLU [8,8,64]   max-pool 2 [4,4,64] = 1024
//             dense 128 + ReLU, dense 10
// with no padding and stride 1. Each convolution is im2col and one GEMM over the batch's
// output pixels (a DenseLayer whose rows are pixels), so the CPU and the GPU run it through
// their GEMM. In the flat buffers, in this order: "conv1/weight" [32,5,5,1], "conv1/bias" [32],
// "conv2/weight" [64,5,5,32], "conv2/bias" [64], "dense1/weight" [128,1024], "dense1/bias",
// "dense2/weight" [10,128], "dense2/bias"; weights are [out, kh, kw, in] and [out, in].
class ReferenceCnn final : public Model {
 public:
  // A convolution, its ReLU and the max-pooling after it.
  struct ConvBlock {
    ew::ConvGeometry conv;
    DenseLayer dense;  // over im2col rows: in = conv.patch(), out = output channels
    ew::PoolGeometry pool;
    size_t pixels() const { return static_cast<size_t>(conv.out_height()) * conv.out_width(); }
    size_t pooled_size() const {
      return static_cast<size_t>(pool.out_height()) * pool.out_width() * pool.channels;
    }
  };

  // InputError where the layers do not fit `input` (features, or images too small).
  ReferenceCnn(Backend& backend, const DataShape& input, int max_rows);

  static ParameterLayout layout_for(const DataShape& input);
  static std::string description(const DataShape& input);  // "cnn 28x28x1-c5x32-p2-...-128-10"

  const ParameterLayout& layout() const override { return layout_; }
  std::string describe() const override { return description(input_); }
  int max_rows() const override { return max_rows_; }
  size_t layer_count() const override { return blocks_.size() + dense_.size(); }
  const std::vector<ConvBlock>& blocks() const { return blocks_; }
  const std::vector<DenseLayer>& dense_layers() const { return dense_; }

  void initialize(std::span<float> params_on_host, uint64_t seed) const override;
  const float* forward(const float* params, const float* x, int rows) override;
  void backward(const float* params, const float* x, const float* dlogits, int rows, float* grads,
                GradientsReady* ready = nullptr) override;

 private:
  struct Architecture {
    std::vector<ConvBlock> blocks;
    std::vector<DenseLayer> dense;
  };
  static Architecture build(ParameterLayout& layout, const DataShape& input);

  // One block's buffers for max_rows rows.
  struct BlockBuffers {
    DeviceArray<float> col;        // im2col [rows * pixels, patch]; backward reuses it for dcol
    DeviceArray<float> activated;  // [rows * pixels, channels] after ReLU
    DeviceArray<float> activated_grad;
    DeviceArray<float> pooled;  // [rows, pooled_size]: the next block's or dense1's input
    DeviceArray<float> pooled_grad;
    DeviceArray<uint8_t> argmax;  // per pooled element, its window position
  };

  Backend& backend_;
  DataShape input_;
  int max_rows_;
  ParameterLayout layout_;
  std::vector<ConvBlock> blocks_;
  std::vector<DenseLayer> dense_;
  std::vector<BlockBuffers> block_buffers_;
  std::vector<DeviceArray<float>> dense_outputs_;       // per dense layer: [max_rows, out]
  std::vector<DeviceArray<float>> dense_output_grads_;  // per dense layer but the last
  std::vector<std::string> backward_names_;             // per layer with parameters
};

}  // namespace dptrain::testing
