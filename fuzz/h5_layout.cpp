#include "h5_layout.hpp"

#include <algorithm>

#include "dptrain/data/h5_check.hpp"
#include "fuzz_check.hpp"

namespace dptrain::fuzz {
namespace {

// A copy of the file datatype of `type` (closed by the caller's Id).
h5::Id file_type(uint8_t type) {
  const hid_t predefined[] = {H5T_STD_U8LE,  H5T_STD_I8LE,  H5T_STD_I16LE,  H5T_STD_I32LE,
                              H5T_STD_I64LE, H5T_STD_U32LE, H5T_IEEE_F32LE, H5T_IEEE_F64LE,
                              H5T_STD_I32BE, H5T_IEEE_F32BE};
  if (type < kString) return h5::Id(H5Tcopy(predefined[type]), H5Tclose);
  h5::Id string(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(string.get(), 4);
  return string;
}

h5::Id dataspace(const DatasetPlan& plan, bool unlimited) {
  if (plan.rank == kNullSpace) return h5::Id(H5Screate(H5S_NULL), H5Sclose);
  if (plan.rank == 0) return h5::Id(H5Screate(H5S_SCALAR), H5Sclose);
  const std::vector<hsize_t> dims(plan.extents.begin(), plan.extents.end());
  const std::vector<hsize_t> most(dims.size(), H5S_UNLIMITED);
  return h5::Id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(),
                                 unlimited ? most.data() : nullptr),
                H5Sclose);
}

// Intermediate groups of `path`, as a writer of another tool might have made them.
h5::Id link_properties() {
  h5::Id links(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(links.get(), 1);
  return links;
}

}  // namespace

bool build_dataset(hid_t file, const DatasetPlan& plan, size_t& budget) {
  if (plan.type == kGroup)
    return h5::Id(H5Gcreate2(file, plan.path.c_str(), link_properties().get(), H5P_DEFAULT,
                             H5P_DEFAULT),
                  H5Gclose)
        .valid();
  const h5::Id type = file_type(plan.type);
  const size_t value_bytes = H5Tget_size(type.get());
  uint64_t elements = plan.rank == kNullSpace ? 0 : 1;
  for (uint64_t extent : plan.extents)
    if (__builtin_mul_overflow(elements, extent, &elements)) return false;
  const bool written = plan.storage != kUnwritten;
  uint64_t bytes = 0;
  if (written && (__builtin_mul_overflow(elements, value_bytes, &bytes) || bytes > budget))
    return false;
  const bool chunked = plan.storage != kContiguous && plan.rank >= 1 && plan.rank <= kMaxRank;
  const h5::Id space = dataspace(plan, chunked);
  const h5::Id creation(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (chunked) {
    const std::vector<hsize_t> chunk(plan.extents.size(), 4);  // small: a few values a chunk
    H5Pset_chunk(creation.get(), static_cast<int>(chunk.size()), chunk.data());
  }
  const h5::Id dataset(H5Dcreate2(file, plan.path.c_str(), type.get(), space.get(),
                                  link_properties().get(), creation.get(), H5P_DEFAULT),
                       H5Dclose);
  if (!dataset.valid()) return false;
  if (!written || elements == 0) return true;
  budget -= bytes;
  if (plan.content == kSequence && plan.type != kString) {
    std::vector<int64_t> values(elements);
    for (uint64_t i = 0; i < elements; ++i) {
      // Wrapping arithmetic: any sequence is a fine one.
      const uint64_t raw = static_cast<uint64_t>(plan.first) + i * static_cast<uint64_t>(plan.step);
      values[i] = static_cast<int64_t>(raw % static_cast<uint64_t>(plan.modulo));
    }
    require(H5Dwrite(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                     values.data()) >= 0,
            "a sequence converts to any numeric type");
  } else {
    const std::string pattern = plan.bytes.empty() ? std::string(1, '\0') : plan.bytes;
    std::string values(bytes, '\0');
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = pattern[i % pattern.size()];
    require(H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0,
            "raw bytes write as the file's type");
  }
  return true;
}

void build_attribute(hid_t object, const char* name, const AttributePlan& plan) {
  if (H5Aexists(object, name) > 0) H5Adelete(object, name);
  if (plan.kind == kAbsent) return;
  h5::Id type;
  const void* value = &plan.value;
  std::vector<int64_t> values;
  const char* text = plan.text.c_str();
  hsize_t count = 1;
  h5::Id space(H5Screate(plan.kind == kNullAttribute ? H5S_NULL : H5S_SCALAR), H5Sclose);
  switch (plan.kind) {
    case kInt64Scalar:
    case kNullAttribute:
      type = h5::Id(H5Tcopy(H5T_NATIVE_INT64), H5Tclose);
      break;
    case kInt32Scalar:
      type = h5::Id(H5Tcopy(H5T_STD_I32LE), H5Tclose);
      break;
    case kUint64Scalar:
      type = h5::Id(H5Tcopy(H5T_STD_U64LE), H5Tclose);
      break;
    case kInt8Scalar:
      type = h5::Id(H5Tcopy(H5T_STD_I8LE), H5Tclose);
      break;
    case kFloat64Scalar:
      type = h5::Id(H5Tcopy(H5T_IEEE_F64LE), H5Tclose);
      break;
    case kFixedString:
      type = h5::Id(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(type.get(), std::max<size_t>(plan.text.size(), 1));
      value = plan.text.c_str();
      break;
    case kVariableString:
      type = h5::Id(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(type.get(), H5T_VARIABLE);
      value = &text;
      break;
    default:  // kInt64Array
      type = h5::Id(H5Tcopy(H5T_NATIVE_INT64), H5Tclose);
      count = plan.length;
      values.assign(count, plan.value);
      for (size_t i = 0; i < values.size(); ++i)
        values[i] = static_cast<int64_t>(static_cast<uint64_t>(plan.value) + i);
      space = h5::Id(H5Screate_simple(1, &count, nullptr), H5Sclose);
      value = values.data();
  }
  // The writes convert from the memory type the value is held in to the attribute's type.
  const hid_t memory =
      plan.kind == kFixedString || plan.kind == kVariableString ? type.get() : H5T_NATIVE_INT64;
  const h5::Id attribute(
      H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  require(attribute.valid(), "an attribute can be created");
  if (plan.kind != kNullAttribute) H5Awrite(attribute.get(), memory, value);
}

}  // namespace dptrain::fuzz
