#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include "dptrain/core/device_timer.hpp"
#include "dptrain/core/trace.hpp"

namespace dptrain::trace {

inline constexpr int kNoPhase = -1;
inline constexpr size_t kNoEvent = static_cast<size_t>(-1);

// A span as the device's stream ran it, for the trace's GPU track.
struct DeviceEvent {
  const char* name;
  int phase;
  int64_t begin_ns;     // on the host's clock, from the trace's origin; INT64_MIN until resolved
  int64_t duration_ns;  // -1 until its end is resolved
};

// The device's side of the spans: timing points on the stream, held in the DeviceTimer's slots
// (a ring) until the host resolves them, in order, into per-phase totals and trace events. The
// stream's time between two consecutive points counts to the phase the first one opened, so the
// totals never overlap, nested spans included. Allocates only when made and in start_events.
//
// When every slot is taken, the oldest half is resolved at once, waiting (bounded) for the
// stream to pass the newest of them: nothing is lost, and the wait is in practice none, because
// those points were recorded half a ring ago and the stream cannot lag the host by more than its
// launch queue (about a thousand launches) before the host itself blocks in a launch.
class DeviceTimeline {
 public:
  // `timer` must outlive the timeline.
  explicit DeviceTimeline(DeviceTimer& timer);

  // A timing point: from it on the stream's time counts to `phase_after` (kNoPhase: none). With
  // `event`, it is that event's begin (its first point) or end (its second).
  void mark(int phase_after, size_t event = kNoEvent);
  // Resolves every point recorded, waiting for the stream to pass the last one.
  void resolve_all();

  // The stream's seconds per phase, in nanoseconds, of the points resolved since the last reset.
  const std::array<int64_t, kPhases>& totals_ns() const { return totals_ns_; }
  void reset_totals() { totals_ns_.fill(0); }

  // From now on keeps up to `capacity` events (open_event), timed on the host's clock from a
  // first synchronize_clocks.
  void start_events(size_t capacity, const std::function<int64_t()>& host_now_ns, int phase_now);
  // Takes one point on both clocks: waits until the stream is idle, records a point and reads
  // `host_now_ns` at once; the idle stream passes it within a launch's latency (microseconds).
  // Later points are timed from it. Call it with no event open (one would span the jump).
  void synchronize_clocks(const std::function<int64_t()>& host_now_ns, int phase_now);
  // An event to begin and end with two marks; kNoEvent when not keeping events or full.
  size_t open_event(const char* name, int phase);
  // The events kept; complete up to the last point resolved.
  const std::vector<DeviceEvent>& events() const { return events_; }
  std::vector<DeviceEvent> release_events() noexcept { return std::move(events_); }
  size_t dropped_events() const { return dropped_events_; }
  // How often the ring was full while the spans ran, so that its oldest half was resolved then.
  size_t early_resolutions() const { return early_resolutions_; }

 private:
  static constexpr int64_t kUnresolved = std::numeric_limits<int64_t>::min();

  struct Point {
    int phase_after = kNoPhase;
    size_t event = kNoEvent;
  };

  void resolve_oldest(size_t count);
  void resolve_next();
  size_t slot_after(size_t slot, size_t steps) const { return (slot + steps) % points_.size(); }

  DeviceTimer& timer_;
  std::vector<Point> points_;  // one per slot
  size_t oldest_ = 0;          // slot of the oldest point not resolved yet
  size_t pending_ = 0;         // points recorded, not resolved; at most slots - 1
  // The last point resolved: the next one's interval starts there, so its slot stays untouched.
  bool anchored_ = false;
  int anchor_phase_ = kNoPhase;
  int64_t anchor_ns_ = 0;  // its time on the host's clock (meaningful once events are kept)
  std::array<int64_t, kPhases> totals_ns_{};
  std::vector<DeviceEvent> events_;  // reserved by start_events, never grown after
  bool keeping_events_ = false;
  size_t dropped_events_ = 0;
  size_t early_resolutions_ = 0;
};

}  // namespace dptrain::trace
