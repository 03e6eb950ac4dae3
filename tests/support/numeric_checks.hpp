#pragma once

// Random inputs and finite differences, for the tests that check arithmetic: the gradient checks
// and the CPU-against-GPU comparisons.

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

}  // namespace dptrain::testing
