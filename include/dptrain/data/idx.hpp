#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace dptrain {

// An array in LeCun's IDX format: big-endian header, magic 0x00 0x00 <type> <rank>, then one
// 32-bit extent per dimension, then the data. Only unsigned bytes (type 0x08) are supported,
// which is what MNIST and Fashion-MNIST use.
struct IdxArray {
  std::vector<uint32_t> shape;
  std::vector<uint8_t> data;
};

// Parses IDX bytes; `name` appears in error messages. Throws InputError for anything malformed:
// bad magic, unsupported type, or a size that does not match the header.
IdxArray parse_idx(std::span<const uint8_t> bytes, const std::string& name);

}  // namespace dptrain
