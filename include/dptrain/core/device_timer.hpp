#pragma once

#include <cstddef>

namespace dptrain::trace {

// A clock on the device's compute stream, for the spans of trace.hpp: a fixed set of timing
// points (CUDA events, created once), which the stream passes in the order they were recorded,
// and the device profiler's named ranges. Core code sees only this interface, so that it stays
// free of CUDA; the CUDA backend has one (cuda::make_stream_timer), the unit tests a fake.
class DeviceTimer {
 public:
  virtual ~DeviceTimer() = default;

  // How many timing points it holds; at least 2 (one interval).
  virtual size_t slots() const = 0;
  // Records timing point `slot` on the stream, behind the work launched so far. Does not wait.
  virtual void record(size_t slot) = 0;
  // Returns once the stream has passed timing point `slot`. Never waits for ever: a stream that
  // does not get there in the collective watchdog's timeout is reported as stuck.
  virtual void wait(size_t slot) = 0;
  // Milliseconds of the stream's time from timing point `from` to `to`, both passed.
  virtual double elapsed_ms(size_t from, size_t to) = 0;

  // A named range for the device's profiler (NVTX, for Nsight Systems) around each span.
  virtual void range_push(const char* name) = 0;
  virtual void range_pop() = 0;
};

}  // namespace dptrain::trace
