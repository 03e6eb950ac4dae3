// Data parallelism must not change the mathematics: N ranks with B rows each must train like one
// rank with N*B rows (same global batches, same averaged gradients, same Adam updates).
#include <gtest/gtest.h>

#include <cmath>

#include "dptrain/core/error.hpp"
#include "mpi/shared_files.hpp"
#include "mpi/trainer_fixture.hpp"

namespace dptrain {
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
  return {std::sqrt(diff / norm), max_abs};
}

TEST(Equivalence, NRanksMatchOneRankWithTheGlobalBatch) {
  int world_size = 1, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  TrainConfig config;
  config.data_path = testing::shared_synthetic_file(2003, 100, 5);
  config.batch_size = 16;
  config.hidden = {32, 16};
  config.seed = 9;
  config.adam.lr = 3e-3f;
  // Two epochs' worth of steps or more, so that the reshuffle between epochs is covered too.
  testing::TrainerRig data_parallel(config, MPI_COMM_WORLD);
  const size_t steps = std::max<size_t>(25, data_parallel.trainer->sampler().steps_per_epoch() + 5);
  data_parallel.train_steps(steps);
  const std::vector<float> parallel = data_parallel.trainer->parameters();

  if (rank == 0) {
    TrainConfig single = config;
    single.batch_size = config.batch_size * world_size;
    testing::TrainerRig one_rank(single, MPI_COMM_SELF);
    one_rank.train_steps(steps);
    const std::vector<float> reference = one_rank.trainer->parameters();
    for (const TensorSlot& tensor : data_parallel.trainer->model().layout().tensors()) {
      const Difference difference = compare(parallel, reference, tensor);
      EXPECT_LE(difference.relative, 1e-5)
          << tensor.name << " after " << steps << " steps on " << world_size
          << " ranks; largest difference " << difference.max_abs;
      if (world_size == 1) {
        EXPECT_EQ(difference.max_abs, 0.0) << tensor.name;
      }
    }
    // The runs moved far from the start: a trivial match would not count.
    std::vector<float> initial(reference.size());
    data_parallel.trainer->model().initialize(initial, config.seed);
    for (const TensorSlot& tensor : data_parallel.trainer->model().layout().tensors())
      EXPECT_GT(compare(reference, initial, tensor).max_abs, 1e-2) << tensor.name;
  }
}

}  // namespace
}  // namespace dptrain
