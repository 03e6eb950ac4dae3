#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>

#include "dptrain/data/idx.hpp"
#include "dptrain/data/mnist_format.hpp"
#include "dptrain/data/mnist_h5.hpp"

namespace dptrain {

// The IDX data sets `dptrain prepare` converts. They ship the same four file names and fit the
// layout of mnist_format.hpp, so one conversion serves them all; what tells their files apart is
// the root attribute kDataSetAttribute (mnist_h5.hpp) it records.
enum class DataSet { kMnist, kFashionMnist };

struct DataSetInfo {
  DataSet data_set;
  const char* name;   // the `prepare` subcommand and the value of the attribute "dataset"
  const char* title;  // as people write it, for help and messages
  std::array<const char*, mnist::kClasses> class_names;  // by label
};

// Every data set, in the order `dptrain prepare --help` lists them.
std::span<const DataSetInfo> data_sets();
const DataSetInfo& data_set_info(DataSet data_set);
// The data set a file's kDataSetAttribute names, or null for "" and names dptrain does not know.
const DataSetInfo* find_data_set(const std::string& name);

struct PreparedData {
  size_t train_rows = 0;
  size_t test_rows = 0;
};

// Converts the four IDX files in idx_dir (train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) to dptrain's HDF5 layout, recording each
// file's name and SHA-256 and which data set they are. Checks shapes, lengths and labels first;
// InputError for any problem.
// One split's pair of IDX arrays as `prepare` takes them: [N,28,28] images and N labels in
// 0..9, N >= 1; the names are the files', for messages. InputError otherwise.
LabeledImages check_idx_split(IdxArray images, IdxArray labels, const std::string& images_name,
                              const std::string& labels_name);

PreparedData prepare_idx_dataset(DataSet data_set, const std::string& idx_dir,
                                 const std::string& out, bool overwrite);

}  // namespace dptrain
