#include <nvtx3/nvToolsExt.h>

#include <stdexcept>
#include <vector>

#include "cuda_backend.hpp"
#include "cuda_check.hpp"
#include "cuda_handles.hpp"
#include "dptrain/cuda/stream_timer.hpp"

namespace dptrain::cuda {
namespace {

// Enough for about 250 steps of the reference MLP (16 timing points a step), so that a full ring
// resolves points recorded some 125 steps earlier, long passed; a few microseconds each to make.
constexpr size_t kTimingPoints = 4096;

class StreamTimer final : public trace::DeviceTimer {
 public:
  // Timing enabled (cudaEventDefault). Each event has its owner as soon as it exists, so a
  // constructor that fails half-way leaks none.
  StreamTimer(const CudaBackend& backend, size_t slots)
      : stream_(backend.stream()), events_(slots) {
    cudaCheck(cudaSetDevice(backend.device()));  // events belong to the device current now
    for (OwnedEvent& event : events_)
      cudaCheck(cudaEventCreateWithFlags(event.put(), cudaEventDefault));
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
  std::vector<OwnedEvent> events_;
};

// Polls rather than blocks (cudaEventSynchronize has no deadline), as CudaBackend::synchronize
// does: with a back-off, under the watchdog. A timing point is waited for only when it is far
// behind (a full ring) or at the end of an epoch.
void StreamTimer::wait(size_t slot) {
  wait_for_event(events_[slot], "the CUDA stream (a kernel or an NCCL collective) timing a span");
}

}  // namespace

std::unique_ptr<trace::DeviceTimer> make_stream_timer(Backend& backend) {
  const auto* cuda = dynamic_cast<const CudaBackend*>(&backend);
  if (cuda == nullptr) throw std::logic_error("make_stream_timer needs a CUDA backend");
  return std::make_unique<StreamTimer>(*cuda, kTimingPoints);
}

}  // namespace dptrain::cuda
