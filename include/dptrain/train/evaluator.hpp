#pragma once

#include <cstdint>
#include <vector>

#include "dptrain/backend/backend.hpp"
#include "dptrain/comm/world.hpp"
#include "dptrain/data/h5_data_reader.hpp"
#include "dptrain/model/model.hpp"
#include "dptrain/train/device_rows.hpp"

namespace dptrain {

struct Evaluation {
  double loss = 0.0;      // mean over the test set
  double accuracy = 0.0;  // correct / rows
  int64_t correct = 0;
  int64_t rows = 0;
  int classes = 0;
  std::vector<int64_t> confusion;  // [label * classes + prediction], summed over the ranks
};

// Scores a model on the test set, sharded: each rank of `world` holds a contiguous part of the
// test rows on the backend, and the counts are summed, so the result covers every test row once.
class Evaluator {
 public:
  // Reads this rank's part of the test set, rows of `shape` (whose classes bound the labels).
  // `model` must take batches of `batch_rows` such rows.
  Evaluator(Backend& backend, const World& world, const H5DataReader& reader,
            const DataShape& shape, Model& model, int batch_rows);

  // Collective over the world.
  Evaluation evaluate(const float* params);
  size_t rows_here() const { return rows_; }

 private:
  Backend& backend_;
  const World& world_;
  Model& model_;
  int batch_rows_;
  int classes_;
  size_t rows_;
  DeviceRows data_;
  DeviceArray<uint32_t> order_;  // 0, 1, ...: the rows in file order
  DeviceArray<float> x_;
  DeviceArray<int32_t> y_;
  DeviceArray<double> loss_sum_;
  DeviceArray<int64_t> confusion_;
};

}  // namespace dptrain
