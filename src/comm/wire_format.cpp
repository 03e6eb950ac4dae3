#include "dptrain/comm/wire_format.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "dptrain/core/narrow_float.hpp"

namespace dptrain {
namespace {

// The loops, each compiled for AVX2 machines (x86-64-v3, whose F16C converts 8 halves an
// instruction) and for any x86-64, the right one chosen when the program starts; both round
// alike (to nearest, ties to even), so ranks on different CPUs send the same bytes.
// Not under ThreadSanitizer: it instruments the resolvers that pick a clone, which run before its
// runtime starts (every program crashed at start-up).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_THREAD__)
#define DPTRAIN_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define DPTRAIN_SIMD_CLONES
#endif

// IEEE half. Clang before 15 has no _Float16 on x86, but its storage type __fp16, whose
// conversions round the same (to nearest, ties to even) with arithmetic in float.
#if defined(__clang__) && __clang_major__ < 15
using Half = __fp16;
#else
using Half = _Float16;
#endif

DPTRAIN_SIMD_CLONES void narrow_bf16(const float* __restrict from, size_t count,
                                     uint16_t* __restrict to) {
  for (size_t i = 0; i < count; ++i)
    to[i] = ew::to_bf16(from[i]);
}

// The widening loops, for writing and for adding: each a clone set of its own, as clang's
// target_clones takes no function templates.
template <bool kAdd>
__attribute__((always_inline)) inline void widen_bf16_loop(const uint16_t* __restrict from,
                                                           size_t count, float* __restrict to) {
  for (size_t i = 0; i < count; ++i)
    to[i] = kAdd ? to[i] + ew::from_bf16(from[i]) : ew::from_bf16(from[i]);
}

DPTRAIN_SIMD_CLONES void widen_bf16(const uint16_t* __restrict from, size_t count,
                                    float* __restrict to) {
  widen_bf16_loop<false>(from, count, to);
}

DPTRAIN_SIMD_CLONES void widen_add_bf16(const uint16_t* __restrict from, size_t count,
                                        float* __restrict to) {
  widen_bf16_loop<true>(from, count, to);
}

// The largest magnitude of the chunk; a NaN anywhere makes it NaN.
DPTRAIN_SIMD_CLONES float largest_magnitude(const float* __restrict from, size_t count) {
  float largest = 0.0f;
  bool nan = false;
  for (size_t i = 0; i < count; ++i) {
    const float magnitude = std::fabs(from[i]);
    largest = magnitude > largest ? magnitude : largest;
    nan = nan || magnitude != magnitude;
  }
  return nan ? std::numeric_limits<float>::quiet_NaN() : largest;
}

DPTRAIN_SIMD_CLONES void narrow_fp16(const float* __restrict from, size_t count, float scale,
                                     Half* __restrict to) {
  for (size_t i = 0; i < count; ++i)
    to[i] = static_cast<Half>(from[i] * scale);
}

template <bool kAdd>
__attribute__((always_inline)) inline void widen_fp16_loop(const Half* __restrict from,
                                                           size_t count, float unscale,
                                                           float* __restrict to) {
  for (size_t i = 0; i < count; ++i) {
    const float v = static_cast<float>(from[i]) * unscale;
    to[i] = kAdd ? to[i] + v : v;
  }
}

DPTRAIN_SIMD_CLONES void widen_fp16(const Half* __restrict from, size_t count, float unscale,
                                    float* __restrict to) {
  widen_fp16_loop<false>(from, count, unscale, to);
}

DPTRAIN_SIMD_CLONES void widen_add_fp16(const Half* __restrict from, size_t count, float unscale,
                                        float* __restrict to) {
  widen_fp16_loop<true>(from, count, unscale, to);
}

// The exponent that puts `largest` into [2^14, 2^15); 0 for zero or a non-finite chunk (whose
// NaNs and infinities travel as they are), bounded so that 2^k and 2^-k are normal floats.
int32_t half_exponent(float largest) {
  if (!(largest > 0.0f) || !std::isfinite(largest)) return 0;
  int exponent = 0;
  std::frexp(largest, &exponent);  // largest = m * 2^exponent, m in [0.5, 1)
  const int k = 15 - exponent;
  return k > 120 ? 120 : k;  // at least 15 - 128
}

const Half* halves_of(const void* message) {
  return reinterpret_cast<const Half*>(static_cast<const char*>(message) + sizeof(int32_t));
}

float unscale_of(const void* message) {
  int32_t k = 0;
  std::memcpy(&k, message, sizeof k);
  return std::ldexp(1.0f, -k);
}

}  // namespace

const char* wire_format_name(WireFormat format) {
  switch (format) {
    case WireFormat::fp32:
      return "fp32";
    case WireFormat::bf16:
      return "bf16";
    case WireFormat::fp16:
      return "fp16";
  }
  return "?";
}

size_t WireCodec::message_bytes(size_t count) const {
  switch (format_) {
    case WireFormat::fp32:
      return count * sizeof(float);
    case WireFormat::bf16:
      return count * sizeof(uint16_t);
    case WireFormat::fp16:
      return sizeof(int32_t) + count * sizeof(uint16_t);
  }
  return 0;
}

void WireCodec::encode(const float* from, size_t count, void* message) const {
  switch (format_) {
    case WireFormat::fp32:
      std::memcpy(message, from, count * sizeof(float));
      return;
    case WireFormat::bf16:
      narrow_bf16(from, count, static_cast<uint16_t*>(message));
      return;
    case WireFormat::fp16: {
      const int32_t k = half_exponent(largest_magnitude(from, count));
      std::memcpy(message, &k, sizeof k);
      narrow_fp16(from, count, std::ldexp(1.0f, k),
                  reinterpret_cast<Half*>(static_cast<char*>(message) + sizeof k));
      return;
    }
  }
  throw std::logic_error("unknown wire format");
}

void WireCodec::decode(const void* message, size_t count, float* to) const {
  switch (format_) {
    case WireFormat::fp32:
      std::memcpy(to, message, count * sizeof(float));
      return;
    case WireFormat::bf16:
      widen_bf16(static_cast<const uint16_t*>(message), count, to);
      return;
    case WireFormat::fp16:
      widen_fp16(halves_of(message), count, unscale_of(message), to);
      return;
  }
  throw std::logic_error("unknown wire format");
}

void WireCodec::decode_add(const void* message, size_t count, float* to) const {
  switch (format_) {
    case WireFormat::fp32: {
      const float* from = static_cast<const float*>(message);
      for (size_t i = 0; i < count; ++i)
        to[i] += from[i];
      return;
    }
    case WireFormat::bf16:
      widen_add_bf16(static_cast<const uint16_t*>(message), count, to);
      return;
    case WireFormat::fp16:
      widen_add_fp16(halves_of(message), count, unscale_of(message), to);
      return;
  }
  throw std::logic_error("unknown wire format");
}

}  // namespace dptrain
