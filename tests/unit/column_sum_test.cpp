#include "dptrain/core/column_sum.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace dptrain {
namespace {

// Small integers add exactly in any order: the device order must then give the exact sums,
// which shows that it takes every row once, whatever the plan.
TEST(ColumnSum, DeviceOrderTakesEveryRowOnce) {
  for (int rows : {1, 7, 8, 32, 255, 256, 257, 2047, 18432})
    for (int cols : {1, 10, 32, 33, 64}) {
      std::vector<float> dy(static_cast<size_t>(rows) * cols);
      for (size_t i = 0; i < dy.size(); ++i)
        dy[i] = static_cast<float>(static_cast<int>(i * 7 % 13) - 6);
      const std::vector<float> got =
          ew::column_sums_in_device_order(dy.data(), rows, cols, 1u << 20);
      for (int j = 0; j < cols; ++j) {
        double exact = 0.0;
        for (int r = 0; r < rows; ++r)
          exact += dy[static_cast<size_t>(r) * cols + j];
        ASSERT_EQ(got[static_cast<size_t>(j)], static_cast<float>(exact))
            << rows << "x" << cols << " column " << j;
      }
    }
}

TEST(ColumnSum, PlanFitsTheScratchAndCoversTheRows) {
  for (int rows : {0, 1, 100, 256, 18432, 1 << 20})
    for (int cols : {1, 32, 1000, 1 << 20}) {
      const ew::ColumnSumPlan plan = ew::column_sum_plan(rows, cols, 1u << 20);
      ASSERT_GE(plan.chunks, 1);
      ASSERT_LE(plan.chunks, ew::kMostColumnChunks);
      ASSERT_GE(static_cast<int64_t>(plan.chunks) * plan.rows_per_chunk, rows);
      ASSERT_LT(static_cast<int64_t>(plan.chunks - 1) * plan.rows_per_chunk, std::max(rows, 1))
          << "no empty run";
      if (plan.chunks > 1) {
        ASSERT_LE(static_cast<size_t>(plan.chunks) * static_cast<size_t>(cols), 1u << 20);
      }
    }
  EXPECT_EQ(ew::column_sum_plan(32, 64, 1u << 20).chunks, 1) << "the MLP's batch: one kernel";
  EXPECT_GT(ew::column_sum_plan(18432, 32, 1u << 20).chunks, 32) << "conv1: many blocks";
}

}  // namespace
}  // namespace dptrain
