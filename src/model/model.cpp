#include "dptrain/model/model.hpp"

#include <stdexcept>

#include "dptrain/model/cnn.hpp"
#include "dptrain/model/mlp.hpp"

namespace dptrain {
namespace {

std::vector<int> mlp_widths(const ModelSpec& spec) {
  std::vector<int> widths{spec.input.row_width()};
  widths.insert(widths.end(), spec.hidden.begin(), spec.hidden.end());
  widths.push_back(spec.input.classes);
  return widths;
}

}  // namespace

const char* model_kind_name(ModelKind kind) {
  return kind == ModelKind::cnn ? "cnn" : "mlp";
}

std::string describe_model(const ModelSpec& spec) {
  if (spec.kind == ModelKind::cnn) return Cnn::description(spec.input);
  std::string text = "mlp ";
  const std::vector<int> widths = mlp_widths(spec);
  for (size_t i = 0; i < widths.size(); ++i)
    text += (i ? "-" : "") + std::to_string(widths[i]);
  return text;
}

ModelSpec parse_model(const std::string& description, const DataShape& input) {
  const std::string mlp = "mlp ";
  ModelSpec spec;
  spec.input = input;
  if (input.images() && description == Cnn::description(input)) {
    spec.kind = ModelKind::cnn;
    spec.hidden.clear();
    return spec;
  }
  if (description.starts_with(mlp)) {
    std::vector<int> widths;
    size_t at = mlp.size();
    while (at <= description.size()) {
      const size_t dash = std::min(description.find('-', at), description.size());
      const std::string number = description.substr(at, dash - at);
      if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos ||
          number.size() > 9)
        throw std::invalid_argument("not a model dptrain describes: '" + description + "'");
      widths.push_back(std::stoi(number));
      at = dash + 1;
    }
    if (widths.size() >= 2 && widths.front() == input.row_width() &&
        widths.back() == input.classes) {
      spec.hidden.assign(widths.begin() + 1, widths.end() - 1);
      if (describe_model(spec) == description) return spec;
    }
  }
  throw std::invalid_argument("not a model dptrain builds: '" + description + "'");
}

ParameterLayout model_layout(const ModelSpec& spec) {
  return spec.kind == ModelKind::cnn ? Cnn::layout_for(spec.input)
                                     : Mlp::layout_for(mlp_widths(spec));
}

std::unique_ptr<Model> make_model(Backend& backend, const ModelSpec& spec, int max_rows) {
  if (spec.kind == ModelKind::cnn) return std::make_unique<Cnn>(backend, spec.input, max_rows);
  return std::make_unique<Mlp>(backend, mlp_widths(spec), max_rows);
}

}  // namespace dptrain
