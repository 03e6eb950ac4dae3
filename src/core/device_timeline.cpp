#include "dptrain/core/device_timeline.hpp"

#include <cmath>
#include <stdexcept>

namespace dptrain::trace {
namespace {

int64_t nanoseconds_of(double milliseconds) {
  return static_cast<int64_t>(std::llround(milliseconds * 1e6));
}

}  // namespace

DeviceTimeline::DeviceTimeline(DeviceTimer& timer) : timer_(timer), points_(timer.slots()) {
  if (points_.size() < 2) throw std::logic_error("a device timer needs at least 2 slots");
}

void DeviceTimeline::mark(int phase_after, size_t event) {
  if (pending_ == points_.size() - 1) {
    ++early_resolutions_;
    resolve_oldest(points_.size() / 2);
  }
  const size_t slot = slot_after(oldest_, pending_);
  points_[slot] = {phase_after, event};
  timer_.record(slot);
  ++pending_;
}

void DeviceTimeline::resolve_all() {
  resolve_oldest(pending_);
}

void DeviceTimeline::resolve_oldest(size_t count) {
  if (count == 0) return;
  // The stream passes its points in order: once it passed the newest of them, it passed all.
  timer_.wait(slot_after(oldest_, count - 1));
  for (size_t i = 0; i < count; ++i)
    resolve_next();
}

void DeviceTimeline::resolve_next() {
  const Point& point = points_[oldest_];
  int64_t at = anchor_ns_;
  if (anchored_) {
    const size_t anchor = slot_after(oldest_, points_.size() - 1);
    const int64_t interval = nanoseconds_of(timer_.elapsed_ms(anchor, oldest_));
    if (anchor_phase_ != kNoPhase) totals_ns_[static_cast<size_t>(anchor_phase_)] += interval;
    at += interval;
  }
  if (point.event != kNoEvent) {
    DeviceEvent& event = events_[point.event];
    if (event.begin_ns == kUnresolved)
      event.begin_ns = at;
    else
      event.duration_ns = at - event.begin_ns;
  }
  anchored_ = true;
  anchor_phase_ = point.phase_after;
  anchor_ns_ = at;
  oldest_ = slot_after(oldest_, 1);
  --pending_;
}

void DeviceTimeline::start_events(size_t capacity, const std::function<int64_t()>& host_now_ns,
                                  int phase_now) {
  events_.clear();
  events_.reserve(capacity);
  dropped_events_ = 0;
  synchronize_clocks(host_now_ns, phase_now);
  keeping_events_ = true;
}

void DeviceTimeline::synchronize_clocks(const std::function<int64_t()>& host_now_ns,
                                        int phase_now) {
  mark(phase_now);  // behind everything launched so far:
  resolve_all();    // once passed, the stream is idle
  mark(phase_now);
  const int64_t host_ns = host_now_ns();
  resolve_all();
  anchor_ns_ = host_ns;
}

size_t DeviceTimeline::open_event(const char* name, int phase) {
  if (!keeping_events_) return kNoEvent;
  if (events_.size() == events_.capacity()) {
    ++dropped_events_;
    return kNoEvent;
  }
  events_.push_back({name, phase, kUnresolved, -1});
  return events_.size() - 1;
}

}  // namespace dptrain::trace
