#include "dptrain/data/sampler.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "dptrain/core/error.hpp"
#include "dptrain/core/random.hpp"

namespace dptrain {

ShardedSampler::ShardedSampler(size_t train_rows, int local_batch, int rank, int world,
                               uint64_t seed)
    : train_rows_(train_rows), seed_(seed) {
  if (local_batch <= 0) throw InputError("the batch size must be at least 1");
  if (world <= 0 || rank < 0 || rank >= world) throw std::invalid_argument("bad rank or world");
  local_batch_ = static_cast<size_t>(local_batch);
  global_batch_ = local_batch_ * static_cast<size_t>(world);
  steps_ = train_rows_ / global_batch_;
  if (steps_ == 0)
    throw InputError("the training set has " + std::to_string(train_rows_) +
                     " rows, fewer than one global batch (" + std::to_string(world) + " ranks x " +
                     std::to_string(local_batch) + " = " + std::to_string(global_batch_) + ")");
  first_column_ = static_cast<size_t>(rank) * local_batch_;
  const size_t remainder = train_rows_ - steps_ * global_batch_;
  tail_rows_ = std::min(local_batch_, remainder > first_column_ ? remainder - first_column_ : 0);

  shard_.parts.push_back({first_column_, global_batch_, steps_, local_batch_});
  if (tail_rows_ > 0)
    shard_.parts.push_back({steps_ * global_batch_ + first_column_, tail_rows_, 1, tail_rows_});
  if (shard_.rows() > std::numeric_limits<uint32_t>::max())
    throw InputError("a rank's shard of the training set exceeds 2^32 rows; use more ranks");
  column_.resize(steps_ + 1);
}

void ShardedSampler::epoch_order(uint64_t epoch, std::span<uint32_t> out) {
  if (out.size() != steps_ * local_batch_)
    throw std::invalid_argument("epoch_order needs steps_per_epoch * local_batch entries");
  const uint32_t b = static_cast<uint32_t>(local_batch_);
  for (uint32_t c = 0; c < b; ++c) {
    // The column's entries are lines 0..steps-1, plus line `steps` if the rank holds its row.
    const size_t length = steps_ + (c < tail_rows_ ? 1 : 0);
    std::iota(column_.begin(), column_.begin() + static_cast<ptrdiff_t>(length), 0u);
    const uint64_t key = random::stream_key(seed_, epoch, first_column_ + c);
    uint64_t counter = 0;
    for (size_t i = length - 1; i > 0; --i)  // Fisher-Yates
      std::swap(column_[i], column_[random::below(key, counter, i + 1)]);
    // Line j of column c is the shard's row j*B + c (see the hyperslab in the constructor).
    for (size_t k = 0; k < steps_; ++k)
      out[k * b + c] = column_[k] * b + c;
  }
}

}  // namespace dptrain
