// ZeRO-1's halves of the ring allreduce: reduce_scatter leaves each rank the sum of its own
// shard (comm/shards.hpp), allgather gives every rank every shard, and the two send exactly the
// bytes of one allreduce.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "dptrain/comm/mpi_communicator.hpp"
#include "dptrain/comm/ring_allreduce.hpp"
#include "dptrain/comm/shards.hpp"
#include "dptrain/comm/wire_format.hpp"
#include "dptrain/core/random.hpp"
#include "mpi/world_of_tests.hpp"

namespace dptrain {
namespace {

using testing::world_rank;
using testing::world_size;

// One element; a block less, exactly, and a block more; the reference MLP; three blocks and a
// bit. With 4 ranks the small ones leave the last shards empty.
const size_t kCounts[] = {1, 4095, 4096, 4097, 50890, 3 * 4096 + 5};

// Rank `rank`'s share of a sum: values in [-0.5, 0.5), different on every rank, so that every
// rank can compute every other's.
std::vector<float> contribution_of(int rank, size_t count, uint64_t seed) {
  const uint64_t key = random::stream_key(seed, static_cast<uint64_t>(rank));
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i)
    values[i] = random::uniform01(key, i) - 0.5f;
  return values;
}

// What the ring's reduce-scatter computes for element i of `owner`'s shard, in its order: the
// partial sum starts on rank owner + 1 and goes right, each rank adding its own value to what it
// receives, and ends on the owner.
float ring_order_sum(const std::vector<std::vector<float>>& values, size_t i, int owner) {
  const int n = static_cast<int>(values.size());
  float sum = values[static_cast<size_t>((owner + 1) % n)][i];
  for (int k = 2; k <= n; ++k)
    sum = values[static_cast<size_t>((owner + k) % n)][i] + sum;
  return sum;
}

// Elements i of [begin, end) where wrong(i): how many, and the first. Each test checks every
// element and reports once instead of returning at the first wrong one: a rank that left a test
// early would never join the collectives the other ranks go on to, and they would wait for it.
struct Mismatches {
  size_t count = 0;
  size_t first = 0;
};
template <class Wrong>
Mismatches mismatches(size_t begin, size_t end, Wrong&& wrong) {
  Mismatches found;
  for (size_t i = begin; i < end; ++i)
    if (wrong(i) && found.count++ == 0) found.first = i;
  return found;
}

// A buffer of `count` values followed by the padding up to padded_shard_count, which holds a
// marker that the halves must leave alone.
constexpr float kPadding = -12345.0f;
template <class T>
std::vector<T> padded(const std::vector<T>& values, T marker) {
  std::vector<T> buffer(padded_shard_count(values.size(), world_size()), marker);
  std::copy(values.begin(), values.end(), buffer.begin());
  return buffer;
}

template <class T>
void expect_padding_untouched(const std::vector<T>& buffer, size_t count, T marker) {
  const Mismatches m =
      mismatches(count, buffer.size(), [&](size_t i) { return buffer[i] != marker; });
  EXPECT_EQ(m.count, 0u) << "padding elements changed, from " << m.first << ", count " << count;
}

uint64_t sum_over_ranks(uint64_t value) {
  MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  return value;
}

// Float sums: each rank's shard holds, bit for bit, the sum the ring forms in its order, for
// values whose sums round (so that a different order or a different shard shows).
TEST(ReduceScatter, EachRankHoldsTheRingOrderSumOfItsOwnShard) {
  const int rank = world_rank(), n = world_size();
  RingAllreduce ring(MPI_COMM_WORLD);
  for (size_t count : kCounts) {
    std::vector<std::vector<float>> values;
    for (int r = 0; r < n; ++r)
      values.push_back(contribution_of(r, count, 71));
    std::vector<float> buffer = padded(values[static_cast<size_t>(rank)], kPadding);
    ring.reduce_scatter(sum_buffer(buffer.data(), count));
    const ShardRange shard = shard_of(count, n, rank);
    const Mismatches m = mismatches(shard.begin, shard.end(), [&](size_t i) {
      const float expected = ring_order_sum(values, i, rank);
      return std::memcmp(&buffer[i], &expected, sizeof(float)) != 0;
    });
    EXPECT_EQ(m.count, 0u) << "count " << count << ", first at " << m.first;
    expect_padding_untouched(buffer, count, kPadding);
  }
}

// Sums exact in float (small integers): each shard is bitwise what the allreduce gives for the
// same elements, though the allreduce chunks the buffer differently.
TEST(ReduceScatter, ExactFloatSumsEqualTheAllreducesOnEveryShard) {
  const int rank = world_rank(), n = world_size();
  RingAllreduce ring(MPI_COMM_WORLD);
  for (size_t count : kCounts) {
    std::vector<float> values(count);
    for (size_t i = 0; i < count; ++i)
      values[i] = static_cast<float>((rank + 1) * static_cast<int>(i % 89)) - 40.0f;
    std::vector<float> allreduced = values;
    ring.sum(allreduced.data(), count);
    std::vector<float> buffer = padded(values, kPadding);
    ring.reduce_scatter(sum_buffer(buffer.data(), count));
    const ShardRange shard = shard_of(count, n, rank);
    if (shard.count > 0) {
      EXPECT_EQ(std::memcmp(buffer.data() + shard.begin, allreduced.data() + shard.begin,
                            shard.count * sizeof(float)),
                0)
          << "count " << count;
    }
    expect_padding_untouched(buffer, count, kPadding);
  }
}

// --exact's fixed-point sums, with shares near 2^62 / n: exact.
TEST(ReduceScatter, SumsIntegersExactlyUpToTheFixedPointRange) {
  const int rank = world_rank(), n = world_size();
  RingAllreduce ring(MPI_COMM_WORLD);
  const int64_t large = (int64_t{1} << 62) / n;
  const int64_t marker = INT64_MIN;
  for (size_t count : kCounts) {
    std::vector<int64_t> values(count);
    for (size_t i = 0; i < count; ++i)
      values[i] = i % 3 == 0 ? large - static_cast<int64_t>(i) - rank
                             : -(rank + 1) * static_cast<int64_t>(i);
    std::vector<int64_t> buffer = padded(values, marker);
    ring.reduce_scatter(sum_buffer(buffer.data(), count));
    const ShardRange shard = shard_of(count, n, rank);
    auto expected = [&](size_t i) {
      return i % 3 == 0 ? n * (large - static_cast<int64_t>(i)) - n * (n - 1) / 2
                        : -static_cast<int64_t>(i) * n * (n + 1) / 2;
    };
    const Mismatches m =
        mismatches(shard.begin, shard.end(), [&](size_t i) { return buffer[i] != expected(i); });
    EXPECT_EQ(m.count, 0u) << "count " << count << ", first at " << m.first;
    expect_padding_untouched(buffer, count, marker);
  }
}

// Every rank fills only its own shard, with values that differ from rank to rank and that
// bfloat16 cannot hold; afterwards every rank has every rank's shard, bit for bit, and the
// padding is as it was. A ring that narrows float sums still moves the parameters whole.
TEST(Allgather, GivesEveryRankEveryShardUnnarrowed) {
  const int rank = world_rank(), n = world_size();
  for (WireFormat format : {WireFormat::fp32, WireFormat::bf16, WireFormat::fp16}) {
    RingAllreduce ring(MPI_COMM_WORLD, format);
    for (size_t count : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{4097},
                         size_t{50890}, size_t{3 * 4096 + 5}}) {
      auto value = [](int owner, size_t i) {
        return std::ldexp(1.0f + std::ldexp(static_cast<float>(i % 1000 + 1), -20),
                          owner - 3);  // 1 + k 2^-20: 21 significant bits
      };
      std::vector<float> data(padded_shard_count(count, n), kPadding);
      for (size_t i = 0; i < count; ++i)
        data[i] = -1.0f;  // stale values where other ranks' shards go
      const ShardRange own = shard_of(count, n, rank);
      for (size_t i = own.begin; i < own.end(); ++i)
        data[i] = value(rank, i);
      ring.allgather(data.data(), count);
      for (int r = 0; r < n; ++r) {
        const ShardRange shard = shard_of(count, n, r);
        const Mismatches m =
            mismatches(shard.begin, shard.end(), [&](size_t i) { return data[i] != value(r, i); });
        EXPECT_EQ(m.count, 0u) << wire_format_name(format) << " count " << count << " shard " << r
                               << ", first at " << m.first;
      }
      expect_padding_untouched(data, count, kPadding);
    }
  }
}

// The two halves give the allreduce's result, bit for bit, for sums exact in float; and summed
// over ranks each sends (n - 1) * count elements, together what one ring allreduce sends. The
// halves never take recursive doubling, whatever the size, so they are counted against a ring
// that never doubles either.
TEST(ReduceScatterThenAllgather, IsTheAllreduceInResultAndInBytesOnTheWire) {
  const int rank = world_rank(), n = world_size();
  RingAllreduce halves(MPI_COMM_WORLD);  // doubling below kDoublingUpTo, for sum() only
  RingAllreduce ring(MPI_COMM_WORLD);
  ring.set_doubling_up_to(0);
  const uint64_t others = static_cast<uint64_t>(n - 1);
  for (size_t count : {size_t{1}, size_t{4095}, size_t{4097}, size_t{50890}, size_t{100003}}) {
    std::vector<float> values(count);
    for (size_t i = 0; i < count; ++i)
      values[i] = static_cast<float>((rank + 3) * static_cast<int>(i % 101));
    std::vector<float> allreduced = values;
    const uint64_t before_sum = ring.bytes_sent();
    ring.sum(allreduced.data(), count);
    const uint64_t sum_bytes = sum_over_ranks(ring.bytes_sent() - before_sum);

    std::vector<float> buffer = padded(values, kPadding);
    const uint64_t before = halves.bytes_sent();
    halves.reduce_scatter(sum_buffer(buffer.data(), count));
    const uint64_t middle = halves.bytes_sent();
    halves.allgather(buffer.data(), count);
    const uint64_t scatter_bytes = sum_over_ranks(middle - before);
    const uint64_t gather_bytes = sum_over_ranks(halves.bytes_sent() - middle);

    EXPECT_EQ(std::memcmp(buffer.data(), allreduced.data(), count * sizeof(float)), 0)
        << "count " << count;
    expect_padding_untouched(buffer, count, kPadding);
    EXPECT_EQ(scatter_bytes, others * count * sizeof(float)) << "count " << count;
    EXPECT_EQ(gather_bytes, others * count * sizeof(float)) << "count " << count;
    EXPECT_EQ(sum_bytes, 2 * others * count * sizeof(float)) << "count " << count;
    EXPECT_EQ(scatter_bytes + gather_bytes, sum_bytes) << "count " << count;
  }
  // Integer sums: twice the bytes per element.
  for (size_t count : {size_t{3}, size_t{50890}}) {
    std::vector<int64_t> values(count, (int64_t{1} << 50) + rank);
    std::vector<int64_t> allreduced = values;
    const uint64_t before_sum = ring.bytes_sent();
    ring.sum(sum_buffer(allreduced.data(), count));
    const uint64_t sum_bytes = sum_over_ranks(ring.bytes_sent() - before_sum);
    std::vector<int64_t> buffer = padded(values, int64_t{0});
    const uint64_t before = halves.bytes_sent();
    halves.reduce_scatter(sum_buffer(buffer.data(), count));
    const uint64_t scatter_bytes = sum_over_ranks(halves.bytes_sent() - before);
    EXPECT_EQ(scatter_bytes, others * count * sizeof(int64_t)) << "count " << count;
    EXPECT_EQ(2 * scatter_bytes, sum_bytes) << "count " << count;
    const ShardRange shard = shard_of(count, n, rank);
    const Mismatches m =
        mismatches(shard.begin, shard.end(), [&](size_t i) { return buffer[i] != allreduced[i]; });
    EXPECT_EQ(m.count, 0u) << "count " << count << ", first at " << m.first;
  }
}

// bytes_sent counts recursive doubling's messages too: ranks beyond the largest power of two p
// hand their buffer over and get the result back, and the p others swap it log2(p) times.
TEST(RingAllreduce, CountsTheBytesOfRecursiveDoubling) {
  const int n = world_size();
  int p = 1, rounds = 0;
  for (; p * 2 <= n; p *= 2)
    ++rounds;
  RingAllreduce doubling(MPI_COMM_WORLD);
  doubling.set_doubling_up_to(SIZE_MAX);
  const size_t count = 1001;
  std::vector<float> data(count, 1.0f);
  doubling.sum(data.data(), count);
  const uint64_t messages = static_cast<uint64_t>(2 * (n - p) + p * rounds);
  EXPECT_EQ(sum_over_ranks(doubling.bytes_sent()), messages * count * sizeof(float));
  EXPECT_EQ(data[count - 1], static_cast<float>(n));
}

// Narrowed float sums (--exchange-dtype) in the reduce-scatter: every partial sum is sent
// narrowed and added in float, n - 1 narrowings at most per element, within the bound of the
// narrowed allreduce (ring_allreduce_test.cpp, which allows n); its messages are the
// allreduce's first half: (n - 1) narrowed messages of each shard.
TEST(ReduceScatter, NarrowedSumsStayWithinTheirRoundingBoundAndSendNarrowedBytes) {
  const int rank = world_rank(), n = world_size();
  for (WireFormat format : {WireFormat::bf16, WireFormat::fp16}) {
    RingAllreduce ring(MPI_COMM_WORLD, format);
    const WireCodec codec(format);
    for (size_t count : {size_t{1}, size_t{4097}, size_t{50890}}) {
      std::vector<std::vector<float>> values;
      for (int r = 0; r < n; ++r) {
        values.push_back(contribution_of(r, count, 83));
        for (size_t i = 0; i < count; ++i)  // gradient-like magnitudes, down to 2^-30
          values.back()[i] = std::ldexp(values.back()[i], -static_cast<int>(i % 31));
      }
      std::vector<float> buffer = padded(values[static_cast<size_t>(rank)], kPadding);
      std::vector<float> wide = buffer;
      const uint64_t before = ring.bytes_sent();
      ring.reduce_scatter(sum_buffer(buffer.data(), count));
      const uint64_t bytes = sum_over_ranks(ring.bytes_sent() - before);
      RingAllreduce(MPI_COMM_WORLD).reduce_scatter(sum_buffer(wide.data(), count));

      uint64_t expected_bytes = 0;
      for (int r = 0; r < n; ++r)
        expected_bytes +=
            static_cast<uint64_t>(n - 1) * codec.message_bytes(shard_of(count, n, r).count);
      EXPECT_EQ(bytes, expected_bytes) << wire_format_name(format) << " count " << count;

      double largest = 0;  // the sum over ranks of each rank's largest magnitude
      for (const std::vector<float>& v : values) {
        double own_largest = 0;
        for (float x : v)
          own_largest = std::max(own_largest, static_cast<double>(std::fabs(x)));
        largest += own_largest;
      }
      const double u_wire = format == WireFormat::bf16 ? 0x1p-8 : 0x1p-11;
      const double grow = std::pow(1 + u_wire, n);
      const double relative = grow * std::pow(1 + 0x1p-24, n - 1) - 1;
      const double absolute = format == WireFormat::fp16 ? n * grow * 0x1p-39 * largest : 0.0;
      const ShardRange shard = shard_of(count, n, rank);
      const Mismatches beyond_bound = mismatches(shard.begin, shard.end(), [&](size_t i) {
        double exact = 0, magnitude = 0;  // each partial sum of floats is exact in double
        for (const std::vector<float>& v : values) {
          exact += v[i];
          magnitude += std::fabs(v[i]);
        }
        return !(std::fabs(buffer[i] - exact) <= relative * magnitude + absolute);
      });
      EXPECT_EQ(beyond_bound.count, 0u)
          << wire_format_name(format) << " count " << count << ", first at " << beyond_bound.first;
      const Mismatches narrowed =
          mismatches(shard.begin, shard.end(), [&](size_t i) { return buffer[i] != wide[i]; });
      if (n > 1 && shard.count > 100) {
        EXPECT_GT(narrowed.count, 0u) << wire_format_name(format) << " count " << count;
      }
      expect_padding_untouched(buffer, count, kPadding);
    }
  }
}

// The communicator forwards to its ring and counts its bytes; the hierarchical allreduce has no
// halves, and no count.
TEST(MpiCommunicatorHalves, ForwardToTheRingAndRefuseTheHierarchicalAllreduce) {
  const int rank = world_rank(), n = world_size();
  MpiCommunicator flat(MPI_COMM_WORLD);
  const size_t count = 50890;
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i)
    values[i] = static_cast<float>((rank + 1) * static_cast<int>(i % 7));
  std::vector<float> allreduced = values;
  flat.allreduce_sum(allreduced.data(), count);
  std::vector<float> buffer = padded(values, kPadding);
  EXPECT_TRUE(flat.bytes_sent().has_value());
  const uint64_t before = flat.bytes_sent().value_or(0);
  flat.reduce_scatter(sum_buffer(buffer.data(), count));
  flat.allgather(buffer.data(), count);
  EXPECT_EQ(std::memcmp(buffer.data(), allreduced.data(), count * sizeof(float)), 0);
  EXPECT_EQ(sum_over_ranks(flat.bytes_sent().value_or(0) - before),
            2 * static_cast<uint64_t>(n - 1) * count * sizeof(float));

  std::vector<int> hosts(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r)
    hosts[static_cast<size_t>(r)] = r / 2;
  MpiExchangeOptions options;
  options.hierarchical_hosts = hosts;
  MpiCommunicator hierarchical(MPI_COMM_WORLD, options);
  EXPECT_FALSE(hierarchical.bytes_sent().has_value());
  try {
    hierarchical.reduce_scatter(sum_buffer(buffer.data(), count));
    ADD_FAILURE() << "the hierarchical allreduce has no reduce_scatter";
  } catch (const std::invalid_argument& error) {
    EXPECT_EQ(std::string(error.what()), "--shard-optimizer needs --allreduce ring");
  }
  EXPECT_THROW(hierarchical.allgather(buffer.data(), count), std::invalid_argument);
}

}  // namespace
}  // namespace dptrain
