#pragma once

#include <cstddef>
#include <string>

namespace dptrain {

struct PreparedData {
  size_t train_rows = 0;
  size_t test_rows = 0;
};

// Converts the four MNIST IDX files in idx_dir (train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte) to dptrain's HDF5 layout, recording each
// file's name and SHA-256. Checks shapes, lengths and labels first; InputError for any problem.
PreparedData prepare_mnist(const std::string& idx_dir, const std::string& out, bool overwrite);

}  // namespace dptrain
