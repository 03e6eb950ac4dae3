#include "dptrain/optim/lr_schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "dptrain/core/error.hpp"
#include "dptrain/train/lr_plan.hpp"

namespace dptrain {
namespace {

// Expected values are the published rules evaluated by hand (the cosine's with the closed forms
// cos(pi/4) = sqrt(2)/2 and cos(pi/2) = 0); the code computes in double, so they agree to the
// last few bits of a double.
constexpr double kTight = 1e-15;

TEST(LrSchedule, ConstantIsThePeakExactly) {
  ew::LrSchedule s;
  s.peak = 1e-3f;  // from a float, as --lr is
  for (int64_t t : {1, 2, 1000})
    EXPECT_EQ(ew::lr_at(s, t), static_cast<double>(1e-3f));
}

// Linear warm-up from 0 (llm.c, DeepSpeed WarmupLR): step t of W has peak * t / W.
TEST(LrSchedule, WarmupRisesLinearlyToThePeak) {
  ew::LrSchedule s;
  s.peak = 0.8;
  s.warmup_steps = 4;
  EXPECT_NEAR(ew::lr_at(s, 1), 0.2, kTight);
  EXPECT_NEAR(ew::lr_at(s, 2), 0.4, kTight);
  EXPECT_NEAR(ew::lr_at(s, 3), 0.6, kTight);
  EXPECT_EQ(ew::lr_at(s, 4), 0.8);
  EXPECT_EQ(ew::lr_at(s, 5), 0.8);
}

// Cosine after the warm-up (Loshchilov & Hutter 2017, no restarts): a quarter of the way
// peak (1 + sqrt(2)/2) / 2, half way peak / 2, at the end and after it 0.
TEST(LrSchedule, CosineDecaysFromThePeakToZero) {
  ew::LrSchedule s;
  s.kind = ew::ScheduleKind::cosine;
  s.peak = 2.0;
  s.warmup_steps = 10;
  s.decay_steps = 100;
  EXPECT_NEAR(ew::lr_at(s, 5), 1.0, kTight);  // still warming up
  EXPECT_EQ(ew::lr_at(s, 10), 2.0);
  EXPECT_NEAR(ew::lr_at(s, 35), 2.0 * (1.0 + std::sqrt(2.0) / 2.0) / 2.0, kTight);
  EXPECT_NEAR(ew::lr_at(s, 60), 1.0, kTight);
  EXPECT_NEAR(ew::lr_at(s, 110), 0.0, kTight);
  EXPECT_NEAR(ew::lr_at(s, 500), 0.0, kTight);
}

// Step decay as MultiStepLR: x gamma after each milestone, also during a warm-up.
TEST(LrSchedule, StepDecaysAfterEachMilestone) {
  ew::LrSchedule s;
  s.kind = ew::ScheduleKind::step;
  s.peak = 1.0;
  s.gamma = 0.5;
  s.milestones = 2;
  s.milestone_steps[0] = 10;
  s.milestone_steps[1] = 20;
  EXPECT_EQ(ew::lr_at(s, 10), 1.0);
  EXPECT_EQ(ew::lr_at(s, 11), 0.5);
  EXPECT_EQ(ew::lr_at(s, 20), 0.5);
  EXPECT_EQ(ew::lr_at(s, 21), 0.25);
}

TrainConfig config_with(LrScaling scaling, int epochs = 5) {
  TrainConfig config;
  config.epochs = epochs;
  config.optimizer.lr = 1e-3f;
  config.lr.scaling = scaling;
  return config;
}

// Goyal et al. 2017: linear scaling multiplies by global batch / base batch; sqrt by its root.
TEST(LrPlan, ScalingFollowsTheGlobalBatch) {
  EXPECT_EQ(lr_scaling_factor(config_with(LrScaling::none).lr, 256), 1.0);
  EXPECT_EQ(lr_scaling_factor(config_with(LrScaling::linear).lr, 256), 8.0);
  EXPECT_EQ(lr_scaling_factor(config_with(LrScaling::sqrt).lr, 128), 2.0);
  EXPECT_EQ(lr_schedule(config_with(LrScaling::linear), 256, 234).peak,
            8.0 * static_cast<double>(1e-3f));
  EXPECT_EQ(lr_schedule(config_with(LrScaling::none), 256, 234).peak, static_cast<double>(1e-3f));
}

TEST(LrPlan, EpochsBecomeStepsRoundedToTheNearest) {
  TrainConfig config = config_with(LrScaling::linear);
  config.lr.kind = ew::ScheduleKind::cosine;
  config.lr.warmup_epochs = 0.5;
  const ew::LrSchedule s = lr_schedule(config, 256, 233);  // 116.5 -> 117 (half away from 0)
  EXPECT_EQ(s.warmup_steps, 117);
  EXPECT_EQ(s.decay_steps, 5 * 233 - 117);  // the rest of the run by default
  config.lr.kind = ew::ScheduleKind::step;
  config.lr.warmup_epochs.reset();
  config.lr.decay_epochs = 2.0;  // decays after epochs 2 and 4, within 5
  const ew::LrSchedule step = lr_schedule(config, 256, 100);
  ASSERT_EQ(step.milestones, 2);
  EXPECT_EQ(step.milestone_steps[0], 200);
  EXPECT_EQ(step.milestone_steps[1], 400);
  EXPECT_EQ(step.gamma, 0.1);
}

TEST(LrPlan, AWarmupLongerThanTheRunIsRefused) {
  TrainConfig config = config_with(LrScaling::none, 2);
  config.lr.warmup_steps = 201;
  EXPECT_THROW(lr_schedule(config, 32, 100), InputError);
  config.lr.warmup_steps = 200;
  EXPECT_NO_THROW(lr_schedule(config, 32, 100));
}

TEST(LrPlan, TheDescriptionNamesScalingWarmupAndEachEpochsRates) {
  TrainConfig config = config_with(LrScaling::linear, 2);
  config.lr.warmup_epochs = 1.0;
  const ew::LrSchedule s = lr_schedule(config, 256, 10);
  const std::string text = describe_lr_schedule(config, s, 256, 10);
  EXPECT_NE(text.find("linear scaling, global batch 256 / 32) = 0.008"), std::string::npos) << text;
  EXPECT_NE(text.find("warm-up from 0 over 10 steps"), std::string::npos) << text;
  EXPECT_NE(text.find("1: 0.0008..0.008; 2: 0.008..0.008"), std::string::npos) << text;
}

}  // namespace
}  // namespace dptrain
