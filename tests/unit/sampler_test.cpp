#include "dptrain/data/sampler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "dptrain/core/error.hpp"

namespace dptrain {
namespace {

// The file rows of every global batch of an epoch, in rank order: batch[k] lists rank 0's local
// batch, then rank 1's, ...
std::vector<std::vector<size_t>> global_batches(size_t rows, int local_batch, int world,
                                                uint64_t seed, uint64_t epoch) {
  std::vector<std::vector<size_t>> batches;
  for (int rank = 0; rank < world; ++rank) {
    ShardedSampler sampler(rows, local_batch, rank, world, seed);
    std::vector<uint32_t> order(sampler.steps_per_epoch() * sampler.local_batch());
    sampler.epoch_order(epoch, order);
    batches.resize(sampler.steps_per_epoch());
    for (size_t k = 0; k < batches.size(); ++k)
      for (int c = 0; c < local_batch; ++c)
        batches[k].push_back(sampler.shard().file_row(order[k * local_batch + c]));
  }
  return batches;
}

class SamplerCases : public ::testing::TestWithParam<std::tuple<size_t, int, int>> {};

TEST_P(SamplerCases, ShardsAreDisjointAndCoverTheFile) {
  const auto [rows, local_batch, world] = GetParam();
  std::vector<int> owner(rows, -1);
  size_t largest = 0;
  size_t smallest = rows;
  for (int rank = 0; rank < world; ++rank) {
    const ShardedSampler sampler(rows, local_batch, rank, world, 0);
    const RowSelection& shard = sampler.shard();
    for (size_t k = 0; k < shard.rows(); ++k) {
      const size_t row = shard.file_row(k);
      ASSERT_LT(row, rows);
      ASSERT_EQ(owner[row], -1) << "row " << row << " held by ranks " << owner[row] << " and "
                                << rank;
      owner[row] = rank;
      if (k > 0) {
        ASSERT_GT(row, shard.file_row(k - 1)) << "shard rows must be in file order";
      }
    }
    largest = std::max(largest, shard.rows());
    smallest = std::min(smallest, shard.rows());
  }
  EXPECT_EQ(std::count(owner.begin(), owner.end(), -1), 0);
  EXPECT_LE(largest - smallest, static_cast<size_t>(local_batch));  // about rows / world each
}

TEST_P(SamplerCases, EveryEpochUsesEachRowAtMostOnceAndAllButTheRemainder) {
  const auto [rows, local_batch, world] = GetParam();
  const size_t global = static_cast<size_t>(local_batch) * world;
  std::set<size_t> dropped_before;
  for (uint64_t epoch = 1; epoch <= 3; ++epoch) {
    std::set<size_t> used;
    for (const auto& batch : global_batches(rows, local_batch, world, 11, epoch)) {
      ASSERT_EQ(batch.size(), global);
      for (size_t row : batch)
        ASSERT_TRUE(used.insert(row).second) << "row " << row << " twice";
    }
    EXPECT_EQ(used.size(), rows / global * global);
    std::set<size_t> dropped;
    for (size_t row = 0; row < rows; ++row)
      if (!used.count(row)) dropped.insert(row);
    EXPECT_EQ(dropped.size(), rows % global);
    if (rows % global > 1 && epoch > 1) {
      EXPECT_NE(dropped, dropped_before) << "epoch " << epoch;
    }
    dropped_before = dropped;
  }
}

// The property behind the N-rank equivalence: the global batches depend on the global batch
// size only, not on how it is split among ranks.
TEST_P(SamplerCases, GlobalBatchesAreTheSameAsOneRankWithTheGlobalBatch) {
  const auto [rows, local_batch, world] = GetParam();
  for (uint64_t epoch : {1, 2, 7}) {
    EXPECT_EQ(global_batches(rows, local_batch, world, 3, epoch),
              global_batches(rows, local_batch * world, 1, 3, epoch))
        << "epoch " << epoch;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SamplerCases,
    ::testing::Values(std::make_tuple(size_t{1000}, 32, 1), std::make_tuple(size_t{1000}, 32, 2),
                      std::make_tuple(size_t{1000}, 7, 3), std::make_tuple(size_t{997}, 5, 4),
                      std::make_tuple(size_t{64}, 16, 4), std::make_tuple(size_t{130}, 1, 2)));

TEST(Sampler, SameSeedSameOrderOtherSeedOrEpochOtherOrder) {
  const auto batches = [](uint64_t seed, uint64_t epoch) {
    return global_batches(6000, 32, 2, seed, epoch);
  };
  EXPECT_EQ(batches(5, 1), batches(5, 1));
  EXPECT_NE(batches(5, 1), batches(6, 1));
  EXPECT_NE(batches(5, 1), batches(5, 2));
}

// Not only the order of the batches changes between epochs: the batches are made anew.
TEST(Sampler, BatchesAreComposedAnewEachEpoch) {
  const auto as_sets = [](const std::vector<std::vector<size_t>>& batches) {
    std::set<std::set<size_t>> sets;
    for (const auto& batch : batches)
      sets.insert(std::set<size_t>(batch.begin(), batch.end()));
    return sets;
  };
  const auto first = as_sets(global_batches(6000, 16, 2, 1, 1));
  const auto second = as_sets(global_batches(6000, 16, 2, 1, 2));
  size_t repeated = 0;
  for (const auto& batch : first)
    repeated += second.count(batch);
  EXPECT_EQ(repeated, 0u);
}

TEST(Sampler, LocalOrderIndexesTheShard) {
  ShardedSampler sampler(100, 8, 1, 3, 0);
  EXPECT_EQ(sampler.global_batch(), 24u);
  EXPECT_EQ(sampler.steps_per_epoch(), 4u);
  EXPECT_EQ(sampler.dropped_per_epoch(), 4u);
  // Rank 1 holds columns 8..15: rows 8..15, 32..39, 56..63, 80..87; the last line (rows 96..99)
  // holds columns 0..3 only, which are rank 0's.
  EXPECT_EQ(sampler.shard().rows(), 32u);
  EXPECT_EQ(sampler.shard().file_row(0), 8u);
  EXPECT_EQ(sampler.shard().file_row(8), 32u);
  EXPECT_EQ(ShardedSampler(100, 8, 0, 3, 0).shard().rows(), 36u);
  std::vector<uint32_t> order(32);
  sampler.epoch_order(1, order);
  for (uint32_t index : order)
    EXPECT_LT(index, 32u);
  EXPECT_THROW(sampler.epoch_order(1, std::span<uint32_t>(order.data(), 31)),
               std::invalid_argument);
}

TEST(Sampler, RejectsATrainingSetSmallerThanOneGlobalBatch) {
  try {
    ShardedSampler(100, 32, 0, 4, 0);
    FAIL() << "accepted 100 rows for a global batch of 128";
  } catch (const InputError& error) {
    EXPECT_STREQ(error.what(),
                 "the training set has 100 rows, fewer than one global batch (4 ranks x 32 = 128)");
  }
  EXPECT_THROW(ShardedSampler(100, 0, 0, 1, 0), InputError);
  EXPECT_NO_THROW(ShardedSampler(128, 32, 3, 4, 0));
}

}  // namespace
}  // namespace dptrain
