#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <utility>

namespace dptrain::cuda {

// One owner for each CUDA, cuBLAS and NCCL handle: created through put() (the address the
// library's create function writes to), released by `Release` when the owner goes, also when a
// constructor throws half-way through. Converts to the raw handle for library calls. A release's
// own error is ignored: it runs in destructors, and the handle is gone either way.
template <class Handle, auto Release>
class Owned {
 public:
  Owned() = default;
  ~Owned() { reset(); }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  Owned(Owned&& other) noexcept : handle_(std::exchange(other.handle_, Handle{})) {}
  Owned& operator=(Owned&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, Handle{});
    }
    return *this;
  }

  operator Handle() const { return handle_; }  // NOLINT: a handle stands in for the raw one
  Handle get() const { return handle_; }
  explicit operator bool() const { return handle_ != Handle{}; }

  // For creation: releases what is held and gives the slot to write the new handle to.
  Handle* put() {
    reset();
    return &handle_;
  }
  // Gives the handle up without releasing it (after the owner released it another way).
  Handle release() { return std::exchange(handle_, Handle{}); }
  void reset() noexcept {
    if (handle_ != Handle{}) static_cast<void>(Release(handle_));
    handle_ = Handle{};
  }

 private:
  Handle handle_{};
};

using OwnedStream = Owned<cudaStream_t, cudaStreamDestroy>;
using OwnedEvent = Owned<cudaEvent_t, cudaEventDestroy>;
using OwnedCublas = Owned<cublasHandle_t, cublasDestroy>;
using OwnedDeviceMemory = Owned<void*, cudaFree>;
using OwnedPinnedMemory = Owned<void*, cudaFreeHost>;

}  // namespace dptrain::cuda
