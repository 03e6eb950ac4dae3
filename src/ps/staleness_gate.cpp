#include "dptrain/ps/staleness_gate.hpp"

#include <algorithm>
#include <stdexcept>

namespace dptrain {

StalenessGate::StalenessGate(int workers, size_t steps_per_epoch, size_t staleness)
    : steps_(steps_per_epoch), staleness_(staleness), clocks_(static_cast<size_t>(workers), 0) {}

void StalenessGate::begin_epoch() {
  std::fill(clocks_.begin(), clocks_.end(), 0);
}

size_t StalenessGate::slowest() const {
  return *std::min_element(clocks_.begin(), clocks_.end());
}

size_t StalenessGate::push(int worker) {
  size_t& clock = clocks_.at(static_cast<size_t>(worker));
  if (clock >= steps_) throw std::logic_error("a worker pushed more steps than the epoch has");
  const size_t step = clock;
  max_lead_ = std::max(max_lead_, step - slowest());
  ++clock;
  return step;
}

bool StalenessGate::may_reply(size_t step) const {
  const size_t slowest_pushes = slowest();
  if (step + 1 == steps_) return slowest_pushes == steps_;
  return step + 1 <= slowest_pushes + staleness_;
}

}  // namespace dptrain
