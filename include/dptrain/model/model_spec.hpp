#pragma once

#include <string>
#include <vector>

#include "dptrain/data/data_shape.hpp"
#include "dptrain/model/parameter_layout.hpp"

namespace dptrain {

enum class ModelKind { mlp, cnn };

// Which network to build for rows of `input` (README, "Models"); the input and output widths
// follow the data:
//   mlp  Dense row_width -> hidden... -> classes, ReLU between (the Keras MNIST example with
//        hidden {64})
//   cnn  conv 5x5 32, ReLU, max-pool 2 -> conv 5x5 64, ReLU, max-pool 2 -> Dense 128, ReLU ->
//        Dense classes; no padding, stride 1 ("valid", as LeNet-5); images only
struct ModelSpec {
  ModelKind kind = ModelKind::mlp;
  std::vector<int> hidden = {64};  // the MLP's hidden widths; the CNN's are fixed
  DataShape input;                 // MNIST's unless told
};

// One line that names the network and its shapes, recorded in checkpoints and printed:
// "mlp 784-64-10", "cnn 28x28x1-c5x32-p2-c5x64-p2-128-10".
std::string describe_model(const ModelSpec& spec);
// The inverse of describe_model for a network on rows of `input` (a checkpoint's data shape);
// std::invalid_argument for a line describe_model would not write for that input.
ModelSpec parse_model(const std::string& description, const DataShape& input = {});
// Where the network's tensors live in the flat buffers, without building it. InputError when
// the network cannot be built for its input (an image too small for the CNN's layers).
ParameterLayout model_layout(const ModelSpec& spec);
// "mlp" or "cnn".
const char* model_kind_name(ModelKind kind);

}  // namespace dptrain
