#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "dptrain/backend/backend.hpp"
#include "dptrain/comm/communicator.hpp"
#include "dptrain/comm/shards.hpp"
#include "dptrain/train/guarded_optimizer.hpp"
#include "dptrain/train/parameter_update.hpp"

namespace dptrain {

// --shard-optimizer: ZeRO-1 (Rajbhandari et al. 2020, stage 1; PyTorch's
// ZeroRedundancyOptimizer; llm.c's -z 1). Each step the ranks reduce-scatter the summed
// gradients, so that rank r holds the sum of its shard (comm/shards.hpp: whole blocks of
// kShardAlignment elements) only; each runs the optimizer on its shard, with the optimizer's
// state for that shard only (1/N of it per rank); then they all-gather the parameters. A
// reduce-scatter and an all-gather are the two halves of a ring allreduce, so the bytes on the
// wire are the same as AllreduceUpdate's.
//
// What the ranks must decide together, each seeing only its shard, travels in one small sum of
// integers (the agreement): with --clip-norm the shards' block sums of squares, each block held
// by one rank and zero on the others, so that the sum hands its bits on exactly; and every
// rank's first non-finite index in its shard. The global norm is then the blocks' sums added in
// block order, the same bits as AllreduceUpdate's over the same gradients, and under --exact
// (whose summed gradients are the same bits however they were summed) the parameters are
// bitwise those of the unsharded run (tests/mpi/sharded_update_test.cpp).
class ShardedUpdate final : public ParameterUpdate {
 public:
  ShardedUpdate(Communicator& communicator, Backend& backend, size_t parameters,
                const UpdateOptions& options);
  void set_report_every_step(bool every_step) { report_every_step_ = every_step; }

  std::string name() const override;
  float gradient_scale(size_t /*local_batch*/, size_t global_batch) const override {
    return 1.0f / static_cast<float>(global_batch);
  }
  size_t buffer_elements(size_t parameters) const override;
  void set_schedule(const ew::LrSchedule& schedule) override { optimizer_.set_schedule(schedule); }
  void initialize(float* params, const Model& model, uint64_t seed) override;
  StepOutcome apply(float* params, GradientSum& sum, int64_t step) override;
  std::string save_checkpoint(const World& everyone, Checkpoint checkpoint, double local_loss,
                              const float* params, const CheckpointPlace& place) override;
  void restore(float* params, const Checkpoint& checkpoint) override;
  int64_t collect_deferred() override { return optimizer_.collect_deferred(); }
  bool recordable() const override {
    return sums_ == SumType::f32 && !report_every_step_ && communicator_.recordable();
  }
  void end_epoch(EpochMetrics& metrics) override;

  const ShardRange& shard() const { return shard_; }

 private:
  // The agreement's fixed start: zeros, and this rank's index slot empty (kNoIndex).
  void prepare_agreement();

  Communicator& communicator_;
  Backend& backend_;
  size_t parameters_;
  NonFiniteCheck check_;
  ShardRange shard_;
  GuardedOptimizer optimizer_;
  SumType sums_;
  size_t blocks_;                         // the norm's, over all parameters (0 without clipping)
  DeviceArray<int64_t> agreement_;        // blocks_ partial sums, then one index per rank
  DeviceArray<int64_t> agreement_start_;  // what each step's agreement starts from
  bool report_every_step_;
  size_t maxima_ = 0;  // --exact: floats of the scales' max collective per step
  SentBytesPerStep sent_;
};

}  // namespace dptrain
