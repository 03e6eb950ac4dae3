#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "dptrain/backend/backend.hpp"
#include "dptrain/comm/communicator.hpp"
#include "dptrain/comm/world.hpp"
#include "dptrain/model/model.hpp"
#include "dptrain/optim/lr_schedule.hpp"
#include "dptrain/optim/optimizer.hpp"
#include "dptrain/train/bucketed_exchange.hpp"
#include "dptrain/train/checkpoint.hpp"
#include "dptrain/train/config.hpp"
#include "dptrain/train/gradient_sum.hpp"
#include "dptrain/train/guarded_optimizer.hpp"

namespace dptrain {

struct EpochMetrics;

enum class StepOutcome { applied, skipped, recompute };

// How a replica's gradients become its next parameters: the seam between the training loop and
// the modes of dptrain. With allreduce, the replicas sum their gradients and each applies the
// optimizer; with --shard-optimizer (ZeRO-1) each sums and updates its shard and the shards are
// gathered; with a parameter server, the replicas push gradients to server ranks that hold the
// parameters and the optimizer's state, and pull the parameters back.
class ParameterUpdate {
 public:
  virtual ~ParameterUpdate() = default;
  virtual std::string name() const = 0;

  // The factor each replica applies to its summed per-row loss gradients: 1 / global batch when
  // the gradients of a step are combined, 1 / local batch when each is applied on its own.
  virtual float gradient_scale(size_t local_batch, size_t global_batch) const = 0;

  // Elements the parameter buffer and the summed gradients need for `parameters` parameters
  // (ZeRO-1 pads them to whole shards).
  virtual size_t buffer_elements(size_t parameters) const { return parameters; }

  // The learning rate of every step, before the first (the Trainer knows the steps per epoch).
  // Parameter servers follow the same schedule, which they compute themselves.
  virtual void set_schedule(const ew::LrSchedule& /*schedule*/) {}

  // Collective: gives params (on the backend) the model's initial values as made on rank 0.
  virtual void initialize(float* params, const Model& model, uint64_t seed) = 0;

  // Called before the backward pass of a step's last micro-batch: `local_sum` is the buffer
  // that backward's listener fills (GradientSum::local_sum); returns who wants to hear, layer
  // by layer, that parts of it are final (to start sending them), or nobody.
  virtual GradientsReady* begin_backward(SumBuffer /*local_sum*/) { return nullptr; }

  // Collective: this step's gradients (already scaled, summed over this rank's micro-batches in
  // `sum`) in, the next parameters out. May overwrite the sum. `step` counts from 1 since
  // training began, for messages. Says whether the step was applied, skipped (a non-finite
  // gradient under --on-nonfinite skip), or must be computed again (--exact: a gradient outgrew
  // its fixed-point scale; `sum` holds larger scales now, agreed by every rank).
  virtual StepOutcome apply(float* params, GradientSum& sum, int64_t step) = 0;

  // Collective over the whole job (`everyone`): completes `checkpoint` (position and metadata
  // given; its loss is the sum of every rank's `local_loss`) with the parameters and the
  // optimizer state, and world rank 0 writes it. Returns the file's path on every rank.
  virtual std::string save_checkpoint(const World& everyone, Checkpoint checkpoint,
                                      double local_loss, const float* params,
                                      const CheckpointPlace& place) = 0;
  // This replica's parameters (and optimizer state, where it holds it) from a checkpoint.
  virtual void restore(float* params, const Checkpoint& checkpoint) = 0;

  // Whether apply() and the backward's listeners only queue work on the backend, with the same
  // arguments every step, so that the step can be recorded once and replayed (Backend::record).
  virtual bool recordable() const { return false; }

  // Where the host waits for the device anyway: reports what the device decided on its own
  // since the last call (--on-nonfinite: steps skipped, warned of; a halt, thrown as an
  // AgreedError) and returns the number of steps skipped. Every replica calls it at the same
  // step and decides the same.
  virtual int64_t collect_deferred() { return 0; }

  // Collective, after each epoch's evaluation: adds what the mode has to say to the metrics.
  virtual void end_epoch(EpochMetrics& /*metrics*/) {}
};

// Empty when the `count` gradients (elements layout_offset... of the flat buffer) are all finite;
// otherwise what to report, naming the step and the first tensor with a NaN or an infinity.
std::string nonfinite_report(Backend& backend, const float* grads, size_t count, int64_t step,
                             const NonFiniteCheck& check, size_t layout_offset = 0);

// The bytes a communicator's transport sent per step over an epoch, where it counts them
// (Communicator::bytes_sent).
class SentBytesPerStep {
 public:
  // At an epoch's end: the bytes since the last call over the epoch's steps run.
  std::optional<double> epoch(const Communicator& communicator, size_t steps_run);

 private:
  uint64_t at_epoch_start_ = 0;
};

// How allreduce mode updates: the optimizer, what to do about a non-finite gradient, the
// buckets, what the ranks sum (SumType::i64 with --exact, GradientSum::local_sum) and
// --clip-norm (0: none).
struct UpdateOptions {
  OptimizerOptions optimizer;
  NonFiniteCheck check;
  size_t bucket_bytes = 0;
  SumType sums = SumType::f32;
  float clip_norm = 0.0f;
};

// The options `config` gives; `layout` names tensors in messages (may be null).
UpdateOptions update_options(const TrainConfig& config, const ParameterLayout* layout);

// Allreduce mode: sum the gradients across the replicas with the communicator, in buckets that
// start during backward (see BucketedExchange), check them, then the optimizer on every
// replica, identically. The check and the decision stay on the backend (GuardedOptimizer): the
// host hears of a non-finite step at collect_deferred(), or at once where the backend's memory
// is the host's (`report_every_step`).
class AllreduceUpdate final : public ParameterUpdate {
 public:
  AllreduceUpdate(Communicator& communicator, Backend& backend, size_t parameters,
                  const UpdateOptions& options);
  // Whether apply() reads the guard back each step (default: where the backend's memory is the
  // host's, so it costs nothing); otherwise only collect_deferred() does.
  void set_report_every_step(bool every_step) { report_every_step_ = every_step; }

  std::string name() const override { return communicator_.name(); }
  float gradient_scale(size_t /*local_batch*/, size_t global_batch) const override {
    return 1.0f / static_cast<float>(global_batch);
  }
  void set_schedule(const ew::LrSchedule& schedule) override { optimizer_.set_schedule(schedule); }
  void initialize(float* params, const Model& model, uint64_t seed) override;
  GradientsReady* begin_backward(SumBuffer local_sum) override;
  StepOutcome apply(float* params, GradientSum& sum, int64_t step) override;
  std::string save_checkpoint(const World& everyone, Checkpoint checkpoint, double local_loss,
                              const float* params, const CheckpointPlace& place) override;
  void restore(float* params, const Checkpoint& checkpoint) override;
  int64_t collect_deferred() override { return optimizer_.collect_deferred(); }
  // Not with --exact (the host reads the maxima mid-step), nor with the host reading the guard
  // every step; buckets are fine where the communicator only queues (NCCL: on a stream of its
  // own, joined by events, which a capture follows).
  bool recordable() const override {
    return sums_ == SumType::f32 && !report_every_step_ && communicator_.recordable();
  }
  void end_epoch(EpochMetrics& metrics) override;

 private:
  Communicator& communicator_;
  Backend& backend_;
  size_t parameters_;
  NonFiniteCheck check_;
  GuardedOptimizer optimizer_;
  BucketedExchange exchange_;
  SumType sums_;
  DeviceArray<int64_t> agreement_;  // --clip-norm: the norm's blocks
  bool report_every_step_;
  size_t maxima_ = 0;  // --exact: floats of the scales' max collective per step
  SentBytesPerStep sent_;
};

// Allreduce mode's update: AllreduceUpdate, or with `shard` (--shard-optimizer) ShardedUpdate.
std::unique_ptr<ParameterUpdate> make_allreduce_update(Communicator& communicator, Backend& backend,
                                                       size_t parameters,
                                                       const UpdateOptions& options, bool shard);

// Collective: params (on the backend) <- the model's initial values as made on rank 0.
void broadcast_initial_parameters(Communicator& communicator, Backend& backend, float* params,
                                  const Model& model, uint64_t seed);

// The optimizer's state tensors from a checkpoint's, elements [begin, begin + elements()).
void restore_optimizer_state(Backend& backend, Optimizer& optimizer, const Checkpoint& checkpoint,
                             size_t begin);

// --exact: every rank's largest |g| per tensor, agreed, and the verdict on the sums. Returns
// the verdict; `maxima` counts the floats of the max collective.
FixedPointScales::Judgement agree_on_scales(Communicator& communicator, Backend& backend,
                                            GradientSum& sum, size_t& maxima);

// The `StepOutcome` of an --exact step's judgement, or nothing to say yet (the step goes on):
// recompute, or abort at once (the host knows). `found_by_host` receives a bad gradient's index
// under skip.
std::optional<StepOutcome> judge_exact_step(const FixedPointScales::Judgement& judgement,
                                            GradientSum& sum, const NonFiniteCheck& check,
                                            int64_t step, uint64_t& found_by_host);

}  // namespace dptrain
