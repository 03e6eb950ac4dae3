#include "dptrain/data/data_shape.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace dptrain {

std::string describe_data_shape(const DataShape& shape) {
  const std::string classes =
      shape.classes > 0 ? ", " + std::to_string(shape.classes) + " classes" : "";
  if (!shape.images()) return std::to_string(shape.width) + " features" + classes;
  return std::to_string(shape.height) + "x" + std::to_string(shape.width) + "x" +
         std::to_string(shape.channels) + " images" + classes;
}

std::string data_shape_record(const DataShape& shape) {
  const std::string classes = " classes " + std::to_string(shape.classes);
  if (!shape.images()) return "features " + std::to_string(shape.width) + classes;
  return "images " + std::to_string(shape.height) + "x" + std::to_string(shape.width) + "x" +
         std::to_string(shape.channels) + classes;
}

DataShape parse_data_shape_record(const std::string& record) {
  const auto refused = [&record] {
    return std::invalid_argument("not a data shape dptrain records: '" + record + "'");
  };
  // Each number in turn, after its literal text; from_chars, unlike sscanf's %d, refuses
  // numbers that do not fit an int.
  std::string_view rest = record;
  const auto number = [&](std::string_view before) {
    if (!rest.starts_with(before)) throw refused();
    rest.remove_prefix(before.size());
    int value = 0;
    const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (error != std::errc()) throw refused();
    rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    return value;
  };
  DataShape shape;
  if (record.starts_with("features ")) {
    const int width = number("features ");
    shape = DataShape::features(width, number(" classes "));
  } else {
    shape.height = number("images ");
    shape.width = number("x");
    shape.channels = number("x");
    shape.classes = number(" classes ");
  }
  int64_t values = 1;
  for (const int extent : {shape.height, shape.width, shape.channels})
    values = extent < 1 ? 0 : std::min<int64_t>(values * extent, int64_t{kMaxRowValues} + 1);
  // Written by data_shape_record for rows a data file may hold, or not at all.
  if (!rest.empty() || values < 1 || values > kMaxRowValues || shape.classes < 2 ||
      shape.classes > kMaxClasses || data_shape_record(shape) != record)
    throw refused();
  return shape;
}

}  // namespace dptrain
