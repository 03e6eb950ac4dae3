#pragma once

// The seam of the sequential model (model/sequential.hpp): a layer type is one unit, a header
// and a .cpp here (plus a .cu where it has element-wise CUDA code), registered by one line in
// src/model/layers/registry.cpp. README, "Models", "Adding a layer".

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "dptrain/backend/backend.hpp"
#include "dptrain/data/data_shape.hpp"
#include "dptrain/model/parameter_layout.hpp"

namespace dptrain::layers {

// What flows between two layers, per row: an NHWC map (core/conv_elements.hpp); a dense layer's
// output is 1 x 1 x units, and a dense layer takes any map flattened, as it lies in memory.
struct MapShape {
  int height = 1;
  int width = 1;
  int channels = 1;

  size_t size() const { return static_cast<size_t>(height) * width * channels; }
  std::string text() const;  // "12x12x32", for messages and descriptions
};

// Names the tensors of the layers with parameters, in the order they are built: the presets
// keep the names of the networks they replace ("layer0", ... for the MLP; "conv1", "dense1",
// ... otherwise).
class TensorNames {
 public:
  enum class Style { per_kind, numbered };  // "conv1", "dense1", "dense2" or "layer0", "layer1"
  explicit TensorNames(Style style) : style_(style) {}
  // The name of the next layer with parameters, of this kind ("conv", "dense").
  std::string next(std::string_view kind);

 private:
  Style style_;
  int numbered_ = 0;
  int conv_ = 0;
  int dense_ = 0;
};

// What a layer's factory is given: its item of the spec and where it stands.
struct LayerArgs {
  std::string_view token;  // the item, e.g. "conv5x32s"
  std::string_view rest;   // what follows the registered prefix: "5x32s"
  int position;            // 1-based among the spec's items, for messages
  MapShape input;
  const DataShape& data;  // for denseK and for what the data's rows are
  ParameterLayout& layout;
  TensorNames& names;

  // "model: layer 3 'pool2'", the start of every message about this layer.
  std::string where() const;
};

// One layer of a sequential model. Built from its spec item against its input shape (throwing
// InputError where that item does not fit it), it has added its tensors to the layout; then
// allocate() gives it what scratch memory it needs, once, before any step.
class Layer {
 public:
  virtual ~Layer() = default;

  virtual MapShape output() const = 0;
  // Its item as describe_model writes it (K resolved); a fused activation is written after it.
  virtual std::string token() const = 0;

  // Fusing (as graph compilers do): an activation that the layer before it can apply in its own
  // forward is not built as a layer. The activation this layer is, if it may be fused.
  virtual ew::Activation fusable() const { return ew::Activation::none; }
  // Whether this layer takes `activation` into its forward (then its output is activated, and
  // the model takes the gradient through it from that output before this layer's backward).
  virtual bool fuse(ew::Activation /*activation*/) { return false; }
  virtual ew::Activation fused() const { return ew::Activation::none; }

  // Layers with parameters: the name of their tensors ("conv1"), where the first lies in the
  // flat buffers (GradientsReady), and their initialization from their own key.
  virtual bool has_parameters() const { return false; }
  virtual const std::string& name() const;
  virtual size_t first_offset() const { return 0; }
  virtual void initialize(std::span<float> /*params*/, uint64_t /*key*/) const {}

  virtual void allocate(Backend& /*backend*/, int /*max_rows*/) {}
  // y [rows, output().size()] from x [rows, input size].
  virtual void forward(Backend& backend, const float* params, const float* x, int rows,
                       float* y) = 0;
  // From dy, the gradient of this layer's output (taken through its fused activation already):
  // its parameters' gradients, then the gradient of its input. Each overwrites its output.
  virtual void parameter_gradients(Backend& /*backend*/, const float* /*x*/, const float* /*dy*/,
                                   int /*rows*/, float* /*grads*/) {}
  virtual void input_gradient(Backend& backend, const float* params, const float* x, const float* y,
                              const float* dy, int rows, float* dx) = 0;
};

}  // namespace dptrain::layers
