#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/data/h5_data_reader.hpp"

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

// Writes the layout of mnist_format.hpp: uint8 datasets chunked by rows, attributes recording
// the sources, and `data_set` as kDataSetAttribute unless it is empty. The file appears
// atomically: written under a temporary name, flushed, synced, then renamed. An existing file is
// replaced only when `overwrite` is set (else InputError).
void write_mnist_h5(const std::string& path, const LabeledImages& train,
                    const MnistSplitSources& train_sources, const LabeledImages& test,
                    const MnistSplitSources& test_sources, bool overwrite,
                    const std::string& data_set = {});

}  // namespace dptrain
