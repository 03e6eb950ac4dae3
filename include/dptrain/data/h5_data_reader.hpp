#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dptrain/data/data_shape.hpp"
#include "dptrain/data/h5_check.hpp"
#include "dptrain/data/row_selection.hpp"

namespace dptrain {

// The root attribute naming the data set a file holds ("mnist", "fashion-mnist": prepare.hpp),
// a fixed-length string. Files written by other tools, or before it existed, lack it, so readers
// must not require it.
inline constexpr const char* kDataSetAttribute = "dataset";

// Rows of a data set with their labels, in host memory: uint8 images (rows x row_width bytes)
// or float32 features (rows x row_width values), whichever the file holds.
struct LabeledRows {
  size_t rows = 0;
  std::vector<uint8_t> images;
  std::vector<float> features;
  std::vector<int32_t> labels;
};

// The data seam (README, "Your own data"). Reads an HDF5 file of this layout, written by any
// tool with any chunking or filters:
//   /train/images uint8 [N,H,W] or [N,H,W,C], or /train/features float32 [N,D]
//   /train/labels uint8, int32 or int64 [N], in 0..K-1
//   /test/...     the same, with rows of the same shape
//   num_classes   an optional integer attribute of the root: K; else K comes from the labels
// MNIST's and Fashion-MNIST's files ([N,28,28] uint8 images, uint8 labels) are one case of it.
// The constructor checks the layout: presence, types, ranks and matching counts and row shapes.
// Reads return only the rows asked for (one hyperslab) and check every label. Every problem is
// an InputError naming the file and the dataset.
class H5DataReader {
 public:
  explicit H5DataReader(const std::string& path);
  // The same checks of a file already open for reading (e.g. one in memory, HDF5's core
  // driver: the fuzz harness); `name` stands for its path in messages and path().
  H5DataReader(h5::Id file, const std::string& name);

  const std::string& path() const { return path_; }
  size_t train_rows() const { return train_rows_; }
  size_t test_rows() const { return test_rows_; }
  // The shape of a row; its `classes` is num_classes where the file has it, else 0 (see
  // agree_data_shape, which takes K from the labels then).
  const DataShape& row_shape() const { return shape_; }
  // The file's kDataSetAttribute ("mnist", "fashion-mnist"), or "" where it has none.
  const std::string& data_set() const { return data_set_; }

  // Rows of /train or /test; InputError for a label outside 0..classes-1.
  LabeledRows read_train(const RowSelection& rows, int classes) const;
  LabeledRows read_test(const RowSelection& rows, int classes) const;
  // The largest training label among `rows`, -1 for none; InputError for a negative one.
  int64_t max_train_label(const RowSelection& rows) const;

 private:
  LabeledRows read(const std::string& split, const RowSelection& rows, int classes) const;
  std::vector<int64_t> read_labels(const std::string& split, const RowSelection& rows) const;

  std::string path_;
  h5::Id file_;
  DataShape shape_;
  std::string row_dataset_;  // "images" or "features"
  size_t train_rows_ = 0;
  size_t test_rows_ = 0;
  std::string data_set_;
};

}  // namespace dptrain
