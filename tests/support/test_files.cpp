#include "support/test_files.hpp"

#include <hdf5.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "dptrain/data/h5_check.hpp"
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

void write_raw(const std::string& path, const std::vector<RawDataset>& datasets) {
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
  return {"good",           "foreign-layout",
          "not-hdf5",       "truncated",
          "missing-group",  "missing-dataset",
          "images-int32",   "labels-float",
          "images-flat",    "length-mismatch",
          "empty",          "bad-train-label",
          "bad-test-label", "tiny"};
}

void write_test_file(const std::string& kind, const std::string& path) {
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
  write_raw(path, datasets);
}

}  // namespace dptrain::testing
