#include "dptrain/core/random.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace dptrain::random {
namespace {

TEST(Random, StreamsAreReproducibleAndDistinct) {
  EXPECT_EQ(bits(stream_key(1, 2, 3), 10), bits(stream_key(1, 2, 3), 10));
  EXPECT_NE(bits(stream_key(1, 2, 3), 10), bits(stream_key(1, 2, 4), 10));
  EXPECT_NE(bits(stream_key(1, 2, 3), 10), bits(stream_key(1, 2, 3), 11));
  EXPECT_NE(stream_key(1, 2), stream_key(2, 1));
}

TEST(Random, UniformStaysInTheUnitInterval) {
  double sum = 0.0;
  for (uint64_t i = 0; i < 100000; ++i) {
    const float u = uniform01(5, i);
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += u;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.005);
}

TEST(Random, BelowIsInRangeAndEven) {
  std::vector<int> counts(7, 0);
  uint64_t counter = 0;
  for (int i = 0; i < 70000; ++i)
    ++counts[below(9, counter, 7)];
  for (int count : counts)
    EXPECT_NEAR(count, 10000, 400);  // ~4 standard deviations
  EXPECT_GE(counter, 70000u);
  uint64_t one = 0;
  EXPECT_EQ(below(1, one, 1), 0u);
}

}  // namespace
}  // namespace dptrain::random
