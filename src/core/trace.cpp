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
};

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

void record(const char* name, Phase phase, Clock::time_point begin, Clock::time_point end) {
  State& s = state();
  s.totals_ns[static_cast<size_t>(phase)] += nanoseconds(end - begin);
  if (!s.on) return;
  if (s.events.size() == s.events.capacity()) {
    ++s.dropped;
    return;
  }
  s.events.push_back({name, phase, nanoseconds(begin - s.origin), nanoseconds(end - begin)});
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
  char line[256];
  for (const Event& event : s.events) {
    std::snprintf(line, sizeof line,
                  ",\n{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,"
                  "\"pid\":%d,\"tid\":0}",
                  event.name, phase_name(event.phase), static_cast<double>(event.begin_ns) * 1e-3,
                  static_cast<double>(event.duration_ns) * 1e-3, process);
    out << line;
  }
  out << "\n]}\n";
}

}  // namespace dptrain::trace
