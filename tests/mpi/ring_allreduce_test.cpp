#include "dptrain/comm/ring_allreduce.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <thread>
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

// This rank's share of a sum: values in [-0.5, 0.5) that differ from rank to rank.
std::vector<float> contribution(size_t count, uint64_t seed) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const uint64_t key = random::stream_key(seed, static_cast<uint64_t>(rank));
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i)
    values[i] = random::uniform01(key, i) - 0.5f;
  return values;
}

TEST(RingAllreduce, EveryRankGetsBitwiseTheSameResult) {
  RingAllreduce ring(MPI_COMM_WORLD);
  const size_t count = 12345;
  std::vector<float> data = contribution(count, 17);
  ring.sum(data.data(), count);
  std::vector<float> root = data;
  MPI_Bcast(root.data(), static_cast<int>(count), MPI_FLOAT, 0, MPI_COMM_WORLD);
  EXPECT_EQ(std::memcmp(root.data(), data.data(), count * sizeof(float)), 0);
}

// Started sums of several slices, advanced by progress() between them, finish in order and give
// what one sum of each slice would.
TEST(RingAllreduce, StartedSumsMatchOneSumEachWhateverTheProgressCalls) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  RingAllreduce ring(MPI_COMM_WORLD);
  const size_t count = 10007;
  std::vector<float> started = contribution(count, 23);
  std::vector<float> one_by_one = started;
  const size_t cuts[] = {0, 1, 3, 2000, 2001, 7000, count};  // slices of 1, 2, 1997, 1, ...
  for (size_t s = 0; s + 1 < std::size(cuts); ++s)
    ring.sum(one_by_one.data() + cuts[s], cuts[s + 1] - cuts[s]);
  ring.reserve(count * sizeof(float), std::size(cuts));
  for (size_t s = std::size(cuts) - 1; s-- > 0;) {  // last slice first, as backward gives them
    ring.start(sum_buffer(started.data() + cuts[s], cuts[s + 1] - cuts[s]));
    if (s % 2 == 0) ring.progress();
  }
  ring.wait();
  EXPECT_TRUE(ring.progress());  // nothing left
  // Slices summed on their own are summed in the same ring order either way.
  EXPECT_EQ(std::memcmp(started.data(), one_by_one.data(), count * sizeof(float)), 0);
  // And they are sums: rank r's slice values, added over ranks, differ from rank r's own.
  if (size > 1) {
    const std::vector<float> own = contribution(count, 23);
    EXPECT_NE(std::memcmp(started.data(), own.data(), count * sizeof(float)), 0);
  }
}

// --exact's fixed-point sums: int64, exact whatever the order, up to values near 2^62.
TEST(RingAllreduce, SumsIntegersExactlyUpToTheFixedPointRange) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  RingAllreduce ring(MPI_COMM_WORLD);
  const int64_t large = (int64_t{1} << 62) / size;  // the largest share whose sum still fits
  for (size_t count : {size_t{0}, size_t{1}, size_t{3}, size_t{1000}, size_t{20001}}) {
    std::vector<int64_t> data(count);
    for (size_t i = 0; i < count; ++i)
      data[i] =
          i % 3 == 0 ? large - static_cast<int64_t>(i) : -(rank + 1) * static_cast<int64_t>(i);
    ring.sum(sum_buffer(data.data(), count));
    for (size_t i = 0; i < count; ++i) {
      const int64_t expected = i % 3 == 0 ? size * (large - static_cast<int64_t>(i))
                                          : -static_cast<int64_t>(i) * size * (size + 1) / 2;
      ASSERT_EQ(data[i], expected) << "count " << count << " i " << i;
    }
  }
}

TEST(RingAllreduce, MaximaAreTheLargestValueOfAnyRankOnEveryRank) {
  RingAllreduce ring(MPI_COMM_WORLD);
  for (size_t count : {size_t{1}, size_t{2}, size_t{8}, size_t{3001}}) {
    std::vector<float> data = contribution(count, 31);
    std::vector<float> expected = data;
    MPI_Allreduce(MPI_IN_PLACE, expected.data(), static_cast<int>(count), MPI_FLOAT, MPI_MAX,
                  MPI_COMM_WORLD);
    ring.max(data.data(), count);
    EXPECT_EQ(std::memcmp(data.data(), expected.data(), count * sizeof(float)), 0) << count;
  }
}

// Started float and integer sums share the queue, in the order started.
TEST(RingAllreduce, FloatAndIntegerSumsStartedTogetherEachSumRight) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  RingAllreduce ring(MPI_COMM_WORLD);
  std::vector<float> floats(777, static_cast<float>(rank + 1));
  std::vector<int64_t> integers(555, int64_t{1} << 40);
  ring.reserve(integers.size() * sizeof(int64_t), 2);
  ring.start(sum_buffer(integers.data(), integers.size()));
  ring.start(sum_buffer(floats.data(), floats.size()));
  ring.wait();
  for (float f : floats)
    ASSERT_EQ(f, static_cast<float>(size * (size + 1) / 2));
  for (int64_t i : integers)
    ASSERT_EQ(i, size * (int64_t{1} << 40));
}

}  // namespace
}  // namespace dptrain

namespace dptrain {
namespace {

// Narrowed float sums (--exchange-dtype). Each element of the result is the float sum of the n
// ranks' values with at most n narrowings (the n - 1 partial sums sent in the reduce-scatter
// and the finished sum sent in the allgather), each of relative error u_w (2^-8 for bf16,
// 2^-11 for half) and, for half, absolute error at most 2^-39 of the largest magnitude of its
// message (wire_format.hpp), which is at most M = the sum over ranks of each rank's largest
// magnitude; and n - 1 float additions of relative error 2^-24. By the usual induction over
// the partial sums, |result - exact| <= ((1 + u_w)^n (1 + 2^-24)^(n-1) - 1) sum_r |g_r|
// + n (1 + u_w)^n 2^-39 M (the last term for half only).
TEST(RingAllreduce, NarrowedSumsAreIdenticalOnEveryRankAndWithinTheirRoundingBound) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  for (WireFormat format : {WireFormat::bf16, WireFormat::fp16}) {
    RingAllreduce ring(MPI_COMM_WORLD, format);
    for (size_t count : {size_t{1}, size_t{3}, size_t{1000}, size_t{12345}}) {
      // Gradient-like magnitudes: down to 2^-30, below half's smallest normal.
      std::vector<float> data = contribution(count, 41);
      for (size_t i = 0; i < count; ++i)
        data[i] = std::ldexp(data[i], -static_cast<int>(i % 31));
      const std::vector<float> own = data;
      std::vector<double> exact(count), magnitudes(count);
      for (size_t i = 0; i < count; ++i) {
        exact[i] = own[i];
        magnitudes[i] = std::fabs(own[i]);
      }
      double largest = 0;
      for (float v : own)
        largest = std::max(largest, static_cast<double>(std::fabs(v)));
      MPI_Allreduce(MPI_IN_PLACE, exact.data(), static_cast<int>(count), MPI_DOUBLE, MPI_SUM,
                    MPI_COMM_WORLD);  // each partial sum of floats is exact in double
      MPI_Allreduce(MPI_IN_PLACE, magnitudes.data(), static_cast<int>(count), MPI_DOUBLE, MPI_SUM,
                    MPI_COMM_WORLD);
      MPI_Allreduce(MPI_IN_PLACE, &largest, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
      ring.sum(data.data(), count);

      const double u_wire = format == WireFormat::bf16 ? 0x1p-8 : 0x1p-11;
      const double grow = std::pow(1 + u_wire, size);
      const double relative = grow * std::pow(1 + 0x1p-24, size - 1) - 1;
      const double absolute = format == WireFormat::fp16 ? size * grow * 0x1p-39 * largest : 0.0;
      for (size_t i = 0; i < count; ++i)
        ASSERT_LE(std::fabs(data[i] - exact[i]), relative * magnitudes[i] + absolute)
            << wire_format_name(format) << " count " << count << " i " << i;
      std::vector<float> root = data;
      MPI_Bcast(root.data(), static_cast<int>(count), MPI_FLOAT, 0, MPI_COMM_WORLD);
      ASSERT_EQ(std::memcmp(root.data(), data.data(), count * sizeof(float)), 0)
          << wire_format_name(format) << " count " << count;
      if (size > 1) {  // narrowed: not the float ring's result, or nothing was narrowed
        std::vector<float> wide = own;
        RingAllreduce(MPI_COMM_WORLD).sum(wide.data(), count);
        if (count > 100) {
          EXPECT_NE(std::memcmp(wide.data(), data.data(), count * sizeof(float)), 0);
        }
      }
    }
  }
}

// Started narrowed sums, as the bucketed exchange runs them, give what one sum of each gives.
TEST(RingAllreduce, StartedNarrowedSumsMatchOneSumEach) {
  RingAllreduce ring(MPI_COMM_WORLD, WireFormat::bf16);
  const size_t count = 5003;
  std::vector<float> started = contribution(count, 43);
  std::vector<float> one_by_one = started;
  const size_t cuts[] = {0, 2, 1000, 1001, count};
  for (size_t s = 0; s + 1 < std::size(cuts); ++s)
    ring.sum(one_by_one.data() + cuts[s], cuts[s + 1] - cuts[s]);
  ring.reserve(count * sizeof(float), std::size(cuts));
  for (size_t s = std::size(cuts) - 1; s-- > 0;) {
    ring.start(sum_buffer(started.data() + cuts[s], cuts[s + 1] - cuts[s]));
    ring.progress();
  }
  ring.wait();
  EXPECT_EQ(std::memcmp(started.data(), one_by_one.data(), count * sizeof(float)), 0);
}

}  // namespace
}  // namespace dptrain

namespace dptrain {
namespace {

// With a progress thread, started sums finish while the caller makes no MPI call at all, and
// give what the caller's own progress gives, bit for bit, in every wire format.
TEST(RingAllreduce, AProgressThreadFinishesStartedSumsWhileTheCallerComputes) {
  const size_t count = 20011;
  const size_t cuts[] = {0, 5, 6000, 6001, count};
  for (WireFormat format : {WireFormat::fp32, WireFormat::bf16, WireFormat::fp16}) {
    std::vector<float> by_caller = contribution(count, 47);
    std::vector<float> by_thread = by_caller;
    RingAllreduce caller(MPI_COMM_WORLD, format);
    for (size_t s = 0; s + 1 < std::size(cuts); ++s)
      caller.sum(by_caller.data() + cuts[s], cuts[s + 1] - cuts[s]);

    RingAllreduce ring(MPI_COMM_WORLD, format);
    ASSERT_TRUE(ring.progress_in_background()) << "MPI without MPI_THREAD_SERIALIZED";
    ring.reserve(count * sizeof(float), std::size(cuts));
    for (size_t s = std::size(cuts) - 1; s-- > 0;)
      ring.start(sum_buffer(by_thread.data() + cuts[s], cuts[s + 1] - cuts[s]));
    // No MPI call here: only the thread can move the messages (progress() makes none then).
    const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!ring.progress() && std::chrono::steady_clock::now() < limit)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_TRUE(ring.progress()) << "the thread did not finish the sums within 20 s";
    ring.wait();
    EXPECT_EQ(std::memcmp(by_thread.data(), by_caller.data(), count * sizeof(float)), 0)
        << wire_format_name(format);
  }
}

}  // namespace
}  // namespace dptrain

namespace dptrain {
namespace {

// Recursive doubling (small buffers) and the ring (large ones): exact sums, maxima and integer
// sums either way, the same bits on every rank, and for 2 ranks the same bits as each other
// (both compute a + b).
TEST(RingAllreduce, RecursiveDoublingAndTheRingBothSumRightOnEveryRank) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  RingAllreduce doubling(MPI_COMM_WORLD), ring(MPI_COMM_WORLD);
  doubling.set_doubling_up_to(SIZE_MAX);
  ring.set_doubling_up_to(0);
  for (size_t count : {size_t{1}, size_t{7}, size_t{4096}, size_t{30001}}) {
    std::vector<float> exact(count);
    for (size_t i = 0; i < count; ++i)
      exact[i] = static_cast<float>((rank + 1) * (i % 53));
    std::vector<int64_t> integers(count, (int64_t{1} << 58) + rank);
    doubling.sum(exact.data(), count);
    doubling.sum(sum_buffer(integers.data(), count));
    for (size_t i = 0; i < count; ++i) {
      ASSERT_EQ(exact[i], static_cast<float>(size * (size + 1) / 2 * (i % 53))) << i;
      ASSERT_EQ(integers[i], size * (int64_t{1} << 58) + size * (size - 1) / 2) << i;
    }
    std::vector<float> by_doubling = contribution(count, 61);
    std::vector<float> by_ring = by_doubling;
    std::vector<float> largest = by_doubling;
    std::vector<float> expected_largest = by_doubling;
    doubling.sum(by_doubling.data(), count);
    ring.sum(by_ring.data(), count);
    doubling.max(largest.data(), count);
    MPI_Allreduce(MPI_IN_PLACE, expected_largest.data(), static_cast<int>(count), MPI_FLOAT,
                  MPI_MAX, MPI_COMM_WORLD);
    EXPECT_EQ(std::memcmp(largest.data(), expected_largest.data(), count * sizeof(float)), 0);
    std::vector<float> root = by_doubling;
    MPI_Bcast(root.data(), static_cast<int>(count), MPI_FLOAT, 0, MPI_COMM_WORLD);
    ASSERT_EQ(std::memcmp(root.data(), by_doubling.data(), count * sizeof(float)), 0) << count;
    if (size <= 2) {
      EXPECT_EQ(std::memcmp(by_ring.data(), by_doubling.data(), count * sizeof(float)), 0);
    }
  }
}

}  // namespace
}  // namespace dptrain

namespace dptrain {
namespace {

// The scratch that messages in flight are received into may not move: a larger sum started
// while another is in flight, without room reserved for it, is refused instead.
TEST(RingAllreduce, ALargerSumStartedWhileOthersAreInFlightNeedsReservedRoom) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size == 1) GTEST_SKIP() << "one rank sends nothing";
  RingAllreduce ring(MPI_COMM_WORLD);
  std::vector<float> small(100, 1.0f), large(100000, 1.0f);
  ring.start(sum_buffer(small.data(), small.size()));
  EXPECT_THROW(ring.start(sum_buffer(large.data(), large.size())), std::logic_error);
  ring.wait();
  EXPECT_EQ(small[0], static_cast<float>(size));
  ring.reserve(large.size() * sizeof(float), 2);  // with room made, both may be in flight
  ring.start(sum_buffer(small.data(), small.size()));
  ring.start(sum_buffer(large.data(), large.size()));
  ring.wait();
  EXPECT_EQ(large[99999], static_cast<float>(size));
}

}  // namespace
}  // namespace dptrain
