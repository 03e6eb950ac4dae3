#include "dptrain/ps/ps_worker.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/watchdog.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/core/log.hpp"
#include "dptrain/core/trace.hpp"
#include "dptrain/ps/ps_checkpoint.hpp"
#include "dptrain/train/trainer.hpp"

namespace dptrain {

PsWorkerOptions ps_worker_options(const TrainConfig& config) {
  return {config.ps_async, config.ps_staleness.value_or(0),
          config.exact ? SumType::i64 : SumType::f32, config.on_nonfinite,
          optimizer_state_names(config.optimizer)};
}

PsWorkerUpdate::PsWorkerUpdate(const World& world, const PsPlan& plan, Backend& backend,
                               size_t parameters, const PsWorkerOptions& options)
    : world_(world),
      plan_(plan),
      backend_(backend),
      parameters_(parameters),
      options_(options),
      requests_(2 * static_cast<size_t>(plan.servers), MPI_REQUEST_NULL),
      maxima_(world.comm()) {
  if (!backend_.host_accessible()) {
    staged_grads_ = PinnedArray<int64_t>(backend_, parameters_);  // room for either type
    staged_params_ = PinnedArray<float>(backend_, parameters_);
  }
}

void agree_on_ps_maxima(RingAllreduce& ring, std::span<float> maxima) {
  const trace::Span span("agree on scales", trace::Phase::exchange);
  ring.max(maxima.data(), maxima.size());
}

std::string PsWorkerUpdate::name() const {
  return "parameter servers (" + std::to_string(plan_.servers) + ", " +
         (options_.async ? "asynchronous, staleness " + std::to_string(options_.staleness)
                         : "synchronous") +
         ")";
}

float PsWorkerUpdate::gradient_scale(size_t local_batch, size_t global_batch) const {
  // Synchronous servers sum all workers' gradients of a step; asynchronous ones apply each alone.
  return 1.0f / static_cast<float>(options_.async ? local_batch : global_batch);
}

void PsWorkerUpdate::initialize(float* params, const Model& /*model*/, uint64_t /*seed*/) {
  // Rank 0, a server, made the initial parameters; see ParameterServer::initialize.
  std::vector<float> initial(parameters_);
  world_.broadcast_bytes(initial.data(), initial.size() * sizeof(float), 0);
  backend_.copy_to_device(params, initial.data(), parameters_ * sizeof(float));
}

StepOutcome PsWorkerUpdate::apply(float* params, GradientSum& sum, int64_t step) {
  const SumBuffer local = sum.local_sum();
  if (local.type != options_.sums)
    throw std::logic_error("the gradient sum and the parameter servers disagree on --exact");
  if (sum.exact()) {
    const std::span<float> maxima = sum.host_maxima();
    backend_.copy_to_host(maxima.data(), sum.local_maxima(), maxima.size_bytes());
    agree_on_ps_maxima(maxima_, maxima);
    const FixedPointScales::Judgement judgement = sum.settle(/*convert=*/false);  // servers do
    if (judgement.verdict == FixedPointScales::Verdict::rescale) return StepOutcome::recompute;
    if (judgement.verdict == FixedPointScales::Verdict::non_finite) {
      // Every rank of the job knows, from the maxima: nobody pushes, every rank decides alike.
      const NonFinitePolicy policy = options_.on_nonfinite;
      const std::string report =
          nonfinite_message(step, sum.scales().slot(judgement.tensor).name, policy);
      if (policy == NonFinitePolicy::abort) throw AgreedError(report, kExitFailure);
      warn0("%s", report.c_str());
      return StepOutcome::skipped;
    }
  }
  push_and_pull(params, local);
  return StepOutcome::applied;
}

void PsWorkerUpdate::push_and_pull(float* params, SumBuffer local) {
  const trace::Span span("push and pull", trace::Phase::exchange);
  const bool in_place = backend_.host_accessible();
  const size_t bytes = local.element_bytes();
  char* host_grads =
      in_place ? static_cast<char*>(local.data) : reinterpret_cast<char*>(staged_grads_.data());
  float* host_params = in_place ? params : staged_params_.data();
  if (!in_place) backend_.copy_to_host(host_grads, local.data, parameters_ * bytes);
  const MPI_Datatype type = local.type == SumType::i64 ? MPI_INT64_T : MPI_FLOAT;
  const size_t servers = static_cast<size_t>(plan_.servers);
  for (size_t s = 0; s < servers; ++s) {
    const ParameterRange& range = plan_.ranges[s];
    mpiCheck(MPI_Irecv(host_params + range.begin, static_cast<int>(range.size()), MPI_FLOAT,
                       static_cast<int>(s), kPullTag, world_.comm(), &requests_[s]));
  }
  for (size_t s = 0; s < servers; ++s) {
    const ParameterRange& range = plan_.ranges[s];
    mpiCheck(MPI_Isend(host_grads + range.begin * bytes, static_cast<int>(range.size()), type,
                       static_cast<int>(s), kPushTag, world_.comm(), &requests_[servers + s]));
  }
  watchdog::wait_all(requests_, "the push of gradients to and pull of parameters from the servers");
  if (!in_place) backend_.copy_to_device(params, host_params, parameters_ * sizeof(float));
  // Without --exact the servers check the gradients (and skip, under --on-nonfinite skip).
}

void PsWorkerUpdate::end_epoch(EpochMetrics& metrics) {
  const PsEpochReport report = exchange_epoch_report(world_, {});
  PsMetrics ps;
  ps.async = options_.async;
  ps.servers = plan_.servers;
  for (const ParameterRange& range : plan_.ranges)
    ps.server_elements.push_back(range.size());
  ps.push_bytes_per_step = parameters_ * sum_buffer_element_bytes(options_.sums);
  ps.pull_bytes_per_step = parameters_ * sizeof(float);
  ps.updates_per_server = report.updates_per_server;
  ps.max_staleness = report.max_staleness;
  metrics.ps = ps;
}

std::string PsWorkerUpdate::save_checkpoint(const World& everyone, Checkpoint checkpoint,
                                            double local_loss, const float* /*params*/,
                                            const CheckpointPlace& place) {
  // The servers hold the parameters and the optimizer's state; a worker brings its share of the
  // loss.
  const ServerState none{nullptr, options_.optimizer_state, {}, 0};
  return save_ps_checkpoint(everyone, plan_, std::move(checkpoint), local_loss, none, place);
}

void PsWorkerUpdate::restore(float* params, const Checkpoint& checkpoint) {
  backend_.copy_to_device(params, checkpoint.params.data(), parameters_ * sizeof(float));
}

PsEpochReport exchange_epoch_report(const World& world, const PsEpochReport& mine) {
  return {static_cast<size_t>(world.max(mine.max_staleness)),
          static_cast<size_t>(world.max(mine.updates_per_server))};
}

}  // namespace dptrain
