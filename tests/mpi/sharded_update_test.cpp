// --shard-optimizer (ZeRO-1) against the unsharded allreduce update, on every rank count the
// suite runs: under --exact bit for bit (the summed gradients are the same bits however they
// were summed, the norm's blocks are added in one order, and each element's update is the same
// element code); in float within the summation bound; the optimizer's state divided among the
// ranks; the same bytes on the wire.
#include "dptrain/train/sharded_update.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "dptrain/comm/shards.hpp"
#include "mpi/data_parallel_checks.hpp"
#include "mpi/shared_files.hpp"
#include "support/numeric_checks.hpp"

namespace dptrain {
namespace {

using testing::TestDevice;
using testing::TrainerRig;

TrainConfig exact_config() {
  TrainConfig config;
  config.data_path = testing::shared_synthetic_file(1003, 100, 5);
  config.hidden = std::vector<int>{32, 16};
  config.batch_size = 12;
  config.exact = true;
  config.seed = 3;
  config.optimizer.lr = 3e-3f;
  return config;
}

struct TrainedRun {
  std::vector<float> params, initial;
  EpochMetrics metrics;
};

// The first epoch, then three steps of the second (a new order of rows).
TrainedRun train(TrainConfig config, bool shard) {
  config.shard_optimizer = shard;
  TrainerRig rig(config, MPI_COMM_WORLD);
  TrainedRun run;
  run.initial.resize(rig.trainer->model().layout().total());
  rig.trainer->model().initialize(run.initial, config.seed);
  run.metrics = rig.trainer->run_epoch(1, nullptr);
  rig.trainer->begin_epoch(2);
  for (size_t k = 0; k < 3; ++k)
    rig.trainer->step(k);
  run.params = rig.trainer->parameters();
  return run;
}

void expect_sharded_equals_unsharded(const TrainConfig& config) {
  const TrainedRun sharded = train(config, true);
  const TrainedRun whole = train(config, false);
  EXPECT_TRUE(testing::same_bits(sharded.params, whole.params));
  EXPECT_EQ(testing::ranks_differing_from_root(sharded.params), 0);
  double moved = 0.0;
  for (size_t i = 0; i < whole.initial.size(); ++i)
    moved = std::max(moved, std::abs(static_cast<double>(whole.params[i]) - whole.initial[i]));
  EXPECT_GT(moved, 1e-2) << "a trivial match would not count";
}

TEST(Sharded, ExactAdamMatchesTheUnshardedBitForBit) {
  expect_sharded_equals_unsharded(exact_config());
}

TEST(Sharded, ExactSgdWithMomentumMatchesTheUnshardedBitForBit) {
  TrainConfig config = exact_config();
  config.optimizer.kind = OptimizerKind::sgd;
  config.optimizer.lr = 0.05f;
  config.optimizer.momentum = 0.9f;
  expect_sharded_equals_unsharded(config);
}

// Clipping takes the global norm from the shards' block sums: the same bits as the unsharded
// norm, so the same factor; with warm-up and a cosine, the same schedule on every shard.
TEST(Sharded, ExactClippingAndScheduleMatchTheUnshardedBitForBit) {
  TrainConfig config = exact_config();
  config.clip_norm = 0.05f;  // below the typical norm: most steps are clipped
  config.lr.kind = ew::ScheduleKind::cosine;
  config.lr.warmup_steps = 20;
  config.epochs = 2;
  const TrainedRun sharded = train(config, true);
  ASSERT_TRUE(sharded.metrics.grad_norm.has_value());
  EXPECT_GT(sharded.metrics.grad_norm->clipped_steps, sharded.metrics.steps_run / 2);
  expect_sharded_equals_unsharded(config);
}

TEST(Sharded, FloatSumsAgreeWithinTheSummationBound) {
  testing::expect_sharded_first_step_sums_within_the_summation_bound(TestDevice::cpu);
}

// Each rank keeps Adam's m and v for its shard only; together the ranks keep one copy.
TEST(Sharded, TheOptimizersStateIsDividedAmongTheRanks) {
  TrainConfig config = exact_config();
  config.exact = false;
  const TrainedRun sharded = train(config, true);
  const TrainedRun whole = train(config, false);
  int ranks = 1, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const size_t parameters = whole.params.size();
  ASSERT_TRUE(sharded.metrics.allreduce && whole.metrics.allreduce);
  EXPECT_TRUE(sharded.metrics.allreduce->sharded);
  EXPECT_EQ(whole.metrics.allreduce->optimizer_state_bytes, 2 * parameters * sizeof(float));
  EXPECT_EQ(sharded.metrics.allreduce->optimizer_state_bytes,
            2 * shard_of(parameters, ranks, rank).count * sizeof(float));
  uint64_t total = sharded.metrics.allreduce->optimizer_state_bytes;
  MPI_Allreduce(MPI_IN_PLACE, &total, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(total, whole.metrics.allreduce->optimizer_state_bytes);
}

// A reduce-scatter and an all-gather send what one ring allreduce sends, (N - 1) / N of the
// buffer each, over all ranks together; the step's agreement (one index per rank) comes on top.
TEST(Sharded, TheBytesOnTheWireAreTheAllreducesPlusTheAgreement) {
  TrainConfig config = exact_config();
  config.exact = false;
  const TrainedRun sharded = train(config, true);
  const TrainedRun whole = train(config, false);
  int ranks = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  if (ranks == 1) {
    EXPECT_EQ(sharded.metrics.allreduce->sent_bytes_per_step.value_or(-1), 0.0);
    return;
  }
  // The agreement's own bytes, measured the same way.
  TrainerRig rig(config, MPI_COMM_WORLD);
  std::vector<int64_t> agreement(static_cast<size_t>(ranks), 0);
  const uint64_t before = rig.communicator->bytes_sent().value();
  rig.communicator->allreduce({agreement.data(), agreement.size(), SumType::i64});
  const double agreement_bytes =
      static_cast<double>(rig.communicator->bytes_sent().value() - before);
  double totals[3] = {*sharded.metrics.allreduce->sent_bytes_per_step,
                      *whole.metrics.allreduce->sent_bytes_per_step, agreement_bytes};
  MPI_Allreduce(MPI_IN_PLACE, totals, 3, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  const double ring = 2.0 * (ranks - 1) * static_cast<double>(whole.params.size()) * sizeof(float);
  EXPECT_EQ(totals[1], ring) << "the allreduce's ring: 2 (N - 1) / N of the buffer per rank";
  EXPECT_EQ(totals[0], ring + totals[2]);
}

}  // namespace
}  // namespace dptrain
