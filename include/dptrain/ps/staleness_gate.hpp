#pragma once

#include <cstddef>
#include <vector>

namespace dptrain {

// Stale synchronous parallel (Ho et al. 2013) as a parameter server enforces it within one epoch
// of T steps. A worker pushes the gradient of its step t and waits for the server's reply (the
// parameters) before it computes step t + 1. The server sends that reply only once the slowest
// worker has pushed at least t + 1 - S gradients, so no worker ever computes a step more than S
// steps ahead of the slowest; S = 0 is lockstep. The replies to the last step of an epoch wait
// for every worker, so that all replicas end the epoch with the same parameters.
//
// Pure bookkeeping, tested by simulation; ParameterServer drives it with real messages.
class StalenessGate {
 public:
  StalenessGate(int workers, size_t steps_per_epoch, size_t staleness);

  void begin_epoch();
  // Records the next push of `worker`; returns its step in the epoch.
  size_t push(int worker);
  // Whether the reply to a push of `step` may be sent now.
  bool may_reply(size_t step) const;

  size_t pushes(int worker) const { return clocks_[static_cast<size_t>(worker)]; }
  size_t slowest() const;  // the fewest pushes of any worker this epoch
  // The most steps by which a pushing worker was ahead of the slowest, this epoch.
  size_t max_lead_seen() const { return max_lead_; }

 private:
  size_t steps_;
  size_t staleness_;
  std::vector<size_t> clocks_;
  size_t max_lead_ = 0;
};

}  // namespace dptrain
