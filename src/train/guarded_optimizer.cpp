#include "dptrain/train/guarded_optimizer.hpp"

#include "dptrain/core/error.hpp"
#include "dptrain/core/log.hpp"
#include "dptrain/train/trainer.hpp"

namespace dptrain {

std::string nonfinite_message(int64_t step, const std::string& where, NonFinitePolicy policy) {
  return "step " + std::to_string(step) + ": non-finite gradient (NaN or infinity) in " + where +
         (policy == NonFinitePolicy::abort ? " (--on-nonfinite abort)"
                                           : "; step skipped (--on-nonfinite skip)");
}

GuardedOptimizer::GuardedOptimizer(Backend& backend, size_t elements,
                                   const OptimizerOptions& options, const NonFiniteCheck& check,
                                   float clip_norm)
    : backend_(backend), optimizer_(backend, elements, options), check_(check), guard_(backend, 1) {
  policy_.optimizer = options.hyper();
  policy_.schedule.peak = options.lr;
  policy_.halt_on_non_finite = check.policy == NonFinitePolicy::abort;
  policy_.clip_norm = clip_norm;
  write_guard(reported_);
}

void GuardedOptimizer::set_agreement(uint32_t norm_blocks, uint32_t index_slots,
                                     uint64_t slot_stride) {
  policy_.norm_blocks = clips() ? norm_blocks : 0;
  policy_.index_slots = index_slots;
  policy_.slot_stride = slot_stride;
}

void GuardedOptimizer::decide(uint64_t host_index, const int64_t* agreement) {
  backend_.decide_step(guard_.data(), policy_, host_index, agreement);
}

void GuardedOptimizer::update(float* params, const float* grads) {
  optimizer_.guarded_step(params, grads, guard_.data());
}

ew::StepGuard GuardedOptimizer::read_guard() {
  ew::StepGuard guard;
  backend_.copy_to_host(&guard, guard_.data(), sizeof guard);
  return guard;
}

void GuardedOptimizer::write_guard(const ew::StepGuard& guard) {
  backend_.copy_to_device(guard_.data(), &guard, sizeof guard);
}

void GuardedOptimizer::restore_counters(int64_t global_step, int64_t optimizer_steps) {
  ew::StepGuard guard;
  guard.steps = global_step;
  guard.optimizer_steps = optimizer_steps;
  write_guard(guard);
  reported_ = guard;
  epoch_start_ = guard;
}

std::string GuardedOptimizer::tensor_at(uint64_t index) const {
  if (check_.layout != nullptr)
    for (const TensorSlot& slot : check_.layout->tensors())
      if (index >= slot.offset && index - slot.offset < slot.size) return slot.name;
  return "the gradients";
}

int64_t GuardedOptimizer::collect_deferred() {
  const ew::StepGuard guard = read_guard();
  if (guard.halted_at != 0) {
    std::string report =
        nonfinite_message(guard.halted_at, tensor_at(guard.halted_index), NonFinitePolicy::abort);
    if (guard.steps > guard.halted_at)
      report += "; seen at step " + std::to_string(guard.steps) +
                ", where the host next waited for the device; no update after step " +
                std::to_string(guard.halted_at - 1) + " was applied";
    throw AgreedError(report, kExitFailure);
  }
  const int64_t skipped = guard.skipped - reported_.skipped;
  const std::string where = tensor_at(guard.latest_skipped_index);
  if (skipped == 1) {
    warn0("%s", nonfinite_message(guard.latest_skipped_step, where, NonFinitePolicy::skip).c_str());
  } else if (skipped > 1) {
    warn0(
        "%lld steps up to step %lld skipped for non-finite gradients (NaN or infinity), the "
        "latest in %s (--on-nonfinite skip)",
        static_cast<long long>(skipped), static_cast<long long>(guard.latest_skipped_step),
        where.c_str());
  }
  reported_ = guard;
  return skipped;
}

void GuardedOptimizer::end_epoch(EpochMetrics& metrics) {
  if (!clips()) return;
  const ew::StepGuard guard = read_guard();
  GradNormMetrics norm;
  const int64_t steps = guard.norm_steps - epoch_start_.norm_steps;
  norm.mean =
      steps > 0 ? (guard.norm_sum - epoch_start_.norm_sum) / static_cast<double>(steps) : 0.0;
  norm.last = guard.latest_norm;
  norm.clipped_steps = static_cast<size_t>(guard.clipped - epoch_start_.clipped);
  metrics.grad_norm = norm;
  epoch_start_ = guard;
}

}  // namespace dptrain
