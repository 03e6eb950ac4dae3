#pragma once

#include <cstddef>
#include <vector>

namespace dptrain {

// `count` blocks of `block` consecutive rows, the first starting at row `start`, each `stride`
// rows after the one before: an HDF5 hyperslab along the first dimension.
struct RowBlocks {
  size_t start = 0;
  size_t stride = 1;
  size_t count = 0;
  size_t block = 0;

  size_t rows() const { return count * block; }
};

// The rows of a data set that one rank holds: the union of disjoint RowBlocks, in increasing row
// order. Row k of the rank's copy is the k-th selected row of the file.
struct RowSelection {
  std::vector<RowBlocks> parts;

  size_t rows() const;
  // The file row of the k-th selected row.
  size_t file_row(size_t k) const;
  // Rows [begin, end) as one part.
  static RowSelection range(size_t begin, size_t end);
};

// Rows [begin, end) of `rows` rows for `rank` of `world`, as even as can be (sizes differ by at
// most one); used for the test set, where order does not matter.
RowSelection even_split(size_t rows, int rank, int world);

}  // namespace dptrain
