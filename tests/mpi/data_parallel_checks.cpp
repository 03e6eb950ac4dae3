#include "mpi/data_parallel_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "dptrain/comm/shards.hpp"
#include "dptrain/core/error.hpp"
#include "mpi/shared_files.hpp"
#include "support/numeric_checks.hpp"

namespace dptrain::testing {
namespace {

double max_abs_difference(const std::vector<float>& a, const std::vector<float>& b,
                          const TensorSlot& t) {
  double largest = 0.0;
  for (size_t i = t.offset; i < t.offset + t.size; ++i)
    largest = std::max(largest, std::abs(static_cast<double>(a[i]) - b[i]));
  return largest;
}

template <class T>
std::vector<T> to_host(Backend& backend, const T* data, size_t count) {
  std::vector<T> host(count);
  backend.copy_to_host(host.data(), data, count * sizeof(T));
  return host;
}

// An allreduce update (sharded or not, as the configuration says) that keeps what its first
// step saw: each rank's own gradients before the exchange, and the summed gradients after it
// (with --shard-optimizer only this rank's shard of them is summed).
class FirstStepRecorder final : public ParameterUpdate {
 public:
  FirstStepRecorder(Communicator& communicator, Backend& backend, const TrainConfig& config)
      : backend_(backend),
        inner_(make_allreduce_update(communicator, backend,
                                     model_layout(model_spec(config)).total(),
                                     update_options(config, nullptr), config.shard_optimizer)) {}

  std::string name() const override { return inner_->name(); }
  float gradient_scale(size_t local_batch, size_t global_batch) const override {
    return inner_->gradient_scale(local_batch, global_batch);
  }
  size_t buffer_elements(size_t parameters) const override {
    return inner_->buffer_elements(parameters);
  }
  void set_schedule(const ew::LrSchedule& schedule) override { inner_->set_schedule(schedule); }
  void initialize(float* params, const Model& model, uint64_t seed) override {
    inner_->initialize(params, model, seed);
  }
  GradientsReady* begin_backward(SumBuffer local_sum) override {
    return inner_->begin_backward(local_sum);
  }
  StepOutcome apply(float* params, GradientSum& sum, int64_t step) override {
    const bool first = local.empty();
    if (first) local = to_host(backend_, sum.gradients(), sum.parameters());
    const StepOutcome outcome = inner_->apply(params, sum, step);
    if (first) summed = to_host(backend_, sum.gradients(), sum.parameters());
    return outcome;
  }
  std::string save_checkpoint(const World& everyone, Checkpoint checkpoint, double loss,
                              const float* params, const CheckpointPlace& place) override {
    return inner_->save_checkpoint(everyone, std::move(checkpoint), loss, params, place);
  }
  void restore(float* params, const Checkpoint& checkpoint) override {
    inner_->restore(params, checkpoint);
  }

  std::vector<float> local, summed;

 private:
  Backend& backend_;
  std::unique_ptr<ParameterUpdate> inner_;
};

// The first step's recorded gradients on the ranks of `comm`.
struct FirstStep {
  std::vector<float> local, summed;
};

FirstStep record_first_step(const TrainConfig& config, MPI_Comm comm, TestDevice device) {
  TrainerRig rig(config, comm, device);  // for its backend and communicator
  FirstStepRecorder recorder(*rig.communicator, *rig.backend, config);
  const std::unique_ptr<Trainer> trainer =
      Trainer::create(config, rig.world, recorder, *rig.backend);
  trainer->begin_epoch(1);
  trainer->step(0);
  return {recorder.local, recorder.summed};
}

}  // namespace

int ranks_differing_from_root(const std::vector<float>& params, MPI_Comm comm) {
  std::vector<float> root = params;
  MPI_Bcast(root.data(), static_cast<int>(root.size()), MPI_FLOAT, 0, comm);
  int differs = std::memcmp(root.data(), params.data(), params.size() * sizeof(float)) != 0;
  MPI_Allreduce(MPI_IN_PLACE, &differs, 1, MPI_INT, MPI_SUM, comm);
  return differs;
}

namespace {

// A NaN in the last rank's gradients at global step 3, for the rigs made while it lives.
class NonFiniteAtStep3 {
 public:
  NonFiniteAtStep3() {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const std::string fault = "nonfinite-gradient:" + std::to_string(size - 1) + ":3";
    setenv("DPTRAIN_FAULT", fault.c_str(), 1);
  }
  ~NonFiniteAtStep3() { unsetenv("DPTRAIN_FAULT"); }
};

AllreduceUpdate& allreduce_update(TrainerRig& rig) {
  return dynamic_cast<AllreduceUpdate&>(*rig.update);
}

}  // namespace

void expect_deferred_skip_matches_immediate(TestDevice device) {
  TrainConfig config = small_config();
  config.on_nonfinite = NonFinitePolicy::skip;
  const NonFiniteAtStep3 fault;
  TrainerRig immediate(config, MPI_COMM_WORLD, device);
  TrainerRig deferred(config, MPI_COMM_WORLD, device);
  allreduce_update(immediate).set_report_every_step(true);
  allreduce_update(deferred).set_report_every_step(false);
  immediate.train_steps(6);
  deferred.train_steps(6);
  EXPECT_EQ(deferred.update->collect_deferred(), 1) << "step 3, heard of after step 6";
  EXPECT_EQ(deferred.update->collect_deferred(), 0) << "and only once";
  const std::vector<float> a = immediate.trainer->parameters();
  const std::vector<float> b = deferred.trainer->parameters();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  EXPECT_TRUE(std::all_of(b.begin(), b.end(), [](float x) { return std::isfinite(x); }));
}

void expect_deferred_abort_halts_at_the_bad_step(TestDevice device) {
  const TrainConfig config = small_config();
  const NonFiniteAtStep3 fault;
  TrainerRig rig(config, MPI_COMM_WORLD, device);
  allreduce_update(rig).set_report_every_step(false);
  rig.train_steps(2);
  const std::vector<float> before = rig.trainer->parameters();
  for (size_t k = 2; k < 6; ++k)
    rig.trainer->step(k);  // steps 3 to 6: the device skips them, the host does not wait
  const std::vector<float> after = rig.trainer->parameters();
  EXPECT_EQ(std::memcmp(before.data(), after.data(), before.size() * sizeof(float)), 0)
      << "an update ran after the bad step";
  try {
    rig.update->collect_deferred();
    FAIL() << "the halt went unreported";
  } catch (const AgreedError& error) {
    EXPECT_STREQ(error.what(),
                 "step 3: non-finite gradient (NaN or infinity) in the gradients (--on-nonfinite "
                 "abort); seen at step 6, where the host next waited for the device; no update "
                 "after step 2 was applied");
    EXPECT_EQ(error.exit_status(), kExitFailure);
  }
}

TrainConfig small_config() {
  TrainConfig config;
  config.data_path = shared_synthetic_file(3000, 250, 1);
  config.batch_size = 20;
  config.eval_batch_size = 64;
  config.seed = 4;
  return config;
}

void expect_exact_n_ranks_match_one_rank(TestDevice device, const ExactCase& exact_case) {
  int world_size = 1, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const bool cnn = exact_case.model == ModelKind::cnn;
  TrainConfig config;
  // An epoch, the reshuffle into the next, and a few steps of it. The CNN's steps cost more:
  // fewer rows.
  config.data_path = shared_synthetic_file(cnn ? 301 : 2003, 100, 5);
  config.model = exact_case.model;
  if (!cnn) config.hidden = std::vector<int>{32, 16};
  config.batch_size = exact_case.rows_per_rank;
  config.micro_batch = exact_case.micro_batch;
  config.exact = true;
  config.seed = 9;
  config.optimizer.lr = 3e-3f;
  config.bucket_kb = exact_case.bucket_kb;
  const auto train = [&](TrainerRig& rig) {
    if (exact_case.start_with_tiny_scales)
      rig.trainer->gradient_sum().scales().set_exponents(
          std::vector<int32_t>(rig.trainer->model().layout().tensors().size(), -60));
    const size_t steps = rig.trainer->sampler().steps_per_epoch() + 3;
    rig.train_steps(steps);
    return steps;
  };
  TrainerRig data_parallel(config, MPI_COMM_WORLD, device, exact_case.threads);
  const size_t steps = train(data_parallel);
  const std::vector<float> parallel = data_parallel.trainer->parameters();
  EXPECT_EQ(ranks_differing_from_root(parallel), 0);
  if (exact_case.start_with_tiny_scales) {
    EXPECT_GE(data_parallel.trainer->recomputed_steps(), 1u);
  }
  if (rank != 0) return;

  TrainConfig single = config;
  single.batch_size = config.batch_size * world_size;
  single.bucket_kb = 0;
  TrainerRig one_rank(single, MPI_COMM_SELF, device, exact_case.threads);
  train(one_rank);
  EXPECT_EQ(one_rank.trainer->recomputed_steps(), data_parallel.trainer->recomputed_steps());
  const std::vector<float> reference = one_rank.trainer->parameters();
  std::vector<float> initial(reference.size());
  data_parallel.trainer->model().initialize(initial, config.seed);
  for (const TensorSlot& tensor : data_parallel.trainer->model().layout().tensors()) {
    EXPECT_EQ(max_abs_difference(parallel, reference, tensor), 0.0)
        << tensor.name << " after " << steps << " steps on " << world_size << " ranks";
    // The runs moved far from the start: a trivial match would not count.
    EXPECT_GT(max_abs_difference(reference, initial, tensor), 1e-2) << tensor.name;
  }
  EXPECT_EQ(std::memcmp(parallel.data(), reference.data(), parallel.size() * sizeof(float)), 0);
}

void expect_first_step_sums_within_the_summation_bound(TestDevice device, ModelKind model) {
  int world_size = 1, rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  TrainConfig config;
  config.data_path = shared_synthetic_file(500, 100, 5);
  config.model = model;
  if (model == ModelKind::mlp) config.hidden = std::vector<int>{32, 16};
  config.batch_size = 16;
  config.seed = 9;
  const FirstStep parallel = record_first_step(config, MPI_COMM_WORLD, device);
  // sum over ranks of |this rank's micro-batch gradient|, in double: exact enough to bound with.
  std::vector<double> magnitudes(parallel.local.size());
  for (size_t i = 0; i < magnitudes.size(); ++i)
    magnitudes[i] = std::abs(static_cast<double>(parallel.local[i]));
  MPI_Allreduce(MPI_IN_PLACE, magnitudes.data(), static_cast<int>(magnitudes.size()), MPI_DOUBLE,
                MPI_SUM, MPI_COMM_WORLD);
  if (rank != 0) return;

  TrainConfig single = config;
  single.batch_size = config.batch_size * world_size;
  single.micro_batch = config.batch_size;
  const FirstStep one_rank = record_first_step(single, MPI_COMM_SELF, device);
  const double bound_factor = 2.0 * float_gamma(world_size - 1);
  size_t nonzero = 0;
  for (size_t i = 0; i < magnitudes.size(); ++i) {
    const double difference =
        std::abs(static_cast<double>(parallel.summed[i]) - one_rank.summed[i]);
    ASSERT_LE(difference, bound_factor * magnitudes[i])
        << "element " << i << " of the first step's summed gradients on " << world_size << " ranks";
    nonzero += magnitudes[i] > 0.0;
  }
  EXPECT_GT(nonzero, magnitudes.size() / 2);  // the check compared real gradients
}

void expect_sharded_first_step_sums_within_the_summation_bound(TestDevice device) {
  int world_size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  TrainConfig config;
  config.data_path = shared_synthetic_file(500, 100, 5);
  config.hidden = std::vector<int>{32, 16};
  config.batch_size = 16;
  config.seed = 9;
  const FirstStep whole = record_first_step(config, MPI_COMM_WORLD, device);
  config.shard_optimizer = true;
  const FirstStep sharded = record_first_step(config, MPI_COMM_WORLD, device);
  ASSERT_TRUE(same_bits(sharded.local, whole.local)) << "the same local gradients";
  std::vector<double> magnitudes(whole.local.size());
  for (size_t i = 0; i < magnitudes.size(); ++i)
    magnitudes[i] = std::abs(static_cast<double>(whole.local[i]));
  MPI_Allreduce(MPI_IN_PLACE, magnitudes.data(), static_cast<int>(magnitudes.size()), MPI_DOUBLE,
                MPI_SUM, MPI_COMM_WORLD);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const ShardRange shard = shard_of(whole.local.size(), world_size, rank);
  const double bound_factor = 2.0 * float_gamma(world_size - 1);
  for (size_t i = shard.begin; i < shard.end(); ++i)
    ASSERT_LE(std::abs(static_cast<double>(sharded.summed[i]) - whole.summed[i]),
              bound_factor * magnitudes[i])
        << "element " << i << " of rank " << rank << "'s shard on " << world_size << " ranks";
}

void expect_replicas_bitwise_equal_after_training(TestDevice device, size_t bucket_kb, bool exact) {
  TrainConfig config = small_config();
  config.bucket_kb = bucket_kb;
  config.exact = exact;
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
