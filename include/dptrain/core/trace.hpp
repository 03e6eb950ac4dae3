#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

// Where a rank's time goes: every phase of a step is a Span, timed always (two clock reads, a few
// nanoseconds) and added to per-phase totals, and, with --trace, also recorded as a Chrome
// trace event in a buffer allocated up front, written as JSON at the end (viewable in Perfetto
// or chrome://tracing). On the CUDA backend the spans measure the host's side only: launches,
// not kernels.
namespace dptrain::trace {

enum class Phase : int { data, forward, backward, exchange, optimizer, other };
inline constexpr int kPhases = 6;
const char* phase_name(Phase phase);

using Clock = std::chrono::steady_clock;

// Starts recording events, up to `capacity` of them (the rest are counted, not kept).
void enable(size_t capacity);
bool enabled();
void record(const char* name, Phase phase, Clock::time_point begin, Clock::time_point end);
// Work in flight while the step goes on (a gradient bucket from its start to its sum): shown on a
// track of its own, and not added to the phase totals, which its time overlaps.
void record_in_flight(const char* name, Phase phase, Clock::time_point begin,
                      Clock::time_point end);

// Seconds spent in each phase since the last reset.
std::array<double, kPhases> phase_seconds();
void reset_phase_seconds();

// Writes the recorded events as Chrome trace-event JSON, `process` being the rank.
void write_chrome_trace(std::ostream& out, int process);

class Span {
 public:
  Span(const char* name, Phase phase) : name_(name), phase_(phase), begin_(Clock::now()) {}
  ~Span() { record(name_, phase_, begin_, Clock::now()); }
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

 private:
  const char* name_;  // a string literal: events keep the pointer
  Phase phase_;
  Clock::time_point begin_;
};

}  // namespace dptrain::trace
