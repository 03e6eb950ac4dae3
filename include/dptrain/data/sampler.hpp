#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dptrain/data/row_selection.hpp"

namespace dptrain {

// Which training rows a rank holds, and in which order it visits them each epoch.
//
// With W ranks, B rows per rank and step, and G = W*B rows per global batch, view the file's
// rows as a table of G columns: row i sits in column i mod G, and column s belongs to rank s / B.
// Rank r therefore holds the strided hyperslab of B rows every G rows from row r*B, plus its
// columns' rows in the last, incomplete line of the table. Every epoch each column is shuffled on
// its own, by a permutation that depends only on (seed, epoch, column); the global batch of step
// k is line k of the shuffled table, minus the incomplete line, whose rows are used in the epochs
// in which the shuffle moves them up.
//
// Consequences, each tested:
// - a rank reads and holds only its own rows (about 1/W of the file);
// - every epoch uses floor(N/G) global batches, each row at most once; the N mod G rows left out
//   change from epoch to epoch;
// - the rows of each global batch, and so the averaged gradient, depend only on G, never on how
//   G is split into W*B: W ranks with B rows train like one rank with W*B rows;
// - the batches are composed anew each epoch, not just visited in a new order.
class ShardedSampler {
 public:
  // Throws InputError when the training set cannot fill one global batch.
  ShardedSampler(size_t train_rows, int local_batch, int rank, int world, uint64_t seed);

  size_t local_batch() const { return local_batch_; }
  size_t global_batch() const { return global_batch_; }
  size_t steps_per_epoch() const { return steps_; }
  size_t dropped_per_epoch() const { return train_rows_ - steps_ * global_batch_; }

  // This rank's rows of the file.
  const RowSelection& shard() const { return shard_; }

  // Fills out (steps_per_epoch() * local_batch() entries) with indices into the shard: the local
  // batch of step k is out[k*B, (k+1)*B). Allocates nothing.
  void epoch_order(uint64_t epoch, std::span<uint32_t> out);

 private:
  size_t train_rows_;
  size_t local_batch_;
  size_t global_batch_;
  size_t steps_;
  size_t tail_rows_;  // rows of the incomplete line that belong to this rank
  size_t first_column_;
  uint64_t seed_;
  RowSelection shard_;
  std::vector<uint32_t> column_;  // scratch for one column's permutation
};

}  // namespace dptrain
