#pragma once

#include <cstdint>

#include "dptrain/core/host_device.hpp"

// Counter-based random numbers: the value for a key is a pure function of the key, so any rank
// (or device thread) can produce any element of a stream without producing the ones before it,
// and results never depend on the standard library's distributions, which differ between
// implementations.
namespace dptrain::random {

// The splitmix64 finaliser (Steele, Lea, Flood 2014): a bijective 64-bit mix.
DPTRAIN_HD uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A key for one stream, e.g. stream_key(seed, epoch, column).
DPTRAIN_HD uint64_t stream_key(uint64_t a, uint64_t b, uint64_t c = 0) {
  return mix64(mix64(mix64(a) ^ b) ^ c);
}

// The i-th 64-bit value of a stream.
DPTRAIN_HD uint64_t bits(uint64_t key, uint64_t i) {
  return mix64(key ^ mix64(i));
}

// Uniform in [0, 1) with 24 bits, exactly representable as a float.
DPTRAIN_HD float uniform01(uint64_t key, uint64_t i) {
  return static_cast<float>(bits(key, i) >> 40) * 0x1.0p-24f;
}

// Uniform integer in [0, bound) for bound >= 1: values below 2^64 mod bound are rejected, so
// that no result is favoured. `i` is advanced past every 64-bit value consumed.
DPTRAIN_HD uint64_t below(uint64_t key, uint64_t& i, uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const uint64_t value = bits(key, i++);
    if (value >= threshold) return value % bound;
  }
}

}  // namespace dptrain::random
