#pragma once

#include "mpi/trainer_fixture.hpp"

namespace dptrain::testing {

// One run of the exact-mode equivalence: the same global batches, split one way over the ranks
// of MPI_COMM_WORLD and another way over micro-batches of one rank.
struct ExactCase {
  ModelKind model = ModelKind::mlp;
  int rows_per_rank = 16;
  int micro_batch = 16;                 // rows per forward and backward, on every rank
  size_t bucket_kb = 0;                 // of the ranks' exchange
  int threads = 1;                      // BLAS threads of every rank and of the one rank
  bool start_with_tiny_scales = false;  // makes both runs recompute their first step
};

// With --exact, N ranks of B rows must train exactly like one rank of N*B rows in micro-batches
// of the same size: after an epoch, a reshuffle and more steps, the parameters are equal bit for
// bit (and far from their initial values), and the N replicas too.
void expect_exact_n_ranks_match_one_rank(TestDevice device, const ExactCase& exact_case);

// Without --exact, N ranks of B rows and one rank of N*B rows in micro-batches of B compute the
// same N micro-batch gradients (same shapes, same bits) and differ only in how the float sums
// add them: the ring in its order, the rank in micro-batch order. Each is a recursive sum of the
// N terms, within gamma(N-1) * sum |terms| of the exact sum (Higham, "Accuracy and Stability of
// Numerical Algorithms", 2nd ed., eq. 4.4), so the first step's summed gradients must agree
// within 2 gamma(N-1) * sum |terms|, element by element, with sum |terms| taken in double.
void expect_first_step_sums_within_the_summation_bound(TestDevice device, ModelKind model);

// --shard-optimizer's reduce-scatter adds the same N terms as the allreduce, in another order
// where the shards' boundaries differ from the ring's chunks: each rank's shard of the first
// step's summed gradients is within the same 2 gamma(N-1) * sum |terms| of the allreduce's.
void expect_sharded_first_step_sums_within_the_summation_bound(TestDevice device);

// After two epochs, every rank's parameters equal rank 0's bit for bit, and training helped.
void expect_replicas_bitwise_equal_after_training(TestDevice device, size_t bucket_kb = 0,
                                                  bool exact = false);

// --on-nonfinite decided on the backend, heard of by the host later (collect_deferred) must
// train exactly as when the host hears of it at once: with skip, the same parameters bit for
// bit and the step counted; with abort, no update from the bad step on and an error, on every
// rank, naming the bad step and the step where the host heard of it.
void expect_deferred_skip_matches_immediate(TestDevice device);
void expect_deferred_abort_halts_at_the_bad_step(TestDevice device);

// Ranks of `comm` whose parameters differ in any bit from its rank 0's (the same on every rank).
int ranks_differing_from_root(const std::vector<float>& params, MPI_Comm comm = MPI_COMM_WORLD);

// The small synthetic problem both checks train on.
TrainConfig small_config();

// gamma(n) = n u / (1 - n u), u = 2^-24: the relative error bound of n float additions.
double float_sum_gamma(int additions);

}  // namespace dptrain::testing
