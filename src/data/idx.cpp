#include "dptrain/data/idx.hpp"

#include "dptrain/core/error.hpp"

namespace dptrain {
namespace {

constexpr uint8_t kUnsignedByte = 0x08;

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

IdxArray parse_idx(std::span<const uint8_t> bytes, const std::string& name) {
  if (bytes.size() < 4) throw InputError(name + ": too short to be an IDX file");
  if (bytes[0] != 0 || bytes[1] != 0)
    throw InputError(name + ": not an IDX file (the magic number must start with two zero bytes)");
  if (bytes[2] != kUnsignedByte)
    throw InputError(name + ": IDX element type 0x" + std::to_string(bytes[2]) +
                     " is not supported (only unsigned bytes, 0x08)");
  const size_t rank = bytes[3];
  if (rank == 0) throw InputError(name + ": IDX file with zero dimensions");
  const size_t header = 4 + 4 * rank;
  if (bytes.size() < header) throw InputError(name + ": IDX header is truncated");

  IdxArray array;
  size_t elements = 1;
  for (size_t d = 0; d < rank; ++d) {
    array.shape.push_back(big_endian_u32(bytes.data() + 4 + 4 * d));
    // Unchecked, extents of 2^32 could wrap the product around to the file's size.
    if (__builtin_mul_overflow(elements, size_t{array.shape.back()}, &elements))
      throw InputError(name + ": IDX header promises more than 2^64 bytes of data (corrupt)");
  }
  if (bytes.size() != header + elements)
    throw InputError(name + ": IDX header promises " + std::to_string(elements) +
                     " bytes of data but the file holds " + std::to_string(bytes.size() - header) +
                     " (truncated or corrupt)");
  array.data.assign(bytes.begin() + static_cast<ptrdiff_t>(header), bytes.end());
  return array;
}

}  // namespace dptrain
