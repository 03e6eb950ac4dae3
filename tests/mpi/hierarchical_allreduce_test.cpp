#include "dptrain/comm/hierarchical_allreduce.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "dptrain/core/random.hpp"
#include "mpi/world_of_tests.hpp"

namespace dptrain {
namespace {

using testing::world_rank;
using testing::world_size;

// Host layouts for the ranks of this run, as if they ran on several hosts: pairs (0-1, 2-3, ...),
// uneven (all but the last rank on one host), interleaved (even ranks on one, odd on another),
// and every rank a host of its own.
std::vector<std::vector<int>> layouts() {
  const int n = world_size();
  std::vector<int> pairs, uneven, interleaved, alone;
  for (int r = 0; r < n; ++r) {
    pairs.push_back(r / 2);
    uneven.push_back(r + 1 < n ? 0 : (n > 1 ? 1 : 0));
    interleaved.push_back(r % 2);
    alone.push_back(r);
  }
  return {pairs, uneven, interleaved, alone};
}

std::vector<float> contribution(size_t count, uint64_t seed) {
  const uint64_t key = random::stream_key(seed, static_cast<uint64_t>(world_rank()));
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i)
    values[i] = random::uniform01(key, i) - 0.5f;
  return values;
}

void expect_same_on_every_rank(const void* data, size_t bytes, const char* what) {
  std::vector<char> root(static_cast<const char*>(data), static_cast<const char*>(data) + bytes);
  MPI_Bcast(root.data(), static_cast<int>(bytes), MPI_BYTE, 0, MPI_COMM_WORLD);
  EXPECT_EQ(std::memcmp(root.data(), data, bytes), 0) << what;
}

TEST(HierarchicalAllreduce, SumsExactlyInEveryHostLayout) {
  const int n = world_size();
  for (const std::vector<int>& hosts : layouts()) {
    HierarchicalAllreduce allreduce(MPI_COMM_WORLD, hosts);
    for (size_t count : {size_t{0}, size_t{1}, size_t{3}, size_t{4097}}) {
      std::vector<float> data(count);  // small integers: exact in any order
      for (size_t i = 0; i < count; ++i)
        data[i] = static_cast<float>((world_rank() + 1) * (i % 89));
      allreduce.sum(sum_buffer(data.data(), count));
      for (size_t i = 0; i < count; ++i)
        ASSERT_EQ(data[i], static_cast<float>(n * (n + 1) / 2 * (i % 89))) << count << " " << i;
    }
  }
}

// Float sums associate by host, but every rank gets the same bits, in every wire format.
TEST(HierarchicalAllreduce, EveryRankGetsBitwiseTheSameFloatSum) {
  for (const std::vector<int>& hosts : layouts()) {
    for (WireFormat format : {WireFormat::fp32, WireFormat::bf16, WireFormat::fp16}) {
      HierarchicalAllreduce allreduce(MPI_COMM_WORLD, hosts, format);
      std::vector<float> data = contribution(10007, 53);
      allreduce.sum(sum_buffer(data.data(), data.size()));
      expect_same_on_every_rank(data.data(), data.size() * sizeof(float), wire_format_name(format));
    }
  }
}

// --exact's integer sums: the flat ring's bits, whatever the layout.
TEST(HierarchicalAllreduce, IntegerSumsAreTheFlatRingsBits) {
  for (const std::vector<int>& hosts : layouts()) {
    HierarchicalAllreduce allreduce(MPI_COMM_WORLD, hosts);
    std::vector<int64_t> data(3001);
    for (size_t i = 0; i < data.size(); ++i)
      data[i] = (int64_t{1} << 50) / (world_rank() + 1) - static_cast<int64_t>(i * 7919);
    std::vector<int64_t> flat = data;
    RingAllreduce(MPI_COMM_WORLD).sum(sum_buffer(flat.data(), flat.size()));
    allreduce.sum(sum_buffer(data.data(), data.size()));
    EXPECT_EQ(std::memcmp(data.data(), flat.data(), data.size() * sizeof(int64_t)), 0);
  }
}

TEST(HierarchicalAllreduce, MaximaAreTheLargestOfAnyRank) {
  for (const std::vector<int>& hosts : layouts()) {
    HierarchicalAllreduce allreduce(MPI_COMM_WORLD, hosts);
    std::vector<float> data = contribution(513, 59);
    std::vector<float> expected = data;
    MPI_Allreduce(MPI_IN_PLACE, expected.data(), static_cast<int>(expected.size()), MPI_FLOAT,
                  MPI_MAX, MPI_COMM_WORLD);
    allreduce.max(data.data(), data.size());
    EXPECT_EQ(std::memcmp(data.data(), expected.data(), data.size() * sizeof(float)), 0);
  }
}

}  // namespace
}  // namespace dptrain
