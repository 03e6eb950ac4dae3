#pragma once

// The element arithmetic of --exact's fixed-point gradient sums (README, "Reproducibility"),
// written once for both backends. A gradient element g of a tensor with agreed scale 2^k becomes
// the integer round(g * 2^k); the integers of every micro-batch of the global batch are summed,
// exactly and so in any order; the sum becomes a float again as sum * 2^-k. Every operation
// below is exact or correctly rounded in IEEE-754 (a float times a power of two in double is
// exact; the roundings are to nearest, ties to even), so the CPU and CUDA give the same bits.
//
// The conversions between double and int64 go through the bits of doubles near 1.5 * 2^52
// (whose last 52 bits are an integer's) instead of a conversion instruction: x86 has none for
// packed int64 before AVX-512, so this is what lets the CPU loops run 4 elements at a time on
// AVX2. The results are those of llrint and of an int64-to-double cast, bit for bit (tested).
// Every product below is by a power of two, hence exact, so fusing it into an FMA (as nvcc may)
// changes nothing.

#include <cmath>
#include <cstdint>

#include "dptrain/core/float_bits.hpp"

namespace dptrain::ew {

// The magnitude a scaled element may have: with M micro-batches per global batch, scales keep
// every |g * 2^k| within 2^(kFixedPointBits - ceil(log2 M)), so that any sum of M of them stays
// within 2^kFixedPointBits < 2^63 (FixedPointScales).
inline constexpr int kFixedPointBits = 62;

// 1.5 * 2^52: adding it to a double of magnitude below 2^51 rounds that to an integer (to
// nearest, ties to even) held in the sum's low bits.
inline constexpr double kIntegerMagic = 6755399441055744.0;

// round(g * scale) for a power-of-two scale. Values out of range (a scale the step's gradients
// outgrew, which the ranks detect from their maxima and answer by recomputing the step with a
// larger scale) and NaNs become 0, so that the conversion is never undefined.
DPTRAIN_HD int64_t to_fixed_point(float g, double scale) {
  const double scaled = static_cast<double>(g) * scale;
  const uint64_t keep = 0 - static_cast<uint64_t>(fabs(scaled) <= 4611686018427387904.0);  // 2^62
  const double t = double_of(bits_of(scaled) & keep);
  // t = high * 2^32 + low with high = round(t / 2^32), |low| <= 2^31 exact; both below 2^51.
  const double shifted = t * 0x1p-32 + kIntegerMagic;
  const double high = shifted - kIntegerMagic;
  const double low = t - high * 0x1p32;
  const uint64_t high_integer = bits_of(shifted) - bits_of(kIntegerMagic);
  const uint64_t low_integer = bits_of(low + kIntegerMagic) - bits_of(kIntegerMagic);
  return static_cast<int64_t>((high_integer << 32) + low_integer);
}

// The sum of fixed-point values as a float: q as a double (rounded once: exact below 2^53),
// scaled by the power of two 1/scale (exact), rounded to float.
DPTRAIN_HD float from_fixed_point(int64_t q, double inverse_scale) {
  // q = high * 2^32 + low, high signed and low unsigned 32-bit, each exact in a double; their sum
  // rounds once, as a cast of q would.
  const double high =
      double_of(bits_of(kIntegerMagic) + static_cast<uint64_t>(q >> 32)) - kIntegerMagic;
  const double low = double_of(bits_of(0x1p52) | (static_cast<uint64_t>(q) & 0xffffffffu)) - 0x1p52;
  return static_cast<float>((high * 0x1p32 + low) * inverse_scale);
}

// The bits of |g| for the largest-magnitude collective that agrees on the scales: non-negative
// floats order as their bits do, so maxima can be taken on integers (as CUDA's atomicMax does);
// a NaN counts as infinite, so that a non-finite gradient anywhere shows in the maximum.
DPTRAIN_HD uint32_t magnitude_bits(float g) {
  const uint32_t bits = float_bits(g) & 0x7fffffffu;
  return bits < 0x7f800000u ? bits : 0x7f800000u;  // infinity
}

}  // namespace dptrain::ew
