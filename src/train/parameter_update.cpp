#include "dptrain/train/parameter_update.hpp"

#include <algorithm>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "dptrain/core/error.hpp"
#include "dptrain/core/log.hpp"
#include "dptrain/core/trace.hpp"
#include "dptrain/train/trainer.hpp"

namespace dptrain {

std::string nonfinite_message(int64_t step, const std::string& where, NonFinitePolicy policy) {
  return "step " + std::to_string(step) + ": non-finite gradient (NaN or infinity) in " + where +
         (policy == NonFinitePolicy::abort ? " (--on-nonfinite abort)"
                                           : "; step skipped (--on-nonfinite skip)");
}

std::string nonfinite_report(Backend& backend, const float* grads, size_t count, int64_t step,
                             const NonFiniteCheck& check, size_t layout_offset) {
  if (backend.all_finite(grads, count)) return "";
  std::string where = "the gradients";
  if (check.layout != nullptr)
    for (const TensorSlot& slot : check.layout->tensors()) {
      const size_t begin = std::max(slot.offset, layout_offset);
      const size_t end = std::min(slot.offset + slot.size, layout_offset + count);
      if (begin < end && !backend.all_finite(grads + (begin - layout_offset), end - begin)) {
        where = slot.name;
        break;
      }
    }
  return nonfinite_message(step, where, check.policy);
}

AllreduceUpdate::AllreduceUpdate(Communicator& communicator, Backend& backend, size_t parameters,
                                 const AdamOptions& options, const NonFiniteCheck& check,
                                 size_t bucket_bytes, SumType sums)
    : communicator_(communicator),
      backend_(backend),
      adam_(backend, parameters, options),
      check_(check),
      exchange_(communicator, parameters, bucket_bytes, sums),
      sums_(sums),
      guard_(backend, 1),
      report_every_step_(backend.host_accessible()) {
  write_guard(reported_);
}

GradientsReady* AllreduceUpdate::begin_backward(SumBuffer local_sum) {
  if (local_sum.type != sums_)
    throw std::logic_error("the gradient sum and the allreduce disagree on --exact");
  exchange_.begin(local_sum);
  return &exchange_;
}

void AllreduceUpdate::initialize(float* params, const Model& model, uint64_t seed) {
  // Only rank 0 initialises; the others start from NaN, so a replica that missed the broadcast
  // could not go unnoticed.
  std::vector<float> initial(model.layout().total(), std::numeric_limits<float>::quiet_NaN());
  if (communicator_.rank() == 0) model.initialize(initial, seed);
  backend_.copy_to_device(params, initial.data(), initial.size() * sizeof(float));
  communicator_.broadcast(params, initial.size(), 0);
}

StepOutcome AllreduceUpdate::apply(float* params, GradientSum& sum, int64_t step) {
  exchange_.finish(sum.local_sum());
  uint64_t found_by_host = ew::kNoIndex;
  if (sum.exact()) {
    const FixedPointScales::Judgement judgement = agree_on_scales(sum);
    if (judgement.verdict == FixedPointScales::Verdict::rescale) return StepOutcome::recompute;
    if (judgement.verdict == FixedPointScales::Verdict::non_finite) {
      const TensorSlot& slot = sum.scales().slot(judgement.tensor);
      // The host has the agreed maxima already: an abort needs no device round trip.
      if (check_.policy == NonFinitePolicy::abort)
        throw AgreedError(nonfinite_message(step, slot.name, check_.policy), kExitFailure);
      found_by_host = slot.offset;
    }
  }
  const trace::Span span("check and Adam", trace::Phase::optimizer);
  // The summed gradients (and with --exact the agreed maxima) are the same on every rank, so
  // every rank's guard decides the same.
  ew::StepGuard* guard = guard_.data();
  if (!sum.exact())
    backend_.find_non_finite(sum.gradients(), sum.parameters(), &guard->non_finite_index);
  backend_.decide_step(guard, {adam_.options().hyper(), check_.policy == NonFinitePolicy::abort},
                       found_by_host);
  adam_.guarded_step(params, sum.gradients(), guard);
  if (!report_every_step_) return StepOutcome::applied;  // or not: collect_deferred() tells
  return collect_deferred() > 0 ? StepOutcome::skipped : StepOutcome::applied;
}

ew::StepGuard AllreduceUpdate::read_guard() {
  ew::StepGuard guard;
  backend_.copy_to_host(&guard, guard_.data(), sizeof guard);
  return guard;
}

void AllreduceUpdate::write_guard(const ew::StepGuard& guard) {
  backend_.copy_to_device(guard_.data(), &guard, sizeof guard);
}

std::string AllreduceUpdate::tensor_at(uint64_t index) const {
  if (check_.layout != nullptr)
    for (const TensorSlot& slot : check_.layout->tensors())
      if (index >= slot.offset && index - slot.offset < slot.size) return slot.name;
  return "the gradients";
}

int64_t AllreduceUpdate::collect_deferred() {
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

FixedPointScales::Judgement AllreduceUpdate::agree_on_scales(GradientSum& sum) {
  const trace::Span span("agree on scales", trace::Phase::exchange);
  const std::span<float> maxima = sum.host_maxima();
  maxima_ = maxima.size();
  communicator_.allreduce_max(sum.local_maxima(), maxima.size());
  backend_.copy_to_host(maxima.data(), sum.local_maxima(), maxima.size_bytes());
  return sum.settle();
}

void AllreduceUpdate::end_epoch(EpochMetrics& metrics) {
  AllreduceMetrics allreduce;
  allreduce.collectives_per_step = exchange_.buckets() + (maxima_ > 0 ? 1 : 0);
  allreduce.bytes_per_step =
      communicator_.wire_bytes(sums_, adam_.first_moment().size()) + maxima_ * sizeof(float);
  metrics.allreduce = allreduce;
}

namespace {

template <class T>
std::vector<T> download(Backend& backend, const T* data, size_t count) {
  std::vector<T> host(count);
  backend.copy_to_host(host.data(), data, count * sizeof(T));
  return host;
}

}  // namespace

std::string AllreduceUpdate::save_checkpoint(const World& everyone, Checkpoint checkpoint,
                                             double local_loss, const float* params,
                                             const CheckpointPlace& place) {
  double loss = local_loss;
  everyone.sum({&loss, 1});
  checkpoint.position.epoch_loss_sum = loss;
  std::string path;
  if (everyone.is_root()) {  // the replicas are identical: rank 0's state is everyone's
    const size_t count = adam_.first_moment().size();
    checkpoint.params = download(backend_, params, count);
    checkpoint.adam_m = download(backend_, adam_.first_moment().data(), count);
    checkpoint.adam_v = download(backend_, adam_.second_moment().data(), count);
    checkpoint.adam_steps = read_guard().adam_steps;
    path = write_checkpoint(place.dir, *place.layout, checkpoint, place.keep);
  }
  return share_path(everyone, path);
}

void AllreduceUpdate::restore(float* params, const Checkpoint& checkpoint) {
  backend_.copy_to_device(params, checkpoint.params.data(),
                          checkpoint.params.size() * sizeof(float));
  backend_.copy_to_device(adam_.first_moment().data(), checkpoint.adam_m.data(),
                          adam_.first_moment().bytes());
  backend_.copy_to_device(adam_.second_moment().data(), checkpoint.adam_v.data(),
                          adam_.second_moment().bytes());
  ew::StepGuard guard;
  guard.steps = checkpoint.position.global_step;
  guard.adam_steps = checkpoint.adam_steps;
  write_guard(guard);
  reported_ = guard;
}

}  // namespace dptrain
