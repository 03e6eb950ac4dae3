#pragma once

#include <string>
#include <vector>

#include "dptrain/model/parameter_layout.hpp"

namespace dptrain {

enum class ModelKind { mlp, cnn };

// Which network to build for 28x28 one-channel images and 10 classes (README, "Models"):
//   mlp  Dense 784 -> hidden... -> 10, ReLU between (the Keras MNIST example with hidden {64})
//   cnn  conv 5x5 32, ReLU, max-pool 2 -> conv 5x5 64, ReLU, max-pool 2 -> Dense 1024 -> 128,
//        ReLU -> Dense 128 -> 10; no padding, stride 1 ("valid", as LeNet-5)
struct ModelSpec {
  ModelKind kind = ModelKind::mlp;
  std::vector<int> hidden = {64};  // the MLP's hidden widths; the CNN's are fixed
};

// One line that names the network and its shapes, recorded in checkpoints and printed:
// "mlp 784-64-10", "cnn 28x28x1-c5x32-p2-c5x64-p2-128-10".
std::string describe_model(const ModelSpec& spec);
// The inverse of describe_model; std::invalid_argument for a line it did not write.
ModelSpec parse_model(const std::string& description);
// Where the network's tensors live in the flat buffers, without building it.
ParameterLayout model_layout(const ModelSpec& spec);
// "mlp" or "cnn".
const char* model_kind_name(ModelKind kind);

}  // namespace dptrain
