#include <gtest/gtest.h>

#include "dptrain/core/error.hpp"
#include "mpi/data_parallel_checks.hpp"
#include "mpi/shared_files.hpp"

namespace dptrain {
namespace {

using testing::small_config;

TEST(Replicas, StartFromRankZerosInitialisation) {
  testing::TrainerRig rig(small_config(), MPI_COMM_WORLD);
  const std::vector<float> params = rig.trainer->parameters();
  std::vector<float> expected(params.size());
  rig.trainer->model().initialize(expected, small_config().seed);
  EXPECT_EQ(params, expected);  // NaN on ranks that missed the broadcast would differ
}

TEST(Replicas, StayBitwiseIdenticalWhileTraining) {
  testing::expect_replicas_bitwise_equal_after_training(testing::TestDevice::cpu);
}

TEST(Replicas, StayBitwiseIdenticalWithGradientBuckets) {
  testing::expect_replicas_bitwise_equal_after_training(testing::TestDevice::cpu, /*bucket_kb=*/4);
}

TEST(Replicas, StayBitwiseIdenticalWithExactSums) {
  testing::expect_replicas_bitwise_equal_after_training(testing::TestDevice::cpu, 4, true);
}

TEST(Replicas, NonFiniteSkipHeardOfLaterTrainsAsWhenHeardOfAtOnce) {
  testing::expect_deferred_skip_matches_immediate(testing::TestDevice::cpu);
}

TEST(Replicas, NonFiniteAbortHeardOfLaterAppliedNothingAfterTheBadStep) {
  testing::expect_deferred_abort_halts_at_the_bad_step(testing::TestDevice::cpu);
}

TEST(Replicas, EvaluationCoversTheWholeTestSetOnce) {
  testing::TrainerRig rig(small_config(), MPI_COMM_WORLD);
  const Evaluation evaluation = rig.trainer->evaluate();
  EXPECT_EQ(evaluation.rows, 250);
  double metrics[2] = {evaluation.accuracy, evaluation.loss};
  double root[2] = {metrics[0], metrics[1]};
  MPI_Bcast(root, 2, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  EXPECT_EQ(metrics[0], root[0]);
  EXPECT_EQ(metrics[1], root[1]);
  EXPECT_EQ(evaluation.accuracy, static_cast<double>(evaluation.correct) / 250.0);
}

TEST(Replicas, DifferentModelsOnDifferentRanksAreRefusedEverywhere) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size < 2) GTEST_SKIP() << "needs 2 ranks";
  TrainConfig config = small_config();
  if (rank == size - 1) config.hidden = std::vector<int>{65};
  try {
    testing::TrainerRig rig(config, MPI_COMM_WORLD);
    FAIL() << "ranks with different models trained together";
  } catch (const AgreedError& error) {
    EXPECT_NE(std::string(error.what()).find("the ranks built different models"), std::string::npos)
        << error.what();
    EXPECT_EQ(error.exit_status(), kExitBadInput);
  }
}

TEST(Replicas, BadDataOnOneRankStopsEveryRank) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  TrainConfig config = small_config();
  config.data_path = testing::shared_test_file("bad-train-label");
  config.batch_size = 32;
  try {
    testing::TrainerRig rig(config, MPI_COMM_WORLD);
    FAIL() << "trained on a label of 11";
  } catch (const AgreedError& error) {
    // Row 40 lies in rank 1's shard (rows 32..63) whenever there are two ranks or more.
    const std::string prefix = size == 1 ? "" : "rank 1: ";
    EXPECT_EQ(std::string(error.what()),
              prefix + "data file '" + config.data_path +
                  "': /train/labels[40] = 11, but labels must be 0..9 (num_classes)");
  }
}

}  // namespace
}  // namespace dptrain
