#pragma once

#include "mpi/trainer_fixture.hpp"

namespace dptrain::testing {

// N ranks with B rows each must train like one rank with N*B rows: after more than an epoch of
// steps, every tensor within 1e-5 relative difference (and far from its initial value), and the
// N replicas bitwise equal.
void expect_n_ranks_match_one_rank(TestDevice device, size_t bucket_kb = 0,
                                   ModelKind model = ModelKind::mlp);

// After two epochs, every rank's parameters equal rank 0's bit for bit, and training helped.
void expect_replicas_bitwise_equal_after_training(TestDevice device, size_t bucket_kb = 0);

// Ranks of `comm` whose parameters differ in any bit from its rank 0's (the same on every rank).
int ranks_differing_from_root(const std::vector<float>& params, MPI_Comm comm = MPI_COMM_WORLD);

// The small synthetic problem both checks train on.
TrainConfig small_config();

}  // namespace dptrain::testing
