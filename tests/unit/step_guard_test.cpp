#include "dptrain/core/step_guard.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <limits>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/optim/optimizer.hpp"

namespace dptrain {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

ew::StepPolicy policy(bool halt) {
  ew::StepPolicy policy;
  policy.optimizer = OptimizerOptions{}.hyper();
  policy.schedule.peak = OptimizerOptions{}.lr;
  policy.halt_on_non_finite = halt;
  return policy;
}

// The guarded update, step by step, must be Adam's own when every gradient is finite: the same
// constants for the same t, and so the same bits.
TEST(StepGuard, FiniteStepsGiveAdamsOwnUpdateBitForBit) {
  CpuBackend backend(1);
  const OptimizerOptions options;
  Optimizer plain(backend, 3, options);
  Optimizer guarded(backend, 3, options);
  std::vector<float> a{0.5f, -1.0f, 2.0f}, b = a;
  ew::StepGuard guard;
  for (int t = 1; t <= 50; ++t) {
    const float ft = static_cast<float>(t);
    const std::vector<float> g{0.1f * ft, -0.03f, 1e-4f * ft * ft};
    plain.step(a.data(), g.data(), ew::update_constants(options.hyper(), options.lr, t, 1.0f));
    backend.find_non_finite(g.data(), g.size(), &guard.non_finite_index);
    backend.decide_step(&guard, policy(true), ew::kNoIndex, nullptr);
    guarded.guarded_step(b.data(), g.data(), &guard);
    ASSERT_EQ(guard.apply, 1u);
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_EQ(std::bit_cast<uint32_t>(a[i]), std::bit_cast<uint32_t>(b[i])) << "t=" << t;
  }
  EXPECT_EQ(guard.optimizer_steps, 50);
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
  ew::decide_step(guard, policy(false), ew::kNoIndex, nullptr);
  guard.non_finite_index = 42;
  ew::decide_step(guard, policy(false), ew::kNoIndex, nullptr);
  EXPECT_EQ(guard.apply, 0u);
  EXPECT_EQ(guard.non_finite_index, ew::kNoIndex) << "cleared for the next step";
  ew::decide_step(guard, policy(false), ew::kNoIndex, nullptr);
  EXPECT_EQ(guard.apply, 1u) << "skip is for that step only";
  EXPECT_EQ(guard.steps, 3);
  EXPECT_EQ(guard.optimizer_steps, 2);
  EXPECT_EQ(guard.skipped, 1);
  EXPECT_EQ(guard.latest_skipped_step, 2);
  EXPECT_EQ(guard.latest_skipped_index, 42u);
  EXPECT_EQ(guard.halted_at, 0);
  // The constants are those of Adam's t, not of the step number.
  const OptimizerOptions options;
  const ew::AdamStep expected = ew::update_constants(options.hyper(), options.lr, 2, 1.0f).adam;
  EXPECT_EQ(guard.constants.adam.step_size, expected.step_size);
  EXPECT_EQ(guard.constants.adam.inv_sqrt_bias2, expected.inv_sqrt_bias2);
}

// --on-nonfinite abort: nothing is applied from the bad step on, so that when the host hears of
// it the parameters are those before it; the first bad step is the one named.
TEST(StepGuard, AbortHaltsEveryLaterUpdateAndKeepsTheFirstBadStep) {
  ew::StepGuard guard;
  ew::decide_step(guard, policy(true), ew::kNoIndex, nullptr);
  ew::decide_step(guard, policy(true), 7, nullptr);  // found by the host (--exact)
  guard.non_finite_index = 3;
  ew::decide_step(guard, policy(true), ew::kNoIndex, nullptr);
  ew::decide_step(guard, policy(true), ew::kNoIndex, nullptr);
  EXPECT_EQ(guard.apply, 0u);
  EXPECT_EQ(guard.halted_at, 2);
  EXPECT_EQ(guard.halted_index, 7u);
  EXPECT_EQ(guard.optimizer_steps, 1);
  EXPECT_EQ(guard.steps, 4);
  EXPECT_EQ(guard.skipped, 0);
}

TEST(StepGuard, TheSmallerOfTheDevicesAndTheHostsIndexIsNamed) {
  ew::StepGuard guard;
  guard.non_finite_index = 9;
  ew::decide_step(guard, policy(false), 4, nullptr);
  EXPECT_EQ(guard.latest_skipped_index, 4u);
  guard.non_finite_index = 2;
  ew::decide_step(guard, policy(false), 4, nullptr);
  EXPECT_EQ(guard.latest_skipped_index, 2u);
}

// --clip-norm, against torch.nn.utils.clip_grad_norm_ worked by hand: gradients (3, 4) over two
// blocks' partial sums 9 and 16 have norm 5; with a limit of 1 the factor is 1 / (5 + 1e-6).
TEST(StepGuard, ClippingScalesByTheLimitOverTheGlobalNorm) {
  ew::StepPolicy clip = policy(true);
  clip.clip_norm = 1.0f;
  clip.norm_blocks = 2;
  const std::vector<int64_t> agreement{ew::bits_of_double(9.0), ew::bits_of_double(16.0)};
  ew::StepGuard guard;
  ew::decide_step(guard, clip, ew::kNoIndex, agreement.data());
  EXPECT_EQ(guard.latest_norm, 5.0);
  EXPECT_EQ(guard.constants.grad_scale, static_cast<float>(1.0 / (5.0 + 1e-6)));
  EXPECT_EQ(guard.clipped, 1);
  // A limit above the norm leaves the gradients as they are: a factor of exactly 1.
  clip.clip_norm = 6.0f;
  ew::decide_step(guard, clip, ew::kNoIndex, agreement.data());
  EXPECT_EQ(guard.constants.grad_scale, 1.0f);
  EXPECT_EQ(guard.clipped, 1);
  EXPECT_EQ(guard.norm_steps, 2);
  EXPECT_EQ(guard.norm_sum, 10.0);
}

// The clipped update is the update of the scaled gradient: Adam with factor c on g equals Adam
// on c * g computed by hand, bit for bit (the factor is applied once, in float).
TEST(StepGuard, TheClippingFactorMultipliesEachGradientOnce) {
  CpuBackend backend(1);
  const OptimizerOptions options;
  Optimizer scaled(backend, 2, options), by_hand(backend, 2, options);
  std::vector<float> a{1.0f, -2.0f}, b = a;
  const std::vector<float> g{3.0f, 4.0f};
  const float factor = 0.2f;
  const std::vector<float> g_scaled{g[0] * factor, g[1] * factor};
  scaled.step(a.data(), g.data(), ew::update_constants(options.hyper(), options.lr, 1, factor));
  by_hand.step(b.data(), g_scaled.data(),
               ew::update_constants(options.hyper(), options.lr, 1, 1.0f));
  EXPECT_EQ(a, b);
}

// With sharded gradients every rank's first bad index arrives in its slot; the smallest wins.
TEST(StepGuard, ShardedRanksIndicesAgreeOnTheSmallest) {
  ew::StepPolicy sharded = policy(false);
  sharded.index_slots = 3;
  sharded.slot_stride = 8192;
  // Within their shards: rank 1's element 900 is 9092, rank 2's 100 is 16484; the first in the
  // flat buffer is named, not the smallest within a shard.
  const std::vector<int64_t> slots{static_cast<int64_t>(ew::kNoIndex), 900, 100};
  ew::StepGuard guard;
  ew::decide_step(guard, sharded, ew::kNoIndex, slots.data());
  EXPECT_EQ(guard.apply, 0u);
  EXPECT_EQ(guard.latest_skipped_index, 9092u);
  guard.non_finite_index = 3;  // this rank's own find, already global
  ew::decide_step(guard, sharded, ew::kNoIndex, slots.data());
  EXPECT_EQ(guard.latest_skipped_index, 3u);
}

// The guard's learning rate is the schedule's at the global step, skipped steps included.
TEST(StepGuard, TheLearningRateFollowsTheScheduleByGlobalStep) {
  ew::StepPolicy warm = policy(false);
  warm.optimizer.rule = ew::UpdateRule::sgd;
  warm.schedule.peak = 0.4;
  warm.schedule.warmup_steps = 4;
  ew::StepGuard guard;
  ew::decide_step(guard, warm, ew::kNoIndex, nullptr);
  EXPECT_EQ(guard.constants.sgd.lr, 0.1f);
  guard.non_finite_index = 0;
  ew::decide_step(guard, warm, ew::kNoIndex, nullptr);  // skipped: step 2
  ew::decide_step(guard, warm, ew::kNoIndex, nullptr);
  EXPECT_EQ(guard.constants.sgd.lr, 0.3f);
  EXPECT_EQ(guard.optimizer_steps, 2);
}

}  // namespace
}  // namespace dptrain
