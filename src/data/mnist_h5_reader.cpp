#include <filesystem>

#include "dptrain/core/error.hpp"
#include "dptrain/data/h5_io.hpp"
#include "dptrain/data/mnist_format.hpp"
#include "dptrain/data/mnist_h5.hpp"

namespace dptrain {
namespace {

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::string text = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    text += (i ? "," : "") + std::to_string(dims[i]);
  return text + "]";
}

std::string type_text(hid_t type) {
  const H5T_class_t type_class = H5Tget_class(type);
  const size_t bits = H5Tget_size(type) * 8;
  switch (type_class) {
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

class DatasetChecker {
 public:
  DatasetChecker(hid_t file, const std::string& path) : file_(file), path_(path) {}

  // Checks that `name` is a uint8 dataset of shape [rows, trailing...]; returns rows.
  size_t rows_of(const char* name, const std::vector<hsize_t>& trailing) const {
    const std::string where = "data file '" + path_ + "': " + name;
    // H5Lexists fails on a path whose group is missing, so check the group first.
    const std::string full(name);
    for (const std::string& link : {full.substr(0, full.find('/', 1)), full})
      if (H5Lexists(file_, link.c_str(), H5P_DEFAULT) <= 0)
        throw InputError(where + " is missing (expected " + expected(trailing) + ")");
    const h5::Id dataset(H5Dopen2(file_, name, H5P_DEFAULT), H5Dclose);
    if (!dataset.valid()) throw InputError(where + " is not a dataset");
    const h5::Id type(H5Dget_type(dataset.get()), H5Tclose);
    if (!type.valid() || H5Tget_class(type.get()) != H5T_INTEGER || H5Tget_size(type.get()) != 1 ||
        H5Tget_sign(type.get()) != H5T_SGN_NONE)
      throw InputError(where + " has type " + type_text(type.get()) + ", expected uint8");
    const h5::Id space(H5Dget_space(dataset.get()), H5Sclose);
    const int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
    if (rank < 0) throw InputError(where + " has no simple dataspace");
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    bool matches = dims.size() == trailing.size() + 1 && dims[0] > 0;
    for (size_t d = 0; matches && d < trailing.size(); ++d)
      matches = dims[d + 1] == trailing[d];
    if (!matches)
      throw InputError(where + " has shape " + shape_text(dims) + ", expected " +
                       expected(trailing));
    return dims[0];
  }

 private:
  static std::string expected(const std::vector<hsize_t>& trailing) {
    std::string text = "uint8 [N";
    for (hsize_t extent : trailing)
      text += "," + std::to_string(extent);
    return text + "] with N >= 1";
  }

  hid_t file_;
  const std::string& path_;
};

size_t pair_rows(const DatasetChecker& checker, const std::string& path, const char* images,
                 const char* labels) {
  const size_t image_rows =
      checker.rows_of(images, {hsize_t{mnist::kImageHeight}, hsize_t{mnist::kImageWidth}});
  const size_t label_rows = checker.rows_of(labels, {});
  if (image_rows != label_rows)
    throw InputError("data file '" + path + "': " + images + " has " + std::to_string(image_rows) +
                     " rows but " + labels + " has " + std::to_string(label_rows));
  return image_rows;
}

// Reads the selected rows of a dataset whose rows are `row_elements` bytes each.
void read_rows(hid_t file, const std::string& path, const char* name, const RowSelection& rows,
               size_t row_elements, uint8_t* out) {
  if (rows.rows() == 0) return;
  const h5::Id dataset(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
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
  // The memory space has the file's shape, [rows, 28, 28] for images: with the same rank and
  // inner dimensions HDF5 copies whole rows, where [rows, 784] made it walk 28-byte pieces
  // (seconds for MNIST, measured with perf).
  std::vector<hsize_t> memory_dims = block;
  if (!memory_dims.empty()) memory_dims[0] = rows.rows();
  hsize_t inner = 1;
  for (size_t d = 1; d < memory_dims.size(); ++d)
    inner *= memory_dims[d];
  ok = ok && inner == row_elements;  // the shape was checked on opening; this guards `out`
  const h5::Id memory_space(
      ok ? H5Screate_simple(rank, memory_dims.data(), nullptr) : H5I_INVALID_HID, H5Sclose);
  ok = ok && memory_space.valid() &&
       H5Dread(dataset.get(), H5T_NATIVE_UINT8, memory_space.get(), file_space.get(), H5P_DEFAULT,
               out) >= 0;
  if (!ok)
    throw InputError("data file '" + path + "': cannot read " + name + ": " + h5::last_error());
}

}  // namespace

MnistH5Reader::MnistH5Reader(const std::string& path) : path_(path) {
  h5::silence_errors();
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error))
    throw InputError("data file '" + path + "' does not exist or is not a regular file");
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw InputError("data file '" + path + "' is not an HDF5 file");
  file_ = h5::Id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file_.valid())
    throw InputError("data file '" + path + "' cannot be opened: " + h5::last_error());
  const DatasetChecker checker(file_.get(), path_);
  train_rows_ = pair_rows(checker, path_, mnist::kTrainImages, mnist::kTrainLabels);
  test_rows_ = pair_rows(checker, path_, mnist::kTestImages, mnist::kTestLabels);
  // Informational only: a file without it, or with something else in it, trains all the same.
  if (H5Aexists(file_.get(), kDataSetAttribute) > 0) {
    try {
      data_set_ = h5::read_string_attribute(file_.get(), kDataSetAttribute);
    } catch (const std::exception&) {
      data_set_.clear();
    }
  }
}

LabeledImages MnistH5Reader::read_train(const RowSelection& rows) const {
  return read(mnist::kTrainImages, mnist::kTrainLabels, rows);
}

LabeledImages MnistH5Reader::read_test(const RowSelection& rows) const {
  return read(mnist::kTestImages, mnist::kTestLabels, rows);
}

LabeledImages MnistH5Reader::read(const char* images, const char* labels,
                                  const RowSelection& rows) const {
  LabeledImages data;
  data.rows = rows.rows();
  data.images.resize(data.rows * mnist::kPixels);
  data.labels.resize(data.rows);
  read_rows(file_.get(), path_, images, rows, mnist::kPixels, data.images.data());
  read_rows(file_.get(), path_, labels, rows, 1, data.labels.data());
  for (size_t k = 0; k < data.rows; ++k)
    if (data.labels[k] >= mnist::kClasses)
      throw InputError("data file '" + path_ + "': " + labels + "[" +
                       std::to_string(rows.file_row(k)) + "] = " + std::to_string(data.labels[k]) +
                       ", but labels must be 0..9");
  return data;
}

}  // namespace dptrain
