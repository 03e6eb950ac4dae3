#pragma once

#include <cstddef>
#include <cstdint>

namespace dptrain {

// How float gradient sums travel between ranks (--exchange-dtype): as they are, or narrowed to
// bfloat16 or IEEE half, which halves the bytes on the wire (README, "Many hosts"). Sums are
// always formed in float; only what is sent is narrowed.
enum class WireFormat { fp32, bf16, fp16 };

const char* wire_format_name(WireFormat format);

// Narrows float chunks into messages and widens them back (core/narrow_float.hpp rounds).
// A bf16 message is the chunk's bfloat16s. A half message starts with a 4-byte power-of-two
// exponent k chosen so that the chunk's largest magnitude times 2^k lies in [2^14, 2^15): every
// element then fits under half's largest finite value, and elements down to 2^-28 of that
// largest one stay normal halves, with 11 significant bits; below that they keep an absolute
// error of at most 2^-39 of the largest (half's subnormal spacing). Gradients, which are
// divided by the global batch, would otherwise often fall below half's smallest normal, 2^-14.
// Scaling by a power of two is exact, so the scale adds no rounding.
class WireCodec {
 public:
  explicit WireCodec(WireFormat format) : format_(format) {}

  WireFormat format() const { return format_; }
  // Bytes of the message that carries `count` elements.
  size_t message_bytes(size_t count) const;
  void encode(const float* from, size_t count, void* message) const;
  // to[i] <- the message's element i.
  void decode(const void* message, size_t count, float* to) const;
  // to[i] <- to[i] + the message's element i.
  void decode_add(const void* message, size_t count, float* to) const;

 private:
  WireFormat format_;
};

}  // namespace dptrain
