// Data parallelism must not change the mathematics: N ranks with B rows each must train like one
// rank with N*B rows (same global batches, same averaged gradients, same Adam updates).
#include <gtest/gtest.h>

#include "mpi/data_parallel_checks.hpp"

namespace dptrain {
namespace {

TEST(Equivalence, NRanksMatchOneRankWithTheGlobalBatch) {
  testing::expect_n_ranks_match_one_rank(testing::TestDevice::cpu);
}

}  // namespace
}  // namespace dptrain
