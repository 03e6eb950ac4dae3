#pragma once

// The table of layer types (one line each in src/model/layers/registry.cpp), the parsing of a
// layer spec ("conv5x32s,relu,pool2,dense128,relu,denseK") and the building of its layers.

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dptrain/model/layers/layer.hpp"

namespace dptrain::layers {

using Factory = std::unique_ptr<Layer> (*)(const LayerArgs& args);

// A spec item that starts with `prefix` is built by `make`, which reads what follows it.
struct Registration {
  std::string_view prefix;
  Factory make;
};
std::span<const Registration> registry();

// The layers of `spec` for rows of `data`, fused, each against the shape the one before it
// gives. InputError, one line naming the item, for a spec they cannot be built from: an empty or
// unknown item, numbers out of range, shapes that do not fit, or a last layer that is not a
// dense of data.classes units (the softmax lives in the loss).
std::vector<std::unique_ptr<Layer>> build_layers(std::string_view spec, const DataShape& data,
                                                 ParameterLayout& layout, TensorNames::Style style);

// The spec as describe_model writes it: every item's canonical token, fused activations after
// the layer that applies them ("conv5x32s,relu,pool2,dense5").
std::string canonical_spec(const std::vector<std::unique_ptr<Layer>>& layers);

// For the factories: the number `digits` of an item, from `low` to `high`; InputError naming
// the item and `what` otherwise. Written as describe_model would: no sign, no leading zero.
int parse_count(const LayerArgs& args, std::string_view digits, std::string_view what, int low,
                int high);

// InputError: the item names no layer type of the registry.
[[noreturn]] void throw_unknown_layer(const LayerArgs& args);

// An upper bound on channels and units per layer: far above any network this trainer runs, it
// turns a mistyped width into a one-line error at parse time rather than a huge allocation.
inline constexpr int kMaxUnits = 1 << 16;

}  // namespace dptrain::layers
