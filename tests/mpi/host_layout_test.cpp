// Which host each rank runs on: under mpirun on this machine every rank is on one host; across
// hosts, tests/cluster checks the layouts that rank 0 prints.
#include "dptrain/comm/host_layout.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

namespace dptrain {
namespace {

TEST(HostLayout, EveryRankOfOneMachineIsOnItsHost) {
  const World world(MPI_COMM_WORLD);
  const HostLayout layout(world);
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  ASSERT_EQ(layout.hosts(), 1u);
  EXPECT_EQ(layout.host_of(world.rank()), name);
  EXPECT_EQ(layout.ranks_on(0).size(), static_cast<size_t>(world.size()));
  const std::string ranks = world.size() == 1 ? " rank" : " ranks";
  EXPECT_EQ(layout.describe(), "1 host x " + std::to_string(world.size()) + ranks);
  EXPECT_EQ(layout.name_ranks({0}), std::string(name) + " (rank 0)");
}

TEST(HostLayout, RankRangesCollapseRuns) {
  EXPECT_EQ(rank_ranges({}), "");
  EXPECT_EQ(rank_ranges({3}), "3");
  EXPECT_EQ(rank_ranges({0, 1, 2, 5, 7, 8}), "0-2,5,7-8");
}

}  // namespace
}  // namespace dptrain
