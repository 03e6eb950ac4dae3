// parse_idx on the whole input, then the input as a pair of IDX files (a 4-byte big-endian
// length of the images file, the images, the labels) through prepare's checks of a split.
#include <cstdint>
#include <span>

#include "dptrain/data/idx.hpp"
#include "dptrain/data/mnist_format.hpp"
#include "dptrain/data/prepare.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace dptrain;

// The elements the shape promises, or UINT64_MAX where their product does not fit 64 bits.
uint64_t promised_elements(const IdxArray& array) {
  uint64_t elements = 1;
  for (uint32_t extent : array.shape)
    if (__builtin_mul_overflow(elements, uint64_t{extent}, &elements)) return UINT64_MAX;
  return elements;
}

IdxArray parse_checked(std::span<const uint8_t> bytes, const char* name) {
  IdxArray array = parse_idx(bytes, name);
  fuzz::require(!array.shape.empty() && array.shape.size() == bytes[3],
                "parse_idx: the shape has the header's rank");
  fuzz::require(promised_elements(array) == array.data.size(),
                "parse_idx: the data holds exactly the elements the shape promises");
  return array;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  fuzz::accepts_input_errors([&] { parse_checked(bytes, "input"); });
  if (size < 4) return 0;
  const size_t images_size =
      ((size_t{data[0]} << 24) | (size_t{data[1]} << 16) | (size_t{data[2]} << 8) | data[3]) %
      (size - 4 + 1);
  const std::span<const uint8_t> images = bytes.subspan(4, images_size);
  const std::span<const uint8_t> labels = bytes.subspan(4 + images_size);
  fuzz::accepts_input_errors([&] {
    const LabeledImages split = check_idx_split(
        parse_checked(images, "images"), parse_checked(labels, "labels"), "images", "labels");
    fuzz::require(split.rows >= 1 && split.labels.size() == split.rows,
                  "check_idx_split: one label per image, at least one");
    fuzz::require(split.images.size() == split.rows * static_cast<size_t>(mnist::kPixels),
                  "check_idx_split: 28x28 bytes per image");
    for (uint8_t label : split.labels)
      fuzz::require(label < mnist::kClasses, "check_idx_split: labels in 0..9");
  });
  return 0;
}
