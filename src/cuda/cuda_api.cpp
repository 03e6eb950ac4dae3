#include "dptrain/cuda/cuda_api.hpp"

#include <algorithm>
#include <cstring>

#include "cuda_backend.hpp"
#include "cuda_check.hpp"
#include "dptrain/comm/watchdog.hpp"

namespace dptrain::cuda {

VisibleDevices visible_devices() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear it, so that it does not surface at the next CUDA call
    return {0, cudaGetErrorString(status)};
  }
  return {count, count == 0 ? "the CUDA runtime reports no device" : ""};
}

void wait_for_event(cudaEvent_t event, const char* what) {
  watchdog::wait_until(
      [event] {
        const cudaError_t status = cudaEventQuery(event);
        if (status != cudaErrorNotReady) cudaCheck(status);
        return status == cudaSuccess;
      },
      what);
}

void CudaBackend::synchronize() {
  watchdog::wait_until(
      [this] {
        const cudaError_t status = cudaStreamQuery(stream_);
        if (status != cudaErrorNotReady) cudaCheck(status);
        return status == cudaSuccess;
      },
      "the CUDA stream (a kernel or an NCCL collective)");
}

// Through two page-locked halves: the caller's memory is copied into a half before this
// returns (it may be gone after), the device reads the half when the stream gets there, and the
// host waits only for a half that an earlier copy still uses. An epoch's order of rows or a
// resumed state goes on its way without the host waiting for the queue ahead of it.
void CudaBackend::copy_to_device(void* device, const void* host, size_t bytes) {
  auto* to = static_cast<char*>(device);
  const auto* from = static_cast<const char*>(host);
  while (bytes > 0) {
    const size_t n = std::min(bytes, kStagingHalfBytes);
    const OwnedEvent& free_again = staging_done_[next_half_];
    wait_for_event(free_again, "the CUDA stream (an upload's staging buffer)");
    char* half = static_cast<char*>(staging_.get()) + next_half_ * kStagingHalfBytes;
    std::memcpy(half, from, n);
    cudaCheck(cudaMemcpyAsync(to, half, n, cudaMemcpyHostToDevice, stream_));
    cudaCheck(cudaEventRecord(free_again, stream_));
    next_half_ ^= 1;
    to += n;
    from += n;
    bytes -= n;
  }
}

std::unique_ptr<Backend> make_backend(int device, GemmPrecision precision) {
  return std::make_unique<CudaBackend>(device, precision);
}

}  // namespace dptrain::cuda
