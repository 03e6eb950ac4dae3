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
#include "dptrain/train/sharded_update.hpp"
#include "dptrain/train/trainer.hpp"

namespace dptrain {

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

std::optional<double> SentBytesPerStep::epoch(const Communicator& communicator, size_t steps_run) {
  const std::optional<uint64_t> sent = communicator.bytes_sent();
  if (!sent) return std::nullopt;
  const uint64_t since = *sent - at_epoch_start_;
  at_epoch_start_ = *sent;
  if (steps_run == 0) return std::nullopt;
  return static_cast<double>(since) / static_cast<double>(steps_run);
}

UpdateOptions update_options(const TrainConfig& config, const ParameterLayout* layout) {
  UpdateOptions options;
  options.optimizer = config.optimizer;
  options.check = {config.on_nonfinite, layout};
  options.bucket_bytes = config.bucket_kb.value_or(kDefaultBucketKb) * 1024;
  options.sums = config.exact ? SumType::i64 : SumType::f32;
  options.clip_norm = config.clip_norm.value_or(0.0f);
  return options;
}

std::unique_ptr<ParameterUpdate> make_allreduce_update(Communicator& communicator, Backend& backend,
                                                       size_t parameters,
                                                       const UpdateOptions& options, bool shard) {
  if (shard) return std::make_unique<ShardedUpdate>(communicator, backend, parameters, options);
  return std::make_unique<AllreduceUpdate>(communicator, backend, parameters, options);
}

AllreduceUpdate::AllreduceUpdate(Communicator& communicator, Backend& backend, size_t parameters,
                                 const UpdateOptions& options)
    : communicator_(communicator),
      backend_(backend),
      parameters_(parameters),
      check_(options.check),
      optimizer_(backend, parameters, options.optimizer, options.check, options.clip_norm),
      exchange_(communicator, parameters, options.bucket_bytes, options.sums),
      sums_(options.sums),
      report_every_step_(backend.host_accessible()) {
  if (optimizer_.clips()) {
    const size_t blocks = ew::norm_blocks(parameters);
    agreement_ = DeviceArray<int64_t>(backend, blocks);
    optimizer_.set_agreement(static_cast<uint32_t>(blocks), 0);
  }
}

GradientsReady* AllreduceUpdate::begin_backward(SumBuffer local_sum) {
  if (local_sum.type != sums_)
    throw std::logic_error("the gradient sum and the allreduce disagree on --exact");
  exchange_.begin(local_sum);
  return &exchange_;
}

void AllreduceUpdate::initialize(float* params, const Model& model, uint64_t seed) {
  broadcast_initial_parameters(communicator_, backend_, params, model, seed);
}

void broadcast_initial_parameters(Communicator& communicator, Backend& backend, float* params,
                                  const Model& model, uint64_t seed) {
  // Only rank 0 initialises; the others start from NaN, so a replica that missed the broadcast
  // could not go unnoticed.
  std::vector<float> initial(model.layout().total(), std::numeric_limits<float>::quiet_NaN());
  if (communicator.rank() == 0) model.initialize(initial, seed);
  backend.copy_to_device(params, initial.data(), initial.size() * sizeof(float));
  communicator.broadcast(params, initial.size(), 0);
}

std::optional<StepOutcome> judge_exact_step(const FixedPointScales::Judgement& judgement,
                                            GradientSum& sum, const NonFiniteCheck& check,
                                            int64_t step, uint64_t& found_by_host) {
  if (judgement.verdict == FixedPointScales::Verdict::rescale) return StepOutcome::recompute;
  if (judgement.verdict == FixedPointScales::Verdict::non_finite) {
    const TensorSlot& slot = sum.scales().slot(judgement.tensor);
    // The host has the agreed maxima already: an abort needs no device round trip.
    if (check.policy == NonFinitePolicy::abort)
      throw AgreedError(nonfinite_message(step, slot.name, check.policy), kExitFailure);
    found_by_host = slot.offset;
  }
  return std::nullopt;
}

StepOutcome AllreduceUpdate::apply(float* params, GradientSum& sum, int64_t step) {
  exchange_.finish(sum.local_sum());
  uint64_t found_by_host = ew::kNoIndex;
  if (sum.exact()) {
    const FixedPointScales::Judgement judgement =
        agree_on_scales(communicator_, backend_, sum, maxima_);
    if (const auto outcome = judge_exact_step(judgement, sum, check_, step, found_by_host))
      return *outcome;
  }
  const trace::Span span("check and optimizer", trace::Phase::optimizer);
  // The summed gradients (and with --exact the agreed maxima) are the same on every rank, so
  // every rank's guard decides the same.
  if (!sum.exact())
    backend_.find_non_finite(sum.gradients(), sum.parameters(), optimizer_.non_finite_index());
  if (optimizer_.clips())
    backend_.block_sums_of_squares(sum.gradients(), sum.parameters(), agreement_.data());
  optimizer_.decide(found_by_host, agreement_.data());
  optimizer_.update(params, sum.gradients());
  if (!report_every_step_) return StepOutcome::applied;  // or not: collect_deferred() tells
  return collect_deferred() > 0 ? StepOutcome::skipped : StepOutcome::applied;
}

FixedPointScales::Judgement agree_on_scales(Communicator& communicator, Backend& backend,
                                            GradientSum& sum, size_t& maxima) {
  const trace::Span span("agree on scales", trace::Phase::exchange);
  const std::span<float> host_maxima = sum.host_maxima();
  maxima = host_maxima.size();
  communicator.allreduce_max(sum.local_maxima(), host_maxima.size());
  backend.copy_to_host(host_maxima.data(), sum.local_maxima(), host_maxima.size_bytes());
  return sum.settle();
}

void AllreduceUpdate::end_epoch(EpochMetrics& metrics) {
  AllreduceMetrics allreduce;
  allreduce.collectives_per_step = exchange_.buckets() + (maxima_ > 0 ? 1 : 0);
  allreduce.bytes_per_step = communicator_.wire_bytes(sums_, parameters_) + maxima_ * sizeof(float);
  allreduce.optimizer_state_bytes = optimizer_.optimizer().state_bytes();
  allreduce.sent_bytes_per_step = sent_.epoch(communicator_, metrics.steps_run);
  metrics.allreduce = allreduce;
  optimizer_.end_epoch(metrics);
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
  add_epoch_loss(everyone, checkpoint, local_loss);
  std::string path;
  if (everyone.is_root()) {  // the replicas are identical: rank 0's state is everyone's
    Optimizer& optimizer = optimizer_.optimizer();
    checkpoint.params = download(backend_, params, parameters_);
    for (size_t i = 0; i < optimizer.state_names().size(); ++i)
      checkpoint.optimizer_state.push_back(
          {optimizer.state_names()[i], download(backend_, optimizer.state(i), parameters_)});
    checkpoint.optimizer_steps = optimizer_.read_guard().optimizer_steps;
    path = write_checkpoint(place.dir, *place.layout, checkpoint, place.keep);
  }
  return share_path(everyone, path);
}

void restore_optimizer_state(Backend& backend, Optimizer& optimizer, const Checkpoint& checkpoint,
                             size_t begin) {
  for (size_t i = 0; i < optimizer.state_names().size(); ++i) {
    const std::vector<float>& whole = checkpoint.optimizer_state.at(i).values;
    backend.copy_to_device(optimizer.state(i), whole.data() + begin,
                           optimizer.elements() * sizeof(float));
  }
}

void AllreduceUpdate::restore(float* params, const Checkpoint& checkpoint) {
  backend_.copy_to_device(params, checkpoint.params.data(),
                          checkpoint.params.size() * sizeof(float));
  restore_optimizer_state(backend_, optimizer_.optimizer(), checkpoint, 0);
  optimizer_.restore_counters(checkpoint.position.global_step, checkpoint.optimizer_steps);
}

}  // namespace dptrain
