#include "dptrain/core/step_guard.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <limits>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/optim/adam.hpp"

namespace dptrain {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

ew::StepPolicy policy(bool halt) {
  return {AdamOptions{}.hyper(), halt};
}

// The guarded update, step by step, must be Adam's own when every gradient is finite: the same
// constants for the same t, and so the same bits.
TEST(StepGuard, FiniteStepsGiveAdamsOwnUpdateBitForBit) {
  CpuBackend backend(1);
  const AdamOptions options;
  Adam plain(backend, 3, options);
  Adam guarded(backend, 3, options);
  std::vector<float> a{0.5f, -1.0f, 2.0f}, b = a;
  ew::StepGuard guard;
  for (int t = 1; t <= 50; ++t) {
    const float ft = static_cast<float>(t);
    const std::vector<float> g{0.1f * ft, -0.03f, 1e-4f * ft * ft};
    plain.step(a.data(), g.data());
    backend.find_non_finite(g.data(), g.size(), &guard.non_finite_index);
    backend.decide_step(&guard, {options.hyper(), true}, ew::kNoIndex);
    guarded.guarded_step(b.data(), g.data(), &guard);
    ASSERT_EQ(guard.apply, 1u);
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_EQ(std::bit_cast<uint32_t>(a[i]), std::bit_cast<uint32_t>(b[i])) << "t=" << t;
  }
  EXPECT_EQ(guard.adam_steps, 50);
  EXPECT_EQ(guard.steps, 50);
}

TEST(StepGuard, FindsTheFirstNonFiniteIndexAndKeepsTheSmallest) {
  CpuBackend backend(1);
  std::vector<float> g(1000, 1.0f);
  uint64_t first = ew::kNoIndex;
  backend.find_non_finite(g.data(), g.size(), &first);
  EXPECT_EQ(first, ew::kNoIndex);
  g[700] = std::numeric_limits<float>::infinity();
  g[900] = kNaN;
  backend.find_non_finite(g.data(), g.size(), &first);
  EXPECT_EQ(first, 700u);
  first = 5;  // found earlier, in a part before
  backend.find_non_finite(g.data(), g.size(), &first);
  EXPECT_EQ(first, 5u);
}

// --on-nonfinite skip: the bad step changes nothing, Adam's count does not move, and the step
// is counted with its number and where the bad value was.
TEST(StepGuard, SkipLeavesTheStepOutAndCountsIt) {
  ew::StepGuard guard;
  ew::decide_step(guard, policy(false), ew::kNoIndex);
  guard.non_finite_index = 42;
  ew::decide_step(guard, policy(false), ew::kNoIndex);
  EXPECT_EQ(guard.apply, 0u);
  EXPECT_EQ(guard.non_finite_index, ew::kNoIndex) << "cleared for the next step";
  ew::decide_step(guard, policy(false), ew::kNoIndex);
  EXPECT_EQ(guard.apply, 1u) << "skip is for that step only";
  EXPECT_EQ(guard.steps, 3);
  EXPECT_EQ(guard.adam_steps, 2);
  EXPECT_EQ(guard.skipped, 1);
  EXPECT_EQ(guard.latest_skipped_step, 2);
  EXPECT_EQ(guard.latest_skipped_index, 42u);
  EXPECT_EQ(guard.halted_at, 0);
  // The constants are those of Adam's t, not of the step number.
  const ew::AdamStep expected = Adam::constants(AdamOptions{}, 2);
  EXPECT_EQ(guard.constants.step_size, expected.step_size);
  EXPECT_EQ(guard.constants.inv_sqrt_bias2, expected.inv_sqrt_bias2);
}

// --on-nonfinite abort: nothing is applied from the bad step on, so that when the host hears of
// it the parameters are those before it; the first bad step is the one named.
TEST(StepGuard, AbortHaltsEveryLaterUpdateAndKeepsTheFirstBadStep) {
  ew::StepGuard guard;
  ew::decide_step(guard, policy(true), ew::kNoIndex);
  ew::decide_step(guard, policy(true), 7);  // found by the host (--exact)
  guard.non_finite_index = 3;
  ew::decide_step(guard, policy(true), ew::kNoIndex);
  ew::decide_step(guard, policy(true), ew::kNoIndex);
  EXPECT_EQ(guard.apply, 0u);
  EXPECT_EQ(guard.halted_at, 2);
  EXPECT_EQ(guard.halted_index, 7u);
  EXPECT_EQ(guard.adam_steps, 1);
  EXPECT_EQ(guard.steps, 4);
  EXPECT_EQ(guard.skipped, 0);
}

TEST(StepGuard, TheSmallerOfTheDevicesAndTheHostsIndexIsNamed) {
  ew::StepGuard guard;
  guard.non_finite_index = 9;
  ew::decide_step(guard, policy(false), 4);
  EXPECT_EQ(guard.latest_skipped_index, 4u);
  guard.non_finite_index = 2;
  ew::decide_step(guard, policy(false), 4);
  EXPECT_EQ(guard.latest_skipped_index, 2u);
}

}  // namespace
}  // namespace dptrain
