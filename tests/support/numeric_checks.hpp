#pragma once

// Random inputs, finite differences and bitwise comparison, for the tests that check arithmetic:
// the gradient checks, the convolution tests and the CPU-against-GPU comparisons.

#include <gtest/gtest.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "dptrain/core/random.hpp"

namespace dptrain::testing {

// n values uniform in [low, high), a pure function of the seed (the values the device tests
// have always drawn).
inline std::vector<float> random_values(size_t n, uint64_t seed, float low = -1.0f,
                                        float high = 1.0f) {
  std::vector<float> values(n);
  const uint64_t key = random::stream_key(seed, 5);
  for (size_t i = 0; i < n; ++i)
    values[i] = low + (high - low) * random::uniform01(key, i);
  return values;
}

// gamma(n) = n u / (1 - n u): the relative bound on n roundings in a sum or dot product (Higham,
// "Accuracy and Stability of Numerical Algorithms", 2nd ed., section 3.1), u = 2^-24 for float
// and 2^-53 for double.
inline double float_gamma(double n) {
  const double u = 0x1p-24;
  return n * u / (1.0 - n * u);
}
inline double double_gamma(double n) {
  const double u = 0x1p-53;
  return n * u / (1.0 - n * u);
}

// The central difference of f() with respect to the float p, which f reads: (f(p + step) -
// f(p - step)) over the distance between the two floats actually tried. p is restored.
template <class F>
double central_difference(float& p, float step, const F& f) {
  const float saved = p;
  const float up_at = saved + step;
  const float down_at = saved - step;
  p = up_at;
  const double up = f();
  p = down_at;
  const double down = f();
  p = saved;
  return (up - down) / (static_cast<double>(up_at) - static_cast<double>(down_at));
}

// Whether two float arrays hold the same bits (so +0 is not -0 and a NaN matches only itself);
// names the first difference.
inline ::testing::AssertionResult same_bits(const std::vector<float>& got,
                                            const std::vector<float>& expected) {
  if (got.size() != expected.size())
    return ::testing::AssertionFailure() << got.size() << " values, expected " << expected.size();
  for (size_t i = 0; i < got.size(); ++i)
    if (std::bit_cast<uint32_t>(got[i]) != std::bit_cast<uint32_t>(expected[i]))
      return ::testing::AssertionFailure()
             << "element " << i << ": " << got[i] << ", expected " << expected[i];
  return ::testing::AssertionSuccess();
}

}  // namespace dptrain::testing
