#include "support/test_files.hpp"

#include <hdf5.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "dptrain/data/h5_check.hpp"
#include "dptrain/data/h5_io.hpp"
#include "dptrain/data/mnist_format.hpp"
#include "support/synthetic_data.hpp"

namespace dptrain::testing {
namespace {

constexpr size_t kTrainRows = 512;
constexpr size_t kTestRows = 128;

struct RawDataset {
  std::string name;
  hid_t file_type;
  hid_t memory_type;
  std::vector<hsize_t> dims;
  const void* data;
  std::vector<hsize_t> chunk = {};  // empty: contiguous
  int gzip_level = 0;
};

// num_classes: the root attribute, written unless 0.
void write_raw(const std::string& path, const std::vector<RawDataset>& datasets,
               int64_t num_classes = 0) {
  h5::silence_errors();
  const h5::Id file(h5Check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)),
                    H5Fclose);
  const h5::Id link_properties(h5Check(H5Pcreate(H5P_LINK_CREATE)), H5Pclose);
  h5Check(H5Pset_create_intermediate_group(link_properties.get(), 1));
  for (const RawDataset& d : datasets) {
    const h5::Id space(
        h5Check(H5Screate_simple(static_cast<int>(d.dims.size()), d.dims.data(), nullptr)),
        H5Sclose);
    const h5::Id properties(h5Check(H5Pcreate(H5P_DATASET_CREATE)), H5Pclose);
    if (!d.chunk.empty())
      h5Check(H5Pset_chunk(properties.get(), static_cast<int>(d.chunk.size()), d.chunk.data()));
    if (d.gzip_level > 0) {
      h5Check(H5Pset_shuffle(properties.get()));
      h5Check(H5Pset_deflate(properties.get(), static_cast<unsigned>(d.gzip_level)));
    }
    const h5::Id dataset(h5Check(H5Dcreate2(file.get(), d.name.c_str(), d.file_type, space.get(),
                                            link_properties.get(), properties.get(), H5P_DEFAULT)),
                         H5Dclose);
    if (d.data != nullptr)
      h5Check(H5Dwrite(dataset.get(), d.memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.data));
  }
  if (num_classes != 0) h5::write_attribute(file.get(), "num_classes", num_classes);
}

// Rows of other shapes than MNIST's (README, "Your own data"), learnable, in one split.
constexpr size_t kShapedTrainRows = 1536;
constexpr size_t kShapedTestRows = 256;

// Host copies of one split's datasets for write_raw, labels in the file type asked for.
struct ShapedSplit {
  ShapedSplit(const DataShape& shape, size_t rows, uint64_t split, hid_t file_label_type)
      : data(synthetic_rows(shape, rows, 11, split)),
        labels64(data.labels.begin(), data.labels.end()),
        labels8(data.labels.begin(), data.labels.end()),
        label_type(file_label_type) {
    dims = {rows};
    if (shape.images()) {
      dims.insert(dims.end(),
                  {hsize_t(shape.height), hsize_t(shape.width), hsize_t(shape.channels)});
    } else {
      dims.push_back(hsize_t(shape.width));
    }
  }
  std::vector<RawDataset> datasets(const std::string& split) const {
    const bool images = !data.images.empty();
    const void* label_data =
        H5Tget_size(label_type) == 8   ? static_cast<const void*>(labels64.data())
        : H5Tget_size(label_type) == 4 ? static_cast<const void*>(data.labels.data())
                                       : static_cast<const void*>(labels8.data());
    const hid_t label_memory = H5Tget_size(label_type) == 8   ? H5T_NATIVE_INT64
                               : H5Tget_size(label_type) == 4 ? H5T_NATIVE_INT32
                                                              : H5T_NATIVE_UINT8;
    return {{split + (images ? "/images" : "/features"), images ? H5T_STD_U8LE : H5T_IEEE_F32LE,
             images ? H5T_NATIVE_UINT8 : H5T_NATIVE_FLOAT, dims,
             images ? static_cast<const void*>(data.images.data()) : data.features.data()},
            {split + "/labels", label_type, label_memory, {dims[0]}, label_data}};
  }
  LabeledRows data;
  std::vector<int64_t> labels64;
  std::vector<uint8_t> labels8;
  hid_t label_type;
  std::vector<hsize_t> dims;
};

const DataShape kColorImages{DataShape::Kind::images, 32, 32, 3, 5};
const DataShape kFeatures = DataShape::features(20, 3);

// The kinds of other shapes: learnable files and their malformed variants.
bool write_shaped_file(const std::string& kind, const std::string& path) {
  const bool images = kind.starts_with("images-32x32x3") || kind == "test-shape-mismatch";
  const DataShape shape = images ? kColorImages : kFeatures;
  const hid_t label_type = images                     ? H5T_STD_U8LE
                           : kind == "negative-label" ? H5T_STD_I32LE
                                                      : H5T_STD_I64LE;
  ShapedSplit train(shape, kShapedTrainRows, 0, label_type);
  ShapedSplit test(shape, kShapedTestRows, 1, label_type);
  int64_t num_classes = images ? shape.classes : 0;
  if (kind == "one-class") std::fill(train.labels64.begin(), train.labels64.end(), 0);
  if (kind == "negative-label") train.data.labels[9] = -1;
  if (kind == "labels-at-num-classes") {
    num_classes = shape.classes;
    train.labels64[7] = shape.classes;
  }
  std::vector<RawDataset> datasets = train.datasets("/train");
  const std::vector<RawDataset> test_sets = test.datasets("/test");
  datasets.insert(datasets.end(), test_sets.begin(), test_sets.end());
  std::vector<double> wide(train.data.features.begin(), train.data.features.end());
  const std::vector<uint8_t> small_images(kShapedTestRows * 28 * 28, 7);
  if (kind == "features-float64") {
    datasets[0].file_type = H5T_IEEE_F64LE;
    datasets[0].memory_type = H5T_NATIVE_DOUBLE;
    datasets[0].data = wide.data();
  } else if (kind == "features-rank3") {
    datasets[0].dims = {kShapedTrainRows, 4, 5};
  } else if (kind == "labels-2d") {
    datasets[1].dims = {kShapedTrainRows, 1};
  } else if (kind == "test-shape-mismatch") {
    datasets[2].dims = {kShapedTestRows, 28, 28};
    datasets[2].data = small_images.data();
  } else if (kind == "both-images-and-features") {
    datasets.push_back(
        {"/train/images", H5T_STD_U8LE, H5T_NATIVE_UINT8, {kShapedTrainRows, 2, 2}, nullptr});
  } else if (kind != "images-32x32x3" && kind != "features-20" && kind != "one-class" &&
             kind != "negative-label" && kind != "labels-at-num-classes") {
    return false;
  }
  write_raw(path, datasets, num_classes);
  return true;
}

hsize_t rows_of(const LabeledImages& split) {
  return split.rows;
}

std::vector<RawDataset> standard(const LabeledImages& train, const LabeledImages& test) {
  return {
      {mnist::kTrainImages,
       H5T_STD_U8LE,
       H5T_NATIVE_UINT8,
       {rows_of(train), 28, 28},
       train.images.data()},
      {mnist::kTrainLabels, H5T_STD_U8LE, H5T_NATIVE_UINT8, {rows_of(train)}, train.labels.data()},
      {mnist::kTestImages,
       H5T_STD_U8LE,
       H5T_NATIVE_UINT8,
       {rows_of(test), 28, 28},
       test.images.data()},
      {mnist::kTestLabels, H5T_STD_U8LE, H5T_NATIVE_UINT8, {rows_of(test)}, test.labels.data()},
  };
}

}  // namespace

std::vector<std::string> test_file_kinds() {
  return {"good",
          "foreign-layout",
          "not-hdf5",
          "truncated",
          "missing-group",
          "missing-dataset",
          "images-int32",
          "labels-float",
          "images-flat",
          "length-mismatch",
          "empty",
          "bad-train-label",
          "bad-test-label",
          "tiny",
          "images-32x32x3",
          "features-20",
          "features-float64",
          "features-rank3",
          "labels-2d",
          "test-shape-mismatch",
          "both-images-and-features",
          "one-class",
          "negative-label",
          "labels-at-num-classes"};
}

void write_test_file(const std::string& kind, const std::string& path) {
  if (write_shaped_file(kind, path)) return;
  LabeledImages train = synthetic_images(kind == "tiny" ? 40 : kTrainRows, 1);
  LabeledImages test = synthetic_images(kTestRows, 1, 1);
  std::vector<RawDataset> datasets = standard(train, test);
  if (kind == "good" || kind == "tiny") {
    write_synthetic_h5(path, train.rows, test.rows, 1);
    return;
  }
  if (kind == "not-hdf5") {
    std::ofstream(path) << "this is not an HDF5 file\n";
    return;
  }
  if (kind == "truncated") {
    write_synthetic_h5(path, train.rows, test.rows, 1);
    std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
    return;
  }
  std::vector<int32_t> wide(train.images.begin(), train.images.end());
  std::vector<float> float_labels(train.labels.begin(), train.labels.end());
  if (kind == "foreign-layout") {
    datasets[0].chunk = {};  // contiguous
    datasets[1].chunk = {77};
    datasets[1].gzip_level = 9;
    datasets[2].chunk = {7, 28, 28};
    datasets[2].gzip_level = 4;
    datasets[3].chunk = {13};
    datasets[3].gzip_level = 1;
  } else if (kind == "missing-group") {
    datasets.erase(datasets.begin(), datasets.begin() + 2);
  } else if (kind == "missing-dataset") {
    datasets.pop_back();
  } else if (kind == "images-int32") {
    datasets[0].file_type = H5T_STD_I32LE;
    datasets[0].memory_type = H5T_NATIVE_INT32;
    datasets[0].data = wide.data();
  } else if (kind == "labels-float") {
    datasets[1].file_type = H5T_IEEE_F32LE;
    datasets[1].memory_type = H5T_NATIVE_FLOAT;
    datasets[1].data = float_labels.data();
  } else if (kind == "images-flat") {
    datasets[0].dims = {train.rows, 784};
  } else if (kind == "length-mismatch") {
    datasets[1].dims = {train.rows - 1};
  } else if (kind == "empty") {
    datasets[0].dims = {0, 28, 28};
    datasets[1].dims = {0};
    datasets[0].data = datasets[1].data = nullptr;
  } else if (kind == "bad-train-label") {
    train.labels[40] = 11;
  } else if (kind == "bad-test-label") {
    test.labels[100] = 10;
  } else {
    throw std::invalid_argument("unknown test file kind: " + kind);
  }
  // As dptrain prepare writes them: K = 10 recorded, so that a stray label is an error.
  write_raw(path, datasets, mnist::kClasses);
}

}  // namespace dptrain::testing
