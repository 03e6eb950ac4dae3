// The step recorded once and replayed (Backend::record; a CUDA graph on GPUs) must train as the
// step launched operation by operation, bit for bit: on the CPU with a backend that replays the
// recorded operations with their recorded arguments (support/replaying_backend.hpp), on one rank.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "dptrain/train/trainer.hpp"
#include "mpi/data_parallel_checks.hpp"
#include "mpi/shared_files.hpp"
#include "support/replaying_backend.hpp"

namespace dptrain {
namespace {

struct ReplayRig {
  explicit ReplayRig(const TrainConfig& config) : world(MPI_COMM_SELF) {
    update = make_allreduce_update(communicator, backend, model_layout(model_spec(config)).total(),
                                   update_options(config, nullptr), config.shard_optimizer);
    trainer = Trainer::create(config, world, *update, backend);
  }

  void train_steps(size_t steps) {
    const size_t per_epoch = trainer->sampler().steps_per_epoch();
    for (size_t s = 0; s < steps; ++s) {
      if (s % per_epoch == 0) trainer->begin_epoch(static_cast<int>(s / per_epoch) + 1);
      trainer->step(s % per_epoch);
    }
  }

  testing::ReplayingBackend backend;
  testing::AloneCommunicator communicator;
  World world;
  std::unique_ptr<ParameterUpdate> update;
  std::unique_ptr<Trainer> trainer;
};

// Into the second epoch (a new order of rows), so that replays see rows they were not
// recorded with.
void expect_replayed_equals_launched(TrainConfig config) {
  config.cuda_graph = false;
  ReplayRig launched(config);
  config.cuda_graph = true;
  ReplayRig replayed(config);
  const size_t steps = launched.trainer->sampler().steps_per_epoch() + 7;
  launched.train_steps(steps);
  replayed.train_steps(steps);
  EXPECT_EQ(launched.backend.recordings, 0);
  EXPECT_EQ(replayed.backend.recordings, 1) << "recorded once";
  EXPECT_EQ(replayed.backend.replays, static_cast<int>(steps));
  const std::vector<float> a = launched.trainer->parameters();
  const std::vector<float> b = replayed.trainer->parameters();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  const Evaluation ea = launched.trainer->evaluate(), eb = replayed.trainer->evaluate();
  EXPECT_EQ(ea.loss, eb.loss);
  EXPECT_EQ(ea.correct, eb.correct);
  // What a step launches, one by one without a graph: the README's launch-bound estimate.
  std::printf("recorded step (%s): %zu backend operations\n",
              describe_model(model_spec(config)).c_str(), replayed.backend.recorded_operations);
}

TEST(RecordedStep, ReplaysTrainAsLaunchedStepsBitForBit) {
  expect_replayed_equals_launched(testing::small_config());
}

TEST(RecordedStep, ReplaysTrainAsLaunchedStepsWithMicroBatchesAndBuckets) {
  TrainConfig config = testing::small_config();
  config.micro_batch = 10;
  config.bucket_kb = 4;
  expect_replayed_equals_launched(config);
}

TEST(RecordedStep, ReplaysTrainAsLaunchedStepsWithTheCnn) {
  TrainConfig config = testing::small_config();
  config.model = ModelKind::cnn;
  config.data_path = testing::shared_synthetic_file(200, 50, 9);
  expect_replayed_equals_launched(config);
}

// A model from a layer spec with standalone element-wise layers (tanh after a pool, and after a
// dense), which run through for_each_element: their loops replay in their place.
TEST(RecordedStep, ReplaysALayerSpecWithElementWiseLayers) {
  TrainConfig config = testing::small_config();
  config.model = ModelKind::layers;
  config.layers = "conv3x4s,relu,pool2,tanh,dense16,tanh,denseK";
  config.data_path = testing::shared_synthetic_file(200, 50, 9);
  expect_replayed_equals_launched(config);
}

// The schedule's rate and the clipping factor are decided on the device each step: a replayed
// step follows the warm-up and the cosine, and clips, as launched steps do.
TEST(RecordedStep, ReplaysFollowTheScheduleAndClipWithSgd) {
  TrainConfig config = testing::small_config();
  config.optimizer.kind = OptimizerKind::sgd;
  config.optimizer.lr = 0.05f;
  config.optimizer.momentum = 0.9f;
  config.lr.kind = ew::ScheduleKind::cosine;
  config.lr.warmup_steps = 30;
  config.clip_norm = 0.1f;
  expect_replayed_equals_launched(config);
}

// ZeRO-1's step on one rank: the agreement reset by a copy, the shard's update, the halves of
// the exchange; all of it replays.
TEST(RecordedStep, ReplaysShardedSteps) {
  TrainConfig config = testing::small_config();
  config.shard_optimizer = true;
  config.clip_norm = 0.1f;
  expect_replayed_equals_launched(config);
}

// --exact reads the scales' maxima on the host in mid-step: such a step is launched.
TEST(RecordedStep, ExactStepsAreNotRecorded) {
  TrainConfig config = testing::small_config();
  config.exact = true;
  ReplayRig rig(config);
  rig.train_steps(3);
  EXPECT_EQ(rig.backend.recordings, 0);
}

}  // namespace
}  // namespace dptrain
