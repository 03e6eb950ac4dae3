#pragma once

// bfloat16 for --exchange-dtype bf16 (README, "Many hosts"): float's sign, its 8 exponent bits
// and the top 7 of its 23 fraction bits (8 significant bits: relative rounding error at most
// 2^-8), float's range. Rounded to nearest, ties to even, as AVX-512 BF16's and CUDA's
// conversions do (tested against the definition), with integer operations only, so that any
// backend rounds the same way; GCC 12 has no bfloat16 arithmetic type on x86 to do it for us.
// (IEEE half, --exchange-dtype fp16, is the compiler's _Float16: its conversions round the same
// way, in F16C's instructions where the CPU has them.)

#include <cstdint>

#include "dptrain/core/float_bits.hpp"

namespace dptrain::ew {

// Rounds away the low 16 bits: adding 0x7FFF plus the lowest kept bit carries into the kept
// bits exactly when the dropped part is above half, or half with an odd kept part. A NaN stays
// a (quiet) NaN; a float that rounds past the largest bfloat16 becomes infinity, as it must.
DPTRAIN_HD uint16_t to_bf16(float v) {
  const uint32_t u = float_bits(v);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x0040u);
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

DPTRAIN_HD float from_bf16(uint16_t h) {
  return float_of_bits(static_cast<uint32_t>(h) << 16);
}

}  // namespace dptrain::ew
