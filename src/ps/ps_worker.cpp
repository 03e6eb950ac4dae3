#include "dptrain/ps/ps_worker.hpp"

#include <vector>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/watchdog.hpp"
#include "dptrain/core/trace.hpp"
#include "dptrain/ps/ps_checkpoint.hpp"
#include "dptrain/train/trainer.hpp"

namespace dptrain {

PsWorkerUpdate::PsWorkerUpdate(const World& world, const PsPlan& plan, Backend& backend,
                               size_t parameters, bool async, size_t staleness)
    : world_(world),
      plan_(plan),
      backend_(backend),
      parameters_(parameters),
      async_(async),
      staleness_(staleness),
      requests_(2 * static_cast<size_t>(plan.servers), MPI_REQUEST_NULL) {
  if (!backend_.host_accessible()) {
    staged_grads_ = PinnedArray<float>(backend_, parameters_);
    staged_params_ = PinnedArray<float>(backend_, parameters_);
  }
}

std::string PsWorkerUpdate::name() const {
  return "parameter servers (" + std::to_string(plan_.servers) + ", " +
         (async_ ? "asynchronous, staleness " + std::to_string(staleness_) : "synchronous") + ")";
}

float PsWorkerUpdate::gradient_scale(size_t local_batch, size_t global_batch) const {
  // Synchronous servers sum all workers' gradients of a step; asynchronous ones apply each alone.
  return 1.0f / static_cast<float>(async_ ? local_batch : global_batch);
}

void PsWorkerUpdate::initialize(float* params, const Model& /*model*/, uint64_t /*seed*/) {
  // Rank 0, a server, made the initial parameters; see ParameterServer::initialize.
  std::vector<float> initial(parameters_);
  world_.broadcast_bytes(initial.data(), initial.size() * sizeof(float), 0);
  backend_.copy_to_device(params, initial.data(), parameters_ * sizeof(float));
}

bool PsWorkerUpdate::apply(float* params, float* grads, int64_t /*step*/) {
  const trace::Span span("push and pull", trace::Phase::exchange);
  const bool in_place = backend_.host_accessible();
  float* host_grads = in_place ? grads : staged_grads_.data();
  float* host_params = in_place ? params : staged_params_.data();
  if (!in_place) backend_.copy_to_host(host_grads, grads, parameters_ * sizeof(float));
  const size_t servers = static_cast<size_t>(plan_.servers);
  for (size_t s = 0; s < servers; ++s) {
    const ParameterRange& range = plan_.ranges[s];
    mpiCheck(MPI_Irecv(host_params + range.begin, static_cast<int>(range.size()), MPI_FLOAT,
                       static_cast<int>(s), kPullTag, world_.comm(), &requests_[s]));
  }
  for (size_t s = 0; s < servers; ++s) {
    const ParameterRange& range = plan_.ranges[s];
    mpiCheck(MPI_Isend(host_grads + range.begin, static_cast<int>(range.size()), MPI_FLOAT,
                       static_cast<int>(s), kPushTag, world_.comm(), &requests_[servers + s]));
  }
  watchdog::wait_all(requests_, "the push of gradients to and pull of parameters from the servers");
  if (!in_place) backend_.copy_to_device(params, host_params, parameters_ * sizeof(float));
  return true;  // the servers check the gradients (and skip, under --on-nonfinite skip)
}

void PsWorkerUpdate::end_epoch(EpochMetrics& metrics) {
  const PsEpochReport report = exchange_epoch_report(world_, {});
  PsMetrics ps;
  ps.async = async_;
  ps.servers = plan_.servers;
  for (const ParameterRange& range : plan_.ranges)
    ps.server_elements.push_back(range.size());
  ps.push_bytes_per_step = parameters_ * sizeof(float);
  ps.pull_bytes_per_step = parameters_ * sizeof(float);
  ps.updates_per_server = report.updates_per_server;
  ps.max_staleness = report.max_staleness;
  metrics.ps = ps;
}

std::string PsWorkerUpdate::save_checkpoint(const World& everyone, Checkpoint checkpoint,
                                            double local_loss, const float* /*params*/,
                                            const CheckpointPlace& place) {
  // The servers hold the parameters and Adam's state; a worker brings its share of the loss.
  return save_ps_checkpoint(everyone, plan_, std::move(checkpoint), local_loss, nullptr, place);
}

void PsWorkerUpdate::restore(float* params, const Checkpoint& checkpoint) {
  backend_.copy_to_device(params, checkpoint.params.data(), parameters_ * sizeof(float));
}

PsEpochReport exchange_epoch_report(const World& world, const PsEpochReport& mine) {
  return {static_cast<size_t>(world.max(mine.max_staleness)),
          static_cast<size_t>(world.max(mine.updates_per_server))};
}

}  // namespace dptrain
