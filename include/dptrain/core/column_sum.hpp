#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dptrain/core/host_device.hpp"

// The order in which the CUDA backend sums the columns of a row-major [rows, cols] matrix (bias
// gradients), fixed by the shape alone so that every run adds the same floats in the same order:
//   - the rows are cut into `chunks` runs of `rows_per_chunk` (the last may be shorter);
//   - in a run, lane l of kColumnLanes sums the rows l, l + kColumnLanes, ... in order;
//   - the lanes are combined as a tree: lane l += lane l + h, for h = kColumnLanes/2, ..., 1;
//   - the runs' sums are added in order, from 0.
// With one chunk the tree's result is the column sum. column_sums_in_device_order() is that
// order on the host, for the tests that compare the GPU against it bit for bit.
namespace dptrain::ew {

inline constexpr int kColumnLanes = 8;
inline constexpr int kColumnTile = 32;      // columns per block: a warp reads 32 in a row
inline constexpr int kRowsPerLaneRun = 32;  // rows per lane and run, about
inline constexpr int kMostColumnChunks = 1024;

struct ColumnSumPlan {
  int chunks;
  int rows_per_chunk;
};

// `partials` floats of scratch hold chunks * cols partial sums.
DPTRAIN_HD ColumnSumPlan column_sum_plan(int rows, int cols, size_t partials) {
  const int wanted = (rows + kColumnLanes * kRowsPerLaneRun - 1) / (kColumnLanes * kRowsPerLaneRun);
  const size_t fit = partials / static_cast<size_t>(cols > 0 ? cols : 1);
  int chunks = wanted < kMostColumnChunks ? wanted : kMostColumnChunks;
  if (static_cast<size_t>(chunks) > fit) chunks = static_cast<int>(fit);
  if (chunks < 1) chunks = 1;
  const int rows_per_chunk = (rows + chunks - 1) / chunks;
  // Equal runs may leave the last ones empty: count only those that hold rows.
  chunks = rows_per_chunk == 0 ? 1 : (rows + rows_per_chunk - 1) / rows_per_chunk;
  return {chunks, rows_per_chunk};
}

// Lane `lane`'s sum of column `col` over the rows [begin, end).
DPTRAIN_HD float column_lane_sum(const float* dy, int cols, int col, int begin, int end, int lane) {
  float sum = 0.0f;
  for (int r = begin + lane; r < end; r += kColumnLanes)
    sum += dy[static_cast<size_t>(r) * cols + col];
  return sum;
}

inline std::vector<float> column_sums_in_device_order(const float* dy, int rows, int cols,
                                                      size_t partials) {
  const ColumnSumPlan plan = column_sum_plan(rows, cols, partials);
  std::vector<float> sums(static_cast<size_t>(cols));
  for (int col = 0; col < cols; ++col) {
    float total = 0.0f;
    for (int chunk = 0; chunk < plan.chunks; ++chunk) {
      const int begin = chunk * plan.rows_per_chunk;
      const int end = begin + plan.rows_per_chunk < rows ? begin + plan.rows_per_chunk : rows;
      float lanes[kColumnLanes];
      for (int lane = 0; lane < kColumnLanes; ++lane)
        lanes[lane] = column_lane_sum(dy, cols, col, begin, end, lane);
      for (int half = kColumnLanes / 2; half > 0; half /= 2)
        for (int lane = 0; lane < half; ++lane)
          lanes[lane] += lanes[lane + half];
      total = plan.chunks == 1 ? lanes[0] : total + lanes[0];
    }
    sums[static_cast<size_t>(col)] = total;
  }
  return sums;
}

}  // namespace dptrain::ew
