#pragma once

#include <cstddef>
#include <cstdint>

#include "dptrain/backend/backend.hpp"
#include "dptrain/data/data_shape.hpp"
#include "dptrain/data/h5_data_reader.hpp"

namespace dptrain {

// One rank's rows of a data set on its backend (uint8 images or float features, and int32
// labels), and their gather into the model's input: the one place the trainer and the evaluator
// meet the kind of data a file holds.
class DeviceRows {
 public:
  DeviceRows() = default;
  DeviceRows(Backend& backend, const LabeledRows& rows, const DataShape& shape);

  size_t rows() const { return rows_; }
  // x [rows, row_width] and y [rows] of the rows `indices` (backend memory).
  void gather(const uint32_t* indices, int rows, float* x, int32_t* y) const;
  // Backend::prefetch_rows of the rows `host_indices`.
  void prefetch(const uint32_t* host_indices, int rows) const;

 private:
  Backend* backend_ = nullptr;
  bool features_kind_ = false;  // the shape's kind, not which buffer holds rows (none may)
  int width_ = 0;
  size_t rows_ = 0;
  DeviceArray<uint8_t> images_;
  DeviceArray<float> features_;
  DeviceArray<int32_t> labels_;
};

}  // namespace dptrain
