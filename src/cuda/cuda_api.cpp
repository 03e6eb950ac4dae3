#include "dptrain/cuda/cuda_api.hpp"

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

void CudaBackend::synchronize() {
  watchdog::wait_until(
      [this] {
        const cudaError_t status = cudaStreamQuery(stream_);
        if (status != cudaErrorNotReady) cudaCheck(status);
        return status == cudaSuccess;
      },
      "the CUDA stream (a kernel or an NCCL collective)");
}

std::unique_ptr<Backend> make_backend(int device, GemmPrecision precision) {
  return std::make_unique<CudaBackend>(device, precision);
}

}  // namespace dptrain::cuda
