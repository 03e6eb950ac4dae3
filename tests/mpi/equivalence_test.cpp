// Data parallelism must not change the mathematics: N ranks with B rows each must train like one
// rank with N*B rows (same global batches, same averaged gradients, same Adam updates).
#include <gtest/gtest.h>

#include "mpi/data_parallel_checks.hpp"

namespace dptrain {
namespace {

TEST(Equivalence, NRanksMatchOneRankWithTheGlobalBatch) {
  testing::expect_n_ranks_match_one_rank(testing::TestDevice::cpu);
}

// Convolutions, pooling and their gradients split over ranks like the MLP's: the same sums.
TEST(Equivalence, NRanksMatchOneRankWithTheCnn) {
  testing::expect_n_ranks_match_one_rank(testing::TestDevice::cpu, 0, ModelKind::cnn);
}

// 1 KiB buckets: about a hundred allreduces per step, started during backward.
TEST(Equivalence, NRanksWithGradientBucketsMatchOneRank) {
  testing::expect_n_ranks_match_one_rank(testing::TestDevice::cpu, /*bucket_kb=*/1);
}

}  // namespace
}  // namespace dptrain
