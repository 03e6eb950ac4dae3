// --exact's fixed-point sums: the element conversions, the agreed scales, and GradientSum on the
// CPU backend, whose integer sums must not depend on how micro-batches are grouped or ordered.
#include "dptrain/core/fixed_point.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/train/fixed_point_scales.hpp"
#include "dptrain/train/gradient_sum.hpp"
#include "support/numeric_checks.hpp"

namespace dptrain {
namespace {

using testing::random_values;
using testing::same_bits;

TEST(FixedPointElements, RoundToNearestWithTiesToEven) {
  EXPECT_EQ(ew::to_fixed_point(1.5f, 1.0), 2);
  EXPECT_EQ(ew::to_fixed_point(2.5f, 1.0), 2);
  EXPECT_EQ(ew::to_fixed_point(-2.5f, 1.0), -2);
  EXPECT_EQ(ew::to_fixed_point(0.75f, 4.0), 3);
  EXPECT_EQ(ew::to_fixed_point(-0.3f, 0x1p40), std::llrint(static_cast<double>(-0.3f) * 0x1p40));
  // A float times a power of two is exact in double: no rounding before the one to integer.
  const float g = 0x1.fffffep-3f;
  EXPECT_EQ(ew::to_fixed_point(g, 0x1p60), static_cast<int64_t>(0x1.fffffep57));
}

TEST(FixedPointElements, OutOfRangeAndNaNBecomeZeroNeverUndefined) {
  EXPECT_EQ(ew::to_fixed_point(2.0f, 0x1p61), int64_t{1} << 62);  // the limit itself fits
  EXPECT_EQ(ew::to_fixed_point(-2.0f, 0x1p61), -(int64_t{1} << 62));
  EXPECT_EQ(ew::to_fixed_point(2.0000002f, 0x1p61), 0);
  EXPECT_EQ(ew::to_fixed_point(-4.0f, 0x1p61), 0);
  EXPECT_EQ(ew::to_fixed_point(std::numeric_limits<float>::infinity(), 1.0), 0);
  EXPECT_EQ(ew::to_fixed_point(std::numeric_limits<float>::quiet_NaN(), 1.0), 0);
}

TEST(FixedPointElements, BackToFloatRoundsOnce) {
  EXPECT_EQ(ew::from_fixed_point(3, 0.25), 0.75f);
  EXPECT_EQ(ew::from_fixed_point(-(int64_t{1} << 40), 0x1p-40), -1.0f);
  // 2^24 + 1 is no float: to nearest, ties to even.
  EXPECT_EQ(ew::from_fixed_point((int64_t{1} << 24) + 1, 1.0), 16777216.0f);
  EXPECT_EQ(ew::from_fixed_point((int64_t{1} << 24) + 3, 1.0), 16777220.0f);
}

TEST(FixedPointElements, MagnitudeBitsOrderLikeTheMagnitudesAndCountNaNAsInfinite) {
  EXPECT_EQ(ew::float_of_bits(ew::magnitude_bits(-2.0f)), 2.0f);
  EXPECT_LT(ew::magnitude_bits(0.5f), ew::magnitude_bits(-0.75f));
  EXPECT_LT(ew::magnitude_bits(0x1p-149f), ew::magnitude_bits(0x1p-126f));
  EXPECT_EQ(ew::magnitude_bits(-0.0f), 0u);
  const float infinity = std::numeric_limits<float>::infinity();
  EXPECT_EQ(ew::float_of_bits(ew::magnitude_bits(std::numeric_limits<float>::quiet_NaN())),
            infinity);
  EXPECT_EQ(ew::float_of_bits(ew::magnitude_bits(-infinity)), infinity);
}

// The conversions avoid int64 instructions (so that AVX2 vectorises them): they must still be
// llrint and a cast, bit for bit, over every kind of float, scale and integer.
TEST(FixedPointElements, ConversionsAreLlrintAndACastBitForBit) {
  uint64_t state = 12345;
  const auto next = [&state] {  // splitmix64
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (int round = 0; round < 200; ++round) {
    const double scale = std::ldexp(1.0, static_cast<int>(next() % 240) - 120);
    for (int i = 0; i < 5000; ++i) {
      float g = ew::float_of_bits(static_cast<uint32_t>(next()));  // any float, NaNs included
      if (i % 3 == 0)  // halves and quarters near the scale: ties to round
        g = std::ldexp(static_cast<float>(static_cast<int>(next() % 4001) - 2000) * 0.25f,
                       static_cast<int>(next() % 50) - 25);
      const double scaled = static_cast<double>(g) * scale;
      const int64_t expected = std::abs(scaled) <= 0x1p62 ? std::llrint(scaled) : 0;
      ASSERT_EQ(ew::to_fixed_point(g, scale), expected) << std::hexfloat << g << " * " << scale;
      const int64_t q = static_cast<int64_t>(next()) >> (next() % 64);
      const float back = static_cast<float>(static_cast<double>(q) * (1.0 / scale));
      ASSERT_EQ(ew::magnitude_bits(ew::from_fixed_point(q, 1.0 / scale)), ew::magnitude_bits(back))
          << q << " / " << scale;
      ASSERT_EQ(std::signbit(ew::from_fixed_point(q, 1.0 / scale)), std::signbit(back)) << q;
    }
  }
}

ParameterLayout two_tensors() {
  ParameterLayout layout;
  layout.add("a/weight", {3, 5});
  layout.add("a/bias", {3});
  return layout;
}

TEST(FixedPointScales, ExponentAboveIsTheSmallestPowerOfTwoNotBelow) {
  EXPECT_EQ(FixedPointScales::exponent_above(1.0f), 0);
  EXPECT_EQ(FixedPointScales::exponent_above(1.0001f), 1);
  EXPECT_EQ(FixedPointScales::exponent_above(0.5f), -1);
  EXPECT_EQ(FixedPointScales::exponent_above(0.3f), -1);
  EXPECT_EQ(FixedPointScales::exponent_above(0x1p-140f), -140);
  EXPECT_EQ(FixedPointScales::exponent_above(std::numeric_limits<float>::max()), 128);
}

TEST(FixedPointScales, MicroBatchBitsAreTheCeilingOfLog2) {
  const ParameterLayout layout = two_tensors();
  const int expected[] = {0, 0, 1, 2, 2, 3, 3, 3, 3, 4};
  for (size_t m = 1; m < std::size(expected); ++m)
    EXPECT_EQ(FixedPointScales(layout, m).micro_batch_bits(), expected[m]) << m;
}

// The claim everything rests on: M values within 2^e, each scaled and rounded, sum to no more
// than 2^62 in magnitude, so no partial sum of an int64 accumulation can overflow.
TEST(FixedPointScales, TheLargestAllowedValuesOfEveryMicroBatchSumWithinTwoToThe62) {
  const ParameterLayout layout = two_tensors();
  for (size_t m : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{64}, size_t{1000}}) {
    FixedPointScales scales(layout, m);
    scales.set_exponents({-3, 5});
    for (size_t t = 0; t < 2; ++t) {
      const float largest = std::ldexp(1.0f, scales.exponents()[t]);
      const int64_t q = ew::to_fixed_point(-largest, scales.to_fixed(t));
      EXPECT_NE(q, 0);
      EXPECT_LE(static_cast<double>(m) * std::abs(static_cast<double>(q)), 0x1p62) << m;
      EXPECT_EQ(scales.to_fixed(t) * scales.to_float(t), 1.0);
    }
  }
}

TEST(FixedPointScales, JudgesFitsRescalesAndNonFiniteGradients) {
  FixedPointScales scales(two_tensors(), 4);
  scales.set_exponents({0, -2});
  EXPECT_EQ(scales.judge(std::vector<float>{1.0f, 0.25f}).verdict, FixedPointScales::Verdict::fits);
  const FixedPointScales::Judgement outgrown = scales.judge(std::vector<float>{0.5f, 0.26f});
  EXPECT_EQ(outgrown.verdict, FixedPointScales::Verdict::rescale);
  EXPECT_EQ(outgrown.tensor, 1u);
  const FixedPointScales::Judgement nan =
      scales.judge(std::vector<float>{0.5f, std::numeric_limits<float>::infinity()});
  EXPECT_EQ(nan.verdict, FixedPointScales::Verdict::non_finite);
  EXPECT_EQ(nan.tensor, 1u);
}

TEST(FixedPointScales, AdoptsTheMaximumsExponentWithHeadroomAndKeepsZeroTensors) {
  FixedPointScales scales(two_tensors(), 2);
  scales.set_exponents({7, 7});
  scales.adopt(std::vector<float>{0.3f, 0.0f});
  EXPECT_EQ(scales.exponents(), (std::vector<int32_t>{-1 + FixedPointScales::kHeadroomBits, 7}));
  // Growth up to the headroom fits; beyond it does not.
  const float grown = 0.3f * std::ldexp(1.0f, FixedPointScales::kHeadroomBits);
  EXPECT_EQ(
      scales
          .judge(std::vector<float>{0.5f * std::ldexp(1.0f, FixedPointScales::kHeadroomBits), 0.0f})
          .verdict,
      FixedPointScales::Verdict::fits);
  EXPECT_EQ(scales.judge(std::vector<float>{2.0f * grown, 0.0f}).verdict,
            FixedPointScales::Verdict::rescale);
  EXPECT_THROW(scales.set_exponents({1, 2, 3}), InputError);
}

// The micro-batch gradients that a GradientSum test folds in.
struct MicroBatches {
  ParameterLayout layout = two_tensors();
  std::vector<std::vector<float>> gradients;
};

MicroBatches micro_batches(size_t count) {
  MicroBatches batches;
  for (size_t j = 0; j < count; ++j)
    batches.gradients.push_back(random_values(batches.layout.total(), 100 + j, -0.3f, 0.3f));
  return batches;
}

// Folds micro-batches `order` into a GradientSum of `per_step` micro-batches per global batch,
// the last one range by range through the listener (as backward reports), and returns the
// integer local sum.
std::vector<int64_t> exact_local_sum(GradientSum& sum, const MicroBatches& batches,
                                     const std::vector<size_t>& order) {
  sum.begin_step();
  for (size_t j = 0; j < order.size(); ++j) {
    const std::vector<float>& g = batches.gradients[order[j]];
    std::copy(g.begin(), g.end(), sum.gradients_of(j));
    GradientsReady* ready = sum.listener(j, nullptr);
    if (ready != nullptr)
      for (size_t offset : {size_t{16}, size_t{15}, size_t{7}, size_t{0}})
        ready->ready_from(offset);
    sum.end_micro_batch(j);
  }
  const SumBuffer local = sum.local_sum();
  EXPECT_EQ(local.type, SumType::i64);
  const int64_t* data = static_cast<const int64_t*>(local.data);
  return {data, data + local.count};
}

TEST(GradientSum, ExactSumsDoNotDependOnGroupingOrOrderOfTheMicroBatches) {
  CpuBackend cpu(1);
  const MicroBatches batches = micro_batches(6);
  // One rank with all six, in two orders; three "ranks" of two, summed afterwards.
  GradientSum six(cpu, batches.layout, 6, 6, true);
  const std::vector<int64_t> forward = exact_local_sum(six, batches, {0, 1, 2, 3, 4, 5});
  const std::vector<int64_t> backward = exact_local_sum(six, batches, {5, 3, 1, 4, 2, 0});
  EXPECT_EQ(forward, backward);
  GradientSum pair(cpu, batches.layout, 2, 6, true);
  std::vector<int64_t> ranks(batches.layout.total(), 0);
  for (size_t r : {2u, 0u, 1u}) {
    const std::vector<int64_t> local = exact_local_sum(pair, batches, {2 * r, 2 * r + 1});
    for (size_t i = 0; i < ranks.size(); ++i)
      ranks[i] += local[i];
  }
  EXPECT_EQ(ranks, forward);
  // And the integers are the rounded micro-batch gradients, summed.
  for (size_t i = 0; i < forward.size(); ++i) {
    const size_t t = i < 15 ? 0 : 1;
    int64_t expected = 0;
    for (const std::vector<float>& g : batches.gradients)
      expected += ew::to_fixed_point(g[i], six.scales().to_fixed(t));
    ASSERT_EQ(forward[i], expected) << i;
  }
}

TEST(GradientSum, SettleTakesEachTensorsLargestMagnitudeConvertsAndAdoptsScales) {
  CpuBackend cpu(1);
  const MicroBatches batches = micro_batches(3);
  GradientSum sum(cpu, batches.layout, 3, 3, true);
  exact_local_sum(sum, batches, {0, 1, 2});
  std::vector<float> largest(2, 0.0f);
  for (const std::vector<float>& g : batches.gradients)
    for (size_t i = 0; i < g.size(); ++i)
      largest[i < 15 ? 0 : 1] = std::max(largest[i < 15 ? 0 : 1], std::abs(g[i]));
  std::vector<float> maxima(sum.local_maxima(), sum.local_maxima() + 2);
  EXPECT_TRUE(same_bits(maxima, largest));
  std::copy(maxima.begin(), maxima.end(), sum.host_maxima().begin());
  const std::vector<double> to_float = {sum.scales().to_float(0), sum.scales().to_float(1)};
  const SumBuffer local = sum.local_sum();
  const std::vector<int64_t> integers(static_cast<const int64_t*>(local.data),
                                      static_cast<const int64_t*>(local.data) + local.count);
  EXPECT_EQ(sum.settle().verdict, FixedPointScales::Verdict::fits);
  for (size_t i = 0; i < integers.size(); ++i)
    ASSERT_EQ(sum.gradients()[i], ew::from_fixed_point(integers[i], to_float[i < 15 ? 0 : 1]));
  for (size_t t = 0; t < 2; ++t)
    EXPECT_EQ(sum.scales().exponents()[t],
              FixedPointScales::exponent_above(largest[t]) + FixedPointScales::kHeadroomBits);
}

// Without --exact: micro-batch 0 is written in place and the others are added in order.
TEST(GradientSum, FloatSumsAddTheMicroBatchesInOrder) {
  CpuBackend cpu(1);
  const MicroBatches batches = micro_batches(3);
  GradientSum sum(cpu, batches.layout, 3, 3, false);
  sum.begin_step();
  for (size_t j = 0; j < 3; ++j) {
    std::copy(batches.gradients[j].begin(), batches.gradients[j].end(), sum.gradients_of(j));
    GradientsReady* ready = sum.listener(j, nullptr);
    if (ready != nullptr) ready->ready_from(9);
    sum.end_micro_batch(j);
  }
  EXPECT_EQ(sum.local_sum().type, SumType::f32);
  EXPECT_EQ(sum.local_sum().data, sum.gradients());
  for (size_t i = 0; i < batches.layout.total(); ++i) {
    const float expected =
        (batches.gradients[0][i] + batches.gradients[1][i]) + batches.gradients[2][i];
    ASSERT_EQ(sum.gradients()[i], expected) << i;
  }
}

}  // namespace
}  // namespace dptrain
