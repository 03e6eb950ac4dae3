#include "dptrain/core/backoff.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace dptrain {
namespace {

using std::chrono::microseconds;

TEST(Backoff, SpinsFirstThenSleepsLongerUpToItsBound) {
  Backoff backoff;
  for (uint32_t i = 0; i < Backoff::kSpins; ++i)
    ASSERT_EQ(backoff.next(), microseconds{0}) << "poll " << i;
  microseconds expected{1};
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(backoff.next(), expected) << "sleep " << i;
    expected = std::min(expected * 2, Backoff::kLongestSleep);
  }
  EXPECT_EQ(backoff.next(), Backoff::kLongestSleep);
}

// The point of backing off: a wait of a second polls a few thousand times, not millions.
TEST(Backoff, AWaitOfOneSecondPollsAFewThousandTimes) {
  Backoff backoff;
  microseconds slept{0};
  int polls = 0;
  while (slept < std::chrono::seconds(1)) {
    slept += backoff.next();
    ++polls;
  }
  EXPECT_LT(polls, 1000000 / Backoff::kLongestSleep.count() + 100);
}

}  // namespace
}  // namespace dptrain
