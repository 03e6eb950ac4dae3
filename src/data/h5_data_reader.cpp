#include "dptrain/data/h5_data_reader.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>

#include "dptrain/core/error.hpp"
#include "dptrain/data/h5_io.hpp"

namespace dptrain {
namespace {

// data_shape.hpp's limit, in HDF5's type.
constexpr hsize_t kMaxRowExtent = kMaxRowValues;

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    text += (i ? "," : "") + std::to_string(dims[i]);
  return text + "]";
}

std::string type_text(hid_t type) {
  const size_t bits = H5Tget_size(type) * 8;
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    case H5T_FLOAT:
      return "float" + std::to_string(bits);
    case H5T_STRING:
      return "string";
    default:
      return "a non-numeric type";
  }
}

bool is_uint8(hid_t type) {
  return H5Tget_class(type) == H5T_INTEGER && H5Tget_size(type) == 1 &&
         H5Tget_sign(type) == H5T_SGN_NONE;
}

bool is_float32(hid_t type) {
  return H5Tget_class(type) == H5T_FLOAT && H5Tget_size(type) == 4;
}

bool is_label_type(hid_t type) {
  if (H5Tget_class(type) != H5T_INTEGER) return false;
  const size_t bytes = H5Tget_size(type);
  const bool is_signed = H5Tget_sign(type) != H5T_SGN_NONE;
  return (bytes == 1 && !is_signed) || (bytes == 4 && is_signed) || (bytes == 8 && is_signed);
}

// The file, its name for messages, and checks of its links and datasets.
class Layout {
 public:
  Layout(hid_t file, const std::string& path) : file_(file), path_(path) {}

  std::string where(const std::string& name) const { return "data file '" + path_ + "': " + name; }

  // Whether `name` exists; H5Lexists fails on a path whose group is missing, so the group first.
  bool exists(const std::string& name) const {
    const std::string group = name.substr(0, name.find('/', 1));
    return H5Lexists(file_, group.c_str(), H5P_DEFAULT) > 0 &&
           (group == name || H5Lexists(file_, name.c_str(), H5P_DEFAULT) > 0);
  }

  // The dims of dataset `name`, after checking its type with `type_ok` (else "has type X,
  // expected <expected>").
  std::vector<hsize_t> dims(const std::string& name, bool (*type_ok)(hid_t),
                            const std::string& expected) const {
    const h5::Id dataset(H5Dopen2(file_, name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!dataset.valid()) throw InputError(where(name) + " is not a dataset");
    const h5::Id type(H5Dget_type(dataset.get()), H5Tclose);
    if (!type.valid() || !type_ok(type.get()))
      throw InputError(where(name) + " has type " + (type.valid() ? type_text(type.get()) : "?") +
                       ", expected " + expected);
    const h5::Id space(H5Dget_space(dataset.get()), H5Sclose);
    const int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
    if (rank < 0) throw InputError(where(name) + " has no simple dataspace");
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    return dims;
  }

  hid_t file() const { return file_; }

 private:
  hid_t file_;
  const std::string& path_;
};

// What one split (/train or /test) holds: its kind, its row shape and its rows.
struct Split {
  DataShape shape;
  std::string rows_dataset;  // "images" or "features"
  size_t rows = 0;
};

// The row shape of an images dataset; *rows receives N.
DataShape shape_of_images(const Layout& layout, const std::string& name, size_t* rows) {
  const std::string expected = "uint8 [N,H,W] or [N,H,W,C] with N >= 1";
  const std::vector<hsize_t> dims = layout.dims(name, is_uint8, "uint8");
  bool ok = (dims.size() == 3 || dims.size() == 4) && dims[0] > 0;
  hsize_t values = 1;
  for (size_t d = 1; ok && d < dims.size(); ++d) {
    ok = dims[d] > 0 && dims[d] <= kMaxRowExtent;
    values *= ok ? dims[d] : 1;
  }
  if (!ok || values > kMaxRowExtent)
    throw InputError(layout.where(name) + " has shape " + shape_text(dims) + ", expected " +
                     expected + (ok ? " and rows of at most 2^28 values" : ""));
  *rows = dims[0];
  DataShape shape;
  shape.height = static_cast<int>(dims[1]);
  shape.width = static_cast<int>(dims[2]);
  shape.channels = dims.size() == 4 ? static_cast<int>(dims[3]) : 1;
  shape.classes = 0;
  return shape;
}

// The row shape of a features dataset; *rows receives N.
DataShape shape_of_features(const Layout& layout, const std::string& name, size_t* rows) {
  const std::vector<hsize_t> dims = layout.dims(name, is_float32, "float32");
  if (dims.size() != 2 || dims[0] == 0 || dims[1] == 0 || dims[1] > kMaxRowExtent)
    throw InputError(layout.where(name) + " has shape " + shape_text(dims) +
                     ", expected float32 [N,D] with N >= 1 and 1 <= D <= 2^28");
  *rows = dims[0];
  return DataShape::features(static_cast<int>(dims[1]), 0);
}

Split read_split(const Layout& layout, const std::string& split) {
  const std::string images = split + "/images", features = split + "/features";
  const std::string labels = split + "/labels";
  const bool has_images = layout.exists(images), has_features = layout.exists(features);
  if (has_images && has_features)
    throw InputError(layout.where(split) + " holds both images and features: keep one of them");
  if (!has_images && !has_features)
    throw InputError(layout.where(split) + (split == "/train" ? " (the training set)" : "") +
                     " is missing: expected " + images + " uint8 [N,H,W(,C)] or " + features +
                     " float32 [N,D], with " + labels);
  Split result;
  result.rows_dataset = has_images ? "images" : "features";
  const std::string rows_name = split + "/" + result.rows_dataset;
  result.shape = has_images ? shape_of_images(layout, rows_name, &result.rows)
                            : shape_of_features(layout, rows_name, &result.rows);
  if (!layout.exists(labels))
    throw InputError(layout.where(labels) + " is missing (expected uint8, int32 or int64 [N])");
  const std::vector<hsize_t> label_dims =
      layout.dims(labels, is_label_type, "uint8, int32 or int64");
  if (label_dims.size() != 1)
    throw InputError(layout.where(labels) + " has shape " + shape_text(label_dims) +
                     ", expected [N]");
  if (label_dims[0] != result.rows)
    throw InputError(layout.where(rows_name) + " has " + std::to_string(result.rows) +
                     " rows but " + labels + " has " + std::to_string(label_dims[0]));
  return result;
}

// num_classes, where the root has it.
int read_num_classes(const Layout& layout) {
  if (H5Aexists(layout.file(), "num_classes") <= 0) return 0;
  int64_t classes = 0;
  try {
    classes = h5::read_int_attribute(layout.file(), "num_classes");
  } catch (const std::exception&) {
    throw InputError(layout.where("attribute num_classes") + " is not an integer");
  }
  if (classes < 2 || classes > kMaxClasses)
    throw InputError(layout.where("attribute num_classes") + " = " + std::to_string(classes) +
                     ", but it must be 2.." + std::to_string(kMaxClasses));
  return static_cast<int>(classes);
}

// Reads the selected rows of dataset `name` as `memory_type`, into `out` of `row_values` values
// per row.
void read_rows(const Layout& layout, const std::string& name, hid_t memory_type,
               const RowSelection& rows, size_t row_values, void* out) {
  if (rows.rows() == 0) return;
  const h5::Id dataset(H5Dopen2(layout.file(), name.c_str(), H5P_DEFAULT), H5Dclose);
  const h5::Id file_space(dataset.valid() ? H5Dget_space(dataset.get()) : H5I_INVALID_HID,
                          H5Sclose);
  const int rank = file_space.valid() ? H5Sget_simple_extent_ndims(file_space.get()) : 0;
  bool ok = rank >= 1;
  std::vector<hsize_t> start(static_cast<size_t>(rank), 0), stride(start.size(), 1),
      count(start.size(), 1), block(start.size(), 0);
  if (ok) H5Sget_simple_extent_dims(file_space.get(), block.data(), nullptr);
  for (size_t i = 0; ok && i < rows.parts.size(); ++i) {
    const RowBlocks& part = rows.parts[i];
    start[0] = part.start;
    stride[0] = part.stride;
    count[0] = part.count;
    block[0] = part.block;
    ok = H5Sselect_hyperslab(file_space.get(), i == 0 ? H5S_SELECT_SET : H5S_SELECT_OR,
                             start.data(), stride.data(), count.data(), block.data()) >= 0;
  }
  // The memory space has the file's shape, [rows, 28, 28] for MNIST: with the same rank and
  // inner dimensions HDF5 copies whole rows, where [rows, 784] made it walk 28-byte pieces
  // (seconds for MNIST, measured with perf).
  std::vector<hsize_t> memory_dims = block;
  if (!memory_dims.empty()) memory_dims[0] = rows.rows();
  hsize_t inner = 1;
  for (size_t d = 1; d < memory_dims.size(); ++d)
    inner *= memory_dims[d];
  ok = ok && inner == row_values;  // the shape was checked on opening; this guards `out`
  const h5::Id memory_space(
      ok ? H5Screate_simple(rank, memory_dims.data(), nullptr) : H5I_INVALID_HID, H5Sclose);
  ok = ok && memory_space.valid() &&
       H5Dread(dataset.get(), memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT,
               out) >= 0;
  if (!ok) throw InputError(layout.where(name) + ": cannot read: " + h5::last_error());
}

std::string row_shape_text(const DataShape& shape) {
  return shape.images() ? std::to_string(shape.height) + "x" + std::to_string(shape.width) + "x" +
                              std::to_string(shape.channels)
                        : std::to_string(shape.width);
}

// The data file at `path`, open for reading.
h5::Id open_data_file(const std::string& path) {
  h5::silence_errors();
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error))
    throw InputError("data file '" + path + "' does not exist or is not a regular file");
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw InputError("data file '" + path + "' is not an HDF5 file");
  h5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.valid())
    throw InputError("data file '" + path + "' cannot be opened: " + h5::last_error());
  return file;
}

}  // namespace

H5DataReader::H5DataReader(const std::string& path) : H5DataReader(open_data_file(path), path) {}

H5DataReader::H5DataReader(h5::Id file, const std::string& name)
    : path_(name), file_(std::move(file)) {
  h5::silence_errors();
  const Layout layout(file_.get(), path_);
  const Split train = read_split(layout, "/train");
  const Split test = read_split(layout, "/test");
  if (test.rows_dataset != train.rows_dataset || !(test.shape == train.shape))
    throw InputError(layout.where("/test/" + test.rows_dataset) + " has rows of " +
                     row_shape_text(test.shape) + ", but /train/" + train.rows_dataset +
                     " has rows of " + row_shape_text(train.shape));
  shape_ = train.shape;
  shape_.classes = read_num_classes(layout);
  row_dataset_ = train.rows_dataset;
  train_rows_ = train.rows;
  test_rows_ = test.rows;
  // Informational only: a file without it, or with something else in it, trains all the same.
  if (H5Aexists(file_.get(), kDataSetAttribute) > 0) {
    try {
      data_set_ = h5::read_string_attribute(file_.get(), kDataSetAttribute);
    } catch (const std::exception&) {
      data_set_.clear();
    }
  }
}

LabeledRows H5DataReader::read_train(const RowSelection& rows, int classes) const {
  return read("/train", rows, classes);
}

LabeledRows H5DataReader::read_test(const RowSelection& rows, int classes) const {
  return read("/test", rows, classes);
}

std::vector<int64_t> H5DataReader::read_labels(const std::string& split,
                                               const RowSelection& rows) const {
  std::vector<int64_t> labels(rows.rows());
  const std::string name = split + "/labels";
  read_rows(Layout(file_.get(), path_), name, H5T_NATIVE_INT64, rows, 1, labels.data());
  for (size_t k = 0; k < labels.size(); ++k)
    if (labels[k] < 0)
      throw InputError("data file '" + path_ + "': " + name + "[" +
                       std::to_string(rows.file_row(k)) + "] = " + std::to_string(labels[k]) +
                       ", but labels must not be negative");
  return labels;
}

int64_t H5DataReader::max_train_label(const RowSelection& rows) const {
  const std::vector<int64_t> labels = read_labels("/train", rows);
  return labels.empty() ? -1 : *std::max_element(labels.begin(), labels.end());
}

LabeledRows H5DataReader::read(const std::string& split, const RowSelection& rows,
                               int classes) const {
  const Layout layout(file_.get(), path_);
  LabeledRows data;
  data.rows = rows.rows();
  const size_t row_values = static_cast<size_t>(shape_.row_width());
  const std::string name = split + "/" + row_dataset_;
  if (shape_.images()) {
    data.images.resize(data.rows * row_values);
    read_rows(layout, name, H5T_NATIVE_UINT8, rows, row_values, data.images.data());
  } else {
    data.features.resize(data.rows * row_values);
    read_rows(layout, name, H5T_NATIVE_FLOAT, rows, row_values, data.features.data());
  }
  const std::vector<int64_t> labels = read_labels(split, rows);
  data.labels.resize(labels.size());
  for (size_t k = 0; k < labels.size(); ++k) {
    if (labels[k] >= classes)
      throw InputError("data file '" + path_ + "': " + split + "/labels[" +
                       std::to_string(rows.file_row(k)) + "] = " + std::to_string(labels[k]) +
                       ", but labels must be 0.." + std::to_string(classes - 1) +
                       (shape_.classes > 0 ? " (num_classes)" : " (K from the training labels)"));
    data.labels[k] = static_cast<int32_t>(labels[k]);
  }
  return data;
}

}  // namespace dptrain
