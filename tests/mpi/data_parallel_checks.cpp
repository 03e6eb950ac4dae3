#include "mpi/data_parallel_checks.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "mpi/shared_files.hpp"

namespace dptrain::testing {
namespace {

struct Difference {
  double relative = 0.0;  // ||a - b|| / ||b|| over one tensor
  double max_abs = 0.0;
};

Difference compare(const std::vector<float>& a, const std::vector<float>& b, const TensorSlot& t) {
  double diff = 0.0, norm = 0.0, max_abs = 0.0;
  for (size_t i = t.offset; i < t.offset + t.size; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    diff += d * d;
    norm += static_cast<double>(b[i]) * b[i];
    max_abs = std::max(max_abs, std::abs(d));
  }
  return {norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff), max_abs};
}

}  // namespace

int ranks_differing_from_root(const std::vector<float>& params, MPI_Comm comm) {
  std::vector<float> root = params;
  MPI_Bcast(root.data(), static_cast<int>(root.size()), MPI_FLOAT, 0, comm);
  int differs = std::memcmp(root.data(), params.data(), params.size() * sizeof(float)) != 0;
  MPI_Allreduce(MPI_IN_PLACE, &differs, 1, MPI_INT, MPI_SUM, comm);
  return differs;
}

TrainConfig small_config() {
  TrainConfig config;
  config.data_path = shared_synthetic_file(3000, 250, 1);
  config.batch_size = 20;
  config.eval_batch_size = 64;
  config.seed = 4;
  return config;
}

void expect_n_ranks_match_one_rank(TestDevice device, size_t bucket_kb, ModelKind model) {
  int world_size = 1, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  TrainConfig config;
  // More than an epoch of steps, so that the reshuffle between epochs is covered too. The CNN's
  // ReLUs and window maxima make rounding differences grow faster with the steps (measured: within
  // 1e-5 for the first 5 steps, 1e-4 after 12): a small data set keeps its epochs short.
  config.data_path = shared_synthetic_file(model == ModelKind::cnn ? 163 : 2003, 100, 5);
  config.batch_size = 16;
  config.model = model;
  if (model == ModelKind::mlp) config.hidden = std::vector<int>{32, 16};
  config.seed = 9;
  config.adam.lr = 3e-3f;
  config.bucket_kb = bucket_kb;
  TrainerRig data_parallel(config, MPI_COMM_WORLD, device);
  const size_t per_epoch = data_parallel.trainer->sampler().steps_per_epoch();
  const size_t steps =
      model == ModelKind::cnn ? per_epoch + 4 : std::max<size_t>(25, per_epoch + 5);
  data_parallel.train_steps(steps);
  const std::vector<float> parallel = data_parallel.trainer->parameters();
  EXPECT_EQ(ranks_differing_from_root(parallel), 0);
  if (rank != 0) return;

  TrainConfig single = config;
  single.batch_size = config.batch_size * world_size;
  TrainerRig one_rank(single, MPI_COMM_SELF, device);
  one_rank.train_steps(steps);
  const std::vector<float> reference = one_rank.trainer->parameters();
  std::vector<float> initial(reference.size());
  data_parallel.trainer->model().initialize(initial, config.seed);
  for (const TensorSlot& tensor : data_parallel.trainer->model().layout().tensors()) {
    const Difference difference = compare(parallel, reference, tensor);
    EXPECT_LE(difference.relative, 1e-5)
        << tensor.name << " after " << steps << " steps on " << world_size
        << " ranks; largest difference " << difference.max_abs;
    if (world_size == 1 && device == TestDevice::cpu) {
      EXPECT_EQ(difference.max_abs, 0.0) << tensor.name;
    }
    // The runs moved far from the start: a trivial match would not count.
    EXPECT_GT(compare(reference, initial, tensor).max_abs, 1e-2) << tensor.name;
  }
}

void expect_replicas_bitwise_equal_after_training(TestDevice device, size_t bucket_kb) {
  TrainConfig config = small_config();
  config.bucket_kb = bucket_kb;
  TrainerRig rig(config, MPI_COMM_WORLD, device);
  EXPECT_EQ(ranks_differing_from_root(rig.trainer->parameters()), 0);
  const EpochMetrics first = rig.trainer->run_epoch(1, nullptr);
  EXPECT_EQ(ranks_differing_from_root(rig.trainer->parameters()), 0);
  const EpochMetrics second = rig.trainer->run_epoch(2, nullptr);
  EXPECT_EQ(ranks_differing_from_root(rig.trainer->parameters()), 0);
  EXPECT_LT(second.train_loss, first.train_loss);
  EXPECT_GT(second.test.accuracy, 0.5);  // the synthetic classes are easy to tell apart
}

}  // namespace dptrain::testing
