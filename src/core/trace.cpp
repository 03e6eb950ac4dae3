#include "dptrain/core/trace.hpp"

#include <cstdio>
#include <ostream>
#include <stdexcept>
#include <vector>

#include "dptrain/core/error.hpp"

namespace dptrain::trace {
namespace {

struct Event {
  const char* name;
  Phase phase;
  int64_t begin_ns;
  int64_t duration_ns;
  int track;  // 0: the step's phases; 1: gradient buckets in flight, overlapping them
};

constexpr const char* kTrackNames[] = {"step", "gradient buckets in flight"};

struct State {
  std::array<int64_t, kPhases> totals_ns{};
  std::vector<Event> events;  // reserved by enable(), never grown after
  size_t dropped = 0;
  bool on = false;
  Clock::time_point origin = Clock::now();
};

State& state() {
  static State instance;
  return instance;
}

int64_t nanoseconds(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

}  // namespace

const char* phase_name(Phase phase) {
  static constexpr const char* kNames[kPhases] = {"data",     "forward",   "backward",
                                                  "exchange", "optimizer", "other"};
  return kNames[static_cast<int>(phase)];
}

void enable(size_t capacity) {
  State& s = state();
  s.events.reserve(capacity);
  s.on = true;
}

bool enabled() {
  return state().on;
}

namespace {

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

}  // namespace

void record(const char* name, Phase phase, Clock::time_point begin, Clock::time_point end) {
  state().totals_ns[static_cast<size_t>(phase)] += nanoseconds(end - begin);
  keep(name, phase, begin, end, 0);
}

void record_in_flight(const char* name, Phase phase, Clock::time_point begin,
                      Clock::time_point end) {
  keep(name, phase, begin, end, 1);
}

std::array<double, kPhases> phase_seconds() {
  std::array<double, kPhases> seconds{};
  for (int p = 0; p < kPhases; ++p)
    seconds[static_cast<size_t>(p)] =
        static_cast<double>(state().totals_ns[static_cast<size_t>(p)]) * 1e-9;
  return seconds;
}

void reset_phase_seconds() {
  state().totals_ns.fill(0);
}

void write_chrome_trace(std::ostream& out, int process) {
  const State& s = state();
  out << "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"dropped_events\":" << s.dropped
      << "},\"traceEvents\":[\n";
  out << "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" << process
      << ",\"args\":{\"name\":\"rank " << process << "\"}}";
  for (int track = 0; track < 2; ++track)
    out << ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" << process << ",\"tid\":" << track
        << ",\"args\":{\"name\":\"" << kTrackNames[track] << "\"}}";
  char line[256];
  for (const Event& event : s.events) {
    std::snprintf(line, sizeof line,
                  ",\n{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,"
                  "\"pid\":%d,\"tid\":%d}",
                  event.name, phase_name(event.phase), static_cast<double>(event.begin_ns) * 1e-3,
                  static_cast<double>(event.duration_ns) * 1e-3, process, event.track);
    out << line;
  }
  out << "\n]}\n";
}

}  // namespace dptrain::trace
