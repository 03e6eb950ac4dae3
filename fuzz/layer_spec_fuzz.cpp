// The layer spec of --model (and of a checkpoint's "net" description): the registry's parser
// and the layout it builds, for small data shapes chosen by the first byte. Sizes grow through
// the layers (channels x kernel area, maps x units), so that is where overflow would show; a
// built net is checked for a consistent layout and for describing itself as a spec that builds
// it again.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "dptrain/data/data_shape.hpp"
#include "dptrain/model/layers/registry.hpp"
#include "dptrain/model/model_spec.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace dptrain;

// Specs longer than this add nothing the shorter ones do not reach: only more of the same items.
constexpr size_t kMaxSpecBytes = 256;
// Above this many parameters the round trip (two more builds) is skipped: time, not coverage.
constexpr size_t kMaxRoundTripParameters = size_t{1} << 26;

DataShape data_shape(uint8_t choice) {
  switch (choice % 5) {
    case 0:
      return {};  // MNIST's 28x28x1, 10 classes
    case 1:
      return {DataShape::Kind::images, 32, 32, 3, 5};
    case 2:
      return DataShape::features(20, 3);
    case 3:
      return {DataShape::Kind::images, 1, 1, 1, 2};
    default:
      return {DataShape::Kind::images, 5, 7, 2, kMaxClasses};
  }
}

void check_layout(const ParameterLayout& layout) {
  size_t offset = 0;
  for (const TensorSlot& slot : layout.tensors()) {
    uint64_t size = 1;
    for (int extent : slot.shape) {
      fuzz::require(extent >= 1, "tensor extents are positive");
      fuzz::require(!__builtin_mul_overflow(size, uint64_t(extent), &size),
                    "a tensor's size fits 64 bits");
    }
    fuzz::require(slot.size == size, "a tensor's size is the product of its shape");
    fuzz::require(slot.offset == offset, "tensors are packed in order");
    fuzz::require(!__builtin_add_overflow(offset, slot.size, &offset), "the layout fits 64 bits");
  }
  fuzz::require(layout.total() == offset, "total() is the sum of the tensors");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > kMaxSpecBytes + 1) return 0;
  const DataShape input = data_shape(data[0]);
  const std::string spec(reinterpret_cast<const char*>(data) + 1, size - 1);
  fuzz::accepts_input_errors([&] {
    ParameterLayout layout;
    const auto built =
        layers::build_layers(spec, input, layout, layers::TensorNames::Style::per_kind);
    fuzz::require(!built.empty(), "a built net has layers");
    for (const auto& layer : built) {
      const layers::MapShape out = layer->output();
      fuzz::require(out.height >= 1 && out.width >= 1 && out.channels >= 1,
                    "every layer's output map is non-empty");
    }
    const layers::MapShape logits = built.back()->output();
    fuzz::require(logits.size() == static_cast<size_t>(input.classes),
                  "the net ends in one logit per class");
    check_layout(layout);
    if (layout.total() > kMaxRoundTripParameters) return;
    const ModelSpec model{ModelKind::layers, {}, input, spec};
    const std::string description = describe_model(model);
    fuzz::require(model_layout(model).fingerprint() == layout.fingerprint(),
                  "model_layout is the layout the spec builds");
    ModelSpec reread;
    try {
      reread = parse_model(description, input);
    } catch (const std::invalid_argument&) {
      fuzz::fail("parse_model refuses what describe_model wrote");
    }
    fuzz::require(describe_model(reread) == description, "the description builds itself again");
    fuzz::require(model_layout(reread).fingerprint() == layout.fingerprint(),
                  "the description builds the same layout");
  });
  return 0;
}
