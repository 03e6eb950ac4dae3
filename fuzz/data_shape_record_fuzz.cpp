// parse_data_shape_record, which reads a checkpoint's data_shape attribute: a record it accepts
// is one data_shape_record writes, of a shape whose row width fits, and prints back to itself.
// Its contract is std::invalid_argument for other text (checkpoint.cpp turns that into an
// InputError naming the file), so that is what this harness accepts besides success.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "dptrain/data/data_shape.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dptrain;
  const std::string record(reinterpret_cast<const char*>(data), size);
  DataShape shape;
  try {
    shape = parse_data_shape_record(record);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  fuzz::require(data_shape_record(shape) == record, "the record prints back to itself");
  fuzz::require(parse_data_shape_record(data_shape_record(shape)) == shape,
                "the printed record parses to the same shape");
  fuzz::require(shape.height >= 1 && shape.width >= 1 && shape.channels >= 1,
                "extents are positive");
  fuzz::require(shape.classes >= 2 && shape.classes <= kMaxClasses, "classes are 2..kMaxClasses");
  fuzz::require(shape.images() || (shape.height == 1 && shape.channels == 1),
                "features are 1 x width x 1");
  int64_t row = 0;
  fuzz::require(
      !__builtin_mul_overflow(int64_t{shape.height} * shape.width, shape.channels, &row) &&
          row <= kMaxRowValues,
      "a row holds at most kMaxRowValues values");
  fuzz::require(shape.row_width() == row, "row_width() is the product of the extents");
  return 0;
}
