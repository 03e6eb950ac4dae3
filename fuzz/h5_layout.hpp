#pragma once

// A plan of HDF5 objects, chosen by the fuzz input through choices.hpp and built into an
// in-memory file: datasets of any of a few types, ranks, extents, storages and contents, and
// attributes of any kind. The h5_data_file and checkpoint harnesses build theirs from it.

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dptrain::fuzz {

// The datatypes a dataset or attribute may have; kGroup makes a group where a dataset was
// expected.
enum DatasetType : uint8_t {
  kUint8,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUint32,
  kFloat32,
  kFloat64,
  kInt32BigEndian,
  kFloat32BigEndian,
  kString,
  kGroup,
  kDatasetTypes
};

// How its extents and values are stored: written contiguously or in chunks, or never written
// (chunked, so only the extents exist; they may then be far beyond the bytes of any file).
enum Storage : uint8_t { kContiguous, kChunked, kUnwritten, kStorages };

// Its values: the input's bytes, repeated to fill it; or element i = (first + i * step) % modulo
// (valid labels and pixels are then easy to reach).
enum Content : uint8_t { kBytes, kSequence, kContents };

constexpr uint8_t kMaxRank = 5;
constexpr uint8_t kNullSpace = kMaxRank + 1;  // an H5S_NULL dataspace, as a "rank"

struct DatasetPlan {
  std::string path;  // chosen by the harness from its names
  uint8_t type = kUint8;
  uint8_t rank = 1;  // 0: scalar; kNullSpace: null
  std::vector<uint64_t> extents;
  uint8_t storage = kContiguous;
  uint8_t content = kSequence;
  int64_t first = 0, step = 1, modulo = 10;
  std::string bytes;
};

// Visits a dataset's choices but its path: type, rank, extents, storage, content.
template <class Io>
void visit_dataset(Io& io, DatasetPlan& plan) {
  io.integer(plan.type, uint8_t{0}, uint8_t{kDatasetTypes - 1});
  io.integer(plan.rank, uint8_t{0}, kNullSpace);
  io.integer(plan.storage, uint8_t{0}, uint8_t{kStorages - 1});
  const uint8_t rank = plan.rank == kNullSpace ? 0 : plan.rank;
  plan.extents.resize(rank);
  // Unwritten datasets may claim anything; written ones are bounded by the file's budget.
  const uint64_t most = plan.storage == kUnwritten ? uint64_t{1} << 40 : 4096;
  for (uint64_t& extent : plan.extents)
    io.integer(extent, uint64_t{0}, most);
  io.integer(plan.content, uint8_t{0}, uint8_t{kContents - 1});
  if (plan.content == kSequence) {
    io.integer(plan.first, int64_t{-1000}, int64_t{1} << 40);
    io.integer(plan.step, int64_t{-16}, int64_t{255});
    io.integer(plan.modulo, int64_t{1}, int64_t{1} << 40);
  } else {
    uint16_t length = static_cast<uint16_t>(plan.bytes.size());
    io.integer(length, uint16_t{0}, uint16_t{4096});
    io.bytes(plan.bytes, length);
  }
}

// Creates the dataset in `file` (groups on the way as needed) and writes its values, unless it
// exceeds `budget` bytes, which is then reduced by what it took. Returns whether it was made.
bool build_dataset(hid_t file, const DatasetPlan& plan, size_t& budget);

// What an attribute may be: absent, an integer or a float of a few kinds, a string, an array.
enum AttributeKind : uint8_t {
  kAbsent,
  kInt64Scalar,
  kInt32Scalar,
  kUint64Scalar,
  kInt8Scalar,
  kFloat64Scalar,
  kFixedString,
  kVariableString,
  kInt64Array,
  kNullAttribute,
  kAttributeKinds
};

struct AttributePlan {
  uint8_t kind = kAbsent;
  int64_t value = 0;
  uint8_t length = 1;  // kInt64Array's
  std::string text;
};

template <class Io>
void visit_attribute(Io& io, AttributePlan& plan) {
  io.integer(plan.kind, uint8_t{0}, uint8_t{kAttributeKinds - 1});
  if (plan.kind == kFixedString || plan.kind == kVariableString) {
    uint8_t length = static_cast<uint8_t>(plan.text.size());
    io.integer(length, uint8_t{0}, uint8_t{255});
    io.bytes(plan.text, length);
  } else if (plan.kind != kAbsent && plan.kind != kNullAttribute) {
    io.integer(plan.value, INT64_MIN, INT64_MAX);
    if (plan.kind == kInt64Array) io.integer(plan.length, uint8_t{0}, uint8_t{16});
  }
}

// Replaces attribute `name` of `object` by the plan's (deletes it for kAbsent).
void build_attribute(hid_t object, const char* name, const AttributePlan& plan);

}  // namespace dptrain::fuzz
