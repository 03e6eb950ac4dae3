#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "dptrain/backend/backend.hpp"
#include "dptrain/comm/communicator.hpp"
#include "dptrain/comm/world.hpp"
#include "dptrain/model/model.hpp"
#include "dptrain/optim/adam.hpp"
#include "dptrain/train/bucketed_exchange.hpp"
#include "dptrain/train/checkpoint.hpp"
#include "dptrain/train/config.hpp"
#include "dptrain/train/gradient_sum.hpp"

namespace dptrain {

struct EpochMetrics;

enum class StepOutcome { applied, skipped, recompute };

// How a replica's gradients become its next parameters: the seam between the training loop and
// the two modes of dptrain. With allreduce, the replicas sum their gradients and each applies
// Adam; with a parameter server, the replicas push gradients to server ranks that hold the
// parameters and Adam's state, and pull the parameters back.
class ParameterUpdate {
 public:
  virtual ~ParameterUpdate() = default;
  virtual std::string name() const = 0;

  // The factor each replica applies to its summed per-row loss gradients: 1 / global batch when
  // the gradients of a step are combined, 1 / local batch when each is applied on its own.
  virtual float gradient_scale(size_t local_batch, size_t global_batch) const = 0;

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

// What to do about a NaN or infinite gradient, and where to look it up for the message.
struct NonFiniteCheck {
  NonFinitePolicy policy = NonFinitePolicy::abort;
  const ParameterLayout* layout = nullptr;  // names the tensor in messages
};

// Empty when the `count` gradients (elements layout_offset... of the flat buffer) are all finite;
// otherwise what to report, naming the step and the first tensor with a NaN or an infinity.
std::string nonfinite_report(Backend& backend, const float* grads, size_t count, int64_t step,
                             const NonFiniteCheck& check, size_t layout_offset = 0);
// The report for a non-finite gradient in the tensor `where`.
std::string nonfinite_message(int64_t step, const std::string& where, NonFinitePolicy policy);

// Allreduce mode: sum the gradients across the replicas with the communicator, in buckets that
// start during backward (see BucketedExchange), check them, then Adam on every replica,
// identically. The check and the decision stay on the backend (core/step_guard.hpp): the host
// hears of a non-finite step at collect_deferred(), or at once where the backend's memory is the
// host's (`report_every_step`).
class AllreduceUpdate final : public ParameterUpdate {
 public:
  // sums: what the ranks sum, SumType::i64 with --exact (GradientSum::local_sum).
  AllreduceUpdate(Communicator& communicator, Backend& backend, size_t parameters,
                  const AdamOptions& options, const NonFiniteCheck& check = {},
                  size_t bucket_bytes = 0, SumType sums = SumType::f32);
  // Whether apply() reads the guard back each step (default: where the backend's memory is the
  // host's, so it costs nothing); otherwise only collect_deferred() does.
  void set_report_every_step(bool every_step) { report_every_step_ = every_step; }

  std::string name() const override { return communicator_.name(); }
  float gradient_scale(size_t /*local_batch*/, size_t global_batch) const override {
    return 1.0f / static_cast<float>(global_batch);
  }
  void initialize(float* params, const Model& model, uint64_t seed) override;
  GradientsReady* begin_backward(SumBuffer local_sum) override;
  StepOutcome apply(float* params, GradientSum& sum, int64_t step) override;
  std::string save_checkpoint(const World& everyone, Checkpoint checkpoint, double local_loss,
                              const float* params, const CheckpointPlace& place) override;
  void restore(float* params, const Checkpoint& checkpoint) override;
  int64_t collect_deferred() override;
  // Not with --exact (the host reads the maxima mid-step), nor with the host reading the guard
  // every step; buckets are fine where the communicator only queues (NCCL: on a stream of its
  // own, joined by events, which a capture follows).
  bool recordable() const override {
    return sums_ == SumType::f32 && !report_every_step_ && communicator_.recordable();
  }
  void end_epoch(EpochMetrics& metrics) override;

 private:
  // --exact: every rank's largest |g| per tensor, agreed, and the verdict on the sums.
  FixedPointScales::Judgement agree_on_scales(GradientSum& sum);
  // The guard as the backend has it now (waits for the backend).
  ew::StepGuard read_guard();
  void write_guard(const ew::StepGuard& guard);
  // The tensor that holds element `index` of the flat gradients, for messages.
  std::string tensor_at(uint64_t index) const;

  Communicator& communicator_;
  Backend& backend_;
  Adam adam_;
  NonFiniteCheck check_;
  BucketedExchange exchange_;
  SumType sums_;
  DeviceArray<ew::StepGuard> guard_;
  ew::StepGuard reported_;  // the guard as of the last collect_deferred()
  bool report_every_step_;
  size_t maxima_ = 0;  // --exact: floats of the scales' max collective per step
};

}  // namespace dptrain
