#pragma once

#include <algorithm>
#include <cstddef>
#include <stdexcept>

// How ZeRO-1 splits a flat buffer among the ranks: rank r owns one contiguous shard, whose
// gradients the reduce-scatter sums on it and whose parameters it updates and all-gathers
// (Communicator::reduce_scatter, allgather). Plain C++, without MPI: CUDA host code uses it too.
namespace dptrain {

// Shards are whole multiples of this many elements (the last one shorter or empty), so that a
// per-block reduction over the flat buffer (the gradient norm, 4096-element blocks) never
// straddles two ranks.
inline constexpr size_t kShardAlignment = 4096;

struct ShardRange {
  size_t begin = 0;
  size_t count = 0;
  size_t end() const { return begin + count; }
};

// Elements per shard when `count` elements are split among `ranks`: ceil(count / ranks) rounded
// up to kShardAlignment (0 for an empty buffer).
inline size_t shard_stride(size_t count, int ranks) {
  if (ranks < 1) throw std::invalid_argument("shard_stride: ranks must be at least 1");
  const size_t per_rank = (count + static_cast<size_t>(ranks) - 1) / static_cast<size_t>(ranks);
  return (per_rank + kShardAlignment - 1) / kShardAlignment * kShardAlignment;
}

// Rank r's shard: [min(count, r*stride), min(count, (r+1)*stride)). Rounding the stride up may
// leave the last ranks' shards shorter, or empty when count < (ranks - 1) * stride.
inline ShardRange shard_of(size_t count, int ranks, int rank) {
  if (rank < 0 || rank >= ranks) throw std::out_of_range("shard_of: rank outside [0, ranks)");
  const size_t stride = shard_stride(count, ranks);
  const size_t begin = std::min(count, static_cast<size_t>(rank) * stride);
  const size_t end = std::min(count, (static_cast<size_t>(rank) + 1) * stride);
  return {begin, end - begin};
}

// Elements a buffer needs so that every rank's shard is a full stride (NCCL's reduce-scatter and
// all-gather take equal counts): stride * ranks.
inline size_t padded_shard_count(size_t count, int ranks) {
  return shard_stride(count, ranks) * static_cast<size_t>(ranks);
}

}  // namespace dptrain
