#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace dptrain {

// What the data plane sums: float gradients (the default), or the 64-bit fixed-point gradients
// of --exact, whose sums are the same bits in any order (see GradientSum).
enum class SumType { f32, i64 };

inline size_t sum_buffer_element_bytes(SumType type) {
  return type == SumType::f32 ? sizeof(float) : sizeof(int64_t);
}

struct SumBuffer {
  void* data = nullptr;
  size_t count = 0;
  SumType type = SumType::f32;

  size_t element_bytes() const { return sum_buffer_element_bytes(type); }
  // Elements [begin, begin + count) of this buffer.
  SumBuffer slice(size_t begin, size_t elements) const {
    return {static_cast<char*>(data) + begin * element_bytes(), elements, type};
  }
};

inline SumBuffer sum_buffer(float* data, size_t count) {
  return {data, count, SumType::f32};
}
inline SumBuffer sum_buffer(int64_t* data, size_t count) {
  return {data, count, SumType::i64};
}

// The collectives of the data plane, on the backend's memory: MPI for the CPU backend, NCCL for
// CUDA. Every rank of the communicator calls each collective in the same order with the same
// count. Results are identical on every rank, so replicas that apply them stay bitwise equal.
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual std::string name() const = 0;
  virtual int rank() const = 0;
  virtual int size() const = 0;

  // data[i] <- sum over ranks of data[i], in place. Gradients are scaled by 1 / global batch
  // before the exchange, so the sum is the average gradient of the global batch. Integer sums
  // are exact, so they are the same bits whatever the order in which the transport adds.
  virtual void allreduce(SumBuffer buffer) = 0;
  void allreduce_sum(float* data, size_t count) { allreduce(sum_buffer(data, count)); }

  // The same sum, started now and finished by wait_started(), so that it can run while the
  // caller computes; progress() lets it advance where that takes the caller's help (MPI on host
  // memory progresses only inside MPI calls). Started sums complete in the order started; data
  // must not be touched until wait_started() returns. By default the sum happens at once.
  virtual void start_allreduce(SumBuffer buffer) { allreduce(buffer); }
  virtual void progress() {}
  virtual void wait_started() {}
  // Makes room for `queued` started sums of up to `bytes` each, so that none allocates.
  virtual void reserve(size_t /*bytes*/, size_t /*queued*/) {}

  // data[i] <- the largest data[i] of any rank, in place (--exact's agreed scales). Maxima are
  // exact, so every rank gets the same bits.
  virtual void allreduce_max(float* data, size_t count) = 0;

  // Bytes that `count` elements of `type` take on the wire, per rank and sum (narrowed float
  // sums take fewer; see WireFormat).
  virtual size_t wire_bytes(SumType type, size_t count) const {
    return count * sum_buffer_element_bytes(type);
  }

  // data <- root's data on every rank.
  virtual void broadcast(float* data, size_t count, int root) = 0;

  // ZeRO-1's halves of allreduce(), over the shards of comm/shards.hpp (same count on every
  // rank; `buffer` holds at least padded_shard_count(count, size()) elements, the tail beyond
  // `count` ignored: NCCL sums and gathers it along, so it holds nothing to keep). Together they
  // put on the wire what one allreduce() does (the MPI ring exactly, unnarrowed; NCCL moves the
  // padding too).
  // After reduce_scatter, elements shard_of(count, size(), rank()) of buffer hold the sum over
  // ranks (f32 or i64 sums, exact for i64); the rest of the buffer is unspecified.
  virtual void reduce_scatter(SumBuffer /*buffer*/) {
    throw std::logic_error(name() + " has no reduce_scatter");
  }
  // After allgather, every rank's shard of data (floats) is on every rank:
  // data[shard_of(count, size(), r)] = rank r's values, for every r. Never narrowed (these are
  // parameters, which must stay the same bits on every replica).
  virtual void allgather(float* /*data*/, size_t /*count*/) {
    throw std::logic_error(name() + " has no allgather");
  }
  // Bytes this rank has sent over the network through this communicator since construction,
  // where it can count them (the MPI ring); std::nullopt otherwise.
  virtual std::optional<uint64_t> bytes_sent() const { return std::nullopt; }

  // Whether allreduce() only queues work on the backend, without the host, so that a recording
  // of the step (Backend::record, a CUDA graph) can hold it: NCCL's collectives can be captured.
  virtual bool recordable() const { return false; }
};

}  // namespace dptrain
