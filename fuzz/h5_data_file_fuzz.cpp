// The data seam's checks of a data file (H5DataReader's constructor) and its reads of a rank's
// rows (read_train, read_test, max_train_label on a RowSelection), on files the input lays out
// in memory (h5_layout.hpp): which of /train, /test and other groups hold which of images,
// features, labels and other datasets, of which types, ranks, extents and contents, and the
// root attributes num_classes and dataset. The container format's own parsing is libhdf5's
// (fuzzed by OSS-Fuzz); this fuzzes what dptrain makes of what a file holds. A read must return
// exactly the rows asked for, each the file's row, with labels in 0..K-1.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "choices.hpp"
#include "dptrain/data/h5_data_reader.hpp"
#include "dptrain/data/h5_io.hpp"
#include "fuzz_check.hpp"
#include "h5_layout.hpp"
#include "h5_memory_file.hpp"

namespace {

using namespace dptrain;
using namespace dptrain::fuzz;

constexpr size_t kFileBudget = size_t{1} << 20;  // bytes of values written
constexpr size_t kReadBudget = size_t{1} << 22;  // bytes a selection's rows may take
constexpr const char* kGroups[] = {"/train", "/test", "/other"};
constexpr const char* kNames[] = {"images", "features", "labels", "other"};

struct FilePlan {
  std::vector<std::pair<uint8_t, uint8_t>> places;  // group, name of each dataset
  std::vector<DatasetPlan> datasets;
  AttributePlan num_classes, data_set;
  // A selection: parts of (gap before, block, stride beyond the block, count), clamped to rows.
  std::vector<std::array<uint16_t, 4>> parts;
};

template <class Io>
void visit(Io& io, FilePlan& plan) {
  uint8_t datasets = static_cast<uint8_t>(plan.datasets.size());
  io.integer(datasets, uint8_t{0}, uint8_t{8});
  plan.datasets.resize(datasets);
  plan.places.resize(datasets);
  for (size_t i = 0; i < datasets; ++i) {
    io.integer(plan.places[i].first, uint8_t{0}, uint8_t{2});
    io.integer(plan.places[i].second, uint8_t{0}, uint8_t{3});
    plan.datasets[i].path =
        std::string(kGroups[plan.places[i].first]) + "/" + kNames[plan.places[i].second];
    visit_dataset(io, plan.datasets[i]);
  }
  visit_attribute(io, plan.num_classes);
  visit_attribute(io, plan.data_set);
  uint8_t parts = static_cast<uint8_t>(plan.parts.size());
  io.integer(parts, uint8_t{0}, uint8_t{4});
  plan.parts.resize(parts);
  for (auto& part : plan.parts)
    for (uint16_t& field : part)
      io.integer(field, uint16_t{0}, uint16_t{1024});
}

// The plan's selection within `rows` rows of `row_bytes` each: disjoint parts in increasing
// order, as the sampler and the shards make them, and at most kReadBudget bytes.
RowSelection selection(const FilePlan& plan, size_t rows, size_t row_bytes) {
  RowSelection selected;
  size_t at = 0, bytes = 0;
  for (const auto& [gap, block_, stride_beyond, count_] : plan.parts) {
    const size_t block = std::max<size_t>(block_, 1), count = std::max<size_t>(count_, 1);
    const size_t stride = block + stride_beyond;
    const size_t start = at + gap;
    const size_t end = start + (count - 1) * stride + block;
    bytes += count * block * row_bytes;
    if (end > rows || bytes > kReadBudget) break;
    selected.parts.push_back({start, stride, count, block});
    at = end;
  }
  return selected;
}

// All of dataset `name` as `memory_type` values of `value_bytes` each: what a read must match.
std::vector<uint8_t> whole(hid_t file, const std::string& name, hid_t memory_type, size_t values) {
  std::vector<uint8_t> out(values * H5Tget_size(memory_type));
  const h5::Id dataset(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
  require(dataset.valid() &&
              H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0,
          "a dataset the reader accepted reads whole");
  return out;
}

void check_read(const H5DataReader& reader, hid_t file, const std::string& split,
                const RowSelection& rows, const LabeledRows& read, int classes) {
  const DataShape& shape = reader.row_shape();
  const size_t row_values = static_cast<size_t>(shape.row_width());
  const size_t file_rows = split == "/train" ? reader.train_rows() : reader.test_rows();
  require(read.rows == rows.rows() && read.labels.size() == rows.rows(),
          "a read returns exactly the rows asked for, one label each");
  require(shape.images() ? read.images.size() == read.rows * row_values && read.features.empty()
                         : read.features.size() == read.rows * row_values && read.images.empty(),
          "a read returns row_width values per row, of the file's kind");
  for (int32_t label : read.labels)
    require(label >= 0 && label < classes, "labels are 0..K-1");
  // Against the whole datasets, read independently: row k is the file's row file_row(k).
  // (Unwritten datasets may claim more than is worth reading whole.)
  if (file_rows * row_values > kReadBudget) return;
  const std::string rows_name = split + (shape.images() ? "/images" : "/features");
  const hid_t memory = shape.images() ? H5T_NATIVE_UINT8 : H5T_NATIVE_FLOAT;
  const std::vector<uint8_t> all_rows = whole(file, rows_name, memory, file_rows * row_values);
  const std::vector<uint8_t> all_labels =
      whole(file, split + "/labels", H5T_NATIVE_INT64, file_rows);
  const size_t row_bytes = row_values * H5Tget_size(memory);
  const uint8_t* got =
      shape.images() ? read.images.data() : reinterpret_cast<const uint8_t*>(read.features.data());
  for (size_t k = 0; k < read.rows; ++k) {
    const size_t row = rows.file_row(k);
    require(row < file_rows, "selected rows lie in the file");
    require(std::memcmp(got + k * row_bytes, all_rows.data() + row * row_bytes, row_bytes) == 0,
            "row k of a read is the file's row file_row(k)");
    int64_t label = 0;
    std::memcpy(&label, all_labels.data() + row * sizeof label, sizeof label);
    require(label == read.labels[k], "label k of a read is the file's label of row file_row(k)");
  }
}

void run(const FilePlan& plan) {
  h5::Id file = make_memory_file();
  size_t budget = kFileBudget;
  for (const DatasetPlan& dataset : plan.datasets)
    build_dataset(file.get(), dataset, budget);
  build_attribute(file.get(), "num_classes", plan.num_classes);
  build_attribute(file.get(), kDataSetAttribute, plan.data_set);
  const hid_t id = file.get();  // the reader owns the file; this stays valid while it lives
  accepts_input_errors([&] {
    const H5DataReader reader(std::move(file), "fuzz.h5");
    const DataShape& shape = reader.row_shape();
    require(reader.train_rows() >= 1 && reader.test_rows() >= 1, "both splits have rows");
    require(shape.row_width() >= 1 && shape.row_width() <= kMaxRowValues,
            "a row holds 1..kMaxRowValues values");
    require(shape.classes == 0 || (shape.classes >= 2 && shape.classes <= kMaxClasses),
            "num_classes is 2..kMaxClasses where given");
    const size_t row_bytes = static_cast<size_t>(shape.row_width()) * (shape.images() ? 1 : 4);
    const RowSelection train = selection(plan, reader.train_rows(), row_bytes);
    // K as agree_data_shape takes it: num_classes, else 1 + the largest training label.
    int classes = shape.classes;
    if (classes == 0) {
      const int64_t largest = reader.max_train_label(train);
      require(largest >= -1, "max_train_label is -1 or a label");
      if (largest < 1 || largest >= kMaxClasses) return;  // agree_data_shape refuses those
      classes = static_cast<int>(largest + 1);
    }
    check_read(reader, id, "/train", train, reader.read_train(train, classes), classes);
    const RowSelection test = selection(plan, reader.test_rows(), row_bytes);
    check_read(reader, id, "/test", test, reader.read_test(test, classes), classes);
  });
}

// Seeds: the layouts of the README's "Your own data" and of MNIST's file, small.
FilePlan layout(uint8_t rows_type, std::vector<uint64_t> row_extents, uint8_t label_type,
                int64_t classes, bool num_classes) {
  FilePlan plan;
  for (const uint8_t group : {uint8_t{0}, uint8_t{1}}) {
    DatasetPlan rows;
    rows.type = rows_type;
    rows.extents = row_extents;
    rows.rank = static_cast<uint8_t>(row_extents.size());
    rows.first = 0;
    rows.step = 37;
    rows.modulo = 256;
    DatasetPlan labels;
    labels.type = label_type;
    labels.extents = {row_extents[0]};
    labels.step = 3;
    labels.modulo = classes;
    plan.places.push_back({group, rows_type == kFloat32 ? uint8_t{1} : uint8_t{0}});
    plan.datasets.push_back(rows);
    plan.places.push_back({group, 2});
    plan.datasets.push_back(labels);
  }
  if (num_classes) plan.num_classes = {kInt64Scalar, classes, 1, {}};
  plan.parts = {{0, 3, 0, 1}, {1, 2, 2, 3}};
  return plan;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run(read_plan<FilePlan>(data, size));
  return 0;
}

extern "C" int DptrainFuzzWriteSeeds(const char* dir) {
  std::vector<std::pair<std::string, FilePlan>> seeds = {
      {"mnist", layout(kUint8, {16, 28, 28}, kUint8, 10, true)},
      {"images-32x32x3", layout(kUint8, {12, 32, 32, 3}, kUint8, 5, true)},
      {"features-20", layout(kFloat32, {40, 20}, kInt64, 3, false)},
      {"features-int32-labels", layout(kFloat32, {40, 20}, kInt32, 3, false)},
      {"images-int32", layout(kInt32, {16, 28, 28}, kUint8, 10, true)},
      {"features-float64", layout(kFloat64, {40, 20}, kInt64, 3, false)},
  };
  seeds.push_back({"dataset-attribute", seeds[0].second});
  seeds.back().second.data_set = {kFixedString, 0, 1, "fashion-mnist"};
  seeds.push_back({"chunked", seeds[1].second});
  for (DatasetPlan& dataset : seeds.back().second.datasets)
    dataset.storage = kChunked;
  return write_seeds(dir, seeds);
}
