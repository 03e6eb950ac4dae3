#include "dptrain/core/trace.hpp"

#include <cstdio>
#include <exception>
#include <ostream>
#include <utility>
#include <vector>

#include "dptrain/core/device_timeline.hpp"

namespace dptrain::trace {
namespace {

struct Event {
  const char* name;
  Phase phase;
  int64_t begin_ns;
  int64_t duration_ns;
  int track;  // 0: the step's phases; 1: gradient buckets in flight, overlapping them
};

constexpr const char* kTrackNames[] = {"step", "gradient buckets in flight", "GPU stream"};
constexpr int kDeviceTrack = 2;

struct State {
  // The host's time per phase; the clock is read at every span's begin and end, and the time
  // since the last read goes to the innermost span open (open_phase).
  std::array<int64_t, kPhases> totals_ns{};
  int open_phase = kNoPhase;
  Clock::time_point last_read = Clock::now();
  std::vector<Event> events;  // reserved by enable(), never grown after
  size_t dropped = 0;
  bool on = false;
  Clock::time_point origin = Clock::now();
  // With a DeviceTimer installed: the stream's side of the spans.
  DeviceTimer* timer = nullptr;
  bool device_paused = false;  // while the step is recorded (PausedDeviceMarks)
  std::optional<DeviceTimeline> device;
  std::exception_ptr device_error;           // met within a span, where it cannot be thrown
  std::vector<DeviceEvent> released_events;  // those of a timer uninstalled
  size_t released_dropped = 0;
  PhaseReading last_reading;
};

State& state() {
  static State instance;
  return instance;
}

int64_t nanoseconds(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

std::array<double, kPhases> seconds_of(const std::array<int64_t, kPhases>& totals_ns) {
  std::array<double, kPhases> seconds{};
  for (size_t p = 0; p < seconds.size(); ++p)
    seconds[p] = static_cast<double>(totals_ns[p]) * 1e-9;
  return seconds;
}

// The host's time since the last clock read goes to the innermost span open.
void read_host_clock(State& s, Clock::time_point now) {
  if (s.open_phase != kNoPhase)
    s.totals_ns[static_cast<size_t>(s.open_phase)] += nanoseconds(now - s.last_read);
  s.last_read = now;
}

void keep(const char* name, Phase phase, Clock::time_point begin, Clock::time_point end,
          int track) {
  State& s = state();
  if (!s.on) return;
  if (s.events.size() == s.events.capacity()) {
    ++s.dropped;
    return;
  }
  s.events.push_back({name, phase, nanoseconds(begin - s.origin), nanoseconds(end - begin), track});
}

// Runs `work` on the device timeline, if there is one. Spans cannot throw from their destructor:
// an error ends the device's side of them, and phase_seconds() throws it.
template <class Work>
void on_device(State& s, Work&& work) noexcept {
  if (!s.device || s.device_paused) return;
  try {
    std::forward<Work>(work)(*s.device);
  } catch (...) {
    s.device_error = std::current_exception();
    s.device.reset();
  }
}

int64_t trace_now_ns() {
  return nanoseconds(Clock::now() - state().origin);
}

void start_device_events(State& s) {
  s.device->start_events(s.events.capacity(), trace_now_ns, s.open_phase);
}

// Keeps the events resolved so far for write_chrome_trace; drops the pending ones unwaited.
void uninstall() noexcept {
  State& s = state();
  if (s.device) {
    s.released_dropped = s.device->dropped_events();
    s.released_events = s.device->release_events();
    s.device.reset();
  }
  s.timer = nullptr;
  s.device_error = nullptr;  // a timer's error goes with it
}

void install(DeviceTimer& timer) {
  uninstall();
  State& s = state();
  s.device.emplace(timer);
  s.timer = &timer;
  try {
    if (s.on) start_device_events(s);
  } catch (...) {
    uninstall();
    throw;
  }
}

}  // namespace

const char* phase_name(Phase phase) {
  static constexpr const char* kNames[kPhases] = {"data",      "forward", "backward", "exchange",
                                                  "optimizer", "other",   "graph"};
  return kNames[static_cast<int>(phase)];
}

void enable(size_t capacity) {
  State& s = state();
  s.events.reserve(capacity);
  s.on = true;
  if (s.device) start_device_events(s);
}

bool enabled() {
  return state().on;
}

void record_in_flight(const char* name, Phase phase, Clock::time_point begin,
                      Clock::time_point end) {
  keep(name, phase, begin, end, 1);
}

namespace detail {

OpenSpan open(const char* name, Phase phase) {
  State& s = state();
  const Clock::time_point now = Clock::now();
  read_host_clock(s, now);
  OpenSpan span{name, phase, s.open_phase, now, kNoEvent};
  s.open_phase = static_cast<int>(phase);
  on_device(s, [&](DeviceTimeline& device) {
    s.timer->range_push(name);
    span.device_event = device.open_event(name, s.open_phase);
    device.mark(s.open_phase, span.device_event);
  });
  return span;
}

void close(const OpenSpan& span) noexcept {
  State& s = state();
  on_device(s, [&](DeviceTimeline& device) {
    device.mark(span.enclosing, span.device_event);
    s.timer->range_pop();
  });
  const Clock::time_point now = Clock::now();
  read_host_clock(s, now);
  s.open_phase = span.enclosing;
  keep(span.name, span.phase, span.begin, now, 0);
}

}  // namespace detail

std::array<double, kPhases> phase_seconds() {
  State& s = state();
  if (s.device_error) std::rethrow_exception(s.device_error);
  PhaseReading reading;
  reading.host = seconds_of(s.totals_ns);
  if (s.device) {
    s.device->resolve_all();
    reading.device = seconds_of(s.device->totals_ns());
    // The GPU track's times add up interval after interval, each rounded by the events'
    // resolution (about 0.5 us), on a clock that need not keep the host's pace exactly: a new
    // reference once an epoch keeps what piles up to one epoch's worth.
    if (s.on && s.open_phase == kNoPhase) s.device->synchronize_clocks(trace_now_ns, kNoPhase);
  }
  s.last_reading = reading;
  return reading.device.value_or(reading.host);
}

void reset_phase_seconds() {
  State& s = state();
  if (s.device) {
    // A span open now: its stream time so far belongs to the totals dropped.
    if (s.open_phase != kNoPhase) s.device->mark(s.open_phase);
    s.device->resolve_all();
    s.device->reset_totals();
  }
  s.totals_ns.fill(0);
  s.last_read = Clock::now();
}

PhaseReading last_phase_reading() {
  return state().last_reading;
}

namespace {

void write_event(std::ostream& out, int process, const char* name, int phase, int64_t begin_ns,
                 int64_t duration_ns, int track) {
  char line[256];
  std::snprintf(line, sizeof line,
                ",\n{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,"
                "\"pid\":%d,\"tid\":%d}",
                name, phase_name(static_cast<Phase>(phase)), static_cast<double>(begin_ns) * 1e-3,
                static_cast<double>(duration_ns) * 1e-3, process, track);
  out << line;
}

}  // namespace

void write_chrome_trace(std::ostream& out, int process) {
  State& s = state();
  if (s.device) s.device->resolve_all();
  const std::vector<DeviceEvent>& device_events = s.device ? s.device->events() : s.released_events;
  const size_t device_dropped = s.device ? s.device->dropped_events() : s.released_dropped;
  const bool device_track = s.device || !s.released_events.empty();
  out << "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"dropped_events\":"
      << s.dropped + device_dropped << "},\"traceEvents\":[\n";
  out << "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" << process
      << ",\"args\":{\"name\":\"rank " << process << "\"}}";
  for (int track = 0; track < (device_track ? 3 : 2); ++track)
    out << ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" << process << ",\"tid\":" << track
        << ",\"args\":{\"name\":\"" << kTrackNames[track] << "\"}}";
  for (const Event& event : s.events)
    write_event(out, process, event.name, static_cast<int>(event.phase), event.begin_ns,
                event.duration_ns, event.track);
  for (const DeviceEvent& event : device_events)
    if (event.duration_ns >= 0)  // not cut short by an uninstall or an error
      write_event(out, process, event.name, event.phase, event.begin_ns, event.duration_ns,
                  kDeviceTrack);
  out << "\n]}\n";
}

PausedDeviceMarks::PausedDeviceMarks() {
  state().device_paused = true;
}

PausedDeviceMarks::~PausedDeviceMarks() {
  state().device_paused = false;
}

InstalledDeviceTimer::InstalledDeviceTimer(std::unique_ptr<DeviceTimer> timer)
    : timer_(std::move(timer)) {
  install(*timer_);
}

InstalledDeviceTimer::~InstalledDeviceTimer() {
  uninstall();
}

}  // namespace dptrain::trace
