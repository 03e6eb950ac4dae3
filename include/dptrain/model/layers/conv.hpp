#pragma once

#include "dptrain/core/conv_elements.hpp"
#include "dptrain/model/layers/weighted_layer.hpp"

namespace dptrain::layers {

// "convKxC": C output channels of a K x K convolution, stride 1, no padding ("valid");
// "convKxCs": the same with 'same' padding, K / 2 zeros on every side, for odd K (the output
// keeps the input's height and width). im2col, then one GEMM over the batch's output pixels (a
// DenseLayer whose rows are pixels), so that both backends run it through their GEMM. Tensors
// "<name>/weight" [C, K, K, in channels] and "<name>/bias" [C]; Keras' fans, the receptive field
// times the input or the output channels. Images only. Takes a following relu into its bias
// step.
class Conv final : public WeightedLayer {
 public:
  Conv(const LayerArgs& args, int kernel, int channels, bool same);

  MapShape output() const override;
  std::string token() const override;

  void initialize(std::span<float> params, uint64_t key) const override;

  void allocate(Backend& backend, int max_rows) override;
  void forward(Backend& backend, const float* params, const float* x, int rows, float* y) override;
  void parameter_gradients(Backend& backend, const float* x, const float* dy, int rows,
                           float* grads) override;
  void input_gradient(Backend& backend, const float* params, const float* x, const float* y,
                      const float* dy, int rows, float* dx) override;

  const ew::ConvGeometry& geometry() const { return geometry_; }
  size_t pixels() const {
    return static_cast<size_t>(geometry_.out_height()) * geometry_.out_width();
  }

 private:
  int pixel_rows(int rows) const { return rows * static_cast<int>(pixels()); }

  bool same_;
  ew::ConvGeometry geometry_;
  // The forward's im2col matrix [rows * pixels, patch]; backward reuses it for its gradient.
  DeviceArray<float> col_;
};

std::unique_ptr<Layer> make_conv(const LayerArgs& args);

}  // namespace dptrain::layers
