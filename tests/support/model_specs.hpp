#pragma once

// ModelSpecs for the tests, by the widths or the layers they name.
#include <string>
#include <vector>

#include "dptrain/model/model_spec.hpp"

namespace dptrain::testing {

// The MLP preset with these widths: input width, hidden widths..., classes; on features rows.
inline ModelSpec mlp_spec(const std::vector<int>& widths) {
  return {ModelKind::mlp,
          std::vector<int>(widths.begin() + 1, widths.end() - 1),
          DataShape::features(widths.front(), widths.back()),
          {}};
}

// The CNN preset on MNIST's images.
inline ModelSpec cnn_spec(const DataShape& input = {}) {
  return {ModelKind::cnn, {}, input, {}};
}

// A layer spec on rows of `input`.
inline ModelSpec layers_spec(const std::string& layers, const DataShape& input = {}) {
  return {ModelKind::layers, {}, input, layers};
}

}  // namespace dptrain::testing
