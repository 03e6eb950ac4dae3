// Parameter-server mode with real messages: 3 workers and 1 or 2 servers (4 or 5 ranks).
// Skipped below 4 ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/comm/mpi_communicator.hpp"
#include "dptrain/ps/ps_worker.hpp"
#include "dptrain/ps/serve.hpp"
#include "dptrain/train/trainer.hpp"
#include "mpi/data_parallel_checks.hpp"
#include "mpi/shared_files.hpp"

namespace dptrain {
namespace {

constexpr int kWorkers = 3;

// The world split into servers (the first size - 3 ranks) and 3 workers.
class ParameterServerTest : public ::testing::Test {
 protected:
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

  TrainConfig config(bool async) const {
    TrainConfig config;
    config.data_path = testing::shared_synthetic_file(2003, 100, 5);
    config.batch_size = 16;
    config.hidden = std::vector<int>{32, 16};
    config.seed = 9;
    config.adam.lr = 3e-3f;
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
      PsWorkerUpdate update(*world_, plan, cpu_, parameters, config.ps_async,
                            config.ps_staleness.value_or(0));
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

  CpuBackend cpu_{1};
  std::unique_ptr<World> world_;
  std::unique_ptr<World> role_world_;
  MPI_Comm role_ = MPI_COMM_NULL;
  int servers_ = 0;
};

TEST_F(ParameterServerTest, SynchronousServersTrainLikeAllreduce) {
  TrainConfig ps_config = config(false);
  ps_config.epochs = 1;  // 41 steps of 3 x 16 rows
  std::vector<float> via_servers;
  const std::vector<EpochMetrics> metrics = train_with_servers(ps_config, &via_servers);
  expect_no_message_left();
  if (is_server()) return;

  ASSERT_EQ(metrics.size(), 1u);
  ASSERT_TRUE(metrics[0].ps.has_value());
  EXPECT_GE(metrics[0].steps, 20u);
  EXPECT_EQ(metrics[0].ps->servers, servers_);
  EXPECT_EQ(metrics[0].ps->max_staleness, 0u);
  EXPECT_EQ(testing::ranks_differing_from_root(via_servers, role_), 0);

  // The same training on the same 3 workers in allreduce mode.
  TrainConfig allreduce_config = ps_config;
  allreduce_config.mode = TrainMode::allreduce;
  MpiCommunicator communicator(role_);
  AllreduceUpdate update(communicator, cpu_, via_servers.size(), allreduce_config.adam);
  auto trainer = Trainer::create(allreduce_config, *role_world_, update, cpu_);
  trainer->run_epoch(1, nullptr);
  const std::vector<float> via_allreduce = trainer->parameters();
  for (const TensorSlot& tensor : trainer->model().layout().tensors()) {
    double diff = 0, norm = 0;
    for (size_t i = tensor.offset; i < tensor.offset + tensor.size; ++i) {
      diff += std::pow(static_cast<double>(via_servers[i]) - via_allreduce[i], 2);
      norm += std::pow(static_cast<double>(via_allreduce[i]), 2);
    }
    EXPECT_LE(std::sqrt(diff / norm), 1e-5) << tensor.name << " with " << servers_ << " servers";
  }
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
