#include <nvtx3/nvToolsExt.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "cuda_backend.hpp"
#include "cuda_check.hpp"
#include "dptrain/comm/watchdog.hpp"
#include "dptrain/cuda/stream_timer.hpp"

namespace dptrain::cuda {
namespace {

// Enough for about 250 steps of the reference MLP (16 timing points a step), so that a full ring
// resolves points recorded some 125 steps earlier, long passed; a few microseconds each to make.
constexpr size_t kTimingPoints = 4096;

// Owns CUDA events: it destroys every one it holds, so that a timer whose constructor fails
// half-way through making them leaks none.
class OwnedEvents {
 public:
  explicit OwnedEvents(size_t capacity) { events_.reserve(capacity); }
  ~OwnedEvents() {
    for (cudaEvent_t event : events_)
      cudaEventDestroy(event);  // nothing to do about a failure while tearing down
  }
  OwnedEvents(const OwnedEvents&) = delete;
  OwnedEvents& operator=(const OwnedEvents&) = delete;

  // Timing enabled (cudaEventDefault); never grows past the capacity, so this cannot throw
  // after the event exists.
  void add() {
    if (events_.size() == events_.capacity()) throw std::logic_error("OwnedEvents is full");
    cudaEvent_t event = nullptr;
    cudaCheck(cudaEventCreateWithFlags(&event, cudaEventDefault));
    events_.push_back(event);
  }
  cudaEvent_t operator[](size_t i) const { return events_[i]; }
  size_t size() const { return events_.size(); }

 private:
  std::vector<cudaEvent_t> events_;
};

class StreamTimer final : public trace::DeviceTimer {
 public:
  StreamTimer(const CudaBackend& backend, size_t slots)
      : stream_(backend.stream()), events_(slots) {
    cudaCheck(cudaSetDevice(backend.device()));  // events belong to the device current now
    for (size_t i = 0; i < slots; ++i)
      events_.add();
  }

  size_t slots() const override { return events_.size(); }
  void record(size_t slot) override { cudaCheck(cudaEventRecord(events_[slot], stream_)); }
  void wait(size_t slot) override;
  double elapsed_ms(size_t from, size_t to) override {
    float milliseconds = 0.0f;
    cudaCheck(cudaEventElapsedTime(&milliseconds, events_[from], events_[to]));
    return static_cast<double>(milliseconds);
  }
  void range_push(const char* name) override { nvtxRangePushA(name); }
  void range_pop() override { nvtxRangePop(); }

 private:
  cudaStream_t stream_;
  OwnedEvents events_;
};

// Polls rather than blocks (cudaEventSynchronize has no deadline), under the same deadline as
// CudaBackend::synchronize. Sleeps between polls, from 10 us up to 1 ms: a timing point is
// waited for only when it is far behind (a full ring) or at the end of an epoch, where a
// millisecond more does not matter and a busy loop would take a core from the other ranks.
void StreamTimer::wait(size_t slot) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(watchdog::timeout());
  std::chrono::microseconds pause(10);
  for (;;) {
    const cudaError_t status = cudaEventQuery(events_[slot]);
    if (status == cudaSuccess) return;
    if (status != cudaErrorNotReady) cudaCheck(status);
    if (std::chrono::steady_clock::now() > deadline)
      watchdog::stalled("the CUDA stream (a kernel or an NCCL collective) timing a span");
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
}

}  // namespace

std::unique_ptr<trace::DeviceTimer> make_stream_timer(Backend& backend) {
  const auto* cuda = dynamic_cast<const CudaBackend*>(&backend);
  if (cuda == nullptr) throw std::logic_error("make_stream_timer needs a CUDA backend");
  return std::make_unique<StreamTimer>(*cuda, kTimingPoints);
}

}  // namespace dptrain::cuda
