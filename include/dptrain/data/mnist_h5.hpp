#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/data/h5_check.hpp"
#include "dptrain/data/row_selection.hpp"

namespace dptrain {

// Images (rows x 784 bytes) with their labels, in host memory.
struct LabeledImages {
  size_t rows = 0;
  std::vector<uint8_t> images;
  std::vector<uint8_t> labels;
};

// Where a dataset came from, recorded as attributes "source_file" and "source_sha256".
struct Provenance {
  std::string file;
  std::string sha256;
};

struct MnistSplitSources {
  Provenance images;
  Provenance labels;
};

// The root attribute naming the data set a file holds ("mnist", "fashion-mnist": prepare.hpp),
// a fixed-length string. Files written by other tools, or before it existed, lack it, so readers
// must not require it.
inline constexpr const char* kDataSetAttribute = "dataset";

// Writes the layout of mnist_format.hpp: uint8 datasets chunked by rows, attributes recording
// the sources, and `data_set` as kDataSetAttribute unless it is empty. The file appears
// atomically: written under a temporary name, flushed, synced, then renamed. An existing file is
// replaced only when `overwrite` is set (else InputError).
void write_mnist_h5(const std::string& path, const LabeledImages& train,
                    const MnistSplitSources& train_sources, const LabeledImages& test,
                    const MnistSplitSources& test_sources, bool overwrite,
                    const std::string& data_set = {});

// Reads a file in that layout, written by any tool with any chunking or filters. The constructor
// checks the four datasets' presence, type (uint8) and shapes; reads return only the rows asked
// for (a hyperslab) and check that every label is below 10. Every problem is an InputError
// naming the file and the dataset.
class MnistH5Reader {
 public:
  explicit MnistH5Reader(const std::string& path);

  const std::string& path() const { return path_; }
  size_t train_rows() const { return train_rows_; }
  size_t test_rows() const { return test_rows_; }
  // The file's kDataSetAttribute ("mnist", "fashion-mnist"), or "" where it has none.
  const std::string& data_set() const { return data_set_; }

  LabeledImages read_train(const RowSelection& rows) const;
  LabeledImages read_test(const RowSelection& rows) const;

 private:
  LabeledImages read(const char* images, const char* labels, const RowSelection& rows) const;

  std::string path_;
  h5::Id file_;
  size_t train_rows_ = 0;
  size_t test_rows_ = 0;
  std::string data_set_;
};

}  // namespace dptrain
