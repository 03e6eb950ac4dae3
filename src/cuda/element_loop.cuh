#pragma once

// The CUDA side of backend/element_loop.hpp: one grid-stride kernel template for every
// element-wise functor. A layer's .cu file includes this and instantiates the launch for its
// functors, e.g.
//   template void launch_element_kernel(Backend&, size_t, const TanhForward&);

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "dptrain/backend/element_loop.hpp"
#include "dptrain/core/error.hpp"

namespace dptrain {

namespace element_loop {
// As the backend's own kernels (cuda_backend.cu): 256 threads, at most 65535 blocks, and a
// grid-stride loop so that any n fits any grid.
constexpr int kThreads = 256;
constexpr size_t kMaxBlocks = 65535;
}  // namespace element_loop

template <class F>
__global__ void element_kernel(size_t n, F f) {
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    f(i);
}

template <class F>
void launch_element_kernel(Backend& backend, size_t n, const F& f) {
  if (n == 0) return;
  using element_loop::kThreads;
  const size_t blocks = std::min(element_loop::kMaxBlocks, (n + kThreads - 1) / kThreads);
  element_kernel<<<static_cast<unsigned>(blocks), kThreads, 0,
                   static_cast<cudaStream_t>(backend.device_stream())>>>(n, f);
  // As cuda_check.hpp's cudaCheck, which this file does not include: it needs NCCL's headers.
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess)
    throw_library_error(std::string("element_kernel launch failed: ") + cudaGetErrorString(status),
                        __FILE__, __LINE__);
}

}  // namespace dptrain
