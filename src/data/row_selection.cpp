#include "dptrain/data/row_selection.hpp"

#include <stdexcept>

namespace dptrain {

size_t RowSelection::rows() const {
  size_t total = 0;
  for (const RowBlocks& part : parts)
    total += part.rows();
  return total;
}

size_t RowSelection::file_row(size_t k) const {
  for (const RowBlocks& part : parts) {
    if (k < part.rows()) return part.start + (k / part.block) * part.stride + k % part.block;
    k -= part.rows();
  }
  throw std::out_of_range("row outside the selection");
}

RowSelection RowSelection::range(size_t begin, size_t end) {
  RowSelection selection;
  if (end > begin) selection.parts.push_back({begin, end - begin, 1, end - begin});
  return selection;
}

RowSelection even_split(size_t rows, int rank, int world) {
  const size_t r = static_cast<size_t>(rank);
  const size_t n = static_cast<size_t>(world);
  return RowSelection::range(rows * r / n, rows * (r + 1) / n);
}

}  // namespace dptrain
