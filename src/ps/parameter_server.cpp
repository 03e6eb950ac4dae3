#include "dptrain/ps/parameter_server.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/watchdog.hpp"
#include "dptrain/core/error.hpp"
#include "dptrain/ps/ps_checkpoint.hpp"
#include "dptrain/ps/ps_worker.hpp"
#include "dptrain/train/lr_plan.hpp"
#include "dptrain/train/trainer.hpp"

namespace dptrain {

ParameterServer::ParameterServer(const World& world, const PsPlan& plan, const TrainConfig& config,
                                 size_t steps_per_epoch, bool stop_signals)
    : world_(world),
      plan_(plan),
      range_(plan.ranges.at(static_cast<size_t>(world.rank()))),
      config_(config),
      model_(describe_model(model_spec(config))),
      layout_(model_layout(model_spec(config))),
      steps_per_epoch_(steps_per_epoch),
      global_batch_(static_cast<size_t>(config.batch_size) * static_cast<size_t>(plan.workers)),
      nonfinite_{config.on_nonfinite, &layout_},
      steps_(step_schedule(config, stop_signals)),
      stop_(world.comm()),
      params_(cpu_, range_.size()),
      optimizer_(cpu_, range_.size(), config.optimizer),
      schedule_(lr_schedule(config, global_batch_, steps_per_epoch)),
      sum_(cpu_, range_.size()),
      receives_(static_cast<size_t>(plan.workers), MPI_REQUEST_NULL),
      sends_(static_cast<size_t>(plan.workers), MPI_REQUEST_NULL),
      gate_(plan.workers, steps_per_epoch, config.ps_staleness.value_or(0)),
      scales_(layout_, global_batch_ / static_cast<size_t>(micro_batch_rows(config))),
      maxima_ring_(world.comm()) {
  for (int w = 0; w < plan_.workers; ++w) {
    incoming_.emplace_back(cpu_, range_.size());
    outgoing_.emplace_back(range_.size());
    if (config_.exact) incoming_fixed_.emplace_back(range_.size());
  }
  if (config_.exact) {
    fixed_sum_.resize(range_.size());
    maxima_.resize(scales_.tensors());
  }
}

int ParameterServer::worker_rank(size_t worker) const {
  return plan_.world_rank_of_worker(static_cast<int>(worker));
}

void ParameterServer::initialize(const Model& model, uint64_t seed) {
  std::vector<float> initial(model.layout().total());
  if (world_.rank() == 0) model.initialize(initial, seed);
  world_.broadcast_bytes(initial.data(), initial.size() * sizeof(float), 0);
  std::copy(initial.begin() + static_cast<ptrdiff_t>(range_.begin),
            initial.begin() + static_cast<ptrdiff_t>(range_.end), params_.data());
}

void ParameterServer::resume() {
  const Checkpoint checkpoint =
      share_newest_checkpoint(world_, config_, layout_, global_batch_, plan_.workers);
  const auto range_of = [&](const std::vector<float>& whole, float* into) {
    std::copy(whole.begin() + static_cast<ptrdiff_t>(range_.begin),
              whole.begin() + static_cast<ptrdiff_t>(range_.end), into);
  };
  range_of(checkpoint.params, params_.data());
  for (size_t i = 0; i < optimizer_.state_names().size(); ++i)
    range_of(checkpoint.optimizer_state.at(i).values, optimizer_.state(i));
  optimizer_steps_ = checkpoint.optimizer_steps;
  // Updates count steps, or with asynchronous servers every worker's gradient of each.
  updates_ = checkpoint.position.global_step * (config_.ps_async ? plan_.workers : 1);
  if (config_.exact && checkpoint.exact) scales_.set_exponents(checkpoint.fixed_point_exponents);
  position_ = resume_position(checkpoint, global_batch_, steps_per_epoch_);
}

void ParameterServer::run() {
  while (position_.epoch <= config_.epochs) {
    const int epoch = position_.epoch;
    size_t updates = steps_per_epoch_;
    if (config_.ps_async) {
      updates = serve_asynchronous_epoch();
      position_.global_step += static_cast<int64_t>(steps_per_epoch_);
    } else {
      serve_synchronous_epoch();
    }
    exchange_epoch_report(world_, {gate_.max_lead_seen(), updates});
    position_ = {epoch + 1, 0, position_.global_step, 0.0};
    const std::string checkpoint = steps_.checkpoint_at_epoch_end() ? save_checkpoint() : "";
    if (steps_.stop_check_at_epoch_end()) stop_if_agreed(checkpoint);
  }
}

void ParameterServer::between_steps() {
  if (steps_.stop_check_after(position_.global_step)) stop_if_agreed("");
  if (steps_.checkpoint_after(position_.global_step)) save_checkpoint();
}

void ParameterServer::stop_if_agreed(const std::string& checkpoint_just_written) {
  dptrain::stop_if_agreed(stop_, steps_, position_, steps_per_epoch_, checkpoint_just_written,
                          [this] { return save_checkpoint(); });
}

std::string ParameterServer::save_checkpoint() {
  ServerState state{params_.data(), optimizer_.state_names(), {}, optimizer_steps_};
  for (size_t i = 0; i < optimizer_.state_names().size(); ++i)
    state.state.push_back(optimizer_.state(i));
  const CheckpointPlace place{config_.checkpoint_dir, config_.keep_checkpoints, &layout_};
  Checkpoint header = checkpoint_header(config_, position_, plan_.workers, global_batch_, model_);
  if (config_.exact) header.fixed_point_exponents = scales_.exponents();
  return save_ps_checkpoint(world_, plan_, std::move(header), 0.0, state, place);
}

void ParameterServer::serve_synchronous_epoch() {
  const int count = static_cast<int>(range_.size());
  const size_t workers = static_cast<size_t>(plan_.workers);
  for (size_t step = position_.step; step < steps_per_epoch_; ++step) {
    if (!config_.exact || agree_on_scales()) {
      receive_sum();
      apply(sum_.data());
      for (size_t w = 0; w < workers; ++w)
        mpiCheck(MPI_Isend(params_.data(), count, MPI_FLOAT, worker_rank(w), kPullTag,
                           world_.comm(), &sends_[w]));
      watchdog::wait_all(sends_, "a server sending parameters to the workers");
    }
    position_.step = step + 1;
    ++position_.global_step;
    between_steps();
  }
}

void ParameterServer::receive_sum() {
  const size_t n = range_.size();
  const int count = static_cast<int>(n);
  const size_t workers = static_cast<size_t>(plan_.workers);
  const bool exact = config_.exact;
  for (size_t w = 0; w < workers; ++w)
    mpiCheck(exact ? MPI_Irecv(incoming_fixed_[w].data(), count, MPI_INT64_T, worker_rank(w),
                               kPushTag, world_.comm(), &receives_[w])
                   : MPI_Irecv(incoming_[w].data(), count, MPI_FLOAT, worker_rank(w), kPushTag,
                               world_.comm(), &receives_[w]));
  watchdog::wait_all(receives_, "a server waiting for the workers' gradients");
  float* sum = sum_.data();
  if (!exact) {
    // In worker order, so that the sum does not depend on which message came first.
    std::copy(incoming_[0].data(), incoming_[0].data() + n, sum);
    for (size_t w = 1; w < workers; ++w)
      cpu_.add(sum, incoming_[w].data(), n);
    return;
  }
  // Integers: any order gives the same sum (unsigned, as the ring adds them).
  std::copy(incoming_fixed_[0].begin(), incoming_fixed_[0].end(), fixed_sum_.begin());
  for (size_t w = 1; w < workers; ++w)
    for (size_t i = 0; i < n; ++i)
      fixed_sum_[i] = static_cast<int64_t>(static_cast<uint64_t>(fixed_sum_[i]) +
                                           static_cast<uint64_t>(incoming_fixed_[w][i]));
  for (size_t t = 0; t < scales_.tensors(); ++t) {
    const TensorSlot& slot = scales_.slot(t);
    const size_t from = std::max(range_.begin, slot.offset);
    const size_t to = std::min(range_.end, slot.offset + slot.size);
    if (from < to)
      cpu_.from_fixed_point(fixed_sum_.data() + (from - range_.begin), to - from,
                            scales_.to_float(t), sum + (from - range_.begin));
  }
  scales_.adopt(maxima_);  // after the conversion, which used this step's scales
}

bool ParameterServer::agree_on_scales() {
  while (true) {
    std::fill(maxima_.begin(), maxima_.end(), 0.0f);  // the workers bring the gradients
    agree_on_ps_maxima(maxima_ring_, maxima_);
    const FixedPointScales::Judgement judgement = scales_.judge(maxima_);
    if (judgement.verdict == FixedPointScales::Verdict::fits) return true;
    if (judgement.verdict == FixedPointScales::Verdict::rescale) {
      scales_.adopt(maxima_);  // the workers compute the step again
      continue;
    }
    const std::string report = nonfinite_message(
        position_.global_step + 1, scales_.slot(judgement.tensor).name, config_.on_nonfinite);
    // Every rank knows: the first worker reports, every rank exits or skips alike.
    if (config_.on_nonfinite == NonFinitePolicy::abort) throw AgreedError(report, kExitFailure);
    ++updates_;
    return false;
  }
}

size_t ParameterServer::serve_asynchronous_epoch() {
  const int count = static_cast<int>(range_.size());
  const size_t workers = static_cast<size_t>(plan_.workers);
  const size_t steps = steps_per_epoch_;
  gate_.begin_epoch();
  for (size_t w = 0; w < workers; ++w)
    mpiCheck(MPI_Irecv(incoming_[w].data(), count, MPI_FLOAT, worker_rank(w), kPushTag,
                       world_.comm(), &receives_[w]));
  std::vector<long> pending(workers, -1);  // the step whose reply a worker waits for
  size_t updates = 0;
  for (size_t received = 0; received < workers * steps; ++received) {
    int index = MPI_UNDEFINED;
    index = watchdog::wait_any(receives_, "a server waiting for the workers' gradients");
    const size_t w = static_cast<size_t>(index);
    const size_t step = gate_.push(index);
    apply(incoming_[w].data());
    ++updates;
    if (gate_.pushes(index) < steps)
      mpiCheck(MPI_Irecv(incoming_[w].data(), count, MPI_FLOAT, worker_rank(w), kPushTag,
                         world_.comm(), &receives_[w]));
    pending[w] = static_cast<long>(step);
    send_ready_replies(pending);
  }
  watchdog::wait_all(sends_, "a server sending parameters to the workers");
  return updates;
}

void ParameterServer::apply(const float* gradient) {
  ++updates_;
  const std::string report =
      nonfinite_report(cpu_, gradient, range_.size(), updates_, nonfinite_, range_.begin);
  if (report.empty()) {
    // The schedule's step: the global step, which asynchronous servers reach once every worker
    // has pushed as many gradients.
    const int64_t workers = config_.ps_async ? plan_.workers : 1;
    const int64_t step = (updates_ - 1) / workers + 1;
    optimizer_.step(params_.data(), gradient,
                    ew::update_constants(config_.optimizer.hyper(), ew::lr_at(schedule_, step),
                                         ++optimizer_steps_, 1.0f));
  } else if (nonfinite_.policy == NonFinitePolicy::abort) {
    // Only this server knows: end the job from here (the workers wait for its answer).
    throw std::runtime_error("parameter server: " + report);
  } else {
    std::fprintf(stderr, "dptrain: warning: rank %d (a parameter server): %s\n", world_.rank(),
                 report.c_str());
  }
}

void ParameterServer::send_ready_replies(std::vector<long>& pending) {
  const int count = static_cast<int>(range_.size());
  for (size_t w = 0; w < pending.size(); ++w) {
    if (pending[w] < 0 || !gate_.may_reply(static_cast<size_t>(pending[w]))) continue;
    // The worker answered the previous reply with a push, so that send is long complete.
    watchdog::wait(sends_[w], "a server sending parameters to a worker");
    std::copy(params_.data(), params_.data() + range_.size(), outgoing_[w].begin());
    mpiCheck(MPI_Isend(outgoing_[w].data(), count, MPI_FLOAT, worker_rank(w), kPullTag,
                       world_.comm(), &sends_[w]));
    pending[w] = -1;
  }
}

}  // namespace dptrain
