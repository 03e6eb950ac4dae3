#include "dptrain/comm/shards.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "dptrain/comm/communicator.hpp"

namespace dptrain {
namespace {

// Every split of these counts among 1 to 9 ranks: the shards tile [0, count) in rank order,
// without gaps or overlap; each begins on a multiple of kShardAlignment; each but the last
// non-empty one is a whole stride; and the stride is the smallest aligned one that covers count.
TEST(Shards, TileTheBufferInRankOrderOnAlignedBoundaries) {
  for (size_t count : {size_t{0}, size_t{1}, size_t{2}, size_t{4095}, size_t{4096}, size_t{4097},
                       size_t{3 * 4096 + 5}, size_t{50890}, size_t{1000000}, size_t{9 * 4096}}) {
    for (int ranks = 1; ranks <= 9; ++ranks) {
      const size_t stride = shard_stride(count, ranks);
      const size_t per_rank = (count + ranks - 1) / ranks;
      EXPECT_EQ(stride % kShardAlignment, 0u);
      EXPECT_GE(stride, per_rank);
      EXPECT_LT(stride, per_rank + kShardAlignment) << "not the smallest aligned stride";
      EXPECT_EQ(padded_shard_count(count, ranks), stride * static_cast<size_t>(ranks));
      size_t next = 0;
      for (int r = 0; r < ranks; ++r) {
        const ShardRange shard = shard_of(count, ranks, r);
        EXPECT_EQ(shard.begin, next) << "count " << count << " ranks " << ranks << " rank " << r;
        EXPECT_EQ(shard.end(), shard.begin + shard.count);
        EXPECT_LE(shard.count, stride);
        if (shard.count > 0) {
          EXPECT_EQ(shard.begin % kShardAlignment, 0u);
        }
        // Only where the buffer ends may a shard be short.
        if (shard.end() < count) {
          EXPECT_EQ(shard.count, stride);
        }
        next = shard.end();
      }
      EXPECT_EQ(next, count) << "count " << count << " ranks " << ranks;
    }
  }
}

// The reference MLP's 50,890 parameters among 4 ranks: strides of 4 blocks.
TEST(Shards, SplitTheReferenceModelInWholeBlocks) {
  EXPECT_EQ(shard_stride(50890, 4), 16384u);
  EXPECT_EQ(padded_shard_count(50890, 4), 65536u);
  EXPECT_EQ(shard_of(50890, 4, 0).begin, 0u);
  EXPECT_EQ(shard_of(50890, 4, 1).begin, 16384u);
  EXPECT_EQ(shard_of(50890, 4, 2).begin, 32768u);
  EXPECT_EQ(shard_of(50890, 4, 3).begin, 49152u);
  EXPECT_EQ(shard_of(50890, 4, 3).count, 50890u - 49152u);
  EXPECT_EQ(shard_stride(50890, 1), 53248u);  // 13 blocks
  EXPECT_EQ(shard_of(50890, 1, 0).count, 50890u);
}

// Fewer elements than ranks * kShardAlignment: the first shards take them all, the later ones
// are empty, at the end of the buffer.
TEST(Shards, SmallBuffersLeaveTheLastShardsEmpty) {
  EXPECT_EQ(shard_stride(5000, 4), 4096u);
  EXPECT_EQ(shard_of(5000, 4, 0).count, 4096u);
  EXPECT_EQ(shard_of(5000, 4, 1).begin, 4096u);
  EXPECT_EQ(shard_of(5000, 4, 1).count, 904u);
  for (int r : {2, 3}) {
    EXPECT_EQ(shard_of(5000, 4, r).begin, 5000u);
    EXPECT_EQ(shard_of(5000, 4, r).count, 0u);
  }
  EXPECT_EQ(shard_stride(1, 3), 4096u);
  EXPECT_EQ(shard_of(1, 3, 0).count, 1u);
  EXPECT_EQ(shard_of(1, 3, 1).begin, 1u);
  EXPECT_EQ(shard_of(1, 3, 2).count, 0u);
  EXPECT_EQ(padded_shard_count(1, 3), 3u * 4096u);
}

TEST(Shards, AnEmptyBufferHasEmptyShardsAndNeedsNoPadding) {
  for (int ranks : {1, 2, 5}) {
    EXPECT_EQ(shard_stride(0, ranks), 0u);
    EXPECT_EQ(padded_shard_count(0, ranks), 0u);
    for (int r = 0; r < ranks; ++r) {
      EXPECT_EQ(shard_of(0, ranks, r).begin, 0u);
      EXPECT_EQ(shard_of(0, ranks, r).count, 0u);
    }
  }
}

TEST(Shards, RanksOutsideTheSplitAreRefused) {
  EXPECT_THROW(shard_stride(10, 0), std::invalid_argument);
  EXPECT_THROW(shard_of(10, 2, 2), std::out_of_range);
  EXPECT_THROW(shard_of(10, 2, -1), std::out_of_range);
}

// A communicator that has not implemented the halves says so, by name, instead of summing
// something else; and it counts no bytes.
class WithoutHalves final : public Communicator {
 public:
  std::string name() const override { return "test communicator"; }
  int rank() const override { return 0; }
  int size() const override { return 2; }
  void allreduce(SumBuffer) override {}
  void allreduce_max(float*, size_t) override {}
  void broadcast(float*, size_t, int) override {}
};

TEST(Communicator, WithoutHalvesRefusesThemByName) {
  WithoutHalves communicator;
  float data[1] = {1.0f};
  try {
    communicator.reduce_scatter(sum_buffer(data, 1));
    ADD_FAILURE() << "no reduce_scatter to run";
  } catch (const std::logic_error& error) {
    EXPECT_NE(std::string(error.what()).find("test communicator"), std::string::npos);
  }
  EXPECT_THROW(communicator.allgather(data, 1), std::logic_error);
  EXPECT_FALSE(communicator.bytes_sent().has_value());
}

}  // namespace
}  // namespace dptrain
