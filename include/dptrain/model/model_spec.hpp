#pragma once

#include <string>
#include <vector>

#include "dptrain/data/data_shape.hpp"
#include "dptrain/model/parameter_layout.hpp"

namespace dptrain {

enum class ModelKind { mlp, cnn, layers };

// Which network to build for rows of `input` (README, "Models"); the input and output widths
// follow the data:
//   mlp  Dense row_width -> hidden... -> classes, ReLU between (the Keras MNIST example with
//        hidden {64})
//   cnn  conv 5x5 32, ReLU, max-pool 2 -> conv 5x5 64, ReLU, max-pool 2 -> Dense 128, ReLU ->
//        Dense classes; no padding, stride 1 ("valid", as LeNet-5); images only
//   layers  the layer spec `layers`, e.g. "conv5x32s,relu,pool2,dense128,relu,denseK"
// All three are built by one sequential model from a layer spec (preset_layers).
struct ModelSpec {
  ModelKind kind = ModelKind::mlp;
  std::vector<int> hidden = {64};  // the MLP's hidden widths; the CNN's are fixed
  DataShape input;                 // MNIST's unless told
  std::string layers;              // kind layers: the spec, as given or as described
};

// The layer spec a model is built from: `layers` itself, or the preset's, e.g. for the MLP with
// hidden {64} "dense64,relu,denseK".
std::string preset_layers(const ModelSpec& spec);

// One line that names the network and its shapes, recorded in checkpoints and printed:
// "mlp 784-64-10", "cnn 28x28x1-c5x32-p2-c5x64-p2-128-10", and for a layer spec "net " with the
// input map and the spec as the model builds it ("net 32x32x3 conv5x32s,relu,pool2,dense5");
// InputError for a layer spec that cannot be built for its input.
std::string describe_model(const ModelSpec& spec);
// The inverse of describe_model for a network on rows of `input` (a checkpoint's data shape);
// std::invalid_argument for a line describe_model would not write for that input.
ModelSpec parse_model(const std::string& description, const DataShape& input = {});
// Where the network's tensors live in the flat buffers, without building it. InputError when
// the network cannot be built for its input (an image too small for the CNN's layers).
ParameterLayout model_layout(const ModelSpec& spec);
// "mlp", "cnn" or "layers".
const char* model_kind_name(ModelKind kind);

}  // namespace dptrain
