#pragma once

// The element arithmetic of --exact's fixed-point gradient sums (README, "Reproducibility"),
// written once for both backends. A gradient element g of a tensor with agreed scale 2^k becomes
// the integer round(g * 2^k); the integers of every micro-batch of the global batch are summed,
// exactly and so in any order; the sum becomes a float again as sum * 2^-k. Every operation
// below is exact or correctly rounded in IEEE-754 (a float times a power of two in double is
// exact; the roundings are to nearest, ties to even), so the CPU and CUDA give the same bits.

#include <cmath>
#include <cstdint>

#include "dptrain/core/host_device.hpp"

namespace dptrain::ew {

// The magnitude a scaled element may have: with M micro-batches per global batch, scales keep
// every |g * 2^k| within 2^(kFixedPointBits - ceil(log2 M)), so that any sum of M of them stays
// within 2^kFixedPointBits < 2^63 (FixedPointScales).
inline constexpr int kFixedPointBits = 62;

// round(g * scale) for a power-of-two scale. Values out of range (a scale the step's gradients
// outgrew, which the ranks detect from their maxima and answer by recomputing the step with a
// larger scale) and NaNs become 0, so that the conversion is never undefined.
DPTRAIN_HD int64_t to_fixed_point(float g, double scale) {
  const double scaled = static_cast<double>(g) * scale;
  const double limit = 4611686018427387904.0;  // 2^62
  return (scaled <= limit && scaled >= -limit) ? llrint(scaled) : 0;
}

// The sum of fixed-point values as a float: rounded to double (exact below 2^53), scaled by the
// power of two 1/scale (exact), rounded to float.
DPTRAIN_HD float from_fixed_point(int64_t q, double inverse_scale) {
  return static_cast<float>(static_cast<double>(q) * inverse_scale);
}

// |g| for the largest-magnitude collective that agrees on the scales; a NaN counts as infinite,
// so that a non-finite gradient anywhere shows in the maximum.
DPTRAIN_HD float magnitude_for_max(float g) {
  const float a = fabsf(g);
  return a <= 3.40282347e+38f ? a : INFINITY;
}

}  // namespace dptrain::ew
