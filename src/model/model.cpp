#include "dptrain/model/model.hpp"

#include <stdexcept>

#include "dptrain/core/error.hpp"
#include "dptrain/model/layers/registry.hpp"
#include "dptrain/model/sequential.hpp"

namespace dptrain {
namespace {

// The CNN preset, LeNet-style (README, "Models"), and its hidden dense width.
constexpr const char* kCnnLayers = "conv5x32,relu,pool2,conv5x64,relu,pool2,dense128,relu,denseK";
constexpr const char* kCnnDescriptionTail = "-c5x32-p2-c5x64-p2-128-";
constexpr const char* kLayersPrefix = "net ";

std::vector<int> mlp_widths(const ModelSpec& spec) {
  std::vector<int> widths{spec.input.row_width()};
  widths.insert(widths.end(), spec.hidden.begin(), spec.hidden.end());
  widths.push_back(spec.input.classes);
  return widths;
}

std::string input_map(const DataShape& input) {
  return layers::MapShape{input.height, input.width, input.channels}.text();
}

// "mlp 784-64-10", as checkpoints have recorded it since the first release.
std::string describe_mlp(const ModelSpec& spec) {
  std::string text = "mlp ";
  const std::vector<int> widths = mlp_widths(spec);
  for (size_t i = 0; i < widths.size(); ++i)
    text += (i ? "-" : "") + std::to_string(widths[i]);
  return text;
}

std::string describe_layers(const ModelSpec& spec) {
  ParameterLayout unused;
  return kLayersPrefix + input_map(spec.input) + " " +
         layers::canonical_spec(build_model_layers(spec, unused));
}

// The widths of "mlp 784-64-10", or none where the text is not such a line.
std::vector<int> parse_mlp_widths(const std::string& description) {
  const std::string mlp = "mlp ";
  std::vector<int> widths;
  if (!description.starts_with(mlp)) return widths;
  for (size_t at = mlp.size(); at <= description.size();) {
    const size_t dash = std::min(description.find('-', at), description.size());
    const std::string number = description.substr(at, dash - at);
    if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos ||
        number.size() > 9)
      return {};
    widths.push_back(std::stoi(number));
    at = dash + 1;
  }
  return widths;
}

// Whether describe_model(spec) writes `description`; false for a spec that cannot be built.
bool describes(const ModelSpec& spec, const std::string& description) {
  try {
    return describe_model(spec) == description;
  } catch (const InputError&) {
    return false;
  }
}

}  // namespace

const char* model_kind_name(ModelKind kind) {
  return kind == ModelKind::cnn ? "cnn" : kind == ModelKind::layers ? "layers" : "mlp";
}

std::string preset_layers(const ModelSpec& spec) {
  if (spec.kind == ModelKind::layers) return spec.layers;
  if (spec.kind == ModelKind::cnn) return kCnnLayers;
  std::string text;
  for (int width : spec.hidden)
    text += "dense" + std::to_string(width) + ",relu,";
  return text + "denseK";
}

std::vector<std::unique_ptr<layers::Layer>> build_model_layers(const ModelSpec& spec,
                                                               ParameterLayout& layout) {
  // The MLP keeps its tensor names, "layer0/weight", ...; the rest name them by kind.
  const auto style = spec.kind == ModelKind::mlp ? layers::TensorNames::Style::numbered
                                                 : layers::TensorNames::Style::per_kind;
  return layers::build_layers(preset_layers(spec), spec.input, layout, style);
}

std::string describe_model(const ModelSpec& spec) {
  if (spec.kind == ModelKind::cnn)
    return "cnn " + input_map(spec.input) + kCnnDescriptionTail +
           std::to_string(spec.input.classes);
  if (spec.kind == ModelKind::layers) return describe_layers(spec);
  return describe_mlp(spec);
}

ModelSpec parse_model(const std::string& description, const DataShape& input) {
  ModelSpec spec;
  spec.input = input;
  if (description.starts_with("cnn ")) {
    spec.kind = ModelKind::cnn;
    spec.hidden.clear();
    if (input.images() && describes(spec, description)) return spec;
  } else if (description.starts_with(kLayersPrefix)) {
    const std::string map = kLayersPrefix + input_map(input) + " ";
    spec.kind = ModelKind::layers;
    spec.hidden.clear();
    spec.layers = description.substr(std::min(map.size(), description.size()));
    if (description.starts_with(map) && describes(spec, description)) return spec;
  } else {
    const std::vector<int> widths = parse_mlp_widths(description);
    if (widths.size() >= 2 && widths.front() == input.row_width() &&
        widths.back() == input.classes) {
      spec.hidden.assign(widths.begin() + 1, widths.end() - 1);
      if (describes(spec, description)) return spec;
    }
  }
  throw std::invalid_argument("not a model dptrain builds: '" + description + "'");
}

ParameterLayout model_layout(const ModelSpec& spec) {
  ParameterLayout layout;
  build_model_layers(spec, layout);
  return layout;
}

std::unique_ptr<Model> make_model(Backend& backend, const ModelSpec& spec, int max_rows) {
  return std::make_unique<Sequential>(backend, spec, max_rows);
}

}  // namespace dptrain
