#include "dptrain/model/layers/registry.hpp"

#include <array>

#include "dptrain/core/error.hpp"
#include "dptrain/model/layers/activation_layer.hpp"
#include "dptrain/model/layers/conv.hpp"
#include "dptrain/model/layers/dense.hpp"
#include "dptrain/model/layers/pool.hpp"
#include "dptrain/model/layers/relu.hpp"
#include "dptrain/model/layers/tanh.hpp"

namespace dptrain::layers {
namespace {

// Every layer type, one line each; an item is built by the first entry whose prefix it has.
constexpr std::array kRegistry{
    Registration{"conv", make_conv},
    Registration{"pool", make_pool},
    Registration{"dense", make_dense},
    Registration{"relu", make_activation<Relu>},
    Registration{"tanh", make_activation<Tanh>},
};

std::string registered_prefixes() {
  std::string text;
  for (const Registration& entry : kRegistry)
    text += (text.empty() ? "" : ", ") + std::string(entry.prefix);
  return text;
}

std::vector<std::string_view> split_items(std::string_view spec) {
  std::vector<std::string_view> items;
  for (size_t at = 0;;) {
    const size_t comma = spec.find(',', at);
    items.push_back(spec.substr(at, comma == std::string_view::npos ? comma : comma - at));
    if (comma == std::string_view::npos) return items;
    at = comma + 1;
  }
}

std::unique_ptr<Layer> make_layer(const LayerArgs& args) {
  for (const Registration& entry : kRegistry)
    if (args.token.starts_with(entry.prefix)) {
      LayerArgs with_rest = args;
      with_rest.rest = args.token.substr(entry.prefix.size());
      return entry.make(with_rest);
    }
  throw_unknown_layer(args);
}

// The softmax lives in the loss: the logits are the output of a dense of one unit per class.
void check_last_layer(const Layer& last, const DataShape& data) {
  const std::string wanted = "dense" + std::to_string(data.classes);
  if (last.token() == wanted && last.fused() == ew::Activation::none) return;
  const std::string ends = last.token() + (last.fused() == ew::Activation::none ? "" : ",relu");
  throw InputError("model: the last layer must be " + wanted +
                   " (or denseK), one unit per class with no activation (the softmax is in the "
                   "loss), and the spec ends with '" +
                   ends + "'");
}

}  // namespace

std::span<const Registration> registry() {
  return kRegistry;
}

void throw_unknown_layer(const LayerArgs& args) {
  throw InputError(args.where() + " is no layer: items start with one of " + registered_prefixes() +
                   " (README, \"Models\")");
}

std::vector<std::unique_ptr<Layer>> build_layers(std::string_view spec, const DataShape& data,
                                                 ParameterLayout& layout,
                                                 TensorNames::Style style) {
  if (spec.empty()) throw InputError("model: the layer spec is empty");
  TensorNames names(style);
  std::vector<std::unique_ptr<Layer>> built;
  MapShape shape{data.height, data.width, data.channels};
  const std::vector<std::string_view> items = split_items(spec);
  for (size_t i = 0; i < items.size(); ++i) {
    const LayerArgs args{items[i], {}, static_cast<int>(i + 1), shape, data, layout, names};
    if (items[i].empty())
      throw InputError("model: layer " + std::to_string(i + 1) + " of '" + std::string(spec) +
                       "' is empty");
    std::unique_ptr<Layer> layer = make_layer(args);
    const ew::Activation activation = layer->fusable();
    if (activation != ew::Activation::none && !built.empty() && built.back()->fuse(activation))
      continue;
    shape = layer->output();
    // Maps are counted in int by the layers after (a dense's inputs), as a row of data is.
    if (shape.size() > static_cast<size_t>(kMaxRowValues))
      throw InputError(args.where() + " makes a " + shape.text() + " map, more than 2^28 values");
    built.push_back(std::move(layer));
  }
  check_last_layer(*built.back(), data);
  return built;
}

std::string canonical_spec(const std::vector<std::unique_ptr<Layer>>& layers) {
  std::string text;
  for (const std::unique_ptr<Layer>& layer : layers) {
    text += (text.empty() ? "" : ",") + layer->token();
    if (layer->fused() == ew::Activation::relu) text += ",relu";
  }
  return text;
}

int parse_count(const LayerArgs& args, std::string_view digits, std::string_view what, int low,
                int high) {
  const std::string range = " needs " + std::string(what) + " from " + std::to_string(low) +
                            " to " + std::to_string(high);
  const bool plain = !digits.empty() && digits.size() <= std::to_string(high).size() &&
                     digits.find_first_not_of("0123456789") == std::string_view::npos &&
                     (digits.size() == 1 || digits.front() != '0');
  if (!plain) throw InputError(args.where() + range);
  const int value = std::stoi(std::string(digits));
  if (value < low || value > high) throw InputError(args.where() + range);
  return value;
}

}  // namespace dptrain::layers
