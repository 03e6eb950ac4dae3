// Data parallelism must not change the mathematics: N ranks with B rows each must train like one
// rank with N*B rows (same global batches, same averaged gradients, same Adam updates). With
// --exact, bit for bit; without, within what float summation allows, derived (not measured).
#include <gtest/gtest.h>

#include "mpi/data_parallel_checks.hpp"

namespace dptrain {
namespace {

using testing::ExactCase;
using testing::TestDevice;

TEST(ExactEquivalence, NRanksMatchOneRankInMicroBatchesBitForBit) {
  testing::expect_exact_n_ranks_match_one_rank(TestDevice::cpu, ExactCase{});
}

// Convolutions and pooling: micro-batches of 8 images on every rank and on the one rank.
TEST(ExactEquivalence, NRanksMatchOneRankWithTheCnn) {
  testing::expect_exact_n_ranks_match_one_rank(
      TestDevice::cpu, ExactCase{.model = ModelKind::cnn, .rows_per_rank = 8, .micro_batch = 8});
}

// 1 KiB buckets of int64 sums on the ranks, none on the one rank.
TEST(ExactEquivalence, NRanksWithGradientBucketsMatchOneRank) {
  testing::expect_exact_n_ranks_match_one_rank(TestDevice::cpu, ExactCase{.bucket_kb = 1});
}

// Every rank has micro-batches of its own: 2 of 8 rows.
TEST(ExactEquivalence, MicroBatchesWithinRanksMatchOneRank) {
  testing::expect_exact_n_ranks_match_one_rank(TestDevice::cpu,
                                               ExactCase{.rows_per_rank = 16, .micro_batch = 8});
}

// OpenBLAS's bits depend on its thread count on some kernel sets (Haswell's: 2 threads give other
// bits than 1 for the same product, bench/blas_thread_bits.cpp), so the guarantee holds for one
// thread count on every run (README, "Reproducibility"): here 2 on every rank and on the one rank.
TEST(ExactEquivalence, TwoBlasThreadsEverywhereMatchToo) {
  testing::expect_exact_n_ranks_match_one_rank(TestDevice::cpu, ExactCase{.threads = 2});
}

// Scales far too small for the first step: every run computes it again with the scales its
// gradients call for, the same on any number of ranks.
TEST(ExactEquivalence, RecomputedStepsWithLargerScalesMatchToo) {
  testing::expect_exact_n_ranks_match_one_rank(TestDevice::cpu,
                                               ExactCase{.start_with_tiny_scales = true});
}

TEST(FloatEquivalence, FirstStepSumsAgreeWithinTheSummationBound) {
  testing::expect_first_step_sums_within_the_summation_bound(TestDevice::cpu, ModelKind::mlp);
}

TEST(FloatEquivalence, FirstStepSumsOfTheCnnAgreeWithinTheSummationBound) {
  testing::expect_first_step_sums_within_the_summation_bound(TestDevice::cpu, ModelKind::cnn);
}

}  // namespace
}  // namespace dptrain
