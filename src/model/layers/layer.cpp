#include "dptrain/model/layers/layer.hpp"

namespace dptrain::layers {

std::string MapShape::text() const {
  return std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels);
}

std::string TensorNames::next(std::string_view kind) {
  if (style_ == Style::numbered) return "layer" + std::to_string(numbered_++);
  int& count = kind == "conv" ? conv_ : dense_;
  return std::string(kind) + std::to_string(++count);
}

std::string LayerArgs::where() const {
  return "model: layer " + std::to_string(position) + " '" + std::string(token) + "'";
}

const std::string& Layer::name() const {
  static const std::string none;
  return none;
}

}  // namespace dptrain::layers
