#include "dptrain/ps/parameter_server.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "dptrain/comm/mpi_check.hpp"
#include "dptrain/comm/watchdog.hpp"
#include "dptrain/ps/ps_worker.hpp"

namespace dptrain {

ParameterServer::ParameterServer(const World& world, const PsPlan& plan, const AdamOptions& options,
                                 const ServerSchedule& schedule)
    : world_(world),
      plan_(plan),
      range_(plan.ranges.at(static_cast<size_t>(world.rank()))),
      schedule_(schedule),
      params_(cpu_, range_.size()),
      adam_(cpu_, range_.size(), options),
      sum_(cpu_, range_.size()),
      receives_(static_cast<size_t>(plan.workers), MPI_REQUEST_NULL),
      sends_(static_cast<size_t>(plan.workers), MPI_REQUEST_NULL),
      gate_(plan.workers, schedule.steps_per_epoch, schedule.staleness) {
  for (int w = 0; w < plan_.workers; ++w) {
    incoming_.emplace_back(cpu_, range_.size());
    outgoing_.emplace_back(range_.size());
  }
}

int ParameterServer::worker_rank(size_t worker) const {
  return plan_.world_rank_of_worker(static_cast<int>(worker));
}

void ParameterServer::initialize(const Mlp& model, uint64_t seed) {
  std::vector<float> initial(model.layout().total());
  if (world_.rank() == 0) model.initialize(initial, seed);
  world_.broadcast_bytes(initial.data(), initial.size() * sizeof(float), 0);
  std::copy(initial.begin() + static_cast<ptrdiff_t>(range_.begin),
            initial.begin() + static_cast<ptrdiff_t>(range_.end), params_.data());
}

void ParameterServer::run() {
  for (int epoch = 1; epoch <= schedule_.epochs; ++epoch) {
    size_t updates = schedule_.steps_per_epoch;
    if (schedule_.async) {
      updates = serve_asynchronous_epoch();
    } else {
      serve_synchronous_epoch();
    }
    exchange_epoch_report(world_, {gate_.max_lead_seen(), updates});
  }
}

void ParameterServer::serve_synchronous_epoch() {
  const size_t n = range_.size();
  const int count = static_cast<int>(n);
  const size_t workers = static_cast<size_t>(plan_.workers);
  for (size_t step = 0; step < schedule_.steps_per_epoch; ++step) {
    for (size_t w = 0; w < workers; ++w)
      mpiCheck(MPI_Irecv(incoming_[w].data(), count, MPI_FLOAT, worker_rank(w), kPushTag,
                         world_.comm(), &receives_[w]));
    watchdog::wait_all(receives_, "a server waiting for the workers' gradients");
    // In worker order, so that the sum does not depend on which message came first.
    float* sum = sum_.data();
    std::copy(incoming_[0].data(), incoming_[0].data() + n, sum);
    for (size_t w = 1; w < workers; ++w) {
      const float* gradient = incoming_[w].data();
      for (size_t i = 0; i < n; ++i)
        sum[i] += gradient[i];
    }
    apply(sum);
    for (size_t w = 0; w < workers; ++w)
      mpiCheck(MPI_Isend(params_.data(), count, MPI_FLOAT, worker_rank(w), kPullTag, world_.comm(),
                         &sends_[w]));
    watchdog::wait_all(sends_, "a server sending parameters to the workers");
  }
}

size_t ParameterServer::serve_asynchronous_epoch() {
  const int count = static_cast<int>(range_.size());
  const size_t workers = static_cast<size_t>(plan_.workers);
  const size_t steps = schedule_.steps_per_epoch;
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
      nonfinite_report(cpu_, gradient, range_.size(), updates_, schedule_.nonfinite, range_.begin);
  if (report.empty()) {
    adam_.step(params_.data(), gradient);
  } else if (schedule_.nonfinite.policy == NonFinitePolicy::abort) {
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
