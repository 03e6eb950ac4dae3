// Parameter-server mode with real messages: 3 workers and 1 or 2 servers (4 or 5 ranks).
// Skipped below 4 ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/comm/mpi_communicator.hpp"
#include "dptrain/ps/ps_worker.hpp"
#include "dptrain/ps/serve.hpp"
#include "dptrain/train/trainer.hpp"
#include "mpi/data_parallel_checks.hpp"
#include "mpi/shared_files.hpp"
#include "support/numeric_checks.hpp"

namespace dptrain {
namespace {

constexpr int kWorkers = 3;

// The world split into servers (the first size - 3 ranks) and 3 workers.
class ParameterServerTest : public ::testing::Test {
 public:
  void SetUp() override {
    world_ = std::make_unique<World>(MPI_COMM_WORLD);
    if (world_->size() < kWorkers + 1) GTEST_SKIP() << "needs 3 workers and a server: 4+ ranks";
    servers_ = world_->size() - kWorkers;
    MPI_Comm_split(MPI_COMM_WORLD, is_server() ? 0 : 1, world_->rank(), &role_);
    role_world_ = std::make_unique<World>(role_);
  }
  void TearDown() override {
    if (role_ != MPI_COMM_NULL) MPI_Comm_free(&role_);
  }

  bool is_server() const { return world_->rank() < servers_; }
  const World& world() const { return *world_; }
  MPI_Comm role() const { return role_; }
  int servers() const { return servers_; }

  TrainConfig config(bool async) const {
    TrainConfig config;
    config.data_path = testing::shared_synthetic_file(2003, 100, 5);
    config.batch_size = 16;
    config.hidden = std::vector<int>{32, 16};
    config.seed = 9;
    config.optimizer.lr = 3e-3f;
    config.mode = TrainMode::ps;
    config.ps_servers = servers_;
    config.ps_async = async;
    config.ps_staleness = async ? std::optional<size_t>(1) : std::nullopt;
    return config;
  }

  // Trains `epochs` epochs in parameter-server mode; on workers, returns each epoch's metrics.
  std::vector<EpochMetrics> train_with_servers(const TrainConfig& config,
                                               std::vector<float>* params) {
    const size_t parameters = model_layout(model_spec(config)).total();
    const PsPlan plan(world_->size(), servers_, parameters);
    std::vector<EpochMetrics> epochs;
    if (is_server()) {
      serve_parameters(config, *world_, plan);
    } else {
      PsWorkerUpdate update(*world_, plan, cpu_, parameters, ps_worker_options(config));
      auto trainer = Trainer::create(config, *role_world_, update, cpu_, world_.get());
      for (int epoch = 1; epoch <= config.epochs; ++epoch)
        epochs.push_back(trainer->run_epoch(epoch, nullptr));
      *params = trainer->parameters();
    }
    return epochs;
  }

  // No message may be left over once both sides are done.
  void expect_no_message_left() {
    MPI_Barrier(MPI_COMM_WORLD);
    int pending = 0;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &pending, MPI_STATUS_IGNORE);
    EXPECT_EQ(pending, 0) << "a message was left unmatched";
  }

 protected:
  CpuBackend cpu_{1};
  std::unique_ptr<World> world_;
  std::unique_ptr<World> role_world_;
  MPI_Comm role_ = MPI_COMM_NULL;
  int servers_ = 0;
};

// Synchronous servers add the workers' gradients in worker order, as one rank adds its
// micro-batches in order, and run the same Adam element by element: without --exact they must
// train exactly like one rank of 3 x 16 rows in micro-batches of 16, bit for bit. With --exact,
// the same for the integer sums, in whatever order the messages come.
// `adjust` may change the optimizer and its schedule: servers follow the schedule themselves.
void expect_servers_match_one_rank(ParameterServerTest& test, bool exact,
                                   const std::function<void(TrainConfig&)>& adjust = {}) {
  TrainConfig ps_config = test.config(false);
  ps_config.epochs = 2;  // 41 steps of 3 x 16 rows each, and the reshuffle
  ps_config.exact = exact;
  if (adjust) adjust(ps_config);
  std::vector<float> via_servers;
  const std::vector<EpochMetrics> metrics = test.train_with_servers(ps_config, &via_servers);
  test.expect_no_message_left();
  if (test.is_server()) return;

  ASSERT_EQ(metrics.size(), 2u);
  ASSERT_TRUE(metrics[0].ps.has_value());
  EXPECT_GE(metrics[0].steps, 20u);
  EXPECT_EQ(metrics[0].ps->max_staleness, 0u);
  EXPECT_EQ(metrics[0].ps->push_bytes_per_step,
            via_servers.size() * (exact ? sizeof(int64_t) : sizeof(float)));
  EXPECT_EQ(testing::ranks_differing_from_root(via_servers, test.role()), 0);
  if (test.world().rank() != test.servers()) return;  // the first worker checks

  TrainConfig one_rank = ps_config;
  one_rank.mode = TrainMode::allreduce;
  one_rank.ps_servers.reset();
  one_rank.micro_batch = ps_config.batch_size;
  one_rank.batch_size = ps_config.batch_size * kWorkers;
  testing::TrainerRig rig(one_rank, MPI_COMM_SELF);
  for (int epoch = 1; epoch <= ps_config.epochs; ++epoch)
    rig.trainer->run_epoch(epoch, nullptr);
  const std::vector<float> reference = rig.trainer->parameters();
  EXPECT_TRUE(testing::same_bits(via_servers, reference)) << test.servers() << " server(s)";
  std::vector<float> initial(reference.size());
  rig.trainer->model().initialize(initial, ps_config.seed);
  EXPECT_FALSE(testing::same_bits(reference, initial));
}

TEST_F(ParameterServerTest, SynchronousServersTrainLikeOneRankInMicroBatches) {
  expect_servers_match_one_rank(*this, /*exact=*/false);
}

TEST_F(ParameterServerTest, ExactSynchronousServersTrainLikeOneRankInMicroBatches) {
  expect_servers_match_one_rank(*this, /*exact=*/true);
}

// SGD with momentum on a scaled, warmed-up cosine schedule: the servers' host-made constants
// are the allreduce's device-made ones, bit for bit.
TEST_F(ParameterServerTest, SynchronousServersFollowTheScheduleLikeOneRank) {
  expect_servers_match_one_rank(*this, /*exact=*/false, [](TrainConfig& config) {
    config.optimizer.kind = OptimizerKind::sgd;
    config.optimizer.lr = 0.02f;
    config.optimizer.momentum = 0.9f;
    config.lr.scaling = LrScaling::linear;
    config.lr.warmup_epochs = 0.5;
    config.lr.kind = ew::ScheduleKind::cosine;
  });
}

TEST_F(ParameterServerTest, AsynchronousServersKeepTheStalenessBound) {
  TrainConfig async_config = config(true);
  async_config.epochs = 2;
  std::vector<float> params;
  const std::vector<EpochMetrics> metrics = train_with_servers(async_config, &params);
  expect_no_message_left();
  if (is_server()) return;
  ASSERT_EQ(metrics.size(), 2u);
  for (const EpochMetrics& epoch : metrics) {
    ASSERT_TRUE(epoch.ps.has_value());
    EXPECT_TRUE(epoch.ps->async);
    EXPECT_LE(epoch.ps->max_staleness, 1u);
    // Every worker's every gradient is applied by every server.
    EXPECT_EQ(epoch.ps->updates_per_server, epoch.steps * kWorkers);
  }
  EXPECT_LT(metrics[1].train_loss, metrics[0].train_loss);
  // Each epoch ends with every worker holding the same parameters.
  EXPECT_EQ(testing::ranks_differing_from_root(params, role_), 0);
}

}  // namespace
}  // namespace dptrain
