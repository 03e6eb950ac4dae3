#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "dptrain/backend/backend.hpp"
#include "dptrain/core/step_guard.hpp"
#include "dptrain/model/parameter_layout.hpp"
#include "dptrain/optim/optimizer.hpp"
#include "dptrain/train/config.hpp"

namespace dptrain {

struct EpochMetrics;

// What to do about a NaN or infinite gradient, and where to look it up for the message.
struct NonFiniteCheck {
  NonFinitePolicy policy = NonFinitePolicy::abort;
  const ParameterLayout* layout = nullptr;  // names the tensor in messages
};

// The report for a non-finite gradient in the tensor `where`.
std::string nonfinite_message(int64_t step, const std::string& where, NonFinitePolicy policy);

// An Optimizer over a range of the parameters, run under a StepGuard in the backend's memory
// (core/step_guard.hpp): each step decide() settles on the device whether the update runs and
// with which constants (the schedule's learning rate, --clip-norm's factor), update() applies
// it, and the host hears what was decided only at collect_deferred(), where it waits anyway.
// Allreduce mode uses one over all parameters, --shard-optimizer one over each rank's shard.
class GuardedOptimizer {
 public:
  GuardedOptimizer(Backend& backend, size_t elements, const OptimizerOptions& options,
                   const NonFiniteCheck& check, float clip_norm);

  // The learning rate of every step (the Trainer knows the steps per epoch).
  void set_schedule(const ew::LrSchedule& schedule) { policy_.schedule = schedule; }
  // What decide()'s agreement holds: `norm_blocks` partial sums of squares (with clipping),
  // then `index_slots` ranks' first non-finite indices within their shards, which begin every
  // `slot_stride` elements (sharded gradients).
  void set_agreement(uint32_t norm_blocks, uint32_t index_slots = 0, uint64_t slot_stride = 0);
  bool clips() const { return policy_.clip_norm > 0.0f; }

  // Where find_non_finite records this step's first bad gradient.
  uint64_t* non_finite_index() { return &guard_.data()->non_finite_index; }
  void decide(uint64_t host_index, const int64_t* agreement);
  // params and grads point at the range's first element.
  void update(float* params, const float* grads);

  // Reports what the device decided since the last call; a halt is thrown as an AgreedError.
  // Returns the steps skipped.
  int64_t collect_deferred();
  // The guard as the backend has it now (waits for the backend).
  ew::StepGuard read_guard();
  // After a resume: the step counters, so that the schedule and the optimizer's t continue.
  void restore_counters(int64_t global_step, int64_t optimizer_steps);
  // --clip-norm's figures for the epoch since the last call.
  void end_epoch(EpochMetrics& metrics);

  Optimizer& optimizer() { return optimizer_; }

 private:
  void write_guard(const ew::StepGuard& guard);
  std::string tensor_at(uint64_t index) const;

  Backend& backend_;
  Optimizer optimizer_;
  NonFiniteCheck check_;
  ew::StepPolicy policy_;
  DeviceArray<ew::StepGuard> guard_;
  ew::StepGuard reported_;     // as of the last collect_deferred()
  ew::StepGuard epoch_start_;  // as of the last end_epoch()
};

}  // namespace dptrain
