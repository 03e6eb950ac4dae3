#include "dptrain/ps/ps_plan.hpp"

#include <gtest/gtest.h>

#include "dptrain/core/error.hpp"

namespace dptrain {
namespace {

TEST(PsPlan, RangesAreContiguousBalancedAndCoverEverything) {
  const PsPlan plan(7, 3, 50890);
  EXPECT_EQ(plan.workers, 4);
  ASSERT_EQ(plan.ranges.size(), 3u);
  EXPECT_EQ(plan.ranges[0].begin, 0u);
  for (size_t s = 1; s < 3; ++s)
    EXPECT_EQ(plan.ranges[s].begin, plan.ranges[s - 1].end);
  EXPECT_EQ(plan.ranges[2].end, 50890u);
  for (const ParameterRange& range : plan.ranges) {
    EXPECT_GE(range.size(), 50890u / 3);
    EXPECT_LE(range.size(), 50890u / 3 + 1);
  }
  EXPECT_TRUE(plan.is_server(2));
  EXPECT_FALSE(plan.is_server(3));
  EXPECT_EQ(plan.worker_index(3), 0);
  EXPECT_EQ(plan.world_rank_of_worker(3), 6);
}

TEST(PsPlan, RefusesImpossibleServerCounts) {
  try {
    PsPlan(4, 4, 100);
    FAIL() << "4 servers of 4 ranks accepted";
  } catch (const InputError& error) {
    EXPECT_STREQ(
        error.what(),
        "--ps-servers 4 leaves no worker among 4 ranks; start more ranks or fewer servers");
  }
  EXPECT_THROW(PsPlan(4, 0, 100), InputError);
  EXPECT_THROW(PsPlan(4, -1, 100), InputError);
}

}  // namespace
}  // namespace dptrain
