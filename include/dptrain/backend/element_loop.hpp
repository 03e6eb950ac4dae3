#pragma once

// One generic primitive for element-wise layers, instead of a backend method per layer kind:
// for_each_element(backend, n, f) calls f(i) for every i < n where the backend computes. f is a
// small copyable functor whose call operator is DPTRAIN_HD (core/host_device.hpp), so that the
// same code runs in the CPU's loop and in the CUDA kernel of src/cuda/element_loop.cuh.
//
// A functor that may meet a CUDA backend is launched by a kernel instantiated for it: the .cu
// file of the layer that owns the functor instantiates launch_element_kernel for it. Builds
// without CUDA compile no .cu file and define no DPTRAIN_DEVICE_ELEMENT_LOOPS; there the device
// branch cannot be reached (no backend has a stream) and says so if it ever is.

#include <cstddef>
#include <stdexcept>
#include <type_traits>

#include "dptrain/backend/backend.hpp"

namespace dptrain {

// Queues f(i) for i < n on backend.device_stream(). Defined in src/cuda/element_loop.cuh.
template <class F>
void launch_element_kernel(Backend& backend, size_t n, const F& f);

template <class F>
void for_each_element(Backend& backend, size_t n, const F& f) {
  // A deferring backend runs the loop later, from a byte copy of f.
  static_assert(std::is_trivially_copyable_v<F>, "element functors hold pointers and values");
  if (backend.device_stream() == nullptr) {
    // One indirect call per loop, not per element: the loop over f inlines and vectorises.
    const Backend::HostLoop loop = [](const void* functor, size_t count) {
      const F& element = *static_cast<const F*>(functor);
      for (size_t i = 0; i < count; ++i)
        element(i);
    };
    backend.run_host_loop(loop, &f, sizeof(F), n);
    return;
  }
#if defined(DPTRAIN_DEVICE_ELEMENT_LOOPS)
  launch_element_kernel(backend, n, f);
#else
  throw std::logic_error(
      "for_each_element: a backend with a device stream in a build without "
      "CUDA");
#endif
}

}  // namespace dptrain
