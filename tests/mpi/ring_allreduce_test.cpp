#include "dptrain/comm/ring_allreduce.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "dptrain/core/random.hpp"

namespace dptrain {
namespace {

TEST(RingAllreduce, SumsExactlyForEveryCountIncludingFewerElementsThanRanks) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  RingAllreduce ring(MPI_COMM_WORLD);
  for (size_t count : {size_t{0}, size_t{1}, size_t{2}, size_t{5}, size_t{1000}, size_t{50890}}) {
    // Small integers: every partial sum is exact in float, whatever the order.
    std::vector<float> data(count);
    for (size_t i = 0; i < count; ++i)
      data[i] = static_cast<float>((rank + 1) * (i % 97));
    ring.sum(data.data(), count);
    const float ranks_sum = static_cast<float>(size * (size + 1) / 2);
    for (size_t i = 0; i < count; ++i)
      ASSERT_EQ(data[i], ranks_sum * static_cast<float>(i % 97)) << "count " << count << " i " << i;
  }
}

TEST(RingAllreduce, EveryRankGetsBitwiseTheSameResult) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  RingAllreduce ring(MPI_COMM_WORLD);
  const size_t count = 12345;
  std::vector<float> data(count);
  const uint64_t key = random::stream_key(17, static_cast<uint64_t>(rank));
  for (size_t i = 0; i < count; ++i)
    data[i] = random::uniform01(key, i) * 2.0f - 0.7f;
  ring.sum(data.data(), count);
  std::vector<float> root = data;
  MPI_Bcast(root.data(), static_cast<int>(count), MPI_FLOAT, 0, MPI_COMM_WORLD);
  EXPECT_EQ(std::memcmp(root.data(), data.data(), count * sizeof(float)), 0);
}

}  // namespace
}  // namespace dptrain
