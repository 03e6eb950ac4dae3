#include "dptrain/core/narrow_float.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "dptrain/comm/wire_format.hpp"
#include "dptrain/core/random.hpp"

namespace dptrain {
namespace {

// bfloat16 by its definition: of the two bfloat16s around v (v with its low 16 bits cleared,
// and the next one up in magnitude), the nearer, the even one on a tie.
uint16_t bf16_by_definition(float v) {
  const uint32_t u = ew::float_bits(v);
  const uint32_t below = u & 0xFFFF0000u;
  const uint32_t above = below + 0x10000u;
  const double distance_below = std::fabs(static_cast<double>(v) - ew::float_of_bits(below));
  const double distance_above =
      std::fabs(static_cast<double>(ew::float_of_bits(above)) - static_cast<double>(v));
  if ((above & 0x7F800000u) == 0x7F800000u && (below & 0x7FFFFFFFu) == 0x7F7F0000u) {
    // Above the largest bfloat16 the neighbour is infinity: halfway is 0x7F7F8000.
    return static_cast<uint16_t>((u & 0x7FFFFFFFu) >= 0x7F7F8000u ? above >> 16 : below >> 16);
  }
  if (distance_below < distance_above) return static_cast<uint16_t>(below >> 16);
  if (distance_above < distance_below) return static_cast<uint16_t>(above >> 16);
  return static_cast<uint16_t>(((below >> 16) & 1u) ? above >> 16 : below >> 16);
}

// Floats of every kind: random bit patterns (every exponent), values near the edges of half's
// range and bfloat16's rounding boundaries, signed zeros, infinities.
std::vector<float> probes() {
  std::vector<float> values;
  const uint64_t key = random::stream_key(99, 0);
  for (uint64_t i = 0; i < (1u << 22); ++i) {
    const uint32_t bits =
        static_cast<uint32_t>(random::uniform01(key, 2 * i) * 4294967296.0) ^
        (static_cast<uint32_t>(random::uniform01(key, 2 * i + 1) * 65536.0) & 0xFFFFu);
    values.push_back(ew::float_of_bits(bits));
  }
  for (float edge :
       {65504.0f, 65519.99f, 65520.0f, 65536.0f, 6.1035156e-5f, 6.0975552e-5f, 5.9604645e-8f,
        2.9802322e-8f, 2.9802326e-8f, 1.0f, 0.0f, -0.0f, std::numeric_limits<float>::max(),
        std::numeric_limits<float>::min(), std::numeric_limits<float>::denorm_min(),
        std::numeric_limits<float>::infinity()}) {
    for (uint32_t delta = 0; delta < 8; ++delta) {
      const uint32_t bits = ew::float_bits(edge);
      values.push_back(ew::float_of_bits(bits + delta));
      values.push_back(ew::float_of_bits(bits - delta));
      values.push_back(-ew::float_of_bits(bits + delta));
    }
  }
  // Exact ties of both kinds for bfloat16 (dropped part 0x8000, kept part odd and even).
  values.push_back(ew::float_of_bits(0x3F808000u));
  values.push_back(ew::float_of_bits(0x3F818000u));
  return values;
}

TEST(NarrowFloat, BfloatRoundsToNearestEvenAsDefined) {
  for (float v : probes()) {
    if (std::isnan(v)) {
      EXPECT_TRUE(std::isnan(ew::from_bf16(ew::to_bf16(v))));
      continue;
    }
    ASSERT_EQ(ew::to_bf16(v), bf16_by_definition(v)) << std::hexfloat << v;
  }
}

TEST(NarrowFloat, EveryBfloatWidensExactlyAndNarrowsBackToItself) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint16_t bits = static_cast<uint16_t>(h);
    const float wide = ew::from_bf16(bits);
    ASSERT_EQ(ew::float_bits(wide), h << 16);
    if (!std::isnan(wide)) {
      ASSERT_EQ(ew::to_bf16(wide), bits) << h;
    }
  }
}

// The codec's message keeps every element within the rounding bounds of wire_format.hpp:
// relative 2^-8 for bf16; for fp16 relative 2^-11, plus at most 2^-39 of the chunk's largest.
TEST(WireCodec, MessagesKeepTheDocumentedPrecisionAcrossMagnitudes) {
  const uint64_t key = random::stream_key(7, 0);
  for (float magnitude : {1e-12f, 1e-7f, 3e-4f, 1.0f, 7e4f, 1e30f}) {
    std::vector<float> chunk(4097);
    for (size_t i = 0; i < chunk.size(); ++i)  // spread over 2^-40 .. 1 of the magnitude
      chunk[i] = magnitude * (random::uniform01(key, i) - 0.5f) *
                 std::ldexp(1.0f, -static_cast<int>(i % 41));
    float largest = 0;
    for (float v : chunk)
      largest = std::max(largest, std::fabs(v));
    for (WireFormat format : {WireFormat::bf16, WireFormat::fp16}) {
      const WireCodec codec(format);
      std::vector<uint64_t> message((codec.message_bytes(chunk.size()) + 7) / 8);
      codec.encode(chunk.data(), chunk.size(), message.data());
      std::vector<float> back(chunk.size(), 1.0f);
      codec.decode(message.data(), chunk.size(), back.data());
      std::vector<float> added(chunk.size(), 1.0f);
      codec.decode_add(message.data(), chunk.size(), added.data());
      for (size_t i = 0; i < chunk.size(); ++i) {
        const double v = chunk[i];
        const double bound = format == WireFormat::bf16
                                 ? std::ldexp(std::fabs(v), -8)
                                 : std::ldexp(std::fabs(v), -11) + std::ldexp(largest, -39);
        ASSERT_LE(std::fabs(back[i] - v), bound)
            << wire_format_name(format) << " magnitude " << magnitude << " i " << i;
        ASSERT_EQ(added[i], 1.0f + back[i]);
      }
      if (format == WireFormat::fp16) {  // the CPU's own conversions round as the compiler's
        int32_t k = 0;
        std::memcpy(&k, message.data(), sizeof k);
        for (size_t i = 0; i < chunk.size(); ++i) {
          const _Float16 half = static_cast<_Float16>(chunk[i] * std::ldexp(1.0f, k));
          ASSERT_EQ(back[i], static_cast<float>(half) * std::ldexp(1.0f, -k)) << i;
        }
      }
    }
  }
}

TEST(WireCodec, NonFiniteValuesTravelAsNonFinite) {
  for (WireFormat format : {WireFormat::bf16, WireFormat::fp16}) {
    const WireCodec codec(format);
    const float chunk[] = {1.0f, std::numeric_limits<float>::quiet_NaN(), -2.0f,
                           std::numeric_limits<float>::infinity()};
    std::vector<uint64_t> message(4);
    codec.encode(chunk, 4, message.data());
    float back[4];
    codec.decode(message.data(), 4, back);
    EXPECT_EQ(back[0], 1.0f) << wire_format_name(format);
    EXPECT_TRUE(std::isnan(back[1]));
    EXPECT_EQ(back[2], -2.0f);
    EXPECT_EQ(back[3], std::numeric_limits<float>::infinity());
  }
}

TEST(WireCodec, NarrowFormatsHalveTheBytes) {
  EXPECT_EQ(WireCodec(WireFormat::fp32).message_bytes(1000), 4000u);
  EXPECT_EQ(WireCodec(WireFormat::bf16).message_bytes(1000), 2000u);
  EXPECT_EQ(WireCodec(WireFormat::fp16).message_bytes(1000), 2004u);  // and its exponent
}

}  // namespace
}  // namespace dptrain
