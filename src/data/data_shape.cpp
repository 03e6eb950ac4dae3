#include "dptrain/data/data_shape.hpp"

#include <cstdio>
#include <stdexcept>

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
  DataShape shape;
  int consumed = 0;
  if (record.starts_with("features ")) {
    int width = 0;
    if (std::sscanf(record.c_str(), "features %d classes %d%n", &width, &shape.classes,
                    &consumed) == 2)
      shape = DataShape::features(width, shape.classes);
  } else {
    std::sscanf(record.c_str(), "images %dx%dx%d classes %d%n", &shape.height, &shape.width,
                &shape.channels, &shape.classes, &consumed);
  }
  // Written by data_shape_record, or not at all.
  if (consumed != static_cast<int>(record.size()) || shape.height < 1 || shape.width < 1 ||
      shape.channels < 1 || shape.classes < 2 || data_shape_record(shape) != record)
    throw std::invalid_argument("not a data shape dptrain records: '" + record + "'");
  return shape;
}

}  // namespace dptrain
