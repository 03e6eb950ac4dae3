#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "dptrain/core/device_timer.hpp"

// Where a rank's time goes: every phase of a step is a Span, timed always (two clock reads, a few
// nanoseconds) and added to per-phase totals, and, with --trace, also recorded as a Chrome
// trace event in a buffer allocated up front, written as JSON at the end (viewable in Perfetto
// or chrome://tracing). Spans nest (a bucket started within a layer's backward); the totals give
// each moment to the innermost span only, so they never overlap.
//
// On a GPU the host's clock sees launches, not kernels: with a DeviceTimer installed, each span
// also marks the device's stream at its begin and end (and opens a profiler range), and the
// totals are the stream's time, resolved later where the host waits for the device anyway. With
// --trace those spans go on a track of their own. Spans are for the training thread only.
namespace dptrain::trace {

// graph: a whole step replayed as one CUDA graph (Backend::record), whose parts the stream's
// clock cannot tell apart.
enum class Phase : int { data, forward, backward, exchange, optimizer, other, graph };
inline constexpr int kPhases = 7;
const char* phase_name(Phase phase);

using Clock = std::chrono::steady_clock;

// Starts recording events, up to `capacity` of them (the rest are counted, not kept).
void enable(size_t capacity);
bool enabled();
// Work in flight while the step goes on (a gradient bucket from its start to its sum): shown on a
// track of its own, and not added to the phase totals, which its time overlaps.
void record_in_flight(const char* name, Phase phase, Clock::time_point begin,
                      Clock::time_point end);

// Seconds spent in each phase since the last reset: the device stream's with a DeviceTimer
// installed, else the host's. On the device this waits for the stream to pass the last span's
// end: read it where the host waits anyway (the trainer reads it after copying the epoch's loss).
// Rethrows an error the device timer met within a span.
std::array<double, kPhases> phase_seconds();
// Resolves the device's pending spans first, as their time belongs to the totals dropped here
// (it waits for the stream: the trainer calls it as an epoch starts, with the stream idle).
void reset_phase_seconds();

// The totals as phase_seconds() last read them, the host's beside the device stream's: where the
// host's time exceeds the stream's, the stream got through the work sooner and waited for the
// host's launches.
struct PhaseReading {
  std::array<double, kPhases> host{};
  std::optional<std::array<double, kPhases>> device;  // with a DeviceTimer installed
};
PhaseReading last_phase_reading();

// Writes the recorded events as Chrome trace-event JSON, `process` being the rank. Waits for the
// device's pending spans, if any.
void write_chrome_trace(std::ostream& out, int process);

// Spans use `timer` while this lives (one at a time); the device's events already resolved stay
// for write_chrome_trace, the pending ones are dropped (no waiting in a destructor).
class InstalledDeviceTimer {
 public:
  explicit InstalledDeviceTimer(std::unique_ptr<DeviceTimer> timer);
  ~InstalledDeviceTimer();
  InstalledDeviceTimer(const InstalledDeviceTimer&) = delete;
  InstalledDeviceTimer& operator=(const InstalledDeviceTimer&) = delete;

 private:
  std::unique_ptr<DeviceTimer> timer_;
};

// While this lives, spans leave the device alone (no timing points, no profiler ranges): the
// step is being recorded (a CUDA graph), and what it queues then does not run then.
class PausedDeviceMarks {
 public:
  PausedDeviceMarks();
  ~PausedDeviceMarks();
  PausedDeviceMarks(const PausedDeviceMarks&) = delete;
  PausedDeviceMarks& operator=(const PausedDeviceMarks&) = delete;
};

namespace detail {
struct OpenSpan {
  const char* name;  // a string literal or a name that outlives the trace: events keep it
  Phase phase;
  int enclosing;  // the phase of the span this one is in, or -1
  Clock::time_point begin;
  size_t device_event;
};
OpenSpan open(const char* name, Phase phase);
void close(const OpenSpan& span) noexcept;
}  // namespace detail

class Span {
 public:
  Span(const char* name, Phase phase) : span_(detail::open(name, phase)) {}
  ~Span() { detail::close(span_); }
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

 private:
  detail::OpenSpan span_;
};

}  // namespace dptrain::trace
